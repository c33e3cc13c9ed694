//! The progress line (src/bin/wasi-virt/progress.rs): drawn on a terminal
//! once a run has taken its delay, cleared before the summary; never drawn
//! with `--quiet` or when stderr is not a terminal. The terminal is a
//! pseudo-terminal from `script` (util-linux), and the delay is set to 0
//! so that any run is long enough.

#[path = "harness/mod.rs"]
mod harness;

use anyhow::{ensure, Result};
use std::path::Path;
use std::process::Command;

/// A guest that reads files, and a 32 MiB directory to mount.
fn work_dir() -> Result<tempfile::TempDir> {
    let work = tempfile::tempdir()?;
    std::fs::write(work.path().join("app.wasm"), harness::guest("fs-reader"))?;
    std::fs::create_dir(work.path().join("site"))?;
    std::fs::write(work.path().join("site/big.bin"), vec![7u8; 32 << 20])?;
    Ok(work)
}

/// What the terminal shows of `wasi-virt ARGS` run in `dir` under a
/// pseudo-terminal, with the progress delay set to 0.
fn on_a_terminal(dir: &Path, args: &str) -> Result<String> {
    let command = format!("{} {args}", env!("CARGO_BIN_EXE_wasi-virt"));
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("WASI_VIRT_PROGRESS_AFTER_MS", "0")
        .current_dir(dir)
        .output()?;
    ensure!(out.status.success(), "script: {:?}", out.status);
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

const ARGS: &str = "app.wasm --mount /site=site --stdout=allow -o out.wasm";

#[test]
fn a_long_run_shows_its_progress_and_clears_it() -> Result<()> {
    let work = work_dir()?;
    let shown = on_a_terminal(work.path(), ARGS)?;
    ensure!(
        shown.contains("virtualizing"),
        "no progress line:\n{shown:?}"
    );
    let cleared = shown.rfind("\x1b[2K").unwrap_or(0);
    let summary = shown.find("wrote out.wasm").unwrap_or(0);
    ensure!(
        cleared < summary,
        "the line is not cleared before the summary:\n{shown:?}"
    );
    Ok(())
}

#[test]
fn quiet_runs_and_pipes_show_no_progress() -> Result<()> {
    let work = work_dir()?;
    let shown = on_a_terminal(work.path(), &format!("{ARGS} --quiet"))?;
    ensure!(shown.is_empty(), "--quiet printed:\n{shown:?}");

    let piped = Command::new(env!("CARGO_BIN_EXE_wasi-virt"))
        .args(ARGS.split(' '))
        .env("WASI_VIRT_PROGRESS_AFTER_MS", "0")
        .current_dir(work.path())
        .output()?;
    ensure!(piped.status.success());
    ensure!(
        piped.stderr.is_empty(),
        "stderr, not a terminal: {:?}",
        String::from_utf8_lossy(&piped.stderr)
    );
    Ok(())
}
