//! The ways in of docs/install.md: `cargo install --path` gives a working
//! `wasi-virt`, and the package that crates.io (and so `cargo binstall`'s
//! fallback) would build from holds everything the build reads.

#[path = "harness/mod.rs"]
mod harness;

use anyhow::{ensure, Context, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `cargo install --locked --offline --path <repo> --debug` into a
/// temporary root, then the installed binary virtualizes a guest, and the
/// output runs. `--debug` because a release build of the dependencies costs
/// minutes; the build directory is kept in the target directory's `tmp`, so
/// only the first run builds them.
#[test]
fn cargo_install_gives_a_working_binary() -> Result<()> {
    let root = tempfile::tempdir()?;
    let build_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("install");
    let out = cargo()
        .args(["install", "--locked", "--offline", "--debug", "--path"])
        .arg(harness::repo())
        .arg("--root")
        .arg(root.path())
        .arg("--target-dir")
        .arg(&build_dir)
        .output()?;
    succeeded("cargo install", &out)?;
    let installed = root.path().join("bin/wasi-virt");
    ensure!(installed.is_file(), "no `{}`", installed.display());

    let work = tempfile::tempdir()?;
    std::fs::write(work.path().join("app.wasm"), harness::guest("env-args"))?;
    let out = Command::new(&installed)
        .args(["app.wasm", "-e", "GREETING=installed", "--stdout=allow"])
        .args(["-o", "out.wasm"])
        .current_dir(work.path())
        .output()?;
    succeeded("the installed wasi-virt", &out)?;
    let summary = String::from_utf8_lossy(&out.stdout);
    ensure!(
        summary.starts_with("wrote out.wasm (virtualized component,"),
        "unexpected summary:\n{summary}"
    );
    let output = std::fs::read(work.path().join("out.wasm"))?;
    let run = harness::run_command(&output, &harness::Host::default())?;
    ensure!(
        run.stdout == "env GREETING=installed\n",
        "the output printed {:?} (stderr {:?})",
        run.stdout,
        run.stderr
    );
    Ok(())
}

/// `cargo package --list`: every file the build reads (the sources, each
/// file an `include_bytes!` or `include_str!` names, such as
/// lib/virtual_adapter.wasm, and build.rs with the WIT in wit/ it packs) is in the package, and the tests,
/// guests, adapter sources and build outputs are not.
#[test]
fn the_package_holds_what_the_build_reads() -> Result<()> {
    let out = cargo()
        .args(["package", "--list", "--allow-dirty", "--offline", "-p"])
        .arg("wasi-virt")
        .current_dir(harness::repo())
        .output()?;
    succeeded("cargo package --list", &out)?;
    let listed: BTreeSet<String> = String::from_utf8(out.stdout)?
        .lines()
        .map(str::to_string)
        .collect();

    let mut needed = BTreeSet::from(["Cargo.toml", "Cargo.lock", "README.md"].map(String::from));
    needed.insert("lib/virtual_adapter.wasm".to_string());
    for source in rust_files(&harness::repo().join("src"))? {
        needed.insert(relative(&source)?);
        needed.extend(included_files(&source)?);
    }
    needed.insert("build.rs".to_string());
    for entry in walkdir::WalkDir::new(harness::repo().join("wit")) {
        let path = entry?.into_path();
        if path.extension().is_some_and(|e| e == "wit") {
            needed.insert(relative(&path)?);
        }
    }
    let missing: Vec<&String> = needed.iter().filter(|f| !listed.contains(*f)).collect();
    ensure!(
        missing.is_empty(),
        "the package lacks files the build needs: {missing:?}"
    );

    let unwanted = [
        "tests/",
        "benches/",
        "fuzz/",
        "examples/",
        "virtual-adapter/",
        "crates/",
        "target/",
    ];
    let stray: Vec<&String> = listed
        .iter()
        .filter(|f| unwanted.iter().any(|u| f.starts_with(u)))
        .collect();
    ensure!(
        stray.is_empty(),
        "the package holds files it needs not: {stray:?}"
    );
    Ok(())
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn succeeded(what: &str, out: &Output) -> Result<()> {
    ensure!(
        out.status.success(),
        "{what} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir) {
        let path = entry?.into_path();
        if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    Ok(files)
}

/// The files that `include_bytes!("...")` and `include_str!("...")` in
/// `source` name, relative to the repository.
fn included_files(source: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(source)?;
    let dir = source.parent().context("a source file has a directory")?;
    let mut files = Vec::new();
    for marker in ["include_bytes!(\"", "include_str!(\""] {
        for (at, _) in text.match_indices(marker) {
            let rest = &text[at + marker.len()..];
            let name = &rest[..rest.find('"').context("an unterminated include")?];
            files.push(relative(&dir.join(name).canonicalize()?)?);
        }
    }
    Ok(files)
}

fn relative(path: &Path) -> Result<String> {
    let repo = harness::repo().canonicalize()?;
    let path = path.canonicalize()?;
    Ok(path.strip_prefix(&repo)?.to_string_lossy().into_owned())
}
