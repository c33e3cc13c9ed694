//! Runs every case in `tests/cases/*.toml`: virtualize a real guest
//! component with the case's policy, run the output in wasmtime with only the
//! host capabilities the case grants, and check every expectation.
//!
//! One trial per case and WASI version (`cargo test --test runtime env-`
//! filters by name). The case format is `Case` below; each field is checked.
//! The exact stdout and stderr a case expects live in files beside it
//! (`expect.stdout-file`, `expect.stderr-file`, by convention `NAME.stdout`
//! and `NAME.stderr`); `BLESS=1 cargo test --test runtime` writes them from
//! what the runs print, and every other expectation is still checked.

#[path = "harness/mod.rs"]
mod harness;

use anyhow::{bail, ensure, Context, Result};
use harness::Tool;
use harness::{End, Host};
use libtest_mimic::{Arguments, Failed, Trial};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wasi_virt::{Policy, WasiVirt};

/// One case file.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Case {
    /// What the case shows, for the reader.
    #[allow(dead_code)]
    description: String,
    /// The guest in `tests/components` (`env-args`, `lib-export`).
    component: String,
    /// The WASI versions the guest is renamed to, one trial each. Default:
    /// the version it was built with (0.2.6).
    #[serde(default)]
    wasi_versions: Vec<String>,
    /// How the adapter meets the component.
    #[serde(default)]
    mode: Mode,
    /// The virtualization policy.
    #[serde(default)]
    policy: Policy,
    /// What the host grants.
    #[serde(default)]
    host: Host,
    /// A server the test starts on 127.0.0.1 first (`tcp-echo`,
    /// `http-echo`). In the
    /// policy's env overrides and the host's env, `$SERVER` becomes its
    /// address and `$PORT` its port.
    server: Option<String>,
    /// Named servers the test starts first (the kinds of `server`, and
    /// `tcp6-echo` on `[::1]`, `udp-echo`, and `tcp-client`, which connects
    /// to a free port and sends a line). Anywhere in the case's text and in
    /// its expected output files, `$NAME` becomes a server's address and
    /// `$NAME_PORT` its port.
    #[serde(default)]
    servers: BTreeMap<String, String>,
    /// A composing tool (by label, as in a trial's name) that cannot plug
    /// this standalone adapter, with the error it must fail with: a limit
    /// of that tool, documented where the case says.
    #[serde(default)]
    tool_errors: BTreeMap<String, String>,
    /// The case file, read again with the servers' addresses filled in.
    #[serde(skip)]
    path: PathBuf,
    /// The addresses of the started `servers`, once they are.
    #[serde(skip)]
    addrs: BTreeMap<String, SocketAddr>,
    expect: Expect,
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq)]
#[serde(rename_all = "kebab-case")]
enum Mode {
    /// `WasiVirt::compose(component).finish()`.
    #[default]
    Compose,
    /// A standalone adapter at the guest's WASI version, composed by each
    /// of the other tools a user composes with: one trial per
    /// [`harness::Tool`].
    Standalone,
    /// A standalone WASI 0.3 adapter (`--wasi-version 0.3.0`), composed as
    /// `Standalone` is.
    #[serde(rename = "standalone-0.3")]
    Standalone03,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Expect {
    /// The file beside the case holding the exact stdout of a command
    /// component (`NAME.stdout`, or one shared by cases that must print
    /// the same). `BLESS=1` writes it.
    stdout_file: Option<String>,
    /// The same for the exact stderr (`NAME.stderr`).
    stderr_file: Option<String>,
    /// Exact output inline is refused at load: it could not be blessed.
    stdout: Option<toml::Value>,
    /// The same for stderr.
    stderr: Option<toml::Value>,
    /// Lines the stderr of a command component must contain.
    #[serde(default)]
    stderr_contains: Vec<String>,
    /// The command must trap (default: it must succeed).
    #[serde(default)]
    trap: bool,
    /// A differential check: the component unvirtualized, run on the same
    /// host (wasmtime's own WASI), must print the same stdout and end the
    /// same way as the output.
    #[serde(default)]
    same_as_host: bool,
    /// The command must exit through `wasi:cli/exit` with this status.
    exit_code: Option<i32>,
    /// Calls to a library component's exports, and their rendered results.
    #[serde(default)]
    calls: Vec<Call>,
    /// The exact set of the output's imports, without versions.
    imports: Option<Vec<String>>,
    /// Imports that must not appear, without versions.
    #[serde(default)]
    absent: Vec<String>,
    /// `finish()` must fail with a message containing this.
    error: Option<String>,
    /// The contents of `stdout-file` and `stderr-file`, servers filled in
    /// (absent while blessing a file that does not exist yet).
    #[serde(skip)]
    want_stdout: Option<String>,
    #[serde(skip)]
    want_stderr: Option<String>,
}

impl Expect {
    /// Whether the case runs the output as a command.
    fn runs(&self) -> bool {
        self.stdout_file.is_some()
            || self.stderr_file.is_some()
            || !self.stderr_contains.is_empty()
            || self.trap
            || self.exit_code.is_some()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Call {
    func: String,
    #[serde(default)]
    args: Vec<String>,
    result: String,
}

/// Whether this run writes the expected output files instead of checking
/// them (`BLESS=1`).
fn blessing() -> bool {
    std::env::var("BLESS").is_ok_and(|v| !v.is_empty() && v != "0")
}

fn main() {
    let args = Arguments::from_args();
    let paths = harness::case_files("tests/cases");
    let trials = paths.iter().flat_map(|path| case_trials(path)).collect();
    libtest_mimic::run(&args, trials).exit();
}

/// The trials of one case file: one per WASI version and composing tool,
/// or one that fails with why the case does not load.
fn case_trials(path: &Path) -> Vec<Trial> {
    let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
    let case = match load(path) {
        Ok(case) => Arc::new(case),
        Err(e) => {
            let msg = format!("{e:#}");
            return vec![Trial::test(stem, move || Err(msg.into()))];
        }
    };
    let versions = if case.wasi_versions.is_empty() {
        vec![None]
    } else {
        case.wasi_versions.iter().cloned().map(Some).collect()
    };
    let tools: Vec<Option<Tool>> = match case.mode {
        Mode::Compose => vec![None],
        Mode::Standalone | Mode::Standalone03 => Tool::ALL.into_iter().map(Some).collect(),
    };
    let mut trials = Vec::new();
    for version in versions {
        for tool in &tools {
            let mut name = match &version {
                Some(v) => format!("{stem}@{v}"),
                None => stem.clone(),
            };
            if let Some(tool) = tool {
                name = format!("{name}/{}", tool.label());
            }
            let (case, version, tool) = (case.clone(), version.clone(), *tool);
            trials.push(Trial::test(name, move || {
                run(&case, version.as_deref(), tool).map_err(|e| Failed::from(format!("{e:#}")))
            }));
        }
    }
    trials
}

fn load(path: &Path) -> Result<Case> {
    load_with(path, &Default::default())
}

/// Reads a case with the addresses of its started servers filled in; a
/// server not started yet reads as `127.0.0.1:9`, so that the case can be
/// checked before its trial runs.
fn load_with(path: &Path, addrs: &BTreeMap<String, SocketAddr>) -> Result<Case> {
    let fill = |text: &str| fill_addrs(text, addrs);
    let mut text = fill(&std::fs::read_to_string(path)?);
    if text.contains("$FIXTURES") {
        let dir = harness::generated_fixtures().display().to_string();
        text = text.replace("$FIXTURES", &dir);
    }
    let mut case: Case =
        toml::from_str(&text).with_context(|| format!("failed to parse `{}`", path.display()))?;
    case.path = path.to_path_buf();
    check_expect(&case.expect).with_context(|| format!("case `{}`", path.display()))?;
    let e = &mut case.expect;
    e.want_stdout = read_expected(path, e.stdout_file.as_deref(), &fill)?;
    e.want_stderr = read_expected(path, e.stderr_file.as_deref(), &fill)?;
    Ok(case)
}

/// The contents of the expected output file `name` beside the case at
/// `path`, filled; none without a file, or while blessing one that does
/// not exist yet.
fn read_expected(
    path: &Path,
    name: Option<&str>,
    fill: &dyn Fn(&str) -> String,
) -> Result<Option<String>> {
    let Some(name) = name else { return Ok(None) };
    let file = path.parent().unwrap().join(name);
    match std::fs::read_to_string(&file) {
        Ok(text) => Ok(Some(fill(&text))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && blessing() => Ok(None),
        Err(e) => Err(e).with_context(|| {
            format!(
                "case `{}`: failed to read `{}` (`BLESS=1` writes it)",
                path.display(),
                file.display()
            )
        }),
    }
}

/// `text` with each `$NAME_PORT` and `$NAME` of a server filled in.
fn fill_addrs(text: &str, addrs: &BTreeMap<String, SocketAddr>) -> String {
    fill_servers(
        text,
        |n| addrs.get(n).map_or("127.0.0.1:9".into(), |a| a.to_string()),
        |n| addrs.get(n).map_or("9".into(), |a| a.port().to_string()),
    )
}

/// Refuses a case whose expectations conflict, where one would silently
/// go unchecked, or that checks nothing.
fn check_expect(e: &Expect) -> Result<()> {
    for (inline, inline_set, file, file_set) in [
        (
            "stdout",
            e.stdout.is_some(),
            "stdout-file",
            e.stdout_file.is_some(),
        ),
        (
            "stderr",
            e.stderr.is_some(),
            "stderr-file",
            e.stderr_file.is_some(),
        ),
    ] {
        ensure!(
            !(inline_set && file_set),
            "`expect.{inline}` and `expect.{file}` are both set; keep only `{file}`"
        );
        ensure!(
            !inline_set,
            "`expect.{inline}` inline is not read: put the exact {inline} in a file beside \
             the case and name it with `expect.{file}` (`BLESS=1` writes it)"
        );
    }
    check_error_alone(e)?;
    ensure!(
        !(e.trap && e.exit_code.is_some()),
        "`expect.trap` and `expect.exit-code` are both set: a run that traps has no exit status"
    );
    ensure!(
        !e.same_as_host || e.runs(),
        "`expect.same-as-host` needs a run: give `stdout-file`, `stderr-file`, \
         `stderr-contains`, `trap` or `exit-code`"
    );
    ensure!(
        e.error.is_some() || e.runs() || !e.calls.is_empty(),
        "case runs nothing: give `expect.stdout-file`, `stderr-file`, `stderr-contains`, \
         `trap`, `exit-code`, `calls` or `error`"
    );
    Ok(())
}

/// A case that expects `finish()` to fail has no output to check, so
/// `expect.error` admits no other expectation.
fn check_error_alone(e: &Expect) -> Result<()> {
    if e.error.is_none() {
        return Ok(());
    }
    let others: Vec<&str> = [
        ("stdout-file", e.stdout_file.is_some()),
        ("stderr-file", e.stderr_file.is_some()),
        ("stderr-contains", !e.stderr_contains.is_empty()),
        ("trap", e.trap),
        ("same-as-host", e.same_as_host),
        ("exit-code", e.exit_code.is_some()),
        ("calls", !e.calls.is_empty()),
        ("imports", e.imports.is_some()),
        ("absent", !e.absent.is_empty()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect();
    ensure!(
        others.is_empty(),
        "`expect.error` cannot be combined with other expectations, but this case also sets: {}",
        others.join(", ")
    );
    Ok(())
}

/// `text` with each `$NAME_PORT` and `$NAME` (upper-case names) replaced.
fn fill_servers(
    text: &str,
    addr: impl Fn(&str) -> String,
    port: impl Fn(&str) -> String,
) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        let name_len = tail
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit()))
            .unwrap_or(tail.len());
        let name = &tail[..name_len];
        if name.is_empty() || ["SERVER", "PORT", "FIXTURES"].contains(&name) {
            out.push('$');
            rest = tail;
            continue;
        }
        if tail[name_len..].starts_with("_PORT") {
            out.push_str(&port(name));
            rest = &tail[name_len + 5..];
        } else {
            out.push_str(&addr(name));
            rest = &tail[name_len..];
        }
    }
    out.push_str(rest);
    out
}

/// The inverse of [`fill_addrs`] for blessing: each server's address
/// becomes `$NAME`, then each of its ports `$NAME_PORT` (only where no
/// digit touches it). Refused where filling would not give `text` back.
fn unfill_addrs(text: &str, addrs: &BTreeMap<String, SocketAddr>) -> Result<String> {
    let mut out = text.to_string();
    for (name, addr) in addrs {
        out = replace_number(&out, &addr.to_string(), &format!("${name}"));
    }
    for (name, addr) in addrs {
        out = replace_number(&out, &addr.port().to_string(), &format!("${name}_PORT"));
    }
    ensure!(
        fill_addrs(&out, addrs) == text,
        "cannot bless: the output does not survive writing the servers' addresses as \
         `$NAME`:\n{text}"
    );
    Ok(out)
}

/// `text` with each `from` that no ASCII digit touches replaced by `to`.
fn replace_number(text: &str, from: &str, to: &str) -> String {
    let digit_at = |i: usize| text.as_bytes().get(i).is_some_and(u8::is_ascii_digit);
    let mut out = String::new();
    let mut done = 0;
    for (at, _) in text.match_indices(from) {
        if at < done || (at > 0 && digit_at(at - 1)) || digit_at(at + from.len()) {
            continue;
        }
        out.push_str(&text[done..at]);
        out.push_str(to);
        done = at + from.len();
    }
    out.push_str(&text[done..]);
    out
}

/// Starts the case's named servers and reads the case again with their
/// addresses.
fn with_servers(case: &Case) -> Result<Case> {
    let mut addrs = BTreeMap::new();
    for (name, kind) in &case.servers {
        addrs.insert(name.clone(), harness::start_server(kind)?);
    }
    let mut filled = load_with(&case.path, &addrs)?;
    filled.servers.clear();
    filled.addrs = addrs;
    Ok(filled)
}

/// The differential check of `same-as-host`: the component unvirtualized,
/// on the same host, prints what the output printed and ends the same way.
fn same_as_host(component: &[u8], host: &Host, out: &harness::Output) -> Result<()> {
    let base = harness::run_command(component, host)?;
    ensure!(
        base.stdout == out.stdout
            && std::mem::discriminant(&base.end) == std::mem::discriminant(&out.end),
        "the host answers otherwise:\n--- virtualized ({:?})\n{}--- the host's own ({:?})\n{}",
        out.end,
        out.stdout,
        base.end,
        base.stdout
    );
    Ok(())
}

/// One trial: virtualize the case's guest at `version` (composed by
/// `tool`, or by the library), and check every expectation.
fn run(case: &Case, version: Option<&str>, tool: Option<Tool>) -> Result<()> {
    if !case.servers.is_empty() {
        return run(&with_servers(case)?, version, tool);
    }
    let mut component = harness::guest(&case.component);
    if let Some(v) = version {
        component = harness::with_wasi_version(&component, v)?;
    }
    let (policy, host) = with_server(case)?;
    let Some(bytes) = virtualize(case, policy, &component, tool)? else {
        return Ok(());
    };
    check_imports(&case.expect, &bytes)?;
    check_no_version_skew(&component, &bytes, tool, case.mode == Mode::Standalone03)?;
    if case.expect.runs() {
        check_run(case, &component, &bytes, &host)?;
    }
    check_calls(&case.expect, &bytes, &host)
}

/// The case's policy and host, with the address of its `server` (started
/// here) in the policy's env overrides and the host's env.
fn with_server(case: &Case) -> Result<(Policy, Host)> {
    let mut policy = case.policy.clone();
    let mut host = case.host.clone();
    if let Some(server) = &case.server {
        let addr = harness::start_server(server)?;
        let fill = |v: &mut String| {
            *v = v
                .replace("$SERVER", &addr.to_string())
                .replace("$PORT", &addr.port().to_string())
        };
        policy
            .env
            .iter_mut()
            .flat_map(|e| e.overrides.values_mut())
            .for_each(fill);
        host.env.values_mut().for_each(fill);
        host.args.iter_mut().for_each(fill);
    }
    Ok((policy, host))
}

/// The output's bytes, or none where the case expects virtualizing to fail
/// and it failed as expected.
fn virtualize(
    case: &Case,
    policy: Policy,
    component: &[u8],
    tool: Option<Tool>,
) -> Result<Option<Vec<u8>>> {
    let mut virt = WasiVirt::from_policy(policy);
    let output = match tool {
        None => {
            virt.compose(component.to_vec());
            virt.finish().map(|out| out.bytes)
        }
        Some(tool) => {
            virt.wasi_version(match case.mode {
                Mode::Standalone03 => "0.3.0".parse()?,
                _ => harness::wasi_version_of(component)?,
            });
            virt.finish()
                .and_then(|adapter| tool.compose(component, &adapter.bytes))
        }
    };
    let tool_error = tool.and_then(|t| case.tool_errors.get(t.label()));
    match (output, tool_error.or(case.expect.error.as_ref())) {
        (Err(e), Some(want)) => {
            let got = format!("{e:#}");
            ensure!(
                got.contains(want.as_str()),
                "expected an error containing `{want}`, got `{got}`"
            );
            Ok(None)
        }
        (Ok(_), Some(want)) => bail!("expected an error containing `{want}`, but it succeeded"),
        (Err(e), None) => Err(e.context("virtualization failed")),
        (Ok(bytes), None) => Ok(Some(bytes)),
    }
}

/// `expect.imports` and `expect.absent`.
fn check_imports(e: &Expect, bytes: &[u8]) -> Result<()> {
    let imports = harness::unversioned_imports(bytes)?;
    if let Some(want) = &e.imports {
        let mut want = want.clone();
        want.sort();
        ensure!(
            imports == want,
            "imports differ:\n  got  {imports:?}\n  want {want:?}"
        );
    }
    for name in &e.absent {
        ensure!(
            !imports.contains(name),
            "`{name}` must be absent, but is imported: {imports:?}"
        );
    }
    Ok(())
}

/// No version skew: the output imports WASI only at versions the component
/// itself imports.
fn check_no_version_skew(
    component: &[u8],
    bytes: &[u8],
    tool: Option<Tool>,
    standalone_0_3: bool,
) -> Result<()> {
    let versions_in = |bytes: &[u8]| -> Result<BTreeSet<String>> {
        Ok(wasi_virt::component_imports(bytes)?
            .into_iter()
            .filter(|i| i.starts_with("wasi:"))
            .filter_map(|i| i.split_once('@').map(|(_, v)| v.to_string()))
            .collect())
    };
    let mut allowed_versions = versions_in(component)?;
    if tool.is_some() {
        // A standalone adapter imports the host's side of what it also
        // exports at another patch version (`src/compose.rs`).
        let version = harness::wasi_version_of(component)?;
        allowed_versions.insert(wasi_virt::host_side_version(&version).to_string());
    }
    if standalone_0_3 {
        // A standalone WASI 0.3 adapter runs its 0.2 code on the newest 0.2
        // host functions (docs/standalone.md).
        allowed_versions.insert(wasi_virt::BUILT_WASI_VERSION.to_string());
    }
    for v in versions_in(bytes)? {
        let at = |i: &String| i.ends_with(&format!("@{v}"));
        let imports: Vec<String> = wasi_virt::component_imports(bytes)?
            .into_iter()
            .filter(at)
            .collect();
        ensure!(
            allowed_versions.contains(&v),
            "the output imports WASI {v} ({imports:?}), which the component did not \
             ({allowed_versions:?})"
        );
    }
    Ok(())
}

/// Runs the output as a command: how it ends, what it prints (or, while
/// blessing, writes what it printed as the expected output), and the
/// differential check.
fn check_run(case: &Case, component: &[u8], bytes: &[u8], host: &Host) -> Result<()> {
    let e = &case.expect;
    let out = harness::run_command(bytes, host)?;
    if blessing() {
        bless(case, &out)?;
    }
    check_end(e, &out)?;
    if e.same_as_host {
        same_as_host(component, host, &out)?;
    }
    if !blessing() {
        for (stream, want, got) in [
            ("stdout", &e.want_stdout, &out.stdout),
            ("stderr", &e.want_stderr, &out.stderr),
        ] {
            if let Some(want) = want {
                ensure!(
                    got == want,
                    "{stream} differs (`BLESS=1` accepts it):\n--- got\n{got}--- want\n{want}"
                );
            }
        }
    }
    for line in &e.stderr_contains {
        ensure!(
            out.stderr.lines().any(|l| l == line),
            "stderr lacks the line `{line}`:\n{}",
            out.stderr
        );
    }
    Ok(())
}

/// The run ended as the case expects: a trap, an exit status, or success.
fn check_end(e: &Expect, out: &harness::Output) -> Result<()> {
    let want_end = match (e.trap, e.exit_code) {
        (true, _) => "a trap".to_string(),
        (false, Some(code)) => format!("exit {code}"),
        (false, None) => "success".to_string(),
    };
    let end_ok = match (&out.end, e.trap, e.exit_code) {
        (End::Trap(_), true, _) => true,
        (End::Exit(code), false, Some(want)) => *code == want,
        (End::Ok, false, None) => true,
        _ => false,
    };
    ensure!(
        end_ok,
        "the run ended with {:?}, want {want_end}\n--- stdout\n{}--- stderr\n{}",
        out.end,
        out.stdout,
        out.stderr
    );
    Ok(())
}

/// Writes what the run printed into the case's `stdout-file` and
/// `stderr-file`, with the servers' addresses as `$NAME`. The trials of
/// one case may write at once: each write replaces the file whole.
fn bless(case: &Case, out: &harness::Output) -> Result<()> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = case.path.parent().unwrap();
    for (file, text) in [
        (&case.expect.stdout_file, &out.stdout),
        (&case.expect.stderr_file, &out.stderr),
    ] {
        let Some(file) = file else { continue };
        let text = unfill_addrs(text, &case.addrs)?;
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temp = dir.join(format!(".{file}.{}.{n}", std::process::id()));
        std::fs::write(&temp, text)?;
        std::fs::rename(&temp, dir.join(file))
            .with_context(|| format!("failed to bless `{file}`"))?;
    }
    Ok(())
}

/// `expect.calls`: each export called, its rendered result compared.
fn check_calls(e: &Expect, bytes: &[u8], host: &Host) -> Result<()> {
    for call in &e.calls {
        let got = harness::call_export(bytes, host, &call.func, &call.args)?;
        ensure!(
            got == call.result,
            "`{}({:?})` returned `{got}`, want `{}`",
            call.func,
            call.args,
            call.result
        );
    }
    Ok(())
}
