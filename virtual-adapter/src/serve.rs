//! `wasi-virt:serve/{handler-bridge,run-bridge}` (`wit/deps/serve.wit`): the adapter's side of a
//! served output. The front posts the host's request to the mailbox; the
//! adapter takes it from there.
//!
//! - A component that serves HTTP gets the adapter's request and outparam,
//!   which wrap the host's (`http.rs`).
//! - A command served per request (`--serve-http`) runs between
//!   `begin-run` and `end-run`: the request's path and search words are
//!   its arguments, its body is stdin, CGI variables join the environment, and
//!   what it writes to stdout is the response, answered when it ends
//!   (returning or calling `exit`) so that a failed run answers 500 whole.

use crate::exports::wasi::http::types::{IncomingRequest, ResponseOutparam};
use crate::exports::wasi::io::streams::{InputStream, OutputStream};
use crate::exports::wasi_virt::serve::{handler_bridge, run_bridge};
use crate::global::Global;
use crate::http::{host_response, write_all, VIncomingRequest, VResponseOutparam};
use crate::io::Sink;
use crate::io::{VInputStream, VOutputStream};
use crate::wasi::http::types as host;
use crate::wasi::io::streams::InputStream as HostInputStream;
use crate::wasi_virt::serve::mailbox;
use crate::Adapter;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;
use core::mem::MaybeUninit;
use wasi_virt_layout::{
    cgi, hooks, same_name, Call, SERVE_ANSWER_FAILED, SERVE_ANSWER_OK, SERVE_ARGS, SERVE_IMPL,
    SERVE_OUTPUT, SERVE_STDIN, SERVE_VARS,
};

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
        // A run's streams may still be held by the command, so a second
        // request cannot replace it: each request needs its own instance.
        if RUN.with(|run| run.is_some()) {
            crate::trap(Call::RunTwice, &[]);
        }
        let request = mailbox::take_request();
        let out = mailbox::take_response_out();
        let run = Run::of(request, out);
        RUN.with(|slot| *slot = Some(run));
    }

    fn end_run(failed: bool) {
        answer_run(failed);
    }
}

/// A command's run for one request.
struct Run {
    /// `argv`: the path, then the query's words if it is a search string
    /// ([`cgi::arguments`]).
    args: Vec<String>,
    /// The CGI variables.
    vars: Vec<(String, String)>,
    /// The request body, stdin; the stream is a child of the body, which
    /// is kept for as long.
    stdin: Option<(Rc<HostInputStream>, host::IncomingBody)>,
    /// Where stdout (and stderr, with `--stderr=stdout`) goes until the
    /// run ends.
    stdout: Rc<RefCell<Sink>>,
    /// The host's outparam, until the answer is set.
    out: Option<host::ResponseOutparam>,
    /// The request itself, parent of its body: dropped after it.
    _request: host::IncomingRequest,
}

/// The run in progress, if the command is served per request.
static RUN: Global<Option<Run>> = Global::new(None);

impl Run {
    fn of(request: host::IncomingRequest, out: host::ResponseOutparam) -> Run {
        let target = request
            .path_with_query()
            .unwrap_or_else(|| String::from("/"));
        let args = cgi::arguments(&target);
        let (path, query) = cgi::split_target(&target);
        let vars = cgi_variables(&request, path, query);
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
    fn stdin(&self) -> Option<Rc<HostInputStream>> {
        self.stdin.as_ref().map(|(s, _)| s.clone())
    }
}

/// The CGI/1.1 variables for `request` (RFC 3875, section 4.1), as WAGI
/// sets them: one `HTTP_*` per header that may have one
/// ([`cgi::header_variable`]).
fn cgi_variables(
    request: &host::IncomingRequest,
    path: &str,
    query: &str,
) -> Vec<(String, String)> {
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
        ("PATH_INFO", cgi::percent_decoded(path)),
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
        let Some(var) = cgi::header_variable(name) else {
            continue;
        };
        let value = String::from_utf8_lossy(value).into_owned();
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

/// Asks the `serve` hook `query` (a `SERVE_*` of the layout): only under
/// `--serve-http` ([`crate::state::serving`]), where the hook is bound.
pub fn ask<T>(query: u32) -> T {
    let mut answer = MaybeUninit::<T>::uninit();
    // SAFETY: the hook (`wasi_virt_serve`, bound under `--serve-http`, as
    // the caller checked) writes a `T` for `query`.
    unsafe {
        hooks::serve(query, answer.as_mut_ptr() as *mut u8);
        answer.assume_init()
    }
}

/// The command's side of the request in progress, behind the `serve` hook:
/// bound only under `--serve-http`, so that no other output carries it.
///
/// # Safety
/// `answer` points at room for the value `query` is answered with:
/// `Vec<String>` (args), the `Vec<(String, String)>` of variables to add
/// to (variables),
/// `InputStream`, `OutputStream`, or nothing (the answers).
#[no_mangle]
pub unsafe extern "C" fn wasi_virt_serve(query: u32, answer: *mut u8) {
    match query {
        SERVE_ANSWER_OK => return answer_run(false),
        SERVE_ANSWER_FAILED => return answer_run(true),
        _ => {}
    }
    RUN.with(|run| {
        let Some(run) = run.as_ref() else {
            // `begin-run` has not begun one: the command runs outside a
            // request.
            crate::trap(Call::RunOutsideRequest, &[]);
        };
        // SAFETY: as our caller promised.
        unsafe { give(run, query, answer) }
    })
}

/// Writes what `run` answers to `query` (not an answer to the request).
///
/// # Safety
/// As for [`wasi_virt_serve`].
unsafe fn give(run: &Run, query: u32, answer: *mut u8) {
    // SAFETY: as the caller promised.
    unsafe {
        match query {
            SERVE_ARGS => write(answer, run.args.clone()),
            SERVE_VARS => {
                // The policy's variables win over the request's.
                let vars = &mut *(answer as *mut Vec<(String, String)>);
                for (name, value) in &run.vars {
                    if !vars.iter().any(|(n, _)| n == name) {
                        vars.push((name.clone(), value.clone()));
                    }
                }
            }
            SERVE_STDIN => write(
                answer,
                InputStream::new(match run.stdin() {
                    Some(body) => VInputStream::Body(body),
                    None => VInputStream::Empty,
                }),
            ),
            SERVE_OUTPUT => write(
                answer,
                OutputStream::new(VOutputStream::Shared(run.stdout.clone())),
            ),
            _ => crate::trap(Call::RunOutsideRequest, &[]),
        }
    }
}

/// # Safety
/// `to` points at room for a `T`.
unsafe fn write<T>(to: *mut u8, value: T) {
    // SAFETY: as the caller promised.
    unsafe { core::ptr::write(to as *mut T, value) }
}

const _: () = assert!(same_name(stringify!(wasi_virt_serve), SERVE_IMPL));

/// The library aliases the `serve` import to [`wasi_virt_serve`]: their
/// types must be the same.
const _: [unsafe extern "C" fn(u32, *mut u8); 2] = [hooks::serve, wasi_virt_serve];

/// Answers the request of the run in progress, once: 500 with no body if
/// the command `failed`, else what it wrote (see [`cgi::parse_cgi`]). Without a
/// run in progress (a command not served per request), does nothing.
fn answer_run(failed: bool) {
    let Some((out, written)) = RUN.with(|run| take_answer(run.as_mut()?)) else {
        return;
    };
    trace!(Call::RunAnswered, if failed { "failed" } else { "ok" });
    let (status, headers, body) = match failed {
        true => (500, plain(), &[][..]),
        false => cgi::parse_cgi(&written),
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

/// The host's outparam and what the command wrote, once: `None` after the
/// request was answered. Closes the command's stdout.
fn take_answer(run: &mut Run) -> Option<(host::ResponseOutparam, Vec<u8>)> {
    let out = run.out.take()?;
    let written = match core::mem::replace(&mut *run.stdout.borrow_mut(), Sink::Closed) {
        Sink::Buffer(bytes) => bytes,
        _ => Vec::new(),
    };
    Some((out, written))
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
