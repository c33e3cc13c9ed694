//! `wasi-virt:serve/{handler-bridge,run-bridge}` (`wit/deps/serve.wit`): the adapter's side of a
//! served output. The front posts the host's request to the mailbox; the
//! adapter takes it from there.
//!
//! - A component that serves HTTP gets the adapter's request and outparam,
//!   which wrap the host's (`http.rs`).
//! - A command served per request (`--serve-http`) runs between
//!   `begin-run` and `end-run`: the request's path and query are its
//!   arguments, its body is stdin, CGI variables join the environment, and
//!   what it writes to stdout is the response, answered when it ends
//!   (returning or calling `exit`) so that a failed run answers 500 whole.

use crate::exports::wasi::http::types::{IncomingRequest, ResponseOutparam};
use crate::exports::wasi_virt::serve::{handler_bridge, run_bridge};
use crate::http::{host_response, write_all, VIncomingRequest, VResponseOutparam};
use crate::io::Sink;
use crate::state::config;
use crate::wasi::http::types as host;
use crate::wasi::io::streams::InputStream as HostInputStream;
use crate::wasi_virt::serve::mailbox;
use crate::Adapter;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::{RefCell, UnsafeCell};
use wasi_virt_layout::{Call, FLAG_STDERR_TO_RESPONSE};

impl handler_bridge::Guest for Adapter {
    fn accept_request() -> IncomingRequest {
        trace!(Call::Serve);
        IncomingRequest::new(VIncomingRequest(mailbox::take_request()))
    }

    fn accept_response_out() -> ResponseOutparam {
        ResponseOutparam::new(VResponseOutparam(mailbox::take_response_out()))
    }
}

impl run_bridge::Guest for Adapter {
    fn begin_run() {
        trace!(Call::Serve);
        let request = mailbox::take_request();
        let out = mailbox::take_response_out();
        let run = Run::of(request, out);
        // SAFETY: single-threaded; nothing borrows the run across this.
        unsafe { *RUN.0.get() = Some(run) };
    }

    fn end_run(failed: bool) {
        answer(failed);
    }
}

/// A command's run for one request.
pub struct Run {
    /// `argv`: the path, then each query parameter.
    pub args: Vec<String>,
    /// The CGI variables.
    pub vars: Vec<(String, String)>,
    /// The request body, stdin; the stream is a child of the body, which
    /// is kept for as long.
    stdin: Option<(Rc<HostInputStream>, host::IncomingBody)>,
    /// Where stdout (and stderr, with `--stderr=stdout`) goes until the
    /// run ends.
    pub stdout: Rc<RefCell<Sink>>,
    /// The host's outparam, until the answer is set.
    out: Option<host::ResponseOutparam>,
    /// The request itself, parent of its body: dropped after it.
    _request: host::IncomingRequest,
}

struct Current(UnsafeCell<Option<Run>>);

// SAFETY: the adapter is single-threaded wasm; there is no concurrent access.
unsafe impl Sync for Current {}

static RUN: Current = Current(UnsafeCell::new(None));

/// The run in progress, if the command is served per request.
pub fn run() -> Option<&'static Run> {
    // SAFETY: single-threaded; the run is replaced only by `begin-run`,
    // before the command runs.
    unsafe { (*RUN.0.get()).as_ref() }
}

/// Whether stderr goes into the response too.
pub fn stderr_to_response() -> bool {
    config().flags & FLAG_STDERR_TO_RESPONSE != 0
}

impl Run {
    fn of(request: host::IncomingRequest, out: host::ResponseOutparam) -> Run {
        let target = request.path_with_query().unwrap_or_else(|| String::from("/"));
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (target.as_str(), None),
        };
        let mut args = Vec::from([percent_decoded(path)]);
        args.extend(
            query
                .into_iter()
                .flat_map(|q| q.split('&'))
                .filter(|p| !p.is_empty())
                .map(percent_decoded),
        );
        let vars = cgi_variables(&request, path, query.unwrap_or(""));
        let stdin = request.consume().ok().and_then(|body| {
            let stream = body.stream().ok()?;
            Some((Rc::new(stream), body))
        });
        Run {
            args,
            vars,
            stdin,
            stdout: Rc::default(),
            out: Some(out),
            _request: request,
        }
    }

    /// The request body, for stdin.
    pub fn stdin(&self) -> Option<Rc<HostInputStream>> {
        self.stdin.as_ref().map(|(s, _)| s.clone())
    }
}

/// The CGI/1.1 variables for `request` (RFC 3875, section 4.1), as WAGI
/// sets them: one `HTTP_*` per header, named in capitals with `-` as `_`.
fn cgi_variables(request: &host::IncomingRequest, path: &str, query: &str) -> Vec<(String, String)> {
    let headers = request.headers().entries();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default()
    };
    let authority = request.authority().unwrap_or_default();
    let (server, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host.to_string(), port.to_string()),
        _ => (authority.clone(), String::new()),
    };
    let https = matches!(request.scheme(), Some(host::Scheme::Https));
    let port = match (port.is_empty(), https) {
        (false, _) => port,
        (true, true) => String::from("443"),
        (true, false) => String::from("80"),
    };
    let full = match query.is_empty() {
        true => path.to_string(),
        false => format!("{path}?{query}"),
    };
    let mut vars: Vec<(String, String)> = [
        ("GATEWAY_INTERFACE", String::from("CGI/1.1")),
        ("SERVER_SOFTWARE", String::from("wasi-virt")),
        ("SERVER_PROTOCOL", String::from("HTTP/1.1")),
        ("SERVER_NAME", server),
        ("SERVER_PORT", port),
        ("REQUEST_METHOD", method_name(&request.method())),
        ("REQUEST_URI", full),
        ("SCRIPT_NAME", String::new()),
        ("PATH_INFO", percent_decoded(path)),
        ("QUERY_STRING", query.to_string()),
        ("CONTENT_TYPE", header("content-type")),
        ("CONTENT_LENGTH", header("content-length")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if https {
        vars.push((String::from("HTTPS"), String::from("on")));
    }
    for (name, value) in &headers {
        let name: String = name
            .chars()
            .map(|c| match c {
                '-' => '_',
                c => c.to_ascii_uppercase(),
            })
            .collect();
        let value = String::from_utf8_lossy(value).into_owned();
        let var = format!("HTTP_{name}");
        // A header given twice is one variable, its values joined as
        // HTTP joins them.
        match vars.iter_mut().find(|(k, _)| *k == var) {
            Some((_, v)) => {
                v.push_str(", ");
                v.push_str(&value);
            }
            None => vars.push((var, value)),
        }
    }
    vars
}

fn method_name(method: &host::Method) -> String {
    use host::Method as M;
    String::from(match method {
        M::Get => "GET",
        M::Head => "HEAD",
        M::Post => "POST",
        M::Put => "PUT",
        M::Delete => "DELETE",
        M::Connect => "CONNECT",
        M::Options => "OPTIONS",
        M::Trace => "TRACE",
        M::Patch => "PATCH",
        M::Other(other) => other,
    })
}

/// `text` with each `%XX` decoded (a `%` not followed by two hex digits is
/// kept); bytes that are not UTF-8 become U+FFFD.
pub fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, ..) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Answers the request of the run in progress, once: 500 with no body if
/// the command `failed`, else what it wrote (see [`parse_cgi`]). Without a
/// run in progress (a command not served per request), does nothing.
pub fn answer(failed: bool) {
    // SAFETY: single-threaded; no reference into the run is live here.
    let Some(run) = (unsafe { (*RUN.0.get()).as_mut() }) else {
        return;
    };
    let Some(out) = run.out.take() else {
        return;
    };
    trace!(Call::RunAnswered, if failed { "failed" } else { "ok" });
    let written = match core::mem::replace(&mut *run.stdout.borrow_mut(), Sink::Closed) {
        Sink::Buffer(bytes) => bytes,
        _ => Vec::new(),
    };
    let (status, headers, body) = match failed {
        true => (500, plain(), &[][..]),
        false => parse_cgi(&written),
    };
    let response = match host_response(status, headers) {
        Ok(response) => response,
        Err(_) => {
            // The command's headers were refused by the host: that is a
            // failed run too.
            match host_response(500, plain()) {
                Ok(response) => return send(out, response, &[]),
                Err(_) => return,
            }
        }
    };
    send(out, response, body);
}

fn send(out: host::ResponseOutparam, response: host::OutgoingResponse, body: &[u8]) {
    let Ok(host_body) = response.body() else {
        return;
    };
    host::ResponseOutparam::set(out, Ok(response));
    if let Ok(stream) = host_body.write() {
        let written = write_all(&stream, body);
        drop(stream);
        if written.is_ok() {
            let _ = host::OutgoingBody::finish(host_body, None);
        }
    }
}

/// `content-type: text/plain`, the type of an answer without headers.
fn plain() -> Vec<(String, Vec<u8>)> {
    Vec::from([(String::from("content-type"), b"text/plain".to_vec())])
}

/// A command's output as a response: an optional CGI header block
/// (`Status: 404 Not Found`, `Content-Type: ...`, other headers, then an
/// empty line; lines end in LF or CRLF), then the body. Output that does
/// not start with such a block is all body, answered `200` as
/// `text/plain`. A `Location` without `Status` is a redirect (`302`).
pub fn parse_cgi(output: &[u8]) -> (u16, Vec<(String, Vec<u8>)>, &[u8]) {
    let mut status = None;
    let mut headers = Vec::new();
    let mut rest = output;
    loop {
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            // No empty line ends the block: it was no header block.
            return (200, plain(), output);
        };
        let line = &rest[..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        rest = &rest[end + 1..];
        if line.is_empty() {
            if headers.is_empty() && status.is_none() {
                return (200, plain(), output);
            }
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return (200, plain(), output);
        };
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        let token = !name.is_empty()
            && name
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b));
        if !token {
            return (200, plain(), output);
        }
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        if name == "status" {
            let code = value
                .split(|&b| b == b' ')
                .next()
                .and_then(|c| core::str::from_utf8(c).ok()?.parse::<u16>().ok());
            match code {
                Some(code) if (100..=599).contains(&code) => status = Some(code),
                _ => return (500, plain(), &[]),
            }
        } else {
            headers.push((name, value.to_vec()));
        }
    }
    if !headers.iter().any(|(n, _)| n == "content-type") {
        headers.push((String::from("content-type"), b"text/plain".to_vec()));
    }
    let redirect = headers.iter().any(|(n, _)| n == "location");
    let status = status.unwrap_or(if redirect { 302 } else { 200 });
    (status, headers, rest)
}

fn trim(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}
