//! WASI 0.3's filesystem, one step at a time, each printing what it
//! answered. Paths are opened from a preopen, by its name.

use crate::wasi::filesystem::preopens;
use crate::wasi::filesystem::types::{Descriptor, DescriptorFlags, OpenFlags, PathFlags};
use crate::wit_stream;

/// Runs one step: `ls` (the preopens), `read PREOPEN PATH` (a file's
/// bytes, through `read-via-stream`), `write PREOPEN PATH` (creates or
/// truncates it, through `write-via-stream`), `list PREOPEN PATH` (a
/// directory's entries, sorted).
pub async fn step(step: &str) {
    let words: Vec<&str> = step.split(' ').collect();
    let dirs = preopens::get_directories();
    let find = |name: &str| dirs.iter().find(|(_, n)| n == name).map(|(d, _)| d);
    let outcome = match words.as_slice() {
        ["ls"] => Ok(format!(
            "{:?}",
            dirs.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>()
        )),
        [verb, dir, path] => match find(dir) {
            None => Err(format!("no preopen {dir}")),
            Some(dir) => match *verb {
                "read" => read(dir, path).await,
                "write" => write(dir, path).await,
                "list" => list(dir, path).await,
                other => Err(format!("unknown step `{other}`")),
            },
        },
        _ => Err("bad step".to_string()),
    };
    match outcome {
        Ok(done) => println!("{step}: {done}"),
        Err(e) => println!("{step}: error {e}"),
    }
}

async fn read(dir: &Descriptor, path: &str) -> Result<String, String> {
    let file = dir
        .open_at(
            PathFlags::SYMLINK_FOLLOW,
            path.to_string(),
            OpenFlags::empty(),
            DescriptorFlags::READ,
        )
        .await
        .map_err(|e| format!("open {e:?}"))?;
    let (data, done) = file.read_via_stream(0);
    let bytes = data.collect().await;
    let done = done.await;
    Ok(format!(
        "{:?}, then {done:?}",
        String::from_utf8_lossy(&bytes)
    ))
}

async fn write(dir: &Descriptor, path: &str) -> Result<String, String> {
    let flags = OpenFlags::CREATE | OpenFlags::TRUNCATE;
    let file = dir
        .open_at(
            PathFlags::empty(),
            path.to_string(),
            flags,
            DescriptorFlags::WRITE,
        )
        .await
        .map_err(|e| format!("open {e:?}"))?;
    let (mut tx, rx) = wit_stream::new();
    let done = file.write_via_stream(rx, 0);
    let rest = tx.write_all(b"written through 0.3\n".to_vec()).await;
    drop(tx);
    Ok(format!(
        "{} bytes not taken, then {:?}",
        rest.len(),
        done.await
    ))
}

async fn list(dir: &Descriptor, path: &str) -> Result<String, String> {
    let sub = dir
        .open_at(
            PathFlags::empty(),
            path.to_string(),
            OpenFlags::DIRECTORY,
            DescriptorFlags::READ,
        )
        .await
        .map_err(|e| format!("open {e:?}"))?;
    let (entries, done) = sub.read_directory();
    let mut names: Vec<String> = entries
        .collect()
        .await
        .into_iter()
        .map(|e| e.name)
        .collect();
    names.sort();
    Ok(format!("{names:?}, then {:?}", done.await))
}
