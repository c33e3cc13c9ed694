//! Preview1 programs on the writable in-memory filesystems, differentially:
//! the `fs-p1` guest (built for `wasm32-wasip1`, calling the
//! `wasi_snapshot_preview1` functions directly) runs a script of
//! filesystem calls through wasmtime's preview1 adapter, once made a
//! component as a host runs it, on a temporary directory wasmtime preopens
//! read-write, and once virtualized, on a `--tmpfs` or an `--overlay` (the
//! host's directory then holds a copy of the overlay's tree). Both must
//! print the same lines: results and errno alike.
//!
//! The hand-written scripts are `tests/preview1/*.txt`, one area each; the
//! generated ones are drawn from fixed seeds over a small namespace, their
//! paths resolved from the preopen and from descriptors on subdirectories
//! (`generated-links-N` make symlinks and hard links among them too).
//! `SHOW=1` prints both outputs of every trial to stderr.

#[path = "harness/mod.rs"]
mod harness;

use anyhow::Result;
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use wasi_virt::{FsPolicy, Policy, WasiVirt};
use wasmtime::component::Component;

/// Generated scripts per filesystem kind, without links and with them.
const GENERATED: u64 = 500;
const GENERATED_LINKS: u64 = 100;

/// The tree below the overlay, copied for its host counterpart.
fn lower() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = harness::repo().join("target/test-fixtures/preview1-lower");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("d/e")).unwrap();
        std::fs::create_dir_all(dir.join("empty")).unwrap();
        std::fs::write(dir.join("a"), "alpha\n").unwrap();
        std::fs::write(dir.join("d/x"), "ex\n").unwrap();
        std::fs::write(dir.join("d/e/f"), "deep\n").unwrap();
        dir
    })
}

struct Subjects {
    host: Component,
    tmpfs: Component,
    overlay: Component,
}

/// The guest with `/t` virtualized as `fs` wants, compiled.
fn virtualized(fs: FsPolicy) -> Component {
    let mut virt = WasiVirt::from_policy(Policy {
        fs: Some(fs),
        ..Policy::default()
    });
    virt.compose(harness::wasip1_guest("fs-p1"));
    harness::compile(&virt.finish().expect("virtualize").bytes).unwrap()
}

fn subjects() -> &'static Subjects {
    static S: OnceLock<Subjects> = OnceLock::new();
    S.get_or_init(|| {
        let mut tmpfs = FsPolicy::default();
        tmpfs.deny_host_preopens().tmpfs("/t", None);
        let mut overlay = FsPolicy::default();
        overlay.deny_host_preopens().overlay("/t", lower(), None);
        let host = harness::wasip1_command("fs-p1").expect("componentize");
        Subjects {
            host: harness::compile(&host).unwrap(),
            tmpfs: virtualized(tmpfs),
            overlay: virtualized(overlay),
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

/// The scripts in `tests/preview1` (`NAME.txt`, one command a line, `#`
/// starts a comment).
fn written() -> Vec<(String, String)> {
    let dir = harness::repo().join("tests/preview1");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let script: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .collect();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, script.join("; "))
        })
        .collect()
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

/// `@N` (a descriptor the script may have opened) now and then, else the
/// preopen; `@N@M` for the two paths of `rename` and `link`.
fn from_descriptor(r: &mut Rng, two: bool) -> String {
    match r.below(6) {
        0 | 1 => format!("@{}", 1 + r.below(4)),
        2 if two => format!("@{}@{}", r.below(5), r.below(5)),
        _ => String::new(),
    }
}

const PATHS: [&str; 30] = [
    "a",
    "b",
    "c",
    "d",
    "d/x",
    "d/y",
    "d/e",
    "d/e/f",
    "empty",
    "a/",
    "d/",
    ".",
    "..",
    "d/..",
    "a/..",
    "d//x",
    "d/./y",
    "nope/x",
    "e",
    "e/f",
    "x",
    "../a",
    "e/..",
    "e/../..",
    "x/../../b",
    "/a",
    "d/e/",
    "s",
    "s/",
    "s/x",
];

/// Targets of generated symlinks: names in the namespace, a directory,
/// dangling, climbing out, absolute, itself.
const TARGETS: [&str; 9] = ["a", "d", "d/x", "nope", "../a", "/a", "s", "d/", "."];

/// One command over the small namespace; with `links`, symlinks and hard
/// links among them.
fn command(r: &mut Rng, links: bool) -> String {
    let fd = 1 + r.below(4);
    let p = r.pick(&PATHS);
    let words = ["hello", "x", "data123", "long-long-long-text"];
    let oflags = ["-", "c", "ct", "cx", "t", "d", "cd"];
    let rights = ["r", "w", "rw", "*", "-"];
    match r.below(if links { 25 } else { 20 }) {
        0..=2 => {
            let at = from_descriptor(r, false);
            let verb = if r.below(4) == 0 { "lopen" } else { "open" };
            let fdflags = if r.below(5) == 0 { " a" } else { "" };
            format!(
                "{verb}{at} {p} {} {}{fdflags}",
                r.pick(&oflags),
                r.pick(&rights)
            )
        }
        3 => format!("write {fd} {}", r.pick(&words)),
        4 => format!("pwrite {fd} {} {}", r.below(12), r.pick(&words)),
        5 => format!("read {fd} {}", r.below(12)),
        6 => format!("pread {fd} {} {}", r.below(12), r.below(12)),
        7 => format!(
            "seek {fd} {} {}",
            r.below(20) as i64 - 6,
            r.pick(&["set", "cur", "end"])
        ),
        8 => format!("setsize {fd} {}", r.below(20)),
        9 => format!("fstat {fd}"),
        10 => format!("fdstat {fd}"),
        11 => format!("readdir {fd} {}", 24 + r.below(80)),
        12 => format!("close {fd}"),
        13 => format!(
            "{}{} {p}",
            r.pick(&["stat", "lstat"]),
            from_descriptor(r, false)
        ),
        14 => format!("mkdir{} {p}", from_descriptor(r, false)),
        15 => format!("rmdir{} {p}", from_descriptor(r, false)),
        16 => format!("unlink{} {p}", from_descriptor(r, false)),
        17 => format!("rename{} {p} {}", from_descriptor(r, true), r.pick(&PATHS)),
        18 => format!("tell {fd}"),
        19 => format!("cat{} {p}", from_descriptor(r, false)),
        20 | 21 => format!(
            "symlink{} {} {p}",
            from_descriptor(r, false),
            r.pick(&TARGETS)
        ),
        22 => format!("link{} {p} {}", from_descriptor(r, true), r.pick(&PATHS)),
        23 => format!("readlink{} {p}", from_descriptor(r, false)),
        _ => format!("same {p} {}", r.pick(&PATHS)),
    }
}

/// A random script, from `seed`.
fn generate(seed: u64, links: bool) -> String {
    let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    (0..10 + r.below(30))
        .map(|_| command(&mut r, links))
        .collect::<Vec<_>>()
        .join("; ")
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    let kinds = [("tmpfs", false), ("overlay", true)];
    for (name, script) in written() {
        let script = Arc::new(script);
        for (kind, overlay) in kinds {
            let script = script.clone();
            trials.push(Trial::test(format!("{kind}/{name}"), move || {
                differential(&script, overlay).map_err(|e| Failed::from(format!("{e:#}")))
            }));
        }
    }
    for (prefix, count, links) in [
        ("generated", GENERATED, false),
        ("generated-links", GENERATED_LINKS, true),
    ] {
        for seed in 0..count {
            for (kind, overlay) in kinds {
                trials.push(Trial::test(format!("{kind}/{prefix}-{seed}"), move || {
                    let script = generate(seed * 2 + u64::from(overlay), links);
                    differential(&script, overlay)
                        .map_err(|e| Failed::from(format!("script: {script}\n{e:#}")))
                }));
            }
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
