//! wasi-virt as a WebAssembly component: the CLI built for `wasm32-wasip2`
//! runs in wasmtime with only the directory it is given, takes the same
//! flags and writes the same bytes and the same summary as the native CLI
//! (docs/install.md, "As a component").

#[path = "harness/mod.rs"]
mod harness;

use anyhow::{ensure, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The CLI built for `wasm32-wasip2` (a debug build, as the tests' native
/// one), in a target directory of its own so that the build does not wait
/// on the one running this test.
fn component_cli() -> Result<Vec<u8>> {
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasm-cli");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "build",
            "--locked",
            "--offline",
            "--target",
            "wasm32-wasip2",
        ])
        .args(["--bin", "wasi-virt", "--manifest-path"])
        .arg(harness::repo().join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .output()?;
    ensure!(
        out.status.success(),
        "building the CLI for wasm32-wasip2 failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = target_dir.join("wasm32-wasip2/debug/wasi-virt.wasm");
    std::fs::read(&file).with_context(|| format!("no `{}`", file.display()))
}

/// A work directory: the guest, and a directory to mount.
fn work_dir() -> Result<tempfile::TempDir> {
    let work = tempfile::tempdir()?;
    std::fs::write(work.path().join("app.wasm"), harness::guest("fs-reader"))?;
    let site = work.path().join("site");
    std::fs::create_dir_all(site.join("docs"))?;
    std::fs::write(site.join("index.html"), "<h1>hello</h1>\n")?;
    std::fs::write(site.join("docs/a.txt"), "a\n")?;
    Ok(work)
}

/// The same flags for both: variables, a mount walked from the work
/// directory, stdout through, and a report.
const ARGS: &[&str] = &[
    "app.wasm",
    "-e",
    "MODE=component",
    "--mount",
    "/site=site",
    "--stdout=allow",
    "--report",
    "report.json",
    "-o",
    "out.wasm",
];

#[test]
fn the_component_cli_writes_what_the_native_one_writes() -> Result<()> {
    same_as_native(&component_cli()?)
}

/// The policy that seals wasi-virt itself: its arguments, stdio, exit and
/// the directories the host gives it; a virtual clock and a seeded
/// generator instead of the host's; nothing else (docs/install.md).
const SEAL: &[&str] = &[
    "--allow-args",
    "--allow-stdio",
    "--allow-exit",
    "--allow-fs",
    "--clock=virtual:2026-01-01T00:00:00Z",
    "--random-seed",
    "1",
];

/// wasi-virt virtualized by wasi-virt: it imports no clock, no randomness,
/// no environment, no network, and still does the same job.
#[test]
fn wasi_virt_sealed_by_itself_still_does_its_job() -> Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("wasi-virt.wasm"), component_cli()?)?;
    let seal: Vec<&str> = ["wasi-virt.wasm"]
        .into_iter()
        .chain(SEAL.iter().copied())
        .chain(["-o", "sealed.wasm"])
        .collect();
    run_native(&seal, dir.path()).context("sealing")?;
    let sealed = read(dir.path(), "sealed.wasm")?;
    let imports = harness::unversioned_imports(&sealed)?;
    for gone in [
        "wasi:clocks/",
        "wasi:random/",
        "wasi:sockets/",
        "wasi:http/",
    ] {
        ensure!(
            !imports.iter().any(|i| i.starts_with(gone)),
            "the sealed CLI still imports {gone}*: {imports:?}"
        );
    }
    same_as_native(&sealed)
}

/// The native CLI run with `args` in `dir`, which must succeed.
fn run_native(args: &[&str], dir: &Path) -> Result<std::process::Output> {
    let out = Command::new(env!("CARGO_BIN_EXE_wasi-virt"))
        .args(args)
        .current_dir(dir)
        .output()?;
    ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(out)
}

/// `wasm`, given `ARGS` in a work directory, prints the native CLI's
/// summary and writes the native CLI's bytes.
fn same_as_native(wasm: &[u8]) -> Result<()> {
    let native_dir = work_dir()?;
    let native = run_native(ARGS, native_dir.path()).context("native")?;
    let component_dir = work_dir()?;
    let run = run_in(wasm, ARGS, component_dir.path())?;
    ensure!(
        matches!(run.end, harness::End::Ok | harness::End::Exit(0)),
        "the component ended {:?}: {}",
        run.end,
        run.stderr
    );
    ensure!(
        run.stdout == String::from_utf8_lossy(&native.stdout),
        "summaries differ:\ncomponent:\n{}\nnative:\n{}",
        run.stdout,
        String::from_utf8_lossy(&native.stdout)
    );
    for file in ["out.wasm", "report.json"] {
        let a = read(component_dir.path(), file)?;
        let b = read(native_dir.path(), file)?;
        ensure!(
            a == b,
            "`{file}` differs ({} and {} bytes)",
            a.len(),
            b.len()
        );
    }
    Ok(())
}

/// `wasm` run in wasmtime with `args` (after its name), given only `dir` as
/// its working directory (the preopen `.`).
fn run_in(wasm: &[u8], args: &[&str], dir: &Path) -> Result<harness::Output> {
    let mut host = harness::Host {
        args: std::iter::once("wasi-virt")
            .chain(args.iter().copied())
            .map(String::from)
            .collect(),
        ..Default::default()
    };
    host.writable_preopens
        .insert(".".into(), dir.to_string_lossy().into_owned());
    harness::run_command(wasm, &host)
}

fn read(dir: &Path, file: &str) -> Result<Vec<u8>> {
    let path: PathBuf = dir.join(file);
    std::fs::read(&path).with_context(|| format!("no `{}`", path.display()))
}

/// Bad input: the same one `error:` line and exit status, nothing written.
#[test]
fn the_component_cli_fails_as_the_native_one_does() -> Result<()> {
    let wasm = component_cli()?;
    let args = ["app.wasm", "--mount", "/m=missing", "-o", "out.wasm"];
    let native_dir = work_dir()?;
    let native = Command::new(env!("CARGO_BIN_EXE_wasi-virt"))
        .args(args)
        .current_dir(native_dir.path())
        .output()?;
    let component_dir = work_dir()?;
    let run = run_in(&wasm, &args, component_dir.path())?;
    let code = native.status.code().context("the native CLI was killed")?;
    ensure!(code == 1, "native exit {code}");
    // WASI 0.2 has one failure status: `run` returns its error (wasmtime
    // exits with 1), as Rust's std does for a failing `main`.
    ensure!(
        matches!(run.end, harness::End::RunError | harness::End::Exit(1)),
        "the component ended {:?}",
        run.end
    );
    let stderr = String::from_utf8_lossy(&native.stderr);
    ensure!(stderr.starts_with("error: "), "{stderr}");
    // The OS's own error numbers differ (ENOENT is 2 on Linux, 44 in WASI);
    // the words are the same.
    let (got, want) = (without_errno(&run.stderr), without_errno(&stderr));
    ensure!(got == want, "component:\n{got}\nnative:\n{want}");
    ensure!(
        !component_dir.path().join("out.wasm").exists(),
        "an output was written"
    );
    Ok(())
}

/// `text` with each `(os error N)` left out.
fn without_errno(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(" (os error ") {
        out.push_str(&rest[..at]);
        rest = rest[at..].split_once(')').map_or("", |(_, after)| after);
    }
    out + rest
}
