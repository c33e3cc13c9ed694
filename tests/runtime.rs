//! Runs every case in `tests/cases/*.toml`: virtualize a real guest
//! component with the case's policy, run the output in wasmtime with only the
//! host capabilities the case grants, and check every expectation.
//!
//! One trial per case and WASI version (`cargo test --test runtime env-`
//! filters by name). The case format is `Case` below; each field is checked.

#[path = "harness/mod.rs"]
mod harness;

use anyhow::{bail, ensure, Context, Result};
use harness::Tool;
use harness::{End, Host};
use libtest_mimic::{Arguments, Failed, Trial};
use serde::Deserialize;
use std::path::Path;
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
    /// to a free port and sends a line). Anywhere in the case's text, `$NAME`
    /// becomes a server's address and `$NAME_PORT` its port.
    #[serde(default)]
    servers: std::collections::BTreeMap<String, String>,
    /// The case file, read again with the servers' addresses filled in.
    #[serde(skip)]
    path: std::path::PathBuf,
    expect: Expect,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
enum Mode {
    /// `WasiVirt::compose(component).finish()`.
    #[default]
    Compose,
    /// A standalone adapter at the guest's WASI version, composed by each
    /// of the other tools a user composes with: one trial per
    /// [`harness::Tool`].
    Standalone,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Expect {
    /// The exact stdout of a command component.
    stdout: Option<String>,
    /// The same, from a file beside the cases (shared by cases that must
    /// print the same).
    stdout_file: Option<String>,
    /// The exact stderr of a command component.
    stderr: Option<String>,
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
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Call {
    func: String,
    #[serde(default)]
    args: Vec<String>,
    result: String,
}

fn main() {
    let args = Arguments::from_args();
    let dir = harness::repo().join("tests/cases");
    let mut trials = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/cases exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    for path in paths {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let case = match load(&path) {
            Ok(case) => std::sync::Arc::new(case),
            Err(e) => {
                let msg = format!("{e:#}");
                trials.push(Trial::test(stem, move || Err(msg.into())));
                continue;
            }
        };
        let versions = if case.wasi_versions.is_empty() {
            vec![None]
        } else {
            case.wasi_versions.iter().cloned().map(Some).collect()
        };
        let tools: Vec<Option<Tool>> = match case.mode {
            Mode::Compose => vec![None],
            Mode::Standalone => Tool::ALL.into_iter().map(Some).collect(),
        };
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
    }
    libtest_mimic::run(&args, trials).exit();
}

fn load(path: &Path) -> Result<Case> {
    load_with(path, &Default::default())
}

/// Reads a case with the addresses of its started servers filled in; a
/// server not started yet reads as `127.0.0.1:9`, so that the case can be
/// checked before its trial runs.
fn load_with(
    path: &Path,
    addrs: &std::collections::BTreeMap<String, std::net::SocketAddr>,
) -> Result<Case> {
    let fill = |text: &str| {
        fill_servers(
            text,
            |n| addrs.get(n).map_or("127.0.0.1:9".into(), |a| a.to_string()),
            |n| addrs.get(n).map_or("9".into(), |a| a.port().to_string()),
        )
    };
    let mut text = fill(&std::fs::read_to_string(path)?);
    if text.contains("$FIXTURES") {
        let dir = harness::generated_fixtures().display().to_string();
        text = text.replace("$FIXTURES", &dir);
    }
    let mut case: Case =
        toml::from_str(&text).with_context(|| format!("failed to parse `{}`", path.display()))?;
    case.path = path.to_path_buf();
    check_error_alone(&case.expect)?;
    if let Some(file) = &case.expect.stdout_file {
        let file = path.parent().unwrap().join(file);
        case.expect.stdout = Some(fill(
            &std::fs::read_to_string(&file)
                .with_context(|| format!("failed to read `{}`", file.display()))?,
        ));
    }
    Ok(case)
}

/// A case that expects `finish()` to fail has no output to check, so
/// `expect.error` admits no other expectation.
fn check_error_alone(e: &Expect) -> Result<()> {
    if e.error.is_none() {
        return Ok(());
    }
    let others: Vec<&str> = [
        ("stdout", e.stdout.is_some()),
        ("stdout-file", e.stdout_file.is_some()),
        ("stderr", e.stderr.is_some()),
        ("stderr-contains", !e.stderr_contains.is_empty()),
        ("trap", e.trap),
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

/// Starts the case's named servers and reads the case again with their
/// addresses.
fn with_servers(case: &Case) -> Result<Case> {
    let mut addrs = std::collections::BTreeMap::new();
    for (name, kind) in &case.servers {
        addrs.insert(name.clone(), harness::start_server(kind)?);
    }
    let mut filled = load_with(&case.path, &addrs)?;
    filled.servers.clear();
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

fn run(case: &Case, version: Option<&str>, tool: Option<Tool>) -> Result<()> {
    if !case.servers.is_empty() {
        return run(&with_servers(case)?, version, tool);
    }
    let mut component = harness::guest(&case.component);
    if let Some(v) = version {
        component = harness::with_wasi_version(&component, v)?;
    }

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
    }
    let mut virt = WasiVirt::from_policy(policy);
    let output = match tool {
        None => {
            virt.compose(component.clone());
            virt.finish().map(|out| out.bytes)
        }
        Some(tool) => {
            virt.wasi_version(harness::wasi_version_of(&component)?);
            virt.finish()
                .and_then(|adapter| tool.compose(&component, &adapter.bytes))
        }
    };
    let bytes = match (output, &case.expect.error) {
        (Err(e), Some(want)) => {
            let got = format!("{e:#}");
            ensure!(
                got.contains(want.as_str()),
                "expected an error containing `{want}`, got `{got}`"
            );
            return Ok(());
        }
        (Ok(_), Some(want)) => bail!("expected an error containing `{want}`, but it succeeded"),
        (Err(e), None) => return Err(e.context("virtualization failed")),
        (Ok(bytes), None) => bytes,
    };

    let imports = harness::unversioned_imports(&bytes)?;
    if let Some(want) = &case.expect.imports {
        let mut want = want.clone();
        want.sort();
        ensure!(
            imports == want,
            "imports differ:\n  got  {imports:?}\n  want {want:?}"
        );
    }
    for name in &case.expect.absent {
        ensure!(
            !imports.contains(name),
            "`{name}` must be absent, but is imported: {imports:?}"
        );
    }
    // No version skew: the output imports WASI only at versions the
    // component itself imports.
    let versions_in = |bytes: &[u8]| -> Result<std::collections::BTreeSet<String>> {
        Ok(wasi_virt::component_imports(bytes)?
            .into_iter()
            .filter(|i| i.starts_with("wasi:"))
            .filter_map(|i| i.split_once('@').map(|(_, v)| v.to_string()))
            .collect())
    };
    let mut allowed_versions = versions_in(&component)?;
    if tool.is_some() {
        // A standalone adapter imports the host's side of what it also
        // exports at another patch version (`src/compose.rs`).
        let version = harness::wasi_version_of(&component)?;
        allowed_versions.insert(wasi_virt::host_side_version(&version).to_string());
    }
    for v in versions_in(&bytes)? {
        ensure!(
            allowed_versions.contains(&v),
            "the output imports WASI {v}, which the component did not ({allowed_versions:?})"
        );
    }

    let e = &case.expect;
    let runs = e.stdout.is_some() || e.stderr.is_some() || !e.stderr_contains.is_empty() || e.trap;
    if runs || e.exit_code.is_some() {
        let out = harness::run_command(&bytes, &host)?;
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
        if e.same_as_host {
            same_as_host(&component, &host, &out)?;
        }
        if let Some(want) = &e.stdout {
            ensure!(
                out.stdout == *want,
                "stdout differs:\n--- got\n{}--- want\n{want}",
                out.stdout
            );
        }
        if let Some(want) = &e.stderr {
            ensure!(
                out.stderr == *want,
                "stderr differs:\n--- got\n{}--- want\n{want}",
                out.stderr
            );
        }
        for line in &e.stderr_contains {
            ensure!(
                out.stderr.lines().any(|l| l == line),
                "stderr lacks the line `{line}`:\n{}",
                out.stderr
            );
        }
    }
    for call in &case.expect.calls {
        let got = harness::call_export(&bytes, &host, &call.func, &call.args)?;
        ensure!(
            got == call.result,
            "`{}({:?})` returned `{got}`, want `{}`",
            call.func,
            call.args,
            call.result
        );
    }
    ensure!(
        runs || e.exit_code.is_some() || !e.calls.is_empty(),
        "case runs nothing: give `expect.stdout`, `stderr`, `trap`, `exit-code` or `calls`"
    );
    Ok(())
}
