//! Runs the filesystem script in `FS_SCRIPT` (commands separated by `;`)
//! against the preopen named by `FS_ROOT`, through the raw
//! `wasi_snapshot_preview1` functions (built for `wasm32-wasip1`, made a
//! component with the preview1 adapter), and prints one line per command:
//! `COMMAND: RESULT`, or `COMMAND: error ERRNO` (`BADF`, `NOTCAPABLE`,
//! `LOOP`, ...). The same script against a host preopen and against an
//! in-memory one must print the same lines.
//!
//! Each `open` takes the next number from 1, whether it succeeds or not,
//! so that one failure does not renumber the rest of a script; 0 is the
//! preopen; a number that names nothing (a failed open, a closed
//! descriptor) is passed as a descriptor nobody holds, so the call answers
//! `BADF`. Paths are
//! resolved from the preopen, or from descriptor N when the verb is written
//! `VERB@N`; `rename@N@M` and `link@N@M` resolve the new path from M.
//! In a path, `%XX` is the byte of hex XX.
//!
//! - `open PATH OFLAGS RIGHTS [FDFLAGS]` (`lopen`: without
//!   `SYMLINK_FOLLOW`): OFLAGS holds `c` creat, `d` directory, `x` excl,
//!   `t` trunc; RIGHTS `r` fd_read, `w` fd_write, `*` all; FDFLAGS `a`
//!   append, `n` nonblock, `s` sync, `d` dsync; `-` for none.
//! - `read N LEN`, `pread N OFFSET LEN`, `write N TEXT`,
//!   `pwrite N OFFSET TEXT` (TEXT is the rest of the command).
//! - `seek N DELTA set|cur|end`, `tell N`, `setsize N SIZE`, `close N`.
//! - `fstat N`, `stat PATH` (following symlinks), `lstat PATH` (not):
//!   the file type, and for what is not a directory its size and link
//!   count; which timestamps are zero (they differ between hosts).
//! - `fdstat N`: file type, fd flags, and the base and inheriting rights.
//! - `readdir N BUF [COOKIE]`: every entry from COOKIE (0 by default), read
//!   with a BUF-byte buffer resumed by cookie (doubled while no entry fits
//!   whole), sorted by name (entry order differs between hosts); from a
//!   cookie past 2 (past `.` and `..`) only their number, since which
//!   entries follow depends on the order. `readdir1 N BUF COOKIE`: one call,
//!   how many bytes it filled and how many entries fit whole.
//! - `mkdir PATH`, `rmdir PATH`, `unlink PATH`, `rename OLD NEW`,
//!   `symlink TARGET PATH`, `readlink PATH [BUF]`, `link OLD NEW` (`linkf`:
//!   following a symlink OLD).
//! - `cat PATH`: opened read-only (following symlinks), read whole.
//! - `same PATH PATH`: whether the two have the same inode (`lstat`).
//! - `utimes PATH ATIM MTIM` (`lutimes`: not following), `futimes N ATIM
//!   MTIM`: each time a number of nanoseconds, `now`, or `-` (unchanged);
//!   `times PATH`: both as numbers (`lstat`; only times the script set
//!   can be compared).
//! - `sync N`, `datasync N`, `advise N OFFSET LEN`, `allocate N OFFSET
//!   LEN`, `setflags N FDFLAGS`.
use std::collections::BTreeMap;
use wasi::{Errno, Fd, Filestat, Filetype};

/// A descriptor number nothing holds.
const NO_FD: Fd = 0x3fff_fff0;

/// The size of a `dirent` before its name.
const DIRENT: usize = 24;

fn main() {
    let root_name = std::env::var("FS_ROOT").unwrap_or_else(|_| "/t".into());
    let script = std::env::var("FS_SCRIPT").unwrap_or_default();
    let root = find_preopen(&root_name).expect("the preopen FS_ROOT");
    let mut state = Script {
        root,
        fds: BTreeMap::new(),
        next: 1,
    };
    for command in script.split(';').map(str::trim).filter(|c| !c.is_empty()) {
        match state.run(command) {
            Ok(text) => println!("{command}: {text}"),
            Err(errno) => println!("{command}: error {}", errno.name()),
        }
    }
}

/// The preopened descriptor named `name`.
fn find_preopen(name: &str) -> Option<Fd> {
    for fd in 3.. {
        let prestat = unsafe { wasi::fd_prestat_get(fd) }.ok()?;
        let len = unsafe { prestat.u.dir.pr_name_len };
        let mut buf = vec![0u8; len];
        unsafe { wasi::fd_prestat_dir_name(fd, buf.as_mut_ptr(), len) }.ok()?;
        if buf == name.as_bytes() {
            return Some(fd);
        }
    }
    None
}

struct Script {
    root: Fd,
    /// Script numbers to the adapter's descriptors.
    fds: BTreeMap<u32, Fd>,
    next: u32,
}

/// One command's words: the verb, the descriptors its paths are resolved
/// from, and the rest split at spaces (`rest` keeps the text unsplit).
struct Command<'a> {
    verb: &'a str,
    from: Fd,
    to: Fd,
    rest: &'a str,
}

impl Command<'_> {
    fn word(&self, i: usize) -> &str {
        self.rest.split(' ').nth(i).unwrap_or("")
    }

    fn num(&self, i: usize) -> u64 {
        self.word(i).parse().unwrap_or(0)
    }

    fn signed(&self, i: usize) -> i64 {
        self.word(i).parse().unwrap_or(0)
    }

    /// Word `i` as a path, `%XX` decoded.
    fn path(&self, i: usize) -> String {
        percent_decoded(self.word(i))
    }

    /// Everything after the first `skip` words.
    fn text(&self, skip: usize) -> &str {
        self.rest.splitn(skip + 1, ' ').nth(skip).unwrap_or("")
    }
}

impl Script {
    /// The adapter's descriptor for script number `n`.
    fn fd(&self, n: u64) -> Fd {
        match n {
            0 => self.root,
            n => u32::try_from(n)
                .ok()
                .and_then(|n| self.fds.get(&n).copied())
                .unwrap_or(NO_FD),
        }
    }

    fn parse<'a>(&self, command: &'a str) -> Command<'a> {
        let (head, rest) = command.split_once(' ').unwrap_or((command, ""));
        let mut parts = head.split('@');
        let verb = parts.next().unwrap_or("");
        let from = parts
            .next()
            .map_or(self.root, |n| self.fd(n.parse().unwrap_or(u64::MAX)));
        let to = parts
            .next()
            .map_or(from, |n| self.fd(n.parse().unwrap_or(u64::MAX)));
        Command {
            verb,
            from,
            to,
            rest,
        }
    }

    fn run(&mut self, line: &str) -> Result<String, Errno> {
        let c = self.parse(line);
        let n = self.fd(c.num(0));
        unsafe {
            match c.verb {
                "open" | "lopen" => self.open(&c),
                "close" => self.close(c.num(0)),
                "read" => read(n, c.num(1) as usize, None),
                "pread" => read(n, c.num(2) as usize, Some(c.num(1))),
                "write" => write(n, c.text(1), None),
                "pwrite" => write(n, c.text(2), Some(c.num(1))),
                "seek" => seek(n, c.signed(1), c.word(2)),
                "tell" => wasi::fd_tell(n).map(|at| format!("at {at}")),
                "setsize" => wasi::fd_filestat_set_size(n, c.num(1)).map(ok),
                "fstat" => wasi::fd_filestat_get(n).map(|s| describe(&s)),
                "fdstat" => fdstat(n),
                "readdir" => readdir(n, c.num(1) as usize, c.num(2)),
                "readdir1" => readdir_once(n, c.num(1) as usize, c.num(2)),
                "stat" => wasi::path_filestat_get(c.from, FOLLOW, &c.path(0)).map(|s| describe(&s)),
                "lstat" => wasi::path_filestat_get(c.from, 0, &c.path(0)).map(|s| describe(&s)),
                "mkdir" => wasi::path_create_directory(c.from, &c.path(0)).map(ok),
                "rmdir" => wasi::path_remove_directory(c.from, &c.path(0)).map(ok),
                "unlink" => wasi::path_unlink_file(c.from, &c.path(0)).map(ok),
                "rename" => wasi::path_rename(c.from, &c.path(0), c.to, &c.path(1)).map(ok),
                "symlink" => wasi::path_symlink(&c.path(0), c.from, &c.path(1)).map(ok),
                "readlink" => readlink(c.from, &c.path(0), c.word(1).parse().unwrap_or(256)),
                "link" => wasi::path_link(c.from, 0, &c.path(0), c.to, &c.path(1)).map(ok),
                "linkf" => wasi::path_link(c.from, FOLLOW, &c.path(0), c.to, &c.path(1)).map(ok),
                "cat" => cat(c.from, &c.path(0)),
                "same" => same(c.from, &c.path(0), &c.path(1)),
                "utimes" | "lutimes" => {
                    let lookup = if c.verb == "utimes" { FOLLOW } else { 0 };
                    let (atim, mtim, flags) = times(c.word(1), c.word(2));
                    wasi::path_filestat_set_times(c.from, lookup, &c.path(0), atim, mtim, flags)
                        .map(ok)
                }
                "futimes" => {
                    let (atim, mtim, flags) = times(c.word(1), c.word(2));
                    wasi::fd_filestat_set_times(n, atim, mtim, flags).map(ok)
                }
                "times" => wasi::path_filestat_get(c.from, 0, &c.path(0))
                    .map(|s| format!("atim {} mtim {}", s.atim, s.mtim)),
                "sync" => wasi::fd_sync(n).map(ok),
                "datasync" => wasi::fd_datasync(n).map(ok),
                "advise" => wasi::fd_advise(n, c.num(1), c.num(2), wasi::ADVICE_NORMAL).map(ok),
                "allocate" => wasi::fd_allocate(n, c.num(1), c.num(2)).map(ok),
                "setflags" => wasi::fd_fdstat_set_flags(n, fdflags(c.word(1))).map(ok),
                other => panic!("unknown command `{other}`"),
            }
        }
    }

    unsafe fn open(&mut self, c: &Command) -> Result<String, Errno> {
        let lookup = if c.verb == "open" { FOLLOW } else { 0 };
        let rights = rights(c.word(2));
        let n = self.next;
        self.next += 1;
        let fd = wasi::path_open(
            c.from,
            lookup,
            &c.path(0),
            oflags(c.word(1)),
            rights,
            rights,
            fdflags(c.word(3)),
        )?;
        self.fds.insert(n, fd);
        Ok(format!("fd {n}"))
    }

    unsafe fn close(&mut self, n: u64) -> Result<String, Errno> {
        wasi::fd_close(self.fd(n))?;
        if let Ok(n) = u32::try_from(n) {
            self.fds.remove(&n);
        }
        Ok("closed".into())
    }
}

const FOLLOW: wasi::Lookupflags = wasi::LOOKUPFLAGS_SYMLINK_FOLLOW;

fn ok(_: ()) -> String {
    "ok".into()
}

fn oflags(word: &str) -> wasi::Oflags {
    let mut flags = 0;
    for (letter, flag) in [
        ('c', wasi::OFLAGS_CREAT),
        ('d', wasi::OFLAGS_DIRECTORY),
        ('x', wasi::OFLAGS_EXCL),
        ('t', wasi::OFLAGS_TRUNC),
    ] {
        if word.contains(letter) {
            flags |= flag;
        }
    }
    flags
}

fn rights(word: &str) -> wasi::Rights {
    if word.contains('*') {
        return !0;
    }
    let mut rights = 0;
    if word.contains('r') {
        rights |= wasi::RIGHTS_FD_READ;
    }
    if word.contains('w') {
        rights |= wasi::RIGHTS_FD_WRITE;
    }
    rights
}

fn fdflags(word: &str) -> wasi::Fdflags {
    let mut flags = 0;
    for (letter, flag) in [
        ('a', wasi::FDFLAGS_APPEND),
        ('n', wasi::FDFLAGS_NONBLOCK),
        ('s', wasi::FDFLAGS_SYNC),
        ('d', wasi::FDFLAGS_DSYNC),
    ] {
        if word.contains(letter) {
            flags |= flag;
        }
    }
    flags
}

unsafe fn read(fd: Fd, len: usize, at: Option<u64>) -> Result<String, Errno> {
    let mut buf = vec![0u8; len];
    let iov = [wasi::Iovec {
        buf: buf.as_mut_ptr(),
        buf_len: len,
    }];
    let n = match at {
        Some(offset) => wasi::fd_pread(fd, &iov, offset)?,
        None => wasi::fd_read(fd, &iov)?,
    };
    Ok(format!("{:?}", String::from_utf8_lossy(&buf[..n])))
}

unsafe fn write(fd: Fd, text: &str, at: Option<u64>) -> Result<String, Errno> {
    let iov = [wasi::Ciovec {
        buf: text.as_ptr(),
        buf_len: text.len(),
    }];
    let n = match at {
        Some(offset) => wasi::fd_pwrite(fd, &iov, offset)?,
        None => wasi::fd_write(fd, &iov)?,
    };
    Ok(format!("wrote {n}"))
}

unsafe fn seek(fd: Fd, delta: i64, whence: &str) -> Result<String, Errno> {
    let whence = match whence {
        "set" => wasi::WHENCE_SET,
        "cur" => wasi::WHENCE_CUR,
        "end" => wasi::WHENCE_END,
        other => panic!("unknown whence `{other}`"),
    };
    wasi::fd_seek(fd, delta, whence).map(|at| format!("at {at}"))
}

fn type_name(t: Filetype) -> String {
    match t {
        wasi::FILETYPE_REGULAR_FILE => "file".into(),
        wasi::FILETYPE_DIRECTORY => "dir".into(),
        wasi::FILETYPE_SYMBOLIC_LINK => "symlink".into(),
        other => other.name().to_lowercase(),
    }
}

/// The file type; for what is not a directory, its size and link count (a
/// directory's differ between host file systems); and which times are zero.
fn describe(s: &Filestat) -> String {
    let mut out = type_name(s.filetype);
    if s.filetype != wasi::FILETYPE_DIRECTORY {
        out.push_str(&format!(" size {} nlink {}", s.size, s.nlink));
    }
    let zero: Vec<&str> = [("atim", s.atim), ("mtim", s.mtim), ("ctim", s.ctim)]
        .into_iter()
        .filter(|(_, t)| *t == 0)
        .map(|(name, _)| name)
        .collect();
    if !zero.is_empty() {
        out.push_str(&format!(" zero {}", zero.join(",")));
    }
    out
}

unsafe fn fdstat(fd: Fd) -> Result<String, Errno> {
    let s = wasi::fd_fdstat_get(fd)?;
    let flags: String = [
        ('a', wasi::FDFLAGS_APPEND),
        ('n', wasi::FDFLAGS_NONBLOCK),
        ('s', wasi::FDFLAGS_SYNC),
        ('d', wasi::FDFLAGS_DSYNC),
        ('r', wasi::FDFLAGS_RSYNC),
    ]
    .into_iter()
    .filter(|(_, f)| s.fs_flags & f != 0)
    .map(|(letter, _)| letter)
    .collect();
    Ok(format!(
        "{} flags {} base {} inheriting {}",
        type_name(s.fs_filetype),
        if flags.is_empty() { "-".into() } else { flags },
        rights_text(s.fs_rights_base),
        rights_text(s.fs_rights_inheriting)
    ))
}

/// Rights as what they lack of all: `all`, `all-write`,
/// `all-read-readdir`, or hex when they lack others.
fn rights_text(rights: wasi::Rights) -> String {
    let names = [
        ("read", wasi::RIGHTS_FD_READ),
        ("write", wasi::RIGHTS_FD_WRITE),
        ("readdir", wasi::RIGHTS_FD_READDIR),
    ];
    let known = names.iter().fold(0, |all, (_, right)| all | right);
    if !rights & !known != 0 {
        return format!("{rights:#x}");
    }
    let mut out = String::from("all");
    for (name, right) in names {
        if rights & right == 0 {
            out.push('-');
            out.push_str(name);
        }
    }
    out
}

/// A directory entry: its name, type and inode.
struct Entry {
    name: String,
    kind: Filetype,
    ino: u64,
}

/// The entries that fit whole in `buf`, and the cookie after the last.
fn parse_entries(buf: &[u8]) -> (Vec<Entry>, u64) {
    let (mut entries, mut next, mut at) = (Vec::new(), 0, 0);
    while at + DIRENT <= buf.len() {
        let word = |i: usize| u64::from_le_bytes(buf[at + i..at + i + 8].try_into().unwrap());
        let namlen = u32::from_le_bytes(buf[at + 16..at + 20].try_into().unwrap()) as usize;
        let kind = match buf[at + 20] {
            3 => wasi::FILETYPE_DIRECTORY,
            4 => wasi::FILETYPE_REGULAR_FILE,
            7 => wasi::FILETYPE_SYMBOLIC_LINK,
            _ => wasi::FILETYPE_UNKNOWN,
        };
        let Some(name) = buf.get(at + DIRENT..at + DIRENT + namlen) else {
            break;
        };
        entries.push(Entry {
            name: String::from_utf8_lossy(name).into_owned(),
            kind,
            ino: word(8),
        });
        next = word(0);
        at += DIRENT + namlen;
    }
    (entries, next)
}

/// Every entry from `cookie`, resumed by cookie with a `size`-byte buffer
/// (doubled while not one entry fits whole).
unsafe fn read_all(fd: Fd, mut size: usize, mut cookie: u64) -> Result<Vec<Entry>, Errno> {
    let mut all = Vec::new();
    loop {
        let mut buf = vec![0u8; size];
        let used = wasi::fd_readdir(fd, buf.as_mut_ptr(), size, cookie)?;
        let (entries, next) = parse_entries(&buf[..used]);
        if used < size {
            all.extend(entries);
            return Ok(all);
        }
        if entries.is_empty() {
            size = (size * 2).max(DIRENT);
            continue;
        }
        all.extend(entries);
        cookie = next;
    }
}

unsafe fn readdir(fd: Fd, size: usize, cookie: u64) -> Result<String, Errno> {
    let mut entries = read_all(fd, size, cookie)?;
    if cookie > 2 {
        return Ok(format!("{} entries", entries.len()));
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    let dot_ino = wasi::fd_filestat_get(fd)?.ino;
    let names: Vec<String> = entries
        .iter()
        .map(|e| {
            let suffix = match e.kind {
                wasi::FILETYPE_DIRECTORY => "/",
                wasi::FILETYPE_SYMBOLIC_LINK => "@",
                wasi::FILETYPE_REGULAR_FILE => "",
                _ => "?",
            };
            let mark = if ino_agrees(fd, e, dot_ino) {
                ""
            } else {
                "!ino"
            };
            format!("{}{suffix}{mark}", e.name)
        })
        .collect();
    Ok(format!("[{}]", names.join(" ")))
}

/// Whether an entry's inode is the one `lstat` of its name gives (`.`:
/// the directory's own; `..`: 0, as the preview1 adapter always says).
unsafe fn ino_agrees(fd: Fd, e: &Entry, dot_ino: u64) -> bool {
    match e.name.as_str() {
        "." => e.ino == dot_ino,
        ".." => e.ino == 0,
        name => wasi::path_filestat_get(fd, 0, name).is_ok_and(|s| s.ino == e.ino),
    }
}

unsafe fn readdir_once(fd: Fd, size: usize, cookie: u64) -> Result<String, Errno> {
    let mut buf = vec![0u8; size];
    let used = wasi::fd_readdir(fd, buf.as_mut_ptr(), size, cookie)?;
    let (entries, _) = parse_entries(&buf[..used]);
    Ok(format!("used {used} whole {}", entries.len()))
}

unsafe fn readlink(fd: Fd, path: &str, size: usize) -> Result<String, Errno> {
    let mut buf = vec![0u8; size];
    let n = wasi::path_readlink(fd, path, buf.as_mut_ptr(), size)?;
    Ok(format!("{:?}", String::from_utf8_lossy(&buf[..n])))
}

unsafe fn cat(dir: Fd, path: &str) -> Result<String, Errno> {
    let fd = wasi::path_open(dir, FOLLOW, path, 0, wasi::RIGHTS_FD_READ, 0, 0)?;
    let mut bytes = Vec::new();
    loop {
        let mut buf = [0u8; 4096];
        let iov = [wasi::Iovec {
            buf: buf.as_mut_ptr(),
            buf_len: buf.len(),
        }];
        match wasi::fd_read(fd, &iov) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e) => {
                let _ = wasi::fd_close(fd);
                return Err(e);
            }
        }
    }
    wasi::fd_close(fd)?;
    Ok(format!("{:?}", String::from_utf8_lossy(&bytes)))
}

unsafe fn same(dir: Fd, a: &str, b: &str) -> Result<String, Errno> {
    let a = wasi::path_filestat_get(dir, 0, a)?;
    let b = wasi::path_filestat_get(dir, 0, b)?;
    Ok(if a.ino == b.ino { "same" } else { "different" }.into())
}

/// The times and flags of `*_set_times` from two words: a number of
/// nanoseconds sets the time, `now` the current time, `-` leaves it.
fn times(atim: &str, mtim: &str) -> (wasi::Timestamp, wasi::Timestamp, wasi::Fstflags) {
    let mut flags = 0;
    let mut one = |word: &str, set, now| match word {
        "now" => {
            flags |= now;
            0
        }
        "-" => 0,
        ns => {
            flags |= set;
            ns.parse().unwrap_or(0)
        }
    };
    let atim = one(atim, wasi::FSTFLAGS_ATIM, wasi::FSTFLAGS_ATIM_NOW);
    let mtim = one(mtim, wasi::FSTFLAGS_MTIM, wasi::FSTFLAGS_MTIM_NOW);
    (atim, mtim, flags)
}

/// `%XX` replaced by the byte XX, taken as UTF-8 lossily (a path is a
/// string in the `wasi` crate's signatures).
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
