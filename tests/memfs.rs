//! The adapter's filesystems against a host preopen, differentially: the
//! `fs-script` guest runs the same script of filesystem operations on a real
//! directory preopened by wasmtime and on the adapter's filesystem, and must
//! print the same lines, results and error codes alike.
//!
//! - The writable in-memory filesystems (`--tmpfs`, `--overlay`) against a
//!   writable preopen of a temporary directory (empty, or a copy of the
//!   overlay's tree): the hand-written scripts in `tests/memfs/*.txt` (one
//!   command a line) and a few hundred generated from fixed seeds.
//! - The embedded read-only tree (`--mount`) against a read-only preopen of
//!   the same directory: generated scripts whose paths are drawn to be
//!   awkward (trailing slashes, `.` and `..` after a file, doubled slashes,
//!   spaces, non-ASCII and 255-byte names, names past 255 bytes, NUL, deep
//!   and long paths, absolute paths, names shaped like symlinks).
//!
//! Other trials check what has no host counterpart: the size limit, and
//! that no filesystem import is left.

#[path = "harness/mod.rs"]
mod harness;

use anyhow::{ensure, Result};
use harness::{run_fs_script, Preopen};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use wasi_virt::{FsPolicy, Policy, WasiVirt};
use wasmtime::component::Component;

/// Generated scripts per filesystem kind.
const GENERATED: u64 = 500;

/// The tree below every overlay, and copied for its host counterpart.
fn lower() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = harness::repo().join("target/test-fixtures/memfs-lower");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("d/e")).unwrap();
        std::fs::write(dir.join("a"), "alpha\n").unwrap();
        std::fs::write(dir.join("d/x"), "ex\n").unwrap();
        std::fs::write(dir.join("d/e/f"), "deep\n").unwrap();
        std::fs::write(dir.join("big"), vec![b'z'; 10_000]).unwrap();
        // Embedded links, which the overlay's layer turns into its own.
        for (link, target) in [("lx", "d/x"), ("ld", "d"), ("d/e/up", "../x")] {
            std::os::unix::fs::symlink(target, dir.join(link)).unwrap();
        }
        dir
    })
}

/// A name of 255 bytes, the most a host file system allows.
fn long_name() -> String {
    format!("{}.txt", "l".repeat(251))
}

/// The tree embedded read-only, and preopened read-only for the host: its
/// names are the awkward ones the paths are drawn from.
fn awkward() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = harness::repo().join("target/test-fixtures/embedded-awkward");
        let _ = std::fs::remove_dir_all(&dir);
        let deep: String = "n/".repeat(DEEP);
        for sub in ["d/e", "d/empty", "日本", deep.as_str()] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let files = [
            ("a.txt", "alpha\n".to_string()),
            ("with space.txt", "spaced\n".into()),
            ("é.txt", "accent\n".into()),
            ("日本/語.txt", "kotoba\n".into()),
            ("a -> b", "not a link\n".into()),
            ("100%", "percent\n".into()),
            (".hidden", "hidden\n".into()),
            ("empty", String::new()),
            ("d/x", "ex\n".into()),
            ("d/e/f", "deep\n".into()),
            (&format!("{deep}leaf"), "bottom\n".into()),
            (&long_name(), "long\n".into()),
        ];
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        add_links(&dir);
        dir
    })
}

/// Links in the awkward tree, all staying inside it (a mount refuses any
/// other): to a file, to a directory, a chain, a dangling one, a loop, one
/// with `..` staying inside, one climbing out of a subdirectory but not
/// out of the tree, one with a trailing slash, an absolute one (which the
/// mount writes relative: see [`as_mounted`]), and `chain/c0`, a chain one
/// longer than a host follows.
fn add_links(dir: &Path) {
    let absolute = dir.join("a.txt").display().to_string();
    let links = [
        ("l-file", "a.txt"),
        ("l-dir", "d"),
        ("l-chain", "l-chain2"),
        ("l-chain2", "l-dir/e"),
        ("l-dangling", "nowhere"),
        ("l-loop", "l-loop"),
        ("l-trail", "d/"),
        ("l-abs", absolute.as_str()),
        ("d/l-up", "../a.txt"),
        ("d/l-self", "."),
        ("d/e/l-out", "../../d/x"),
        ("d/e/l-dir-up", "../../l-dir"),
    ];
    for (link, target) in links {
        std::os::unix::fs::symlink(target, dir.join(link)).unwrap();
    }
    std::fs::create_dir(dir.join("chain")).unwrap();
    for i in 0..=MAX_LINKS {
        let target = match i {
            MAX_LINKS => "../a.txt".to_string(),
            i => format!("c{}", i + 1),
        };
        std::os::unix::fs::symlink(target, dir.join(format!("chain/c{i}"))).unwrap();
    }
}

/// The awkward tree as a mount embeds it, for the host's preopen: a copy
/// with its absolute link inside written relative to the link's directory,
/// as `wasi-virt` writes it (docs/filesystems.md, "The embedded filesystem").
fn as_mounted() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = harness::repo().join("target/test-fixtures/embedded-awkward-as-mounted");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        harness::copy_tree(awkward(), &dir).unwrap();
        std::fs::remove_file(dir.join("l-abs")).unwrap();
        std::os::unix::fs::symlink("a.txt", dir.join("l-abs")).unwrap();
        dir
    })
}

/// The most links a host follows in one path (Linux's, and cap-std's).
const MAX_LINKS: usize = 40;

/// How deep `n/n/.../leaf` goes in the awkward tree.
const DEEP: usize = 40;

/// A path drawn from the awkward tree's names, `.`, `..`, empty
/// components, names that are not there or too long, NUL, with a leading
/// or trailing slash now and then; in the script's `%XX` form.
fn awkward_path(r: &mut Rng) -> String {
    let long = long_name();
    let too_long = format!("{long}x");
    let names = [
        "a.txt",
        "with%20space.txt",
        "é.txt",
        "日本",
        "語.txt",
        "a%20->%20b",
        "100%25",
        ".hidden",
        "empty",
        "d",
        "e",
        "f",
        "x",
        "empty",
        ".",
        "..",
        "",
        "nope",
        "%00",
        "a.txt%00",
        "n",
        "leaf",
        &long,
        &too_long,
        "l-file",
        "l-dir",
        "l-chain",
        "l-dangling",
        "l-loop",
        "l-trail",
        "l-abs",
        "l-up",
        "l-self",
        "l-out",
        "l-dir-up",
        "chain",
        "c0",
        "c1",
    ];
    let mut path = match r.below(12) {
        // Deep, with a way back up now and then.
        0 => {
            let depth = r.below(DEEP + 3);
            let mut p = "n/".repeat(depth);
            if r.below(3) == 0 {
                p.push_str(&"../".repeat(r.below(depth + 3)));
            }
            p.push_str(r.pick(&["leaf", "n", "", "a.txt"]));
            p
        }
        // Long: `d/..` over and over (well below the host's 4096 bytes).
        1 => format!("{}{}", "d/../".repeat(1 + r.below(150)), r.pick(&names)),
        _ => {
            let parts: Vec<&str> = (0..1 + r.below(4)).map(|_| r.pick(&names)).collect();
            parts.join("/")
        }
    };
    if r.below(15) == 0 {
        path.insert(0, '/');
    }
    if r.below(5) == 0 {
        path.push('/');
    }
    path
}

/// A random read-mostly script over the awkward tree, its paths resolved
/// from the preopen and from descriptors on its subdirectories.
fn generate_awkward(seed: u64) -> String {
    let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let flags = [
        "r", "r", "d", "dr", "rw", "w", "crw", "cxr", "tr", "cd", "-", "d", "dr", "d",
    ];
    let mut script = Vec::new();
    for _ in 0..30 + r.below(20) {
        let fd = 1 + r.below(4);
        let p = awkward_path(&mut r);
        let at = from_descriptor(&mut r);
        let line = match r.below(15) {
            0 => format!("stat{at} {p}"),
            14 => format!("readlink{at} {p}"),
            1 => format!("statf{at} {p}"),
            2 => format!("hash{at} {p}"),
            3 | 4 => format!("open{at} {p} {}", r.pick(&flags)),
            5 => format!("openf{at} {p} {}", r.pick(&flags)),
            6 => format!("ls{at} {p}"),
            7 => format!("cat{at} {p}"),
            8 => format!("fstat {fd}"),
            9 => format!("read {fd} {} {}", r.below(8), r.below(20)),
            10 => format!("rstream {fd} {}", r.below(8)),
            11 => format!("mkdir{at} {p}"),
            12 => format!("unlink{at} {p}"),
            _ => format!("rename{at} {p} {}", awkward_path(&mut r)),
        };
        script.push(line);
    }
    script.join("; ")
}

/// Generated scripts over the embedded tree.
const AWKWARD: u64 = 120;

/// The guest with `/t` virtualized as `fs` wants, compiled once.
fn virtualized(fs: FsPolicy) -> Component {
    let mut virt = WasiVirt::from_policy(Policy {
        fs: Some(fs),
        ..Policy::default()
    });
    virt.compose(harness::guest("fs-script"));
    harness::compile(&virt.finish().expect("virtualize").bytes).unwrap()
}

struct Subjects {
    host: Component,
    tmpfs: Component,
    overlay: Component,
    embedded: Component,
}

fn subjects() -> &'static Subjects {
    static S: OnceLock<Subjects> = OnceLock::new();
    S.get_or_init(|| {
        let mut tmpfs = FsPolicy::default();
        tmpfs.deny_host_preopens().tmpfs("/t", None);
        let mut overlay = FsPolicy::default();
        overlay.deny_host_preopens().overlay("/t", lower(), None);
        let mut embedded = FsPolicy::default();
        embedded
            .deny_host_preopens()
            .virtual_preopen("/t", awkward());
        Subjects {
            host: harness::compile(&harness::guest("fs-script")).unwrap(),
            tmpfs: virtualized(tmpfs),
            overlay: virtualized(overlay),
            embedded: virtualized(embedded),
        }
    })
}

/// Runs `script` on a fresh host directory (empty, or a copy of the lower
/// tree) and on the in-memory filesystem; the outputs must be equal.
fn differential(script: &str, overlay: bool) -> Result<()> {
    let s = subjects();
    let (memory, lower) = if overlay {
        (&s.overlay, Some(lower()))
    } else {
        (&s.tmpfs, None)
    };
    harness::fs_differential(&s.host, memory, lower, script)
}

/// Runs `script` on a read-only preopen of the awkward tree and on the same
/// tree embedded; the outputs must be equal.
fn differential_embedded(script: &str) -> Result<()> {
    let s = subjects();
    let want = run_fs_script(&s.host, script, Preopen::ReadOnly(as_mounted()))?;
    let got = run_fs_script(&s.embedded, script, Preopen::None)?;
    harness::same_lines(&got, &want)
}

/// xorshift64*, seeded.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Where a generated command resolves its paths: the preopen most of the
/// time, else a descriptor the script may have opened (on a directory, a
/// file, or nothing), and for `rename` another for the new path now and
/// then (`VERB@N@M`).
fn from_descriptor(r: &mut Rng) -> String {
    match r.below(6) {
        0 | 1 => format!("@{}", 1 + r.below(4)),
        2 => format!("@{}@{}", r.below(5), r.below(5)),
        _ => String::new(),
    }
}

/// The paths generated scripts name: a small namespace, so that
/// operations meet.
const PATHS: &[&str] = &[
    "a",
    "b",
    "c",
    "d",
    "d/x",
    "d/y",
    "d/e",
    "d/e/f",
    "b/z",
    "a/",
    "d/",
    ".",
    "..",
    "d/..",
    "a/..",
    "d//x",
    "d/./y",
    "nope/x",
    "big",
    "d/e/",
    "a/.",
    "",
    "/a",
    "d/%00/x",
    "a%00b",
    "a/",
    "x",
    "e",
    "e/f",
    "../a",
    "../d/x",
    "e/..",
    "e/../..",
    "x/../../b",
    "./..",
    // The overlay's embedded links.
    "lx",
    "ld",
    "ld/x",
    "ld/",
    "d/e/up",
];

/// The texts generated scripts write.
const WORDS: &[&str] = &["hello", "x", "data123", "", "long-long-long-text"];

/// The flags generated scripts open with.
const FLAGS: &[&str] = &[
    "r", "rw", "crw", "cxrw", "ctrw", "trw", "d", "dr", "cd", "w", "cr", "r", "d", "dr", "tw",
];

/// A random script over a small namespace, so that operations meet, its
/// paths resolved from the preopen and from descriptors on its
/// subdirectories.
fn generate(seed: u64) -> String {
    let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut script = Vec::new();
    for _ in 0..10 + r.below(30) {
        let fd = 1 + r.below(4);
        let p = r.pick(PATHS);
        let at = from_descriptor(&mut r);
        let line = match r.below(23) {
            0 | 1 => format!("open{at} {p} {}", r.pick(FLAGS)),
            2 => format!("write {fd} {} {}", r.below(12), r.pick(WORDS)),
            3 => format!("read {fd} {} {}", r.below(12), r.below(20)),
            4 => format!("setsize {fd} {}", r.below(30)),
            5 => format!("wstream {fd} {} {}", r.below(8), r.pick(WORDS)),
            6 => format!("append {fd} {}", r.pick(WORDS)),
            7 => format!("rstream {fd} {}", r.below(8)),
            8 => format!("fstat {fd}"),
            9 => format!("close {fd}"),
            10 => format!("stat{at} {p}"),
            11 => format!("mkdir{at} {p}"),
            12 => format!("rmdir{at} {p}"),
            13 => format!("unlink{at} {p}"),
            14 => format!("rename{at} {p} {}", r.pick(PATHS)),
            15 => format!("ls{at} {p}"),
            16 => format!("flags {fd}"),
            17 => format!("cat{at} {p}"),
            // Links, their targets drawn from the same paths.
            18 => format!("symlink{at} {} {p}", r.pick(PATHS)),
            19 => format!("link{at} {p} {}", r.pick(PATHS)),
            20 => format!("readlink{at} {p}"),
            21 => format!("statf{at} {p}"),
            _ => format!("openf{at} {p} {}", r.pick(FLAGS)),
        };
        script.push(line);
    }
    script.join("; ")
}

/// The hand-written scripts in `tests/memfs/DIR` (`NAME.txt`, one command
/// a line, `#` starts a comment): those of `tests/memfs` run on both
/// writable kinds, those of `tests/memfs/embedded` on the awkward tree.
fn written(dir: &str) -> Vec<(String, String)> {
    let dir = harness::repo().join("tests").join(dir);
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for path in paths
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
    {
        let text = std::fs::read_to_string(&path).unwrap();
        let script: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        out.push((name, script.join("; ")));
    }
    out
}

/// A tmpfs of `size` bytes at `/t`, nothing else of the filesystem.
fn tmpfs_of(size: u64) -> Component {
    let mut fs = FsPolicy::default();
    fs.deny_host_preopens().tmpfs("/t", Some(size));
    virtualized(fs)
}

/// What has no host counterpart, checked line by line.
fn expect(component: &Component, script: &str, want: &str) -> Result<()> {
    let got = run_fs_script(component, script, Preopen::None)?;
    ensure!(got == want, "--- got\n{got}--- want\n{want}");
    Ok(())
}

/// The size limit counts bytes and entries; a change past it fails with
/// `insufficient-space` and leaves the file as it was; deleting gives the
/// space back.
fn size_limit() -> Result<()> {
    let script = "fill a 8; fill b 8; stat b; unlink a; fill b 8; \
                  open c crw; write 1 0 hello; setsize 1 100000; write 1 90000 x; fstat 1; \
                  setsize 1 2; fstat 1";
    let want = "\
fill a 8: size 8192
fill b 8: error insufficient-space
stat b: file 4096
unlink a: ok
fill b 8: size 8192
open c crw: fd 1
write 1 0 hello: wrote 5
setsize 1 100000: error insufficient-space
write 1 90000 x: error insufficient-space
fstat 1: file 5
setsize 1 2: ok
fstat 1: file 2
";
    expect(&tmpfs_of(16 << 10), script, want)
}

/// A directory removed while a descriptor holds it takes no new entries
/// (`tests/memfs/removed-dir.txt` compares what it answers with the host),
/// so nothing in it can hold space that is never given back: once the
/// descriptor is closed, the whole limit is free again.
fn removed_directory_gives_space_back() -> Result<()> {
    let script = "mkdir a; mkdir a/b; open a/b dr; rmdir a/b; rmdir a; fill@1 f 4; \
                  fill g 4; close 1; fill g 4; ls .";
    let want = "\
mkdir a: ok
mkdir a/b: ok
open a/b dr: fd 1
rmdir a/b: ok
rmdir a: ok
fill@1 f 4: error no-entry
fill g 4: error insufficient-space
close 1: closed
fill g 4: size 4096
ls .: [g]
";
    expect(&tmpfs_of(4096 + 65), script, want)
}

/// A stream write past the size limit fails with a stream error that
/// carries `insufficient-space` (`filesystem-error-code` answers it, as the
/// host's does for a full disk), whether through `write`, `append` or
/// `blocking-write-and-flush`, and leaves the file as it was.
///
/// Rust's std cannot see the code of a failed write: the wasi-libc of Rust
/// 1.95 answers every stream error of `write()` with `EIO` (so
/// `ErrorKind::Uncategorized`) without asking `filesystem-error-code`, on a
/// host too. Measured once on a host preopen of a full 16 KiB tmpfs mount
/// (which a test cannot arrange without root): `stdfill` printed `error
/// kind Uncategorized` there, as it does here. A creation past the limit
/// fails in `open-at` itself, and Rust sees `StorageFull`.
fn stream_write_past_limit() -> Result<()> {
    let script = "fill a 4; open a w; append 1 abc; wstream 1 4094 abcde; wstream 1 4094 ab; \
                  fstat 1; close 1; stdfill /t/a 8; stat a; stdfill /t/f 4";
    let want = "\
fill a 4: size 4096
open a w: fd 1
append 1 abc: error insufficient-space
wstream 1 4094 abcde: error insufficient-space
wstream 1 4094 ab: ok
fstat 1: file 4096
close 1: closed
stdfill /t/a 8: error kind Uncategorized
stat a: file 4096
stdfill /t/f 4: error kind StorageFull
";
    expect(&tmpfs_of(4096 + 65 + 2), script, want)
}

/// Links count against the size limit: a symlink its entry and its
/// target's bytes, a hard link its entry; unlinking one name gives back
/// that entry only, and the file's bytes come back when its last name and
/// its last descriptor are gone.
fn links_in_size_limit() -> Result<()> {
    let script = "fill f 4; symlink x s; link f g; unlink s; link f g; \
                  symlink 0123456789 t; unlink f; nlink g; open g r; unlink g; fill h 4; \
                  close 1; fill h 4; ls .";
    let want = "\
fill f 4: size 4096
symlink x s: ok
link f g: error insufficient-space
unlink s: ok
link f g: ok
symlink 0123456789 t: error insufficient-space
unlink f: ok
nlink g: 1
open g r: fd 1
unlink g: ok
fill h 4: error insufficient-space
close 1: closed
fill h 4: size 4096
ls .: [h]
";
    // A 4 KiB file and its entry, a one-byte symlink's entry, 10 more.
    expect(&tmpfs_of(4096 + 65 + 66 + 10), script, want)
}

/// Two in-memory filesystems are two devices: a hard link (or a rename)
/// from one to the other is `cross-device`, as the host answers across
/// file systems, and a link within one through two descriptors works.
fn link_across_filesystems() -> Result<()> {
    let mut fs = FsPolicy::default();
    fs.deny_host_preopens().tmpfs("/t", None).tmpfs("/u", None);
    let script = "open f crw; root /u; link@0@2 f g; rename@0@2 f g; link@0@2 nope g; \
                  mkdir d; open d dr; link@0@3 f g; nlink f; ls@2 .";
    let want = "\
open f crw: fd 1
root /u: fd 2
link@0@2 f g: error cross-device
rename@0@2 f g: error cross-device
link@0@2 nope g: error no-entry
mkdir d: ok
open d dr: fd 3
link@0@3 f g: ok
nlink f: 2
ls@2 .: []
";
    expect(&virtualized(fs), script, want)
}

/// What an instance writes lives as long as the instance: a second run of
/// the same overlay sees the embedded files as they were.
fn instance_lifetime() -> Result<()> {
    let overlay = &subjects().overlay;
    let first = "open a trw; write 1 0 changed; cat a; unlink big; mkdir new; ls .";
    let want = "\
open a trw: fd 1
write 1 0 changed: wrote 7
cat a: \"changed\"
unlink big: ok
mkdir new: ok
ls .: [a d/ ld@ lx@ new/]
";
    expect(overlay, first, want)?;
    let second = "cat a; ls .";
    let want = "cat a: \"alpha\\n\"\nls .: [a big d/ ld@ lx@]\n";
    expect(overlay, second, want)
}

/// Times move: a write changes the file's modification time and a
/// creation its directory's; an explicit time reads back.
fn times_move() -> Result<()> {
    let script =
        "mtime .; open f crw; mtime .; mtime f; write 1 0 x; mtime f; settime f 77; mtime f";
    let out = run_fs_script(&subjects().tmpfs, script, Preopen::None)?;
    let times: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("mtime"))
        .map(|l| l.rsplit(": ").next().unwrap_or(""))
        .collect();
    ensure!(times.len() == 5, "{out}");
    ensure!(
        times[1] > times[0],
        "creating f did not move the directory's time:\n{out}"
    );
    ensure!(
        times[3] > times[2],
        "writing f did not move its time:\n{out}"
    );
    ensure!(times[4] == "77.000000000", "{out}");
    Ok(())
}

/// With the host's preopens denied, a tmpfs or an overlay leaves no
/// `wasi:filesystem` import: nothing reaches the host's files.
fn no_filesystem_import() -> Result<()> {
    for fs in [
        {
            let mut fs = FsPolicy::default();
            fs.deny_host_preopens().tmpfs("/t", None);
            fs
        },
        {
            let mut fs = FsPolicy::default();
            fs.deny_host_preopens().overlay("/t", lower(), None);
            fs
        },
    ] {
        let mut virt = WasiVirt::from_policy(Policy {
            fs: Some(fs),
            ..Policy::default()
        });
        virt.compose(harness::guest("fs-script"));
        let imports = harness::unversioned_imports(&virt.finish()?.bytes)?;
        ensure!(
            !imports.iter().any(|i| i.starts_with("wasi:filesystem")),
            "a filesystem import is left: {imports:?}"
        );
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    type Check = fn() -> Result<()>;
    let checks: [(&str, Check); 8] = [
        ("size-limit", size_limit),
        ("stream-write-past-limit", stream_write_past_limit),
        (
            "removed-directory-gives-space-back",
            removed_directory_gives_space_back,
        ),
        ("times-move", times_move),
        ("links-in-size-limit", links_in_size_limit),
        ("link-across-filesystems", link_across_filesystems),
        ("instance-lifetime", instance_lifetime),
        ("no-filesystem-import", no_filesystem_import),
    ];
    for (name, check) in checks {
        trials.push(Trial::test(name, move || {
            check().map_err(|e| Failed::from(format!("{e:#}")))
        }));
    }
    for (name, script) in written("memfs") {
        let script = Arc::new(script);
        for (kind, overlay) in [("tmpfs", false), ("overlay", true)] {
            let script = script.clone();
            trials.push(Trial::test(format!("{kind}/{name}"), move || {
                differential(&script, overlay).map_err(|e| Failed::from(format!("{e:#}")))
            }));
        }
    }
    for (name, script) in written("memfs/embedded") {
        trials.push(Trial::test(format!("embedded/{name}"), move || {
            differential_embedded(&script).map_err(|e| Failed::from(format!("{e:#}")))
        }));
    }
    for seed in 0..GENERATED {
        for (kind, overlay) in [("tmpfs", false), ("overlay", true)] {
            trials.push(Trial::test(format!("{kind}/generated-{seed}"), move || {
                let script = generate(seed * 2 + u64::from(overlay));
                differential(&script, overlay)
                    .map_err(|e| Failed::from(format!("script: {script}\n{e:#}")))
            }));
        }
    }
    for seed in 0..AWKWARD {
        trials.push(Trial::test(
            format!("embedded/generated-{seed}"),
            move || {
                let script = generate_awkward(seed);
                differential_embedded(&script)
                    .map_err(|e| Failed::from(format!("script: {script}\n{e:#}")))
            },
        ));
    }
    libtest_mimic::run(&args, trials).exit();
}
