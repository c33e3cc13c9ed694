//! WASI 0.3's HTTP client under outbound rules (`wit/p3/deps/p3-http.wit`): the
//! component's requests and responses are the host's own (the component
//! imports `wasi:http/types@0.3.0` from the host), and `send` is the
//! adapter's. It checks the request the host holds, by the same rules and
//! code as WASI 0.2's `outgoing-handler.handle` (`http::decide`), sets the
//! path the rules checked (in its normal form), and passes the request to
//! the host's own `send`; a request the rules do not grant is dropped
//! unsent and answered with `HTTP-request-denied`. Bodies, trailers and
//! responses never pass through the adapter.

mod bindings {
    wit_bindgen::generate!({
        path: "../wit/p3",
        world: "wasi-virt:p3-http/guard",
        generate_all,
        // Lifted and lowered synchronously: `send` blocks until the host's
        // answers, which a synchronous lift of an `async` function may.
        sync: true,
    });

    use crate::Adapter;
    export!(Adapter with_types_in self);
}

use crate::http::decide;
use crate::state::config;
use crate::Adapter;
use bindings::exports::wasi_virt::p3_http::client::Guest;
use bindings::wasi::http::client as host;
use bindings::wasi::http::types::{ErrorCode, Method, Request, Response, Scheme};
use wasi_virt_layout::{allow, Call};

method_name!(Method);

/// Whether the rules grant `request`, as the host holds it; the request
/// then carries the path they checked.
fn granted(request: &Request) -> Result<(), &'static str> {
    if !config().allows(allow::HTTP) {
        return Err("HTTP is denied");
    }
    if !config().net_http() {
        return Ok(());
    }
    // The rules check the authority the request goes to; a `host` header of
    // its own would name another (a host usually forbids it, as wasmtime
    // does, and the adapter's WASI 0.2 fields do).
    if request.get_headers().has("host") {
        return Err("the request names its host in a header");
    }
    // A request without a scheme is checked as HTTPS, and sent as such:
    // what the host sends is what the rules checked, whatever its default.
    if request.get_scheme().is_none() {
        (request.set_scheme(Some(&Scheme::Https))).map_err(|()| "the host refuses https")?;
    }
    let https = match request.get_scheme() {
        None | Some(Scheme::Https) => Ok(true),
        Some(Scheme::Http) => Ok(false),
        Some(Scheme::Other(_)) => Err(()),
    };
    let authority = request.get_authority();
    let target = request.get_path_with_query();
    let method = request.get_method();
    let normal = decide(
        https,
        authority.as_deref(),
        method_name(&method),
        target.as_deref(),
    )?;
    request
        .set_path_with_query(Some(&normal))
        .map_err(|()| "the host refuses the path in its normal form")
}

impl Guest for Adapter {
    fn send(request: Request) -> Result<Response, ErrorCode> {
        let authority = request.get_authority().unwrap_or_default();
        let path = request.get_path_with_query();
        trace!(
            Call::ClientSend,
            authority.as_str(),
            path.as_deref().unwrap_or("/")
        );
        if let Err(reason) = granted(&request) {
            trace!(denied: Call::ClientSend, reason);
            return Err(ErrorCode::HttpRequestDenied);
        }
        host::send(request)
    }
}
