//! Runs the filesystem script in `FS_SCRIPT` (commands separated by `;`)
//! against the preopen named by `FS_ROOT`, through `wasi:filesystem`
//! directly, and prints one line per command: what it got, or the error
//! code. The same script against a host directory and against an in-memory
//! one must print the same lines.
//!
//! Descriptors opened by `open` are numbered from 1 in order; 0 is the
//! preopen. Paths are relative to the preopen, or to descriptor N when the
//! command is written `VERB@N` (`open@2 x r`, `ls@2 ..`); `rename@N@M` and
//! `link@N@M` resolve the new path from M (from N when only N is given).
//! Text arguments are the rest of the command.
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
//! - `symlink OLD NEW`, `link OLD NEW`, `readlink PATH`; `linkf OLD NEW`:
//!   `link-at` with symlink-follow; `openf PATH FLAGS`: `open-at` following
//!   a symlink named last; `nlink PATH`: the link count `stat-at` gives
//!   (not following); `same PATH PATH2`: whether `metadata-hash-at` (not
//!   following) gives both the same hash.
//! - `statf PATH`: `stat-at` following symlinks; `hash PATH`, `hashf
//!   PATH`: `metadata-hash-at` without and with following (`ok`, or the
//!   error).
//! - `flags N`: `get-flags` of descriptor N (`r` read, `w` write, `m`
//!   mutate-directory, `-` none); `readdir N`: its entries, read from N
//!   itself (directories end in `/`, symlinks in `@`).
//! - `root NAME`: the preopen named NAME as the next descriptor.
//! - `fill PATH KIB`: writes KIB KiB in 4 KiB writes, then prints the size.
//! - `stdfill PATH KIB`: the same through Rust's `std::fs::File` (PATH is
//!   absolute, under the preopen); an error prints its `ErrorKind`.
//!
//! In a PATH, `%XX` is the byte of hex XX (`%20` a space, `%00` a NUL), so
//! that any path can be written in a script; the command is printed as
//! written.
use std::collections::BTreeMap;
use wasi::clocks::wall_clock::Datetime;
use wasi::filesystem::preopens::get_directories;
use wasi::filesystem::types::{
    Descriptor, DescriptorFlags, DescriptorType, ErrorCode, NewTimestamp, OpenFlags, PathFlags,
};

fn main() {
    let root_name = std::env::var("FS_ROOT").unwrap_or_else(|_| "/t".into());
    let script = std::env::var("FS_SCRIPT").unwrap_or_default();
    let mut state = Script {
        root: preopen(&root_name).expect("the preopen FS_ROOT"),
        fds: BTreeMap::new(),
        next: 1,
    };
    for command in script.split(';').map(str::trim).filter(|c| !c.is_empty()) {
        state.run(command);
    }
}

/// The preopen named `wanted`.
fn preopen(wanted: &str) -> Option<Descriptor> {
    get_directories()
        .into_iter()
        .find(|(_, name)| name == wanted)
        .map(|(d, _)| d)
}

/// A command's words: the verb (with its `@N`), then its arguments.
struct Words<'a> {
    raw: Vec<&'a str>,
    decoded: Vec<String>,
}

impl<'a> Words<'a> {
    fn new(command: &'a str) -> Words<'a> {
        let raw: Vec<&str> = command.splitn(4, ' ').collect();
        let decoded = (0..4)
            .map(|i| percent_decoded(raw.get(i).copied().unwrap_or("")))
            .collect();
        Words { raw, decoded }
    }

    /// Word `i`: texts are taken as written; paths are decoded.
    fn arg(&self, i: usize) -> &str {
        match self.raw[0].split('@').next().unwrap_or("") {
            "write" | "wstream" | "append" => self.raw.get(i).copied().unwrap_or(""),
            _ => self.decoded[i].as_str(),
        }
    }

    fn num(&self, i: usize) -> u64 {
        self.arg(i).parse::<u64>().unwrap_or(0)
    }
}

/// The preopen and the descriptors the script opened, numbered from 1.
struct Script {
    root: Descriptor,
    fds: BTreeMap<u32, Descriptor>,
    next: u32,
}

/// What a command did to the descriptors, applied once it is done.
enum Change {
    None,
    Opened(Descriptor),
    Closed(u32),
}

impl Script {
    /// Runs one command and prints its line.
    fn run(&mut self, command: &str) {
        let words = Words::new(command);
        let (result, change) = match self.execute(&words) {
            Ok(done) => done,
            Err(why) => {
                println!("{command}: {why}");
                return;
            }
        };
        match change {
            Change::Opened(d) => {
                self.fds.insert(self.next, d);
                self.next += 1;
            }
            Change::Closed(n) => {
                self.fds.remove(&n);
            }
            Change::None => {}
        }
        match result {
            Ok(text) => println!("{command}: {text}"),
            Err(code) => println!("{command}: error {}", code.name()),
        }
    }

    /// What the command gives, and how it changes the descriptors; an
    /// error where its `@N` names no descriptor.
    fn execute(&self, w: &Words) -> Result<(Result<String, ErrorCode>, Change), String> {
        let (verb, from, to) = at_descriptors(w.raw[0], &self.root, &self.fds)?;
        let fd = |i: usize| match w.num(i) {
            0 => Some(&self.root),
            n => self.fds.get(&(n as u32)),
        };
        let next = self.next;
        Ok(match verb {
            "open" | "openf" => {
                let flags = (open_flags(w.arg(2)), flags(w.arg(2)));
                match from.open_at(follow_if(verb == "openf"), w.arg(1), flags.0, flags.1) {
                    Ok(d) => (Ok(format!("fd {next}")), Change::Opened(d)),
                    Err(e) => (Err(e), Change::None),
                }
            }
            "root" => match preopen(w.arg(1)) {
                Some(d) => (Ok(format!("fd {next}")), Change::Opened(d)),
                None => (Ok("no such preopen".into()), Change::None),
            },
            "close" => match fd(1) {
                Some(_) => (Ok("closed".into()), Change::Closed(w.num(1) as u32)),
                None => (Ok("no such fd".into()), Change::None),
            },
            "write" | "read" | "setsize" | "fstat" | "wstream" | "append" | "rstream" | "flags"
            | "readdir" => match fd(1) {
                None => (Ok("no such fd".into()), Change::None),
                Some(d) => (on_fd(d, verb, &w.raw), Change::None),
            },
            _ => (on_path(verb, from, to, w), Change::None),
        })
    }
}

/// A command on paths, resolved from `from` (the second path of `rename`
/// and `link` from `to`).
fn on_path(verb: &str, from: &Descriptor, to: &Descriptor, w: &Words) -> Result<String, ErrorCode> {
    let arg = |i: usize| w.arg(i);
    match verb {
        "stat" => from
            .stat_at(PathFlags::empty(), arg(1))
            .map(|s| describe(s.type_, s.size)),
        "statf" => from
            .stat_at(PathFlags::SYMLINK_FOLLOW, arg(1))
            .map(|s| describe(s.type_, s.size)),
        "hash" => from
            .metadata_hash_at(PathFlags::empty(), arg(1))
            .map(|_| "ok".into()),
        "hashf" => from
            .metadata_hash_at(PathFlags::SYMLINK_FOLLOW, arg(1))
            .map(|_| "ok".into()),
        "mkdir" => from.create_directory_at(arg(1)).map(|()| "ok".into()),
        "rmdir" => from.remove_directory_at(arg(1)).map(|()| "ok".into()),
        "unlink" => from.unlink_file_at(arg(1)).map(|()| "ok".into()),
        "rename" => from.rename_at(arg(1), to, arg(2)).map(|()| "ok".into()),
        "symlink" => from.symlink_at(arg(1), arg(2)).map(|()| "ok".into()),
        "link" | "linkf" => from
            .link_at(follow_if(verb == "linkf"), arg(1), to, arg(2))
            .map(|()| "ok".into()),
        "nlink" => from
            .stat_at(PathFlags::empty(), arg(1))
            .map(|s| s.link_count.to_string()),
        "same" => same(from, arg(1), arg(2)),
        "readlink" => from.readlink_at(arg(1)),
        "ls" => list(from, arg(1)),
        "cat" => cat(from, arg(1)),
        "settime" => from
            .set_times_at(
                PathFlags::empty(),
                arg(1),
                NewTimestamp::NoChange,
                NewTimestamp::Timestamp(Datetime {
                    seconds: w.num(2),
                    nanoseconds: 0,
                }),
            )
            .map(|()| "ok".into()),
        "mtime" => from.stat_at(PathFlags::empty(), arg(1)).map(|s| {
            let t = s.data_modification_timestamp;
            let (secs, nanos) = t.map_or((0, 0), |t| (t.seconds, t.nanoseconds));
            format!("{secs}.{nanos:09}")
        }),
        "fill" => fill(from, arg(1), w.num(2)),
        "stdfill" => Ok(std_fill(arg(1), w.num(2))),
        other => panic!("unknown command `{other}`"),
    }
}

/// Whether `metadata-hash-at` (not following) gives `a` and `b` the same
/// hash.
fn same(from: &Descriptor, a: &str, b: &str) -> Result<String, ErrorCode> {
    let a = from.metadata_hash_at(PathFlags::empty(), a)?;
    let b = from.metadata_hash_at(PathFlags::empty(), b)?;
    Ok(match (a.lower, a.upper) == (b.lower, b.upper) {
        true => "same".into(),
        false => "different".into(),
    })
}

/// A verb written `VERB`, `VERB@N` or `VERB@N@M`: the verb, the
/// descriptor its path is resolved from, and the one a second path (of
/// `rename` and `link`) is resolved from.
fn at_descriptors<'a>(
    word: &'a str,
    root: &'a Descriptor,
    fds: &'a BTreeMap<u32, Descriptor>,
) -> Result<(&'a str, &'a Descriptor, &'a Descriptor), String> {
    let mut parts = word.split('@');
    let verb = parts.next().unwrap_or("");
    let mut pick = |default: &'a Descriptor| match parts.next() {
        None => Ok(default),
        Some("0") => Ok(root),
        Some(n) => n
            .parse::<u32>()
            .ok()
            .and_then(|n| fds.get(&n))
            .ok_or_else(|| "no such fd".to_string()),
    };
    let from = pick(root)?;
    let to = pick(from)?;
    Ok((verb, from, to))
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

/// `symlink-follow` when `follow`, else no path flag.
fn follow_if(follow: bool) -> PathFlags {
    match follow {
        true => PathFlags::SYMLINK_FOLLOW,
        false => PathFlags::empty(),
    }
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
        DescriptorType::SymbolicLink => format!("symlink {size}"),
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
        "write" => d
            .write(arg(3).as_bytes(), num(2))
            .map(|n| format!("wrote {n}")),
        "read" => d.read(num(3), num(2)).map(|(bytes, end)| {
            format!(
                "{:?}{}",
                String::from_utf8_lossy(&bytes),
                if end { " eof" } else { "" }
            )
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
        "flags" => d.get_flags().map(|f| flag_letters(f)),
        "readdir" => entries(d),
        _ => unreachable!(),
    }
}

/// Descriptor flags as `open`'s letters: `r`, `w`, `m`; `-` for none.
fn flag_letters(f: DescriptorFlags) -> String {
    let letters: String = [
        ('r', DescriptorFlags::READ),
        ('w', DescriptorFlags::WRITE),
        ('m', DescriptorFlags::MUTATE_DIRECTORY),
    ]
    .iter()
    .filter(|(_, flag)| f.contains(*flag))
    .map(|(c, _)| *c)
    .collect();
    if letters.is_empty() {
        "-".into()
    } else {
        letters
    }
}

fn list(root: &Descriptor, path: &str) -> Result<String, ErrorCode> {
    let dir = root.open_at(
        PathFlags::empty(),
        path,
        OpenFlags::DIRECTORY,
        DescriptorFlags::READ,
    )?;
    entries(&dir)
}

/// The entries of directory `dir`, sorted, directories with a `/`.
fn entries(dir: &Descriptor) -> Result<String, ErrorCode> {
    let entries = dir.read_directory()?;
    let mut names = Vec::new();
    while let Some(e) = entries.read_directory_entry()? {
        let slash = match e.type_ {
            DescriptorType::Directory => "/",
            DescriptorType::SymbolicLink => "@",
            _ => "",
        };
        names.push(format!("{}{slash}", e.name));
    }
    names.sort();
    Ok(format!("[{}]", names.join(" ")))
}

fn cat(root: &Descriptor, path: &str) -> Result<String, ErrorCode> {
    let file = root.open_at(
        PathFlags::empty(),
        path,
        OpenFlags::empty(),
        DescriptorFlags::READ,
    )?;
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

/// Writes `kib` KiB to `path` through `std::fs::File` in 4 KiB writes:
/// the size, or the `ErrorKind` Rust sees.
fn std_fill(path: &str, kib: u64) -> String {
    use std::io::Write;
    let written = std::fs::File::create(path).and_then(|mut file| {
        for _ in 0..kib / 4 {
            file.write_all(&[b'x'; 4096])?;
        }
        file.flush()?;
        file.metadata()
    });
    match written {
        Ok(meta) => format!("size {}", meta.len()),
        Err(e) => format!("error kind {:?}", e.kind()),
    }
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
