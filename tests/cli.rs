//! The `wasi-virt` binary, one case per file: `tests/cli/<case>.toml` sets
//! up files in a fresh directory, runs the binary there, compares its
//! stdout and stderr with the snapshots `<case>.stdout` and `<case>.stderr`,
//! checks the failure contract of a case that must fail, and checks (and
//! runs in wasmtime) the files a case names. The format is documented in
//! `tests/cli/readme.toml`, which is a case itself.
//!
//! One trial per case, named by its file stem (`cargo test --test cli
//! mount-` filters); `BLESS=1 cargo test --test cli` rewrites the snapshots.
//! The runner knows nothing of the CLI but its binary.

#[path = "harness/mod.rs"]
mod harness;

use anyhow::{bail, ensure, Context, Result};
use indexmap::IndexMap;
use libtest_mimic::{Arguments, Trial};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// One case file.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Case {
    /// What the case shows; printed above its failures.
    description: String,
    /// The arguments, with `$DIR` (the case's directory) and `$REPO`
    /// expanded.
    args: Vec<String>,
    /// Whether the run must succeed or fail.
    status: Status,
    /// Files to create, by path relative to the case's directory.
    #[serde(default)]
    files: IndexMap<String, File>,
    /// Files to check after a successful run.
    #[serde(default)]
    check: Vec<Check>,
    /// Other arguments that must do exactly what `args` does: each runs in
    /// a directory of its own, set up the same way, and must exit alike,
    /// print the same stdout and stderr, and leave the same files, byte for
    /// byte.
    #[serde(default)]
    equivalent_args: Vec<Vec<String>>,
    /// Text the stdout must contain (after [`normalize`]), on top of its
    /// snapshot: what a long generated text (completions, a manual page)
    /// must say, written out so that `BLESS` cannot bless it away.
    #[serde(default)]
    stdout_contains: Vec<String>,
    /// The exact exit code (optional): 2 for a usage error clap reports.
    exit_code: Option<i32>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "kebab-case")]
enum Status {
    Success,
    Failure,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
enum File {
    /// A guest component from `tests/components`, by name.
    Guest(String),
    /// A file with this text.
    Text(String),
    /// A symbolic link to this target (`$DIR` and `$REPO` expanded).
    Symlink(String),
    /// The first half of a guest component's bytes: truncated wasm.
    TruncatedGuest(String),
    /// A named pipe (FIFO), a special file (`{ fifo = true }`).
    Fifo(bool),
    /// A guest from `tests/components` built for `wasm32-wasip1`: a core
    /// module.
    Wasip1Guest(String),
    /// WebAssembly text, assembled: a component or a module by hand.
    Wat(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Check {
    /// The component to check, relative to the case's directory.
    file: String,
    /// Its exact imports, without versions.
    imports: Option<Vec<String>>,
    /// Imports it must have (among others), without versions.
    #[serde(default)]
    imports_include: Vec<String>,
    /// Its exact exports, with versions.
    exports: Option<Vec<String>>,
    /// Run it as a command in wasmtime.
    run: Option<Run>,
    /// Text the file must contain (`$DIR` expanded): for a file that is
    /// not a component, such as a JSON report, checked instead of the rest.
    #[serde(default)]
    contains: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Run {
    /// What the host grants (`tests/harness/mod.rs`); nothing by default.
    #[serde(default)]
    host: harness::Host,
    /// It must trap (default: it must succeed).
    #[serde(default)]
    trap: bool,
    /// Its exact stdout.
    stdout: Option<String>,
    /// Its exact stderr.
    stderr: Option<String>,
    /// Lines its stderr must contain.
    #[serde(default)]
    stderr_contains: Vec<String>,
}

const STREAMS: [&str; 2] = ["stdout", "stderr"];

fn main() {
    let args = Arguments::from_args();
    let dir = harness::repo().join("tests/cli");
    let stems = case_stems(&dir).expect("tests/cli is readable");
    let mut trials: Vec<Trial> = stems
        .iter()
        .map(|stem| {
            let (dir, name) = (dir.clone(), stem.clone());
            trial(stem, move || run_case(&dir, &name))
        })
        .collect();
    trials.push(trial("orphan-snapshots", move || {
        orphan_snapshots(&dir, &stems)
    }));
    libtest_mimic::run(&args, trials).exit();
}

fn trial(name: &str, test: impl FnOnce() -> Result<()> + Send + 'static) -> Trial {
    Trial::test(name, move || test().map_err(|e| format!("{e:#}").into()))
}

/// The stems of the `*.toml` files in `dir`, sorted.
fn case_stems(dir: &Path) -> Result<Vec<String>> {
    let mut stems = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            stems.push(path.file_stem().unwrap().to_string_lossy().into_owned());
        }
    }
    stems.sort();
    Ok(stems)
}

fn blessing() -> bool {
    std::env::var_os("BLESS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// A snapshot whose case is gone fails (`BLESS=1` removes it).
fn orphan_snapshots(dir: &Path, stems: &[String]) -> Result<()> {
    let mut orphans = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let is_snapshot = path
            .extension()
            .is_some_and(|e| STREAMS.iter().any(|s| e == *s));
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        if is_snapshot && !stems.contains(&stem) {
            orphans.push(path);
        }
    }
    if blessing() {
        orphans.iter().try_for_each(std::fs::remove_file)?;
        return Ok(());
    }
    ensure!(
        orphans.is_empty(),
        "snapshots without a case (BLESS=1 removes them): {orphans:?}"
    );
    Ok(())
}

fn load(path: &Path) -> Result<Case> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    let case: Case =
        toml::from_str(&text).with_context(|| format!("failed to parse `{}`", path.display()))?;
    ensure!(
        case.status == Status::Success || case.check.is_empty(),
        "a case that must fail leaves nothing to check: remove its `[[check]]`"
    );
    for check in &case.check {
        ensure!(
            check.imports.is_some()
                || !check.imports_include.is_empty()
                || check.exports.is_some()
                || check.run.is_some()
                || !check.contains.is_empty(),
            "the check of `{}` checks nothing: give `imports`, `imports-include`, `exports`, `run` or `contains`",
            check.file
        );
        ensure!(
            check.contains.is_empty()
                || (check.imports.is_none()
                    && check.imports_include.is_empty()
                    && check.exports.is_none()
                    && check.run.is_none()),
            "the check of `{}` gives `contains`, which is for files that are not components: \
             check the rest in a check of its own",
            check.file
        );
    }
    Ok(case)
}

fn run_case(dir: &Path, stem: &str) -> Result<()> {
    let case = load(&dir.join(format!("{stem}.toml")))?;
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().canonicalize()?;
    set_up(&root, &case.files)?;
    let before = tree(&root)?;
    let out = wasi_virt(&root, &case.args)?;

    let mut problems = Vec::new();
    for (stream, bytes) in STREAMS.into_iter().zip([&out.stdout, &out.stderr]) {
        let got = normalize(&String::from_utf8_lossy(bytes), &root);
        problems.extend(snapshot(&dir.join(format!("{stem}.{stream}")), &got).err());
    }
    let stdout = normalize(&String::from_utf8_lossy(&out.stdout), &root);
    for want in &case.stdout_contains {
        if !stdout.contains(want.as_str()) {
            problems.push(anyhow::anyhow!("its stdout lacks `{want}`"));
        }
    }
    if let Some(code) = case.exit_code {
        if out.status.code() != Some(code) {
            problems.push(anyhow::anyhow!(
                "it exited with {}, want code {code}",
                out.status
            ));
        }
    }
    let after = tree(&root)?;
    problems.extend(check_status(case.status, &out, &before, &after).err());
    if case.status == Status::Success && out.status.success() {
        for check in &case.check {
            let checked = check_file(&root, check);
            problems.extend(
                checked
                    .with_context(|| format!("checking `{}`", check.file))
                    .err(),
            );
        }
    }
    for args in &case.equivalent_args {
        let same = check_equivalent(&case.files, args, (&root, &out, &after));
        problems.extend(
            same.with_context(|| format!("`wasi-virt {}` must do the same", args.join(" ")))
                .err(),
        );
    }
    if problems.is_empty() {
        return Ok(());
    }
    let problems: Vec<String> = problems.iter().map(|e| format!("{e:#}")).collect();
    bail!(
        "{}\n`wasi-virt {}`\n\n{}",
        case.description,
        case.args.join(" "),
        problems.join("\n\n")
    )
}

/// Runs `args` in a fresh directory holding `files`, and compares what it
/// did with `want`: the directory, the output and the tree left of another
/// run.
fn check_equivalent(
    files: &IndexMap<String, File>,
    args: &[String],
    want: (&Path, &Output, &BTreeMap<PathBuf, Vec<u8>>),
) -> Result<()> {
    let (want_root, want_out, want_tree) = want;
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().canonicalize()?;
    set_up(&root, files)?;
    let out = wasi_virt(&root, args)?;
    ensure!(
        out.status.code() == want_out.status.code(),
        "it exited with {}, the case's arguments with {}",
        out.status,
        want_out.status
    );
    let streams = [
        (&want_out.stdout, &out.stdout),
        (&want_out.stderr, &out.stderr),
    ];
    for (stream, (want, got)) in STREAMS.into_iter().zip(streams) {
        let want = normalize(&String::from_utf8_lossy(want), want_root);
        let got = normalize(&String::from_utf8_lossy(got), &root);
        same_text(&format!("its {stream}"), &want, &got)?;
    }
    let got_tree = tree(&root)?;
    let paths: std::collections::BTreeSet<&PathBuf> =
        want_tree.keys().chain(got_tree.keys()).collect();
    let differing: Vec<&PathBuf> = paths
        .into_iter()
        .filter(|p| want_tree.get(*p) != got_tree.get(*p))
        .collect();
    ensure!(
        differing.is_empty(),
        "it left files that differ from the case's run, or that one run left alone: {differing:?}"
    );
    Ok(())
}

/// `$DIR` is the case's directory, `$REPO` the repository.
fn expand(text: &str, root: &Path) -> String {
    text.replace("$DIR", &root.display().to_string())
        .replace("$REPO", &harness::repo().display().to_string())
}

/// The reverse of [`expand`]; and what changes from run to run: a size in
/// bytes (`123456 bytes` becomes `<SIZE> bytes`, so that the adapter's size
/// does not churn snapshots) and the random name of a temporary file
/// (`.tmpAbC123` becomes `.tmp<RANDOM>`).
fn normalize(text: &str, root: &Path) -> String {
    let text = text
        .replace(&root.display().to_string(), "$DIR")
        .replace(&harness::repo().display().to_string(), "$REPO");
    let text = mask(
        &text,
        " bytes",
        Side::Before,
        |c| c.is_ascii_digit(),
        "<SIZE>",
    );
    mask(
        &text,
        ".tmp",
        Side::After,
        |c| c.is_ascii_alphanumeric(),
        "<RANDOM>",
    )
}

#[derive(Clone, Copy)]
enum Side {
    Before,
    After,
}

/// Replaces the characters of `class` right before (or after) each `marker`
/// with `placeholder`, where there are any.
fn mask(
    text: &str,
    marker: &str,
    side: Side,
    class: fn(char) -> bool,
    placeholder: &str,
) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let (head, tail) = (&rest[..at], &rest[at + marker.len()..]);
        let (kept_head, kept_tail) = match side {
            Side::Before => (head.trim_end_matches(class), tail),
            Side::After => (head, tail.trim_start_matches(class)),
        };
        out.push_str(kept_head);
        let masked = kept_head.len() < head.len() || kept_tail.len() < tail.len();
        match (side, masked) {
            (Side::Before, true) => out.extend([placeholder, marker]),
            (Side::After, true) => out.extend([marker, placeholder]),
            (_, false) => out.push_str(marker),
        }
        rest = kept_tail;
    }
    out.push_str(rest);
    out
}

fn set_up(root: &Path, files: &IndexMap<String, File>) -> Result<()> {
    for (name, file) in files {
        ensure!(
            Path::new(name).is_relative() && !name.split('/').any(|c| c == ".."),
            "file `{name}` must be a path inside the case's directory"
        );
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap())?;
        match file {
            File::Guest(guest) => std::fs::write(&path, harness::guest(guest))?,
            File::Text(text) => std::fs::write(&path, text)?,
            File::Symlink(target) => std::os::unix::fs::symlink(expand(target, root), &path)?,
            File::TruncatedGuest(guest) => {
                let bytes = harness::guest(guest);
                std::fs::write(&path, &bytes[..bytes.len() / 2])?
            }
            File::Wasip1Guest(guest) => std::fs::write(&path, harness::wasip1_guest(guest))?,
            File::Wat(text) => std::fs::write(&path, wat::parse_str(text)?)?,
            File::Fifo(make) => {
                ensure!(
                    *make,
                    "`{name}`: `fifo = false` makes nothing; leave the file out"
                );
                let status = Command::new("mkfifo").arg(&path).status()?;
                ensure!(status.success(), "mkfifo `{}` failed", path.display());
            }
        }
    }
    Ok(())
}

/// What a directory holds: every entry by path, with a file's bytes, a
/// link's target, or nothing for a directory.
fn tree(root: &Path) -> Result<BTreeMap<PathBuf, Vec<u8>>> {
    let mut entries = BTreeMap::new();
    for entry in walkdir::WalkDir::new(root).min_depth(1) {
        let entry = entry?;
        let kind = entry.file_type();
        let content = if kind.is_symlink() {
            std::fs::read_link(entry.path())?
                .into_os_string()
                .into_encoded_bytes()
        } else if kind.is_file() {
            std::fs::read(entry.path())?
        } else {
            Vec::new()
        };
        entries.insert(entry.path().strip_prefix(root)?.to_path_buf(), content);
    }
    Ok(entries)
}

fn wasi_virt(root: &Path, args: &[String]) -> Result<Output> {
    Command::new(env!("CARGO_BIN_EXE_wasi-virt"))
        .args(args.iter().map(|a| expand(a, root)))
        .current_dir(root)
        // Help wraps to the terminal's width; without a terminal, to this.
        .env("COLUMNS", "100")
        .output()
        .context("failed to run wasi-virt")
}

/// Compares `got` with the snapshot at `path` (absent: empty), or with
/// `BLESS` set, rewrites it (removes it when `got` is empty).
fn snapshot(path: &Path, got: &str) -> Result<()> {
    if blessing() {
        if !got.is_empty() {
            std::fs::write(path, got)?;
        } else if path.exists() {
            std::fs::remove_file(path)?;
        }
        return Ok(());
    }
    let want = match std::fs::read_to_string(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        read => read.with_context(|| format!("failed to read `{}`", path.display()))?,
    };
    let name = path.file_name().unwrap().to_string_lossy();
    same_text(&format!("{name} (BLESS=1 rewrites it)"), &want, got)
}

/// Fails with a line diff (`-` want, `+` got) unless the texts are equal.
fn same_text(what: &str, want: &str, got: &str) -> Result<()> {
    ensure!(
        want == got,
        "{what} differs (- want, + got):\n{}",
        diff(want, got)
    );
    Ok(())
}

/// A line diff, showing unchanged lines only near a change.
fn diff(want: &str, got: &str) -> String {
    const CONTEXT: usize = 3;
    let lines = diff_lines(want, got);
    let near_change = |at: usize| {
        let around = at.saturating_sub(CONTEXT)..(at + CONTEXT + 1).min(lines.len());
        lines[around].iter().any(|(tag, _)| *tag != ' ')
    };
    let mut out = String::new();
    for (at, (tag, line)) in lines.iter().enumerate() {
        if near_change(at) {
            out += &format!("{tag} {line}\n");
        } else if at == 0 || near_change(at - 1) {
            out += "  ...\n";
        }
    }
    if want.lines().eq(got.lines()) {
        out += "(they differ only in their final newline)\n";
    }
    out
}

/// The lines of `want` and `got` tagged `-` (only in want), `+` (only in
/// got) or ` ` (in both), by longest common subsequence.
fn diff_lines<'a>(want: &'a str, got: &'a str) -> Vec<(char, &'a str)> {
    let (a, b): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push((' ', a[i]));
            (i, j) = (i + 1, j + 1);
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(('-', a[i]));
            i += 1;
        } else {
            out.push(('+', b[j]));
            j += 1;
        }
    }
    out
}

/// The exit status, and for a failure the contract: an `error:` line, no
/// panic, and the directory as it was (no output, no temporary file, an
/// existing output untouched). A success leaves no temporary file either.
fn check_status(
    want: Status,
    out: &Output,
    before: &BTreeMap<PathBuf, Vec<u8>>,
    after: &BTreeMap<PathBuf, Vec<u8>>,
) -> Result<()> {
    let added: Vec<&PathBuf> = after.keys().filter(|p| !before.contains_key(*p)).collect();
    if want == Status::Success {
        ensure!(
            out.status.success(),
            "it failed ({}), want success",
            out.status
        );
        let temporary: Vec<_> = added
            .iter()
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(".tmp"))
            })
            .collect();
        ensure!(
            temporary.is_empty(),
            "it left temporary files: {temporary:?}"
        );
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(!out.status.success(), "it succeeded, want failure");
    ensure!(
        stderr.starts_with("error:"),
        "its stderr does not start with `error:`"
    );
    ensure!(!stderr.contains("panicked"), "it panicked");
    ensure!(
        added.is_empty(),
        "it failed but left files behind (an output or a temporary file): {added:?}"
    );
    let changed: Vec<&PathBuf> = before
        .iter()
        .filter(|(p, content)| after.get(*p) != Some(content))
        .map(|(p, _)| p)
        .collect();
    ensure!(
        changed.is_empty(),
        "it failed but changed or removed files: {changed:?}"
    );
    Ok(())
}

fn check_file(root: &Path, check: &Check) -> Result<()> {
    let bytes = std::fs::read(root.join(&check.file)).context("failed to read it")?;
    if !check.contains.is_empty() {
        let text = String::from_utf8_lossy(&bytes);
        for want in &check.contains {
            let want = expand(want, root);
            ensure!(text.contains(&want), "it lacks `{want}`:\n{text}");
        }
        return Ok(());
    }
    let imports = harness::unversioned_imports(&bytes)?;
    if let Some(want) = &check.imports {
        same_set("imports", imports.clone(), want)?;
    }
    let missing: Vec<_> = check
        .imports_include
        .iter()
        .filter(|i| !imports.contains(i))
        .collect();
    ensure!(
        missing.is_empty(),
        "it does not import {missing:?}; it imports {imports:?}"
    );
    if let Some(want) = &check.exports {
        same_set("exports", wasi_virt::component_exports(&bytes)?, want)?;
    }
    if let Some(run) = &check.run {
        check_run(&bytes, run)?;
    }
    Ok(())
}

fn same_set(what: &str, mut got: Vec<String>, want: &[String]) -> Result<()> {
    let mut want = want.to_vec();
    got.sort();
    want.sort();
    ensure!(
        got == want,
        "{what} differ:\n  got  {got:?}\n  want {want:?}"
    );
    Ok(())
}

fn check_run(bytes: &[u8], run: &Run) -> Result<()> {
    let out = harness::run_command(bytes, &run.host)?;
    let ended_right = match out.end {
        harness::End::Trap(_) => run.trap,
        harness::End::Ok => !run.trap,
        _ => false,
    };
    ensure!(
        ended_right,
        "the run ended with {:?}, want {}\n--- stdout\n{}--- stderr\n{}",
        out.end,
        if run.trap { "a trap" } else { "success" },
        out.stdout,
        out.stderr
    );
    if let Some(want) = &run.stdout {
        same_text("the run's stdout", want, &out.stdout)?;
    }
    if let Some(want) = &run.stderr {
        same_text("the run's stderr", want, &out.stderr)?;
    }
    for line in &run.stderr_contains {
        ensure!(
            out.stderr.lines().any(|l| l == line),
            "the run's stderr lacks the line `{line}`:\n{}",
            out.stderr
        );
    }
    Ok(())
}
