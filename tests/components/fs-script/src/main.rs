//! Runs the filesystem script in `FS_SCRIPT` (commands separated by `;`)
//! against the preopen named by `FS_ROOT`, through `wasi:filesystem`
//! directly, and prints one line per command: what it got, or the error
//! code. The same script against a host directory and against an in-memory
//! one must print the same lines.
//!
//! Descriptors opened by `open` are numbered from 1 in order. Paths are
//! relative to the preopen. Text arguments are the rest of the command.
//!
//! - `open PATH FLAGS`: FLAGS holds `c` create, `x` exclusive, `t`
//!   truncate, `d` directory, `r` read, `w` write, `m` mutate-directory
//!   (`-` for none).
//! - `write N OFFSET TEXT`, `read N OFFSET LEN`, `setsize N SIZE`,
//!   `fstat N`, `close N`.
//! - `wstream N OFFSET TEXT`, `append N TEXT`: through an output stream.
//! - `rstream N OFFSET`: everything an input stream reads from OFFSET.
//! - `stat PATH`, `mkdir PATH`, `rmdir PATH`, `unlink PATH`,
//!   `rename OLD NEW`, `ls PATH`, `cat PATH`.
//! - `settime PATH SECONDS` sets the modification time; `mtime PATH`
//!   prints it (`SECONDS.NANOSECONDS`).
//! - `symlink OLD NEW`, `link OLD NEW`, `readlink PATH`.
//! - `fill PATH KIB`: writes KIB KiB in 4 KiB writes, then prints the size.
//!
//! In a PATH, `%XX` is the byte of hex XX (`%20` a space, `%00` a NUL), so
//! that any path can be written in a script; the command is printed as
//! written.
use std::collections::BTreeMap;
use wasi::filesystem::preopens::get_directories;
use wasi::filesystem::types::{
    Descriptor, DescriptorFlags, DescriptorType, ErrorCode, NewTimestamp, OpenFlags, PathFlags,
};
use wasi::clocks::wall_clock::Datetime;

fn main() {
    let root_name = std::env::var("FS_ROOT").unwrap_or_else(|_| "/t".into());
    let script = std::env::var("FS_SCRIPT").unwrap_or_default();
    let root = get_directories()
        .into_iter()
        .find(|(_, name)| *name == root_name)
        .map(|(d, _)| d)
        .expect("the preopen FS_ROOT");
    let mut fds: BTreeMap<u32, Descriptor> = BTreeMap::new();
    let mut next = 1;
    for command in script.split(';').map(str::trim).filter(|c| !c.is_empty()) {
        let words: Vec<&str> = command.splitn(4, ' ').collect();
        let raw = |i: usize| words.get(i).copied().unwrap_or("");
        let decoded: Vec<String> = (0..4).map(|i| percent_decoded(raw(i))).collect();
        let arg = |i: usize| match words[0] {
            // Texts are taken as written; paths are decoded.
            "write" | "wstream" | "append" => raw(i),
            _ => decoded[i].as_str(),
        };
        let num = |i: usize| arg(i).parse::<u64>().unwrap_or(0);
        let fd = |i: usize| fds.get(&(num(i) as u32));
        let result: Result<String, ErrorCode> = match words[0] {
            "open" => root
                .open_at(PathFlags::empty(), arg(1), open_flags(arg(2)), flags(arg(2)))
                .map(|d| {
                    fds.insert(next, d);
                    next += 1;
                    format!("fd {}", next - 1)
                }),
            "close" => Ok(match fds.remove(&(num(1) as u32)) {
                Some(_) => "closed".into(),
                None => "no such fd".into(),
            }),
            "write" | "read" | "setsize" | "fstat" | "wstream" | "append" | "rstream" => {
                match fd(1) {
                    None => Ok("no such fd".into()),
                    Some(d) => on_fd(d, words[0], &words),
                }
            }
            "stat" => root.stat_at(PathFlags::empty(), arg(1)).map(|s| describe(s.type_, s.size)),
            "mkdir" => root.create_directory_at(arg(1)).map(|()| "ok".into()),
            "rmdir" => root.remove_directory_at(arg(1)).map(|()| "ok".into()),
            "unlink" => root.unlink_file_at(arg(1)).map(|()| "ok".into()),
            "rename" => root.rename_at(arg(1), &root, arg(2)).map(|()| "ok".into()),
            "symlink" => root.symlink_at(arg(1), arg(2)).map(|()| "ok".into()),
            "link" => root
                .link_at(PathFlags::empty(), arg(1), &root, arg(2))
                .map(|()| "ok".into()),
            "readlink" => root.readlink_at(arg(1)),
            "ls" => list(&root, arg(1)),
            "cat" => cat(&root, arg(1)),
            "settime" => root
                .set_times_at(
                    PathFlags::empty(),
                    arg(1),
                    NewTimestamp::NoChange,
                    NewTimestamp::Timestamp(Datetime {
                        seconds: num(2),
                        nanoseconds: 0,
                    }),
                )
                .map(|()| "ok".into()),
            "mtime" => root.stat_at(PathFlags::empty(), arg(1)).map(|s| {
                let t = s.data_modification_timestamp;
                let (secs, nanos) = t.map_or((0, 0), |t| (t.seconds, t.nanoseconds));
                format!("{secs}.{nanos:09}")
            }),
            "fill" => fill(&root, arg(1), num(2)),
            other => panic!("unknown command `{other}`"),
        };
        match result {
            Ok(text) => println!("{command}: {text}"),
            Err(code) => println!("{command}: error {}", code.name()),
        }
    }
}

/// `%XX` replaced by the byte XX; the result is taken as UTF-8, lossily
/// (a path is a string in WASI).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn open_flags(letters: &str) -> OpenFlags {
    let mut f = OpenFlags::empty();
    for (c, flag) in [
        ('c', OpenFlags::CREATE),
        ('x', OpenFlags::EXCLUSIVE),
        ('t', OpenFlags::TRUNCATE),
        ('d', OpenFlags::DIRECTORY),
    ] {
        if letters.contains(c) {
            f |= flag;
        }
    }
    f
}

fn flags(letters: &str) -> DescriptorFlags {
    let mut f = DescriptorFlags::empty();
    for (c, flag) in [
        ('r', DescriptorFlags::READ),
        ('w', DescriptorFlags::WRITE),
        ('m', DescriptorFlags::MUTATE_DIRECTORY),
    ] {
        if letters.contains(c) {
            f |= flag;
        }
    }
    f
}

fn describe(t: DescriptorType, size: u64) -> String {
    match t {
        DescriptorType::Directory => "dir".into(),
        DescriptorType::RegularFile => format!("file {size}"),
        other => format!("{other:?}"),
    }
}

fn stream_error(e: wasi::io::streams::StreamError) -> ErrorCode {
    match e {
        wasi::io::streams::StreamError::LastOperationFailed(e) => {
            wasi::filesystem::types::filesystem_error_code(&e).unwrap_or(ErrorCode::Io)
        }
        wasi::io::streams::StreamError::Closed => ErrorCode::Pipe,
    }
}

fn on_fd(d: &Descriptor, verb: &str, words: &[&str]) -> Result<String, ErrorCode> {
    let arg = |i: usize| words.get(i).copied().unwrap_or("");
    let num = |i: usize| arg(i).parse::<u64>().unwrap_or(0);
    match verb {
        "write" => d.write(arg(3).as_bytes(), num(2)).map(|n| format!("wrote {n}")),
        "read" => d.read(num(3), num(2)).map(|(bytes, end)| {
            format!("{:?}{}", String::from_utf8_lossy(&bytes), if end { " eof" } else { "" })
        }),
        "setsize" => d.set_size(num(2)).map(|()| "ok".into()),
        "fstat" => d.stat().map(|s| describe(s.type_, s.size)),
        "wstream" | "append" => {
            let (stream, text) = if verb == "append" {
                (d.append_via_stream()?, words[2..].join(" "))
            } else {
                (d.write_via_stream(num(2))?, arg(3).to_string())
            };
            stream
                .blocking_write_and_flush(text.as_bytes())
                .map_err(stream_error)?;
            Ok("ok".into())
        }
        "rstream" => {
            let stream = d.read_via_stream(num(2))?;
            let mut bytes = Vec::new();
            loop {
                match stream.blocking_read(4096) {
                    Ok(chunk) => bytes.extend(chunk),
                    Err(wasi::io::streams::StreamError::Closed) => break,
                    Err(e) => return Err(stream_error(e)),
                }
            }
            Ok(format!("{:?}", String::from_utf8_lossy(&bytes)))
        }
        _ => unreachable!(),
    }
}

fn list(root: &Descriptor, path: &str) -> Result<String, ErrorCode> {
    let dir = root.open_at(
        PathFlags::empty(),
        path,
        OpenFlags::DIRECTORY,
        DescriptorFlags::READ,
    )?;
    let entries = dir.read_directory()?;
    let mut names = Vec::new();
    while let Some(e) = entries.read_directory_entry()? {
        let slash = if e.type_ == DescriptorType::Directory { "/" } else { "" };
        names.push(format!("{}{slash}", e.name));
    }
    names.sort();
    Ok(format!("[{}]", names.join(" ")))
}

fn cat(root: &Descriptor, path: &str) -> Result<String, ErrorCode> {
    let file = root.open_at(PathFlags::empty(), path, OpenFlags::empty(), DescriptorFlags::READ)?;
    let mut bytes = Vec::new();
    loop {
        let (chunk, end) = file.read(4096, bytes.len() as u64)?;
        bytes.extend(chunk);
        if end {
            break;
        }
    }
    Ok(format!("{:?}", String::from_utf8_lossy(&bytes)))
}

fn fill(root: &Descriptor, path: &str, kib: u64) -> Result<String, ErrorCode> {
    let file = root.open_at(
        PathFlags::empty(),
        path,
        OpenFlags::CREATE | OpenFlags::TRUNCATE,
        DescriptorFlags::READ | DescriptorFlags::WRITE,
    )?;
    let block = [b'x'; 4096];
    for i in 0..kib / 4 {
        file.write(&block, i * 4096)?;
    }
    file.stat().map(|s| format!("size {}", s.size))
}
