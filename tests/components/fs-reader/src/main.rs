//! Exercises std::fs, as told by environment variables (baked in by the
//! case's policy), printing each result or the kind of error:
//!
//! - `FS_FILE`: read it; `FS_DIR`: list it (sorted); `FS_WRITE`: write it.
//! - `FS_WALK`: walk it recursively, printing every entry's path (relative
//!   to the walk's root), type and size, and every file's text; the same
//!   tree must print the same, virtual or host.
//! - `FS_SUM`: the size and FNV-1a hash of a file, read in 64 KiB chunks,
//!   and its last 16 bytes, read after a seek.
//! - `FS_COUNT`: how many files a tree holds, and their total size.
//! - `FS_ESCAPE`: try paths that must not leave that preopen, and stat a
//!   file named with a trailing slash.
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn main() {
    if let Some(file) = var("FS_FILE") {
        match std::fs::read_to_string(&file) {
            Ok(text) => print!("read {file}: {text}"),
            Err(e) => println!("read {file} error: {:?}", e.kind()),
        }
    }
    if let Some(dir) = var("FS_DIR") {
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
    if let Some(path) = var("FS_WRITE") {
        match std::fs::write(&path, "written") {
            Ok(()) => println!("write {path}: ok"),
            Err(e) => println!("write {path} error: {:?}", e.kind()),
        }
    }
    if let Some(root) = var("FS_WALK") {
        walk(Path::new(&root), Path::new(&root));
    }
    if let Some(file) = var("FS_SUM") {
        sum(&file);
    }
    if let Some(root) = var("FS_COUNT") {
        let (files, bytes) = count(Path::new(&root));
        println!("count {files} files, {bytes} bytes");
    }
    if let Some(root) = var("FS_ESCAPE") {
        let long = "n".repeat(300);
        for path in [
            format!("{root}/../escape"),
            format!("{root}/sub/../../escape"),
            format!("{root}/./greeting.txt"),
            format!("{root}//greeting.txt"),
            format!("{root}/sub/../greeting.txt"),
            format!("{root}/{long}"),
            format!("{root}/missing.txt"),
        ] {
            let shown = path.replace(&long, "<300 bytes>");
            match std::fs::read(&path) {
                Ok(bytes) => println!("open {shown}: ok, {} bytes", bytes.len()),
                Err(e) => println!("open {shown}: {:?}", e.kind()),
            }
        }
        // A file named as a directory: `metadata` follows symlinks and
        // finds no directory; `symlink_metadata` does not follow, and the
        // host (cap-std) finds the file by its one name.
        let file = format!("{root}/greeting.txt/");
        match std::fs::metadata(&file) {
            Ok(m) => println!("metadata {file}: ok, {} bytes", m.len()),
            Err(e) => println!("metadata {file}: {:?}", e.kind()),
        }
        match std::fs::symlink_metadata(&file) {
            Ok(m) => println!("symlink_metadata {file}: ok, {} bytes", m.len()),
            Err(e) => println!("symlink_metadata {file}: {:?}", e.kind()),
        }
    }
}

fn walk(root: &Path, dir: &Path) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let meta = std::fs::metadata(&path).expect("metadata");
        let rel = path.strip_prefix(root).unwrap().display().to_string();
        if meta.is_dir() {
            println!("dir  {rel}");
            walk(root, &path);
        } else {
            let text = std::fs::read_to_string(&path).expect("read_to_string");
            println!("file {rel} ({} bytes): {:?}", meta.len(), text);
        }
    }
}

fn sum(file: &str) {
    let mut f = match std::fs::File::open(file) {
        Ok(f) => f,
        Err(e) => return println!("sum {file} error: {:?}", e.kind()),
    };
    let (mut hash, mut size) = (0xcbf2_9ce4_8422_2325u64, 0u64);
    let mut buf = vec![0; 64 << 10];
    loop {
        let n = f.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        for b in &buf[..n] {
            hash = (hash ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
        size += n as u64;
    }
    f.seek(SeekFrom::End(-16)).expect("seek");
    let mut tail = [0u8; 16];
    f.read_exact(&mut tail).expect("read tail");
    println!("sum {file}: {size} bytes, fnv {hash:016x}, tail {tail:?}");
}

fn count(dir: &Path) -> (u64, u64) {
    let (mut files, mut bytes) = (0, 0);
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let entry = entry.unwrap();
        let meta = entry.metadata().expect("metadata");
        if meta.is_dir() {
            let (f, b) = count(&entry.path());
            files += f;
            bytes += b;
        } else {
            files += 1;
            bytes += meta.len();
        }
    }
    (files, bytes)
}
