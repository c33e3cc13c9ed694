//! Reads the file `FS_FILE`, lists the directory `FS_DIR` (sorted), and
//! tries to write `FS_WRITE` if set, through std::fs; prints each result or
//! the kind of error.
fn main() {
    if let Ok(file) = std::env::var("FS_FILE") {
        match std::fs::read_to_string(&file) {
            Ok(text) => print!("read {file}: {text}"),
            Err(e) => println!("read {file} error: {:?}", e.kind()),
        }
    }
    if let Ok(dir) = std::env::var("FS_DIR") {
        match std::fs::read_dir(&dir) {
            Ok(entries) => {
                let mut names: Vec<String> = entries
                    .map(|e| {
                        let e = e.unwrap();
                        let kind = if e.file_type().unwrap().is_dir() { "/" } else { "" };
                        format!("{}{kind}", e.file_name().to_string_lossy())
                    })
                    .collect();
                names.sort();
                println!("list {dir}: {}", names.join(" "));
            }
            Err(e) => println!("list {dir} error: {:?}", e.kind()),
        }
    }
    if let Ok(path) = std::env::var("FS_WRITE") {
        match std::fs::write(&path, "written") {
            Ok(()) => println!("write {path}: ok"),
            Err(e) => println!("write {path} error: {:?}", e.kind()),
        }
    }
}
