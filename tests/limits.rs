//! Limits: inputs far larger than usual either work, run in wasmtime, or
//! fail with a clear error; none takes a step that grows faster than its
//! size (the benchmark `benches/fs.rs` prints the scaling; no test here
//! asserts a time).
//!
//! - a mount of 200,000 tiny files, listed and read back;
//! - a directory nested 1,000 deep, its bottom file read by its full path;
//! - 50,000 environment variables, all seen by the component;
//! - names of 255 bytes (the most a host allows) work; longer names, which
//!   only a policy's inline tree can hold, are refused;
//! - a file larger than a 32-bit adapter can address (a sparse 5 GiB file)
//!   is refused before anything is read or written.
//!
//! And the output is deterministic and atomic: the same tree mounted from
//! two different host directories gives the same bytes, and a `wasi-virt`
//! killed while it writes leaves the previous output as it was and no other
//! file.

#[path = "harness/mod.rs"]
mod harness;

use anyhow::{ensure, Context, Result};
use harness::Host;
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::Path;
use wasi_virt::{FsEntry, FsPolicy, Policy, StdioPolicy, WasiVirt};

/// `guest` with `policy` (stdio allowed), run with the host granting
/// nothing; its stdout.
fn run(guest: &str, mut policy: Policy) -> Result<String> {
    policy.stdio = Some(StdioPolicy::default());
    let mut virt = WasiVirt::from_policy(policy);
    virt.compose(harness::guest(guest));
    let out = virt.finish()?;
    let ran = harness::run_command(&out.bytes, &Host::default())?;
    ensure!(
        ran.end == harness::End::Ok,
        "ended with {:?}: {}",
        ran.end,
        ran.stderr
    );
    Ok(ran.stdout)
}

fn mounted(guest_dir: &str, host_dir: &Path, vars: &[(&str, &str)]) -> Policy {
    let mut fs = FsPolicy::default();
    fs.deny_host_preopens().virtual_preopen(guest_dir, host_dir);
    let mut policy = Policy {
        fs: Some(fs),
        ..Policy::default()
    };
    policy
        .env
        .get_or_insert_with(Default::default)
        .deny_all()
        .overrides(vars);
    policy
}

/// 200,000 files of a few bytes each, in 200 directories.
fn many_files() -> Result<()> {
    let dir = tempfile::tempdir()?;
    for d in 0..200 {
        let sub = dir.path().join(format!("d{d:03}"));
        std::fs::create_dir(&sub)?;
        for f in 0..1000 {
            std::fs::write(sub.join(format!("f{f:04}")), format!("{d}.{f}\n"))?;
        }
    }
    let policy = mounted(
        "/m",
        dir.path(),
        &[("FS_COUNT", "/m"), ("FS_FILE", "/m/d199/f0999")],
    );
    let out = run("fs-reader", policy)?;
    let want = "read /m/d199/f0999: 199.999\n";
    ensure!(out.starts_with(want), "{out}");
    ensure!(out.contains("count 200000 files"), "{out}");
    Ok(())
}

/// A directory nested 1,000 deep.
fn deep_directory() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut bottom = dir.path().to_path_buf();
    let mut guest = String::from("/deep");
    for _ in 0..1000 {
        bottom.push("d");
        guest.push_str("/d");
    }
    std::fs::create_dir_all(&bottom)?;
    std::fs::write(bottom.join("leaf.txt"), "bottom\n")?;
    guest.push_str("/leaf.txt");
    let out = run(
        "fs-reader",
        mounted("/deep", dir.path(), &[("FS_FILE", &guest)]),
    )?;
    ensure!(
        out == format!("read {guest}: bottom\n"),
        "{}",
        &out[..out.len().min(300)]
    );
    Ok(())
}

/// 50,000 variables, each seen.
fn many_variables() -> Result<()> {
    let mut policy = Policy::default();
    let vars: Vec<(String, String)> = (0..50_000)
        .map(|i| (format!("V{i:05}"), format!("value-{i}")))
        .collect();
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    policy
        .env
        .get_or_insert_with(Default::default)
        .deny_all()
        .overrides(&pairs);
    let out = run("env-args", policy)?;
    let seen: Vec<&str> = out.lines().filter(|l| l.starts_with("env ")).collect();
    ensure!(seen.len() == 50_000, "{} variables seen", seen.len());
    ensure!(seen[0] == "env V00000=value-0", "{}", seen[0]);
    ensure!(seen[49_999] == "env V49999=value-49999", "{}", seen[49_999]);
    Ok(())
}

/// 255-byte names work from a host directory; a 256-byte name in a
/// policy's inline tree is refused, naming the limit.
fn long_names() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let name = "n".repeat(255);
    std::fs::write(dir.path().join(&name), "long\n")?;
    let file = format!("/n/{name}");
    let out = run(
        "fs-reader",
        mounted("/n", dir.path(), &[("FS_FILE", &file)]),
    )?;
    ensure!(out == format!("read {file}: long\n"), "{out}");

    let mut fs = FsPolicy::default();
    let mut tree = indexmap::IndexMap::new();
    tree.insert("n".repeat(256), FsEntry::Source("x".into()));
    fs.deny_host_preopens().preopen("/t", FsEntry::Dir(tree));
    let mut virt = WasiVirt::from_policy(Policy {
        fs: Some(fs),
        ..Policy::default()
    });
    virt.compose(harness::guest("fs-reader"));
    let err = virt
        .finish()
        .err()
        .context("a 256-byte name was accepted")?;
    let text = format!("{err:#}");
    ensure!(
        text.contains("255"),
        "the error does not name the limit: {text}"
    );
    Ok(())
}

/// A file past 4 GiB (sparse, so nothing is written to disk) is refused
/// with its size and the limit, before any output.
fn file_too_large() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let file = std::fs::File::create(dir.path().join("huge"))?;
    file.set_len(5 << 30)?;
    let mut virt = WasiVirt::from_policy(mounted("/b", dir.path(), &[]));
    virt.compose(harness::guest("fs-reader"));
    let mut sink = Vec::new();
    let err = virt
        .finish_to(&mut sink)
        .err()
        .context("a 5 GiB file was accepted")?;
    let text = format!("{err:#}");
    ensure!(
        text.contains("5368709120 bytes") && text.contains("4 GiB"),
        "{text}"
    );
    ensure!(sink.is_empty(), "{} bytes were written", sink.len());
    Ok(())
}

/// The same inputs from different directories give the same bytes: no
/// host path, time or order of the walk reaches the output.
fn deterministic() -> Result<()> {
    let outputs: Vec<Vec<u8>> = (0..2)
        .map(|_| -> Result<Vec<u8>> {
            let dir = tempfile::tempdir()?;
            std::fs::create_dir_all(dir.path().join("b/c"))?;
            for (name, text) in [("a.txt", "alpha\n"), ("b/c/d.txt", "delta\n"), ("z", "")] {
                std::fs::write(dir.path().join(name), text)?;
            }
            let mut virt = WasiVirt::from_policy(mounted("/m", dir.path(), &[("A", "1")]));
            virt.compose(harness::guest("fs-reader"));
            Ok(virt.finish()?.bytes)
        })
        .collect::<Result<_>>()?;
    ensure!(
        outputs[0] == outputs[1],
        "two directories gave different outputs"
    );
    Ok(())
}

/// `wasi-virt` killed (SIGKILL) while it writes a 96 MiB output, at several
/// moments after the output's file is open: each time the directory holds
/// the previous output, untouched, or (if the run finished first) the
/// complete new one, and nothing else. The kill is timed by watching the
/// process's open files in `/proc`, so it lands mid-write, not by luck.
#[cfg(target_os = "linux")]
fn killed_mid_write() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mount = dir.path().join("mount");
    std::fs::create_dir(&mount)?;
    for i in 0..3 {
        // Sparse: read back as zeros, quickly, but written out in full.
        std::fs::File::create(mount.join(format!("blob{i}")))?.set_len(32 << 20)?;
    }
    let guest = dir.path().join("fs-reader.wasm");
    std::fs::write(&guest, harness::guest("fs-reader"))?;
    let outdir = dir.path().join("out");
    std::fs::create_dir(&outdir)?;
    let out = outdir.join("app.wasm");
    // Where the filesystem has no unnamed files, `wasi-virt` falls back to a
    // named temporary file, which a kill leaves behind: there only the
    // previous output's being intact is promised.
    let unnamed = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_TMPFILE)
            .open(&outdir)
            .is_ok()
    };
    if !unnamed {
        eprintln!(
            "note: {} has no unnamed files (O_TMPFILE); checking the previous output only",
            outdir.display()
        );
    }
    const PREVIOUS: &[u8] = b"the previous output";
    let mut mid_write = 0;
    for delay in [0, 1, 3, 10, 30, 60, 100, 200] {
        std::fs::write(&out, PREVIOUS)?;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wasi-virt"))
            .arg(&guest)
            .arg("--mount")
            .arg(format!("/data={}", mount.display()))
            .arg("-o")
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        let writing = wait_for_open_file(child.id(), &outdir, &mut child)?;
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let finished = child.try_wait()?.is_some();
        child.kill().ok();
        child.wait()?;
        if writing && !finished {
            mid_write += 1;
        }
        let names: Vec<_> = std::fs::read_dir(&outdir)?
            .map(|e| Ok(e?.file_name().to_string_lossy().into_owned()))
            .collect::<Result<_>>()?;
        ensure!(
            names == ["app.wasm"] || !unnamed,
            "killed {delay} ms into writing, the directory holds {names:?}"
        );
        for name in names.iter().filter(|n| *n != "app.wasm") {
            std::fs::remove_file(outdir.join(name))?;
        }
        let bytes = std::fs::read(&out)?;
        if bytes != PREVIOUS {
            wasmparser::Validator::new()
                .validate_all(&bytes)
                .with_context(|| {
                    format!("killed {delay} ms into writing, the output is partial")
                })?;
        }
    }
    ensure!(
        mid_write >= 4,
        "only {mid_write} of 8 kills landed while the output was being written"
    );
    Ok(())
}

/// Waits until process `pid` has a file open in `dir` (true), or ends
/// (false).
#[cfg(target_os = "linux")]
fn wait_for_open_file(pid: u32, dir: &Path, child: &mut std::process::Child) -> Result<bool> {
    let fds = std::path::PathBuf::from(format!("/proc/{pid}/fd"));
    loop {
        if child.try_wait()?.is_some() {
            return Ok(false);
        }
        let open_in_dir = std::fs::read_dir(&fds)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .any(|target| target.starts_with(dir));
        if open_in_dir {
            return Ok(true);
        }
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
}

fn main() {
    let args = Arguments::from_args();
    type Check = fn() -> Result<()>;
    let mut checks: Vec<(&str, Check)> = vec![
        ("many-files-200000", many_files),
        ("deep-directory-1000", deep_directory),
        ("many-variables-50000", many_variables),
        ("long-names", long_names),
        ("file-too-large", file_too_large),
        ("deterministic-output", deterministic),
    ];
    #[cfg(target_os = "linux")]
    checks.push(("killed-mid-write", killed_mid_write));
    let trials = checks
        .into_iter()
        .map(|(name, check)| {
            Trial::test(name, move || {
                check().map_err(|e| Failed::from(format!("{e:#}")))
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
