//! Served outputs, driven over loopback with real HTTP requests by the
//! harness's `wasmtime serve` stand-in (wasmtime-wasi-http's host, a fresh
//! instance per request; `tests/harness/mod.rs`, `HttpServer`):
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

#[path = "harness/mod.rs"]
mod harness;

use harness::{http_request, Host, HttpResponse, HttpServer};
use std::net::SocketAddr;
use wasi_virt::{Policy, WasiVirt};

/// `component` from `tests/components`, at WASI `version` if given,
/// virtualized with the TOML `policy`.
fn virtualize(component: &str, version: Option<&str>, policy: &str) -> (Vec<u8>, Vec<u8>) {
    let mut guest = harness::guest(component);
    if let Some(v) = version {
        guest = harness::with_wasi_version(&guest, v).unwrap();
    }
    let policy = Policy::from_toml(policy).unwrap();
    let mut virt = WasiVirt::from_policy(policy);
    virt.compose(guest.clone());
    let out = virt.finish().unwrap_or_else(|e| panic!("{e:#}"));
    (guest, out.bytes)
}

fn get(addr: SocketAddr, target: &str) -> HttpResponse {
    http_request(addr, "GET", target, &[], b"").unwrap()
}

/// A body of `len` bytes that is not all one byte.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(harness::repo().join("tests/fixtures/data").join(name)).unwrap()
}

/// Checks that a served output exports `wasi:http/incoming-handler` and
/// nothing else, and serves it in a host that grants nothing.
fn serve_only_http(bytes: &[u8]) -> HttpServer {
    let exported = wasi_virt::component_exports(bytes).unwrap();
    assert_eq!(exported.len(), 1, "{exported:?}");
    assert!(
        exported[0].starts_with("wasi:http/incoming-handler@0.2."),
        "{exported:?}"
    );
    HttpServer::start(bytes, &Host::default()).unwrap()
}

fn assert_imports(bytes: &[u8], want: &[&str]) {
    let got = harness::unversioned_imports(bytes).unwrap();
    let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(got, want, "imports");
}

/// The policy of the served component: everything denied but its stdout
/// (its log), `/data` embedded, `UPSTREAM` set, and HTTP to `upstream` only.
fn server_policy(upstream: SocketAddr) -> String {
    format!(
        r#"
clocks = "deny"
random = "deny"
exit = "deny"
sockets = "deny"
http = "deny"

[network]
outbound = ["http://127.0.0.1:{port}"]

[env]
host = "none"
overrides = {{ UPSTREAM = "{upstream}" }}

[stdio]
stdin = "deny"
stdout = "allow"
stderr = "deny"

[fs]
host-preopens = false
preopens."/data" = {{ virtualize = "tests/fixtures/data" }}
"#,
        port = upstream.port()
    )
}

#[test]
fn a_served_component_is_virtualized() {
    for version in [None, Some("0.2.0"), Some("0.2.12")] {
        let upstream = harness::http_echo_server().unwrap();
        let (_, bytes) = virtualize("http-server", version, &server_policy(upstream));
        // No monotonic clock: the host's request options name its
        // `duration`, a `u64`, which `wasi:http/types` carries as its own
        // (`wit::own_plain_types`).
        assert_imports(
            &bytes,
            &[
                "wasi:cli/stdout",
                "wasi:cli/terminal-output",
                "wasi:cli/terminal-stdout",
                "wasi:http/outgoing-handler",
                "wasi:http/types",
                "wasi:io/error",
                "wasi:io/poll",
                "wasi:io/streams",
            ],
        );
        let server = serve_only_http(&bytes);
        let addr = server.addr;

        let file = get(addr, "/file?/data/greeting.txt");
        assert_eq!(file.status, 200, "{}", server.logs());
        assert_eq!(file.text(), fixture("greeting.txt"));
        assert_eq!(file.header("content-type"), Some("text/plain"));
        assert_eq!(file.header("x-served-by"), Some("http-server"));

        // Only what was embedded exists.
        let missing = get(addr, "/file?/etc/hostname");
        assert_eq!(missing.status, 404);

        let body = pattern(3 << 20);
        let echo = http_request(addr, "POST", "/echo", &[("x-test", "forty two")], &body).unwrap();
        assert_eq!(echo.status, 200);
        assert_eq!(echo.header("x-method"), Some("POST"));
        assert_eq!(echo.header("x-path"), Some("/echo"));
        assert_eq!(echo.header("x-test"), Some("forty two"));
        assert!(
            echo.body == body,
            "the echoed body differs ({} bytes back)",
            echo.body.len()
        );

        let fetched = get(addr, "/fetch");
        assert_eq!(fetched.status, 200, "{}", server.logs());
        assert_eq!(fetched.text(), "upstream 200\nGET /upstream  (x-client: )");

        assert_eq!(get(addr, "/env?UPSTREAM").text(), format!("{upstream}\n"));
        assert_eq!(get(addr, "/env?HOME").text(), "(unset)\n");
        assert_eq!(get(addr, "/nowhere").status, 404);

        let logs = server.logs();
        for line in [
            "served GET /file?/data/greeting.txt",
            "served POST /echo",
            "served GET /fetch",
        ] {
            assert!(
                logs.lines().any(|l| l == line),
                "no `{line}` in the log:\n{logs}"
            );
        }
        assert!(!logs.contains("trapped"), "{logs}");
    }
}

/// A request: method, target, headers, body.
type Request<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a [u8]);

#[test]
fn a_served_component_answers_as_the_host_answers_it_unvirtualized() {
    // The same requests to the component as it was, given by the host what
    // the policy gives it; both must answer alike.
    let upstream = harness::http_echo_server().unwrap();
    let (guest, bytes) = virtualize("http-server", None, &server_policy(upstream));
    let virtualized = HttpServer::start(&bytes, &Host::default()).unwrap();
    let mut host = Host::default();
    host.preopens
        .insert("/data".into(), "tests/fixtures/data".into());
    host.env.insert("UPSTREAM".into(), upstream.to_string());
    let direct = HttpServer::start(&guest, &host).unwrap();
    let body = pattern(1 << 20);
    let requests: [Request<'_>; 6] = [
        ("GET", "/file?/data/greeting.txt", &[], b""),
        ("GET", "/file?/data/sub", &[], b""),
        ("GET", "/file?/data/absent.txt", &[], b""),
        ("PUT", "/echo", &[("x-test", "1")], &body),
        ("GET", "/env?UPSTREAM", &[], b""),
        ("DELETE", "/nowhere", &[], b""),
    ];
    for (method, target, headers, body) in requests {
        let a = http_request(virtualized.addr, method, target, headers, body).unwrap();
        let b = http_request(direct.addr, method, target, headers, body).unwrap();
        assert_eq!(a.status, b.status, "{method} {target}");
        assert_eq!(a.headers, b.headers, "{method} {target}");
        assert_eq!(a.text(), b.text(), "{method} {target}");
    }
}

#[test]
fn denied_outgoing_http_is_the_components_error_to_answer() {
    let upstream = harness::http_echo_server().unwrap();
    let policy = server_policy(upstream).replace("outbound = [", "outbound = [] # ");
    let (_, bytes) = virtualize("http-server", None, &policy);
    let imports = harness::unversioned_imports(&bytes).unwrap();
    assert!(
        !imports.contains(&"wasi:http/outgoing-handler".to_string()),
        "{imports:?}"
    );
    let server = HttpServer::start(&bytes, &Host::default()).unwrap();
    let fetched = get(server.addr, "/fetch");
    assert_eq!(fetched.status, 502);
    assert_eq!(fetched.text(), "ErrorCode::HttpRequestDenied\n");
}

/// A served component's outgoing requests meet HTTP rules' paths and
/// methods as a command's do (the same `handle` in the adapter): its GET
/// of `/upstream` passes a rule for that path and GET, and is denied by a
/// rule for another path or another method.
#[test]
fn served_outgoing_http_meets_rule_paths_and_methods() {
    for (rule, status) in [
        ("/upstream#GET", 200),
        ("/other/", 502),
        ("/upstream#POST", 502),
    ] {
        let upstream = harness::http_echo_server().unwrap();
        let port = upstream.port();
        let policy = server_policy(upstream).replace(
            &format!("\"http://127.0.0.1:{port}\""),
            &format!("\"http://127.0.0.1:{port}{rule}\""),
        );
        assert!(policy.contains(rule), "{policy}");
        let (_, bytes) = virtualize("http-server", None, &policy);
        let server = HttpServer::start(&bytes, &Host::default()).unwrap();
        let fetched = get(server.addr, "/fetch");
        assert_eq!(fetched.status, status, "{rule}: {}", server.logs());
        if status == 502 {
            assert_eq!(fetched.text(), "ErrorCode::HttpRequestDenied\n", "{rule}");
        }
    }
}

/// The policy of the command served per request: deny-all, `/data`
/// embedded, `GREETING` set.
const COMMAND_POLICY: &str = r#"
clocks = "deny"
random = "deny"
exit = "deny"
sockets = "deny"
http = "deny"

[serve-http]

[env]
host = "none"
overrides = { GREETING = "hello" }

[stdio]
stdin = "deny"
stdout = "deny"
stderr = "deny"

[fs]
host-preopens = false
preopens."/data" = { virtualize = "tests/fixtures/data" }
"#;

/// The checksum `cgi-app sum` prints.
fn checksum(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0u64, |s, &b| s.wrapping_mul(31).wrapping_add(b as u64))
}

#[test]
fn serve_http_runs_the_command_once_per_request() {
    let (_, bytes) = virtualize("cgi-app", None, COMMAND_POLICY);
    // Deny-all: what is left is the host's request and response.
    assert_imports(
        &bytes,
        &[
            "wasi:http/types",
            "wasi:io/error",
            "wasi:io/poll",
            "wasi:io/streams",
        ],
    );
    let server = serve_only_http(&bytes);
    let addr = server.addr;

    let cat = get(addr, "/probe?cat+/data/greeting.txt");
    assert_eq!(cat.status, 200, "{}", server.logs());
    assert_eq!(cat.header("content-type"), Some("text/plain"));
    assert_eq!(cat.text(), fixture("greeting.txt"));

    // RFC 3875: a query without `=` is a search string, its `+`-separated
    // words, decoded, the arguments.
    let args = get(addr, "/bin/app?args+hello%20world+a%2Bb+x&y+a%3Db");
    assert_eq!(args.text(), "/bin/app\nargs\nhello world\na+b\nx&y\na=b\n");

    // A header named with `_` has no variable: it would pass for the one
    // named with `-`.
    let env = http_request(
        addr,
        "POST",
        "/cgi?env",
        &[
            ("x-test", "seven"),
            ("content-type", "text/csv"),
            ("proxy", "http://evil.example"),
            ("X_Remote_User", "admin"),
            ("X-Remote-User", "alice"),
        ],
        b"a,b",
    )
    .unwrap();
    assert_eq!(
        env.text(),
        "REQUEST_METHOD=POST\nPATH_INFO=/cgi\nQUERY_STRING=env\nCONTENT_TYPE=text/csv\n\
         CONTENT_LENGTH=3\nSERVER_PROTOCOL=HTTP/1.1\nHTTP_X_TEST=seven\n\
         HTTP_X_REMOTE_USER=alice\nHTTP_PROXY=\nGREETING=hello\n"
    );

    // The body streams through as stdin.
    let body = pattern(4 << 20);
    let sum = http_request(addr, "POST", "/?sum", &[], &body).unwrap();
    assert_eq!(
        sum.text(),
        format!("{} bytes, sum {}\n", body.len(), checksum(&body))
    );

    let made = get(addr, "/?headers");
    assert_eq!(made.status, 201);
    assert_eq!(made.header("content-type"), Some("application/json"));
    assert_eq!(made.header("x-cgi"), Some("yes"));
    assert_eq!(made.text(), "{\"made\": true}\n");

    // An interim status is no answer: a failed run.
    let interim = get(addr, "/?interim");
    assert_eq!(interim.status, 500);
    assert_eq!(interim.header("x-harness"), None, "the host answered");
    assert!(interim.body.is_empty(), "{:?}", interim.text());

    // A run that fails after half a header block: the adapter answers
    // 500, with nothing of what was written.
    let failed = get(addr, "/?fail");
    assert_eq!(failed.status, 500);
    assert_eq!(
        failed.header("x-harness"),
        None,
        "the host answered, not the adapter"
    );
    assert_eq!(failed.header("content-type"), Some("text/plain"));
    assert!(failed.body.is_empty(), "{:?}", failed.text());
    // A trap: nothing runs after it, so the host answers 500, as
    // `wasmtime serve` does.
    let trapped = get(addr, "/?trap");
    assert_eq!(trapped.status, 500);
    assert_eq!(trapped.header("x-harness"), Some("no-response"));
    assert!(trapped.body.is_empty(), "{:?}", trapped.text());

    // Each request is a fresh run: the same request, the same answer.
    for _ in 0..2 {
        let again = get(addr, "/probe?cat+/data/greeting.txt");
        assert_eq!((again.status, again.text()), (200, fixture("greeting.txt")));
    }
}

/// Any query but a search string, and a search string with a word that
/// would be a flag, give the command no argument but its path; the query
/// stays in `QUERY_STRING`.
#[test]
fn serve_http_gives_arguments_only_for_a_search_string() {
    let (_, bytes) = virtualize("cgi-app", None, COMMAND_POLICY);
    let server = serve_only_http(&bytes);
    for query in ["args&x=1", "x=1", "args+-c+code", "args+%2Dc", "args++x"] {
        let answer = get(server.addr, &format!("/bin/app?{query}"));
        assert_eq!(
            (answer.status, answer.text()),
            (200, format!("no arguments; QUERY_STRING={query}\n")),
            "{query}"
        );
    }
    assert_eq!(
        get(server.addr, "/bin/app?args+a-b").text(),
        "/bin/app\nargs\na-b\n"
    );
}

#[test]
fn serve_http_stderr_goes_where_it_is_told() {
    let into_response = COMMAND_POLICY.replace("[serve-http]", "[serve-http]\nstderr = \"stdout\"");
    let (_, bytes) = virtualize("cgi-app", None, &into_response);
    let imports = harness::unversioned_imports(&bytes).unwrap();
    assert!(
        !imports.iter().any(|i| i.starts_with("wasi:cli/")),
        "{imports:?}"
    );
    let server = HttpServer::start(&bytes, &Host::default()).unwrap();
    assert_eq!(get(server.addr, "/?mixed").text(), "out 1\nerr 2\nout 3\n");

    let to_host = COMMAND_POLICY.replace("stderr = \"deny\"", "stderr = \"allow\"");
    let (_, bytes) = virtualize("cgi-app", None, &to_host);
    let server = HttpServer::start(&bytes, &Host::default()).unwrap();
    assert_eq!(get(server.addr, "/?mixed").text(), "out 1\nout 3\n");
    assert!(server.logs().contains("err 2\n"), "{}", server.logs());
}
