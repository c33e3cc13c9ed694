//! Filesystem benchmarks (not tests): `cargo bench --bench fs`. Prints
//! figures and ratios; asserts nothing about time.
//!
//! - Mounting 10,000 files / 200 MB: `finish()` time against reading the same
//!   files, and the peak RSS of the process that virtualizes (measured in a
//!   child process of its own).
//! - Inside wasmtime: a sequential read of a 64 MB embedded file against the
//!   same file through a host preopen.
//! - Instantiation with 200 MB embedded against none.
//! - 64 MiB written to a tmpfs in 4 KiB writes and read back, against a host
//!   preopen.

#[path = "../tests/harness/mod.rs"]
mod harness;

#[allow(dead_code)]
mod goals;

use harness::{median, ms};

use std::path::{Path, PathBuf};
use std::time::Instant;
use wasi_virt::WasiVirt;

const FILES: usize = 10_000;
const FILE_SIZE: usize = 20 << 10;

fn bench_dir() -> PathBuf {
    harness::repo().join("target/bench-fixtures")
}

/// 10,000 files of 20 KiB (200 MB) in 100 directories, and one 64 MiB file.
fn fixtures() -> (PathBuf, PathBuf) {
    let dir = bench_dir();
    let (tree, big) = (dir.join("tree"), dir.join("big"));
    if !dir.join(".complete").exists() {
        for d in 0..100 {
            let sub = tree.join(format!("d{d:02}"));
            std::fs::create_dir_all(&sub).unwrap();
            for f in 0..FILES / 100 {
                let byte = ((d * 7 + f) % 251) as u8;
                std::fs::write(sub.join(format!("f{f:03}")), vec![byte; FILE_SIZE]).unwrap();
            }
        }
        std::fs::create_dir_all(&big).unwrap();
        let blob: Vec<u8> = (0..64usize << 20).map(|i| (i % 251) as u8).collect();
        std::fs::write(big.join("blob.bin"), blob).unwrap();
        std::fs::write(dir.join(".complete"), "").unwrap();
    }
    (tree, big)
}

fn read_all(dir: &Path) -> usize {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        total += if path.is_dir() {
            read_all(&path)
        } else {
            std::fs::read(&path).unwrap().len()
        };
    }
    total
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn reader() -> Vec<u8> {
    harness::guest("fs-reader")
}

/// Run in a child process: virtualize with the tree mounted, writing the
/// output to a file as the CLI does (`finish_to`), three times; print the
/// median time, this process's peak RSS, and the output's size.
fn mount_child(tree: &Path) {
    let component = reader();
    let before = peak_rss_kib();
    let dir = tempfile::tempdir().unwrap();
    let mut size = 0;
    let samples = (0..3)
        .map(|_| {
            let start = Instant::now();
            let mut virt = WasiVirt::new();
            virt.fs()
                .deny_host_preopens()
                .virtual_preopen("/tree", tree);
            virt.stdio();
            virt.compose(component.clone());
            let file = std::fs::File::create(dir.path().join("out.wasm")).unwrap();
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            size = virt.finish_to(&mut out).unwrap().size;
            std::io::Write::flush(&mut out).unwrap();
            start.elapsed()
        })
        .collect();
    println!(
        "{} {} {} {}",
        median(samples).as_secs_f64(),
        peak_rss_kib(),
        before,
        size
    );
}

/// `cat` of every file of `tree` into one file, median of 3.
fn cat(tree: &Path) -> std::time::Duration {
    let mut files = Vec::new();
    let mut dirs = vec![tree.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    let out = tempfile::tempdir().unwrap();
    median(
        (0..3)
            .map(|_| {
                let start = Instant::now();
                let status = std::process::Command::new("sh")
                    .arg("-c")
                    .arg("out=$1; shift; cat \"$@\" > \"$out\"")
                    .arg("sh")
                    .arg(out.path().join("all"))
                    .args(&files)
                    .status()
                    .unwrap();
                assert!(status.success());
                start.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let (tree, big) = fixtures();
    if std::env::args().any(|a| a == "--mount-child") {
        return mount_child(&tree);
    }
    harness::guests_dir();

    // Reading the files, twice: the second from the page cache, as the
    // virtualization (which runs after) will find them.
    read_all(&tree);
    let start = Instant::now();
    let bytes = read_all(&tree);
    let read = start.elapsed();
    let cat = cat(&tree);

    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--mount-child")
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&child.stdout);
    let parts: Vec<f64> = line
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    assert_eq!(
        parts.len(),
        4,
        "child said: {line} {}",
        String::from_utf8_lossy(&child.stderr)
    );
    let (secs, peak, base, size) = (parts[0], parts[1], parts[2], parts[3]);
    println!("mount {FILES} files, {:.0} MB", bytes as f64 / 1e6);
    println!("  reading the files:         {:>9.1} ms", ms(read));
    println!(
        "  cat of the files to a file:{:>9.1} ms (median of 3)",
        ms(cat)
    );
    println!(
        "  finish_to() a file:        {:>9.1} ms ({:.1}x reading, {:.2}x cat; goal <= 1.5x cat)",
        secs * 1e3,
        secs * 1e3 / ms(read),
        secs * 1e3 / ms(cat)
    );
    println!(
        "  peak RSS:                  {:>9.1} MB ({:.1} MB before finish, {:.2}x the data; goal <= 100 MB)",
        peak / 1024.0,
        base / 1024.0,
        peak * 1024.0 / bytes as f64
    );
    println!("  output:                    {:>9.1} MB", size / 1e6);
    let mount_goals = (secs * 1e3 / ms(cat), peak / 1024.0);

    // A sequential read of 64 MiB, embedded against a host preopen.
    let component = reader();
    let mut virt = WasiVirt::new();
    virt.fs().deny_host_preopens().virtual_preopen("/big", &big);
    virt.stdio();
    virt.env()
        .deny_all()
        .overrides(&[("FS_SUM", "/big/blob.bin")]);
    virt.compose(component.clone());
    let embedded = harness::compile(&virt.finish().unwrap().bytes).unwrap();
    let mut virt = WasiVirt::new();
    virt.fs();
    virt.stdio();
    virt.env()
        .deny_all()
        .overrides(&[("FS_SUM", "/big/blob.bin")]);
    virt.compose(component.clone());
    let through_host = harness::compile(&virt.finish().unwrap().bytes).unwrap();
    let host = harness::Host {
        preopens: [("/big".to_string(), big.display().to_string())]
            .into_iter()
            .collect(),
        ..Default::default()
    };
    let time = |c: &wasmtime::component::Component, host: &harness::Host| {
        median(
            (0..5)
                .map(|_| {
                    let start = Instant::now();
                    let out = harness::run_ok_compiled(c, host);
                    assert!(
                        out.starts_with("sum /big/blob.bin: 67108864 bytes"),
                        "{out}"
                    );
                    start.elapsed()
                })
                .collect(),
        )
    };
    let (v, h) = (
        time(&embedded, &harness::Host::default()),
        time(&through_host, &host),
    );
    println!("sequential read of a 64 MiB file in 64 KiB reads (median of 5, instantiate + run)");
    println!("  embedded:                  {:>9.1} ms", ms(v));
    println!("  host preopen:              {:>9.1} ms", ms(h));
    println!(
        "  ratio:                     {:>9.2}x",
        v.as_secs_f64() / h.as_secs_f64()
    );

    tmpfs_throughput();

    // Instantiation with 200 MB embedded, against none.
    let mut virt = WasiVirt::new();
    virt.fs()
        .deny_host_preopens()
        .virtual_preopen("/tree", &tree);
    virt.stdio();
    virt.compose(component.clone());
    let with_tree = harness::compile(&virt.finish().unwrap().bytes).unwrap();
    let mut virt = WasiVirt::new();
    virt.fs().deny_host_preopens();
    virt.stdio();
    virt.compose(component);
    let without = harness::compile(&virt.finish().unwrap().bytes).unwrap();
    let time = |c: &wasmtime::component::Component| {
        median(
            (0..7)
                .map(|_| {
                    let start = Instant::now();
                    harness::run_ok_compiled(c, &harness::Host::default());
                    start.elapsed()
                })
                .collect(),
        )
    };
    let (t, n) = (time(&with_tree), time(&without));
    println!("instantiate and run (reading nothing), median of 7");
    println!("  with 200 MB embedded:      {:>9.2} ms", ms(t));
    println!("  with nothing embedded:     {:>9.2} ms", ms(n));
    println!(
        "  ratio:                     {:>9.2}x",
        t.as_secs_f64() / n.as_secs_f64()
    );

    println!("goals");
    goals::MOUNT_VS_CAT.print(mount_goals.0);
    goals::MOUNT_RSS.print(mount_goals.1);
}

/// 64 MiB written to a tmpfs in 4 KiB writes and read back, against the same
/// script on a host preopen of a temporary directory (the `fs-script`
/// guest; instantiate + run, median of 5).
fn tmpfs_throughput() {
    let guest = harness::guest("fs-script");
    let script = "fill big 65536; open big r; rstream 1 67108860".to_string();
    let mut virt = WasiVirt::new();
    virt.fs().deny_host_preopens().tmpfs("/t", Some(80 << 20));
    virt.compose(guest.clone());
    let tmpfs = harness::compile(&virt.finish().unwrap().bytes).unwrap();
    let direct = harness::compile(&guest).unwrap();
    let time = |c: &wasmtime::component::Component, preopen: bool| {
        median(
            (0..5)
                .map(|_| {
                    let dir = tempfile::tempdir().unwrap();
                    let mut host = harness::Host::default();
                    host.env.insert("FS_SCRIPT".into(), script.clone());
                    host.env.insert("FS_ROOT".into(), "/t".into());
                    if preopen {
                        host.writable_preopens
                            .insert("/t".into(), dir.path().display().to_string());
                    }
                    let start = Instant::now();
                    let out = harness::run_ok_compiled(c, &host);
                    assert!(out.contains("size 67108864"), "{out}");
                    start.elapsed()
                })
                .collect(),
        )
    };
    let (m, h) = (time(&tmpfs, false), time(&direct, true));
    println!("write 64 MiB in 4 KiB writes, then read its last bytes by stream (median of 5)");
    println!("  tmpfs:                     {:>9.1} ms", ms(m));
    println!("  host preopen:              {:>9.1} ms", ms(h));
    println!(
        "  ratio:                     {:>9.2}x",
        m.as_secs_f64() / h.as_secs_f64()
    );
}
