//! Served outputs, driven over loopback with real HTTP requests by the
//! harness's `wasmtime serve` stand-in (wasmtime-wasi-http's host, a fresh
//! instance per request; `tests/harness/mod.rs`, `HttpServer`).
//!
//! Each case is a file in `tests/serve/*.toml` (the format is `Case`
//! below), run as one trial per file and WASI version (`cargo test --test
//! serve cgi-` filters by name): a guest virtualized with the case's
//! policy, served, sent the case's requests in order, each answer checked;
//! then the served instances' log. The cases cover
//!
//! - a component that serves HTTP (`http-server`), virtualized: status,
//!   headers and bodies (several MB streamed both ways), its log, a mounted
//!   file, an outgoing request under a network rule, what it no longer
//!   imports; and the same requests answered as wasmtime's own host answers
//!   them unvirtualized;
//! - a command served per request with `--serve-http` (`cgi-app`):
//!   arguments from the query, the body as stdin, CGI variables and
//!   headers, a failed run and a trap answered 500, stderr into the
//!   response.
//!
//! Where a case's text says `$UPSTREAM`, an HTTP echo server
//! (`harness::http_echo_server`) is started for the trial, and
//! `$UPSTREAM` becomes its address, `$UPSTREAM_PORT` its port.

#[path = "harness/mod.rs"]
mod harness;

use anyhow::{ensure, Context, Result};
use harness::{http_request, Host, HttpResponse, HttpServer};
use indexmap::IndexMap;
use libtest_mimic::{Arguments, Failed, Trial};
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;
use wasi_virt::{Policy, WasiVirt};

/// One case file.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Case {
    /// What the case shows, for the reader.
    #[allow(dead_code)]
    description: String,
    /// The guest in `tests/components` (`http-server`, `cgi-app`).
    component: String,
    /// The WASI versions the guest is renamed to, one trial each. Default:
    /// the version it was built with.
    #[serde(default)]
    wasi_versions: Vec<String>,
    /// The virtualization policy.
    policy: Policy,
    /// What the host serving the output grants (default: nothing).
    #[serde(default)]
    host: Host,
    /// The exact set of the output's exports, without versions (each at a
    /// WASI 0.2.x or 0.3.x).
    exports: Option<Vec<String>>,
    /// The exact set of the output's imports, without versions.
    imports: Option<Vec<String>>,
    /// Imports that must not appear, without versions; `PREFIX*` for every
    /// import that starts with PREFIX.
    #[serde(default)]
    absent: Vec<String>,
    /// A differential check: the guest unvirtualized, served by a host
    /// that grants it this, must answer each request as the output does
    /// (status, headers, body).
    same_as_host: Option<Host>,
    /// The requests, sent in order, each to a fresh instance.
    #[serde(default, rename = "request")]
    requests: Vec<Request>,
    /// Lines the instances' log (stdout, then stderr, request by request)
    /// must hold.
    #[serde(default)]
    log_lines: Vec<String>,
    /// Texts the log must contain.
    #[serde(default)]
    log_contains: Vec<String>,
    /// Texts the log must not contain.
    #[serde(default)]
    log_lacks: Vec<String>,
}

/// One request and what its answer must be.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Request {
    #[serde(default = "get")]
    method: String,
    target: String,
    /// Header names and values, in order.
    #[serde(default)]
    headers: Vec<(String, String)>,
    /// The body (default: none).
    #[serde(default)]
    body: String,
    /// A generated body of this many bytes that is not all one byte,
    /// instead of `body`.
    body_pattern: Option<usize>,
    /// The status of the answer.
    status: Option<u16>,
    /// Headers the answer must have, with these values (the first of each
    /// name).
    #[serde(default)]
    headers_are: IndexMap<String, String>,
    /// Headers the answer must not have.
    #[serde(default)]
    headers_absent: Vec<String>,
    /// The exact body of the answer.
    answer: Option<String>,
    /// The answer is the file of that name in `tests/fixtures/data`.
    answer_fixture: Option<String>,
    /// The answer's body is the request's body.
    #[serde(default)]
    answer_echoes: bool,
}

fn get() -> String {
    "GET".into()
}

impl Request {
    fn body(&self) -> Vec<u8> {
        match self.body_pattern {
            Some(len) => (0..len).map(|i| (i * 7 + i / 251) as u8).collect(),
            None => self.body.as_bytes().to_vec(),
        }
    }

    fn send(&self, addr: std::net::SocketAddr, body: &[u8]) -> Result<HttpResponse> {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        http_request(addr, &self.method, &self.target, &headers, body)
    }
}

fn main() {
    let args = Arguments::from_args();
    let paths = harness::case_files("tests/serve");
    let trials = paths.iter().flat_map(|p| case_trials(p)).collect();
    libtest_mimic::run(&args, trials).exit();
}

/// The trials of one case file: one per WASI version, or one that fails
/// with why the case does not load.
fn case_trials(path: &Path) -> Vec<Trial> {
    let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
    let versions = match load(path, None) {
        Ok(case) if case.wasi_versions.is_empty() => vec![None],
        Ok(case) => case.wasi_versions.into_iter().map(Some).collect(),
        Err(e) => {
            let msg = format!("{e:#}");
            return vec![Trial::test(stem, move || Err(msg.into()))];
        }
    };
    let path = Arc::new(path.to_path_buf());
    versions
        .into_iter()
        .map(|version| {
            let name = match &version {
                Some(v) => format!("{stem}@{v}"),
                None => stem.clone(),
            };
            let path = path.clone();
            Trial::test(name, move || {
                run(&path, version.as_deref()).map_err(|e| Failed::from(format!("{e:#}")))
            })
        })
        .collect()
}

/// Reads a case with `$UPSTREAM` filled in (`127.0.0.1:9` before the
/// trial starts its server).
fn load(path: &Path, upstream: Option<std::net::SocketAddr>) -> Result<Case> {
    let upstream = upstream.unwrap_or_else(|| "127.0.0.1:9".parse().unwrap());
    let text = std::fs::read_to_string(path)?
        .replace("$UPSTREAM_PORT", &upstream.port().to_string())
        .replace("$UPSTREAM", &upstream.to_string());
    toml::from_str(&text).with_context(|| format!("failed to parse `{}`", path.display()))
}

/// One trial: the case's guest at `version`, virtualized, its exports and
/// imports checked, served, and every request answered as the case says.
fn run(path: &Path, version: Option<&str>) -> Result<()> {
    let upstream = if std::fs::read_to_string(path)?.contains("$UPSTREAM") {
        Some(harness::http_echo_server()?)
    } else {
        None
    };
    let case = load(path, upstream)?;
    let mut guest = harness::guest(&case.component);
    if let Some(v) = version {
        guest = harness::with_wasi_version(&guest, v)?;
    }
    let mut virt = WasiVirt::from_policy(case.policy.clone());
    virt.compose(guest.clone());
    let bytes = virt.finish().context("virtualization failed")?.bytes;
    check_exports(&case, &bytes)?;
    check_imports(&case, &bytes)?;
    let server = HttpServer::start(&bytes, &case.host)?;
    match &case.same_as_host {
        Some(host) => answers_as_host(&case, &server, &HttpServer::start(&guest, host)?)?,
        None => {
            for request in &case.requests {
                check_answer(request, &server)?;
            }
        }
    }
    check_log(&case, &server.logs())
}

fn check_exports(case: &Case, bytes: &[u8]) -> Result<()> {
    let Some(want) = &case.exports else {
        return Ok(());
    };
    let exported = wasi_virt::component_exports(bytes)?;
    let mut got: Vec<String> = Vec::new();
    for export in &exported {
        let (name, version) = export.split_once('@').unwrap_or((export, ""));
        let wasi = version.starts_with("0.2.") || version.starts_with("0.3.");
        ensure!(wasi, "exports {exported:?}");
        got.push(name.to_string());
    }
    let mut want = want.clone();
    want.sort();
    got.sort();
    ensure!(
        got == want,
        "exports differ:\n  got  {got:?}\n  want {want:?}"
    );
    Ok(())
}

fn check_imports(case: &Case, bytes: &[u8]) -> Result<()> {
    let imports = harness::unversioned_imports(bytes)?;
    if let Some(want) = &case.imports {
        let mut want = want.clone();
        want.sort();
        ensure!(
            imports == want,
            "imports differ:\n  got  {imports:?}\n  want {want:?}"
        );
    }
    for name in &case.absent {
        let found = match name.strip_suffix('*') {
            Some(prefix) => imports.iter().any(|i| i.starts_with(prefix)),
            None => imports.contains(name),
        };
        ensure!(
            !found,
            "`{name}` must be absent, but is imported: {imports:?}"
        );
    }
    Ok(())
}

/// Sends `request` to `server` and checks its answer.
fn check_answer(request: &Request, server: &HttpServer) -> Result<()> {
    let body = request.body();
    let got = request.send(server.addr, &body)?;
    let what = format!("{} {}", request.method, request.target);
    if let Some(status) = request.status {
        ensure!(
            got.status == status,
            "{what}: status {}, want {status}; body {:?}\n--- log\n{}",
            got.status,
            got.text(),
            server.logs()
        );
    }
    for (name, value) in &request.headers_are {
        let have = got.header(name);
        ensure!(
            have == Some(value),
            "{what}: header `{name}` is {have:?}, want `{value}`"
        );
    }
    for name in &request.headers_absent {
        let have = got.header(name);
        ensure!(
            have.is_none(),
            "{what}: header `{name}` is {have:?}, want none"
        );
    }
    let fixture = match &request.answer_fixture {
        Some(name) => Some(std::fs::read_to_string(
            harness::repo().join("tests/fixtures/data").join(name),
        )?),
        None => None,
    };
    if let Some(want) = request.answer.as_ref().or(fixture.as_ref()) {
        ensure!(
            got.text() == *want,
            "{what}: the answer differs:\n--- got\n{}\n--- want\n{want}",
            got.text()
        );
    }
    ensure!(
        !request.answer_echoes || got.body == body,
        "{what}: the echoed body differs ({} bytes sent, {} back)",
        body.len(),
        got.body.len()
    );
    Ok(())
}

/// The differential check: each request answered alike by the output and
/// by the guest as it was.
fn answers_as_host(case: &Case, virtualized: &HttpServer, direct: &HttpServer) -> Result<()> {
    for request in &case.requests {
        let body = request.body();
        let a = request.send(virtualized.addr, &body)?;
        let b = request.send(direct.addr, &body)?;
        let what = format!("{} {}", request.method, request.target);
        ensure!(
            (a.status, &a.headers, a.text()) == (b.status, &b.headers, b.text()),
            "{what}: the host answers otherwise:\n--- virtualized\n{}\n--- the host's own\n{}",
            summary(&a),
            summary(&b)
        );
    }
    Ok(())
}

/// An answer in words: its status, headers and (the start of) its body.
fn summary(answer: &HttpResponse) -> String {
    let text = answer.text();
    let shown: String = text.chars().take(400).collect();
    format!(
        "{} {:?}\n{shown}{}",
        answer.status,
        answer.headers,
        if shown.len() < text.len() { "..." } else { "" }
    )
}

fn check_log(case: &Case, logs: &str) -> Result<()> {
    for line in &case.log_lines {
        ensure!(
            logs.lines().any(|l| l == line),
            "no `{line}` in the log:\n{logs}"
        );
    }
    for text in &case.log_contains {
        ensure!(
            logs.contains(text.as_str()),
            "no `{text}` in the log:\n{logs}"
        );
    }
    for text in &case.log_lacks {
        ensure!(
            !logs.contains(text.as_str()),
            "`{text}` in the log:\n{logs}"
        );
    }
    Ok(())
}
