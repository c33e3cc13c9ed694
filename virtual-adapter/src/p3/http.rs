//! WASI 0.3's `wasi:http/types` and `client` when the policy denies HTTP:
//! the adapter's own fields, requests, options and responses, so that a
//! component builds what it likes, and a `send` that fails with
//! `HTTP-request-denied`, as WASI 0.2's `outgoing-handler.handle` does
//! under the same policy. No `wasi:http` import is left.
//!
//! The checks on fields and on a request's parts are the host's
//! (wasmtime-wasi-http's 0.3 types; `tests/runtime/p3-http-types` compares
//! them with it). Bodies and trailers are never read: a body stream and a
//! trailers future given to `new` are handed back by `consume-body` as
//! they are, or dropped with their request, so the adapter never fills a
//! stream (which a synchronous function could not do, component-model
//! issue 677). No request is ever sent, so the future that `new` returns
//! answers `HTTP-request-denied` at once (written as `new` returns; see
//! `p3/stdio.rs` for why its writer is kept).

use super::bindings::exports::wasi::http::client;
use super::bindings::exports::wasi::http::types::{
    Duration, ErrorCode, FieldName, FieldValue, Fields, GuestFields, GuestRequest,
    GuestRequestOptions, GuestResponse, HeaderError, Headers, Method, Request, RequestOptions,
    RequestOptionsError, Response, Scheme, StatusCode, Trailers,
};
use super::bindings::wit_future::FuturePayload;
use super::bindings::wit_stream::StreamPayload;
use crate::http::{is_content_length, is_forbidden, set_status, valid_name, valid_value};
use crate::Adapter;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use wasi_virt_layout::Call;
use wit_bindgen::{FutureReader, StreamReader};

/// What `future.write` returns while its reader has not read yet.
const BLOCKED: u32 = u32::MAX;

/// The component model's built-ins for the body of one of the exported
/// `new` and `consume-body` functions (wit-bindgen's own name the first
/// function of the world with the same payload type, which may be cut off;
/// these exist exactly where the function is exported).
struct Builtins {
    /// `new`: the returned `future<result<_, error-code>>`.
    future_new: unsafe extern "C" fn() -> u64,
    future_write: unsafe extern "C" fn(u32, *const u8) -> u32,
    future_drop_writable: unsafe extern "C" fn(u32),
    /// `new`: the body stream and the trailers future given.
    stream_drop_readable: unsafe extern "C" fn(u32),
    trailers_drop_readable: unsafe extern "C" fn(u32),
    /// `consume-body`: the future given, an empty body's stream.
    result_drop_readable: unsafe extern "C" fn(u32),
    stream_new: unsafe extern "C" fn() -> u64,
    stream_drop_writable: unsafe extern "C" fn(u32),
}

/// Declares the built-ins of `[static]RESOURCE.new` and
/// `[static]RESOURCE.consume-body`: in `new`, the body stream is the first
/// stream or future, the trailers the second and the returned future the
/// third; in `consume-body`, the given future is the first and the body
/// stream the second.
macro_rules! builtins {
    ($name:ident, $new:literal, $consume:literal) => {
        mod $name {
            #[link(wasm_import_module = "[export]wasi:http/types@0.3.0")]
            unsafe extern "C" {
                #[link_name = concat!("[future-new-2]", $new)]
                fn future_new() -> u64;
                #[link_name = concat!("[async-lower][future-write-2]", $new)]
                fn future_write(future: u32, value: *const u8) -> u32;
                #[link_name = concat!("[future-drop-writable-2]", $new)]
                fn future_drop_writable(future: u32);
                #[link_name = concat!("[stream-drop-readable-0]", $new)]
                fn stream_drop_readable(stream: u32);
                #[link_name = concat!("[future-drop-readable-1]", $new)]
                fn trailers_drop_readable(future: u32);
                #[link_name = concat!("[future-drop-readable-0]", $consume)]
                fn result_drop_readable(future: u32);
                #[link_name = concat!("[stream-new-1]", $consume)]
                fn stream_new() -> u64;
                #[link_name = concat!("[stream-drop-writable-1]", $consume)]
                fn stream_drop_writable(stream: u32);
            }

            pub const BUILTINS: super::Builtins = super::Builtins {
                future_new,
                future_write,
                future_drop_writable,
                stream_drop_readable,
                trailers_drop_readable,
                result_drop_readable,
                stream_new,
                stream_drop_writable,
            };
        }
    };
}

builtins!(
    request_builtins,
    "[static]request.new",
    "[static]request.consume-body"
);
builtins!(
    response_builtins,
    "[static]response.new",
    "[static]response.consume-body"
);

/// A future of `builtins` whose reader gets `HTTP-request-denied`.
fn denied_future(builtins: &Builtins) -> FutureReader<Result<(), ErrorCode>> {
    let vtable = <Result<(), ErrorCode> as FuturePayload>::VTABLE;
    // The value stays where the pending write reads it from: leaked, one
    // small buffer per request, as the writer handle is.
    let value = alloc::vec![0u64; vtable.layout.size().div_ceil(8)].leak();
    // SAFETY: `value` is aligned to 8 (the payload's alignment at most) and
    // as large as its layout, and outlives the write; the handles are the
    // new future's own, and the reader is only handed out.
    unsafe {
        (vtable.lower)(Err(ErrorCode::HttpRequestDenied), value.as_mut_ptr().cast());
        let handles = (builtins.future_new)();
        let (reader, writer) = (handles as u32, (handles >> 32) as u32);
        // The write is pending until the caller reads, so the writer stays.
        if (builtins.future_write)(writer, value.as_ptr().cast()) != BLOCKED {
            (builtins.future_drop_writable)(writer);
        }
        FutureReader::new(reader, vtable)
    }
}

/// A body as `new` was given it, until `consume-body` hands it back.
struct Body {
    builtins: &'static Builtins,
    /// The readable ends of the body stream (if any) and of the trailers
    /// future, as raw handles: only the adapter's own built-ins touch them.
    contents: Option<u32>,
    trailers: Option<u32>,
}

impl Body {
    fn new(
        builtins: &'static Builtins,
        contents: Option<StreamReader<u8>>,
        trailers: FutureReader<Result<Option<Trailers>, ErrorCode>>,
    ) -> Self {
        Body {
            builtins,
            contents: contents.map(|c| c.take_handle()),
            trailers: Some(trailers.take_handle()),
        }
    }

    /// The body stream (an ended one if `new` was given none) and the
    /// trailers future; `res`, the consumer's result, is dropped unread.
    fn consume(
        mut self,
        res: FutureReader<Result<(), ErrorCode>>,
    ) -> (
        StreamReader<u8>,
        FutureReader<Result<Option<Trailers>, ErrorCode>>,
    ) {
        let b = self.builtins;
        // SAFETY: every handle is the adapter's own and has no operation
        // pending; each is handed out or dropped once (taken from `self`).
        unsafe {
            (b.result_drop_readable)(res.take_handle());
            let contents = self.contents.take().unwrap_or_else(|| {
                let handles = (b.stream_new)();
                (b.stream_drop_writable)((handles >> 32) as u32);
                handles as u32
            });
            let trailers = self.trailers.take().expect("a body is consumed once");
            (
                StreamReader::new(contents, <u8 as StreamPayload>::VTABLE),
                FutureReader::new(
                    trailers,
                    <Result<Option<Trailers>, ErrorCode> as FuturePayload>::VTABLE,
                ),
            )
        }
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        // SAFETY: the handles left are the adapter's own readable ends.
        unsafe {
            if let Some(c) = self.contents.take() {
                (self.builtins.stream_drop_readable)(c);
            }
            if let Some(t) = self.trailers.take() {
                (self.builtins.trailers_drop_readable)(t);
            }
        }
    }
}

/// `fields`: names as the host keeps them (lower case), each with its
/// values, in the host's order: names as first added, a removed name's
/// place taken by the last one.
pub struct P3Fields {
    entries: RefCell<Vec<(String, Vec<FieldValue>)>>,
    immutable: bool,
}

impl P3Fields {
    fn with(entries: Vec<(String, Vec<FieldValue>)>, immutable: bool) -> Self {
        P3Fields {
            entries: RefCell::new(entries),
            immutable,
        }
    }

    /// The host's checks of a change to `name`, in its order: the name,
    /// a forbidden name, then whether these fields may change.
    fn check(&self, name: &str) -> Result<String, HeaderError> {
        valid_name(name).map_err(|_| HeaderError::InvalidSyntax)?;
        if is_forbidden(name) {
            return Err(HeaderError::Forbidden);
        }
        if self.immutable {
            return Err(HeaderError::Immutable);
        }
        Ok(name.to_ascii_lowercase())
    }

    fn values(&self, name: &str) -> Option<Vec<FieldValue>> {
        let entries = self.entries.borrow();
        let found = entries.iter().find(|(n, _)| n.eq_ignore_ascii_case(name));
        found.map(|(_, v)| v.clone())
    }

    fn remove(&self, name: &str) -> Vec<FieldValue> {
        let mut entries = self.entries.borrow_mut();
        match entries.iter().position(|(n, _)| n == name) {
            Some(i) => entries.swap_remove(i).1,
            None => Vec::new(),
        }
    }

    fn snapshot(&self) -> Vec<(String, Vec<FieldValue>)> {
        self.entries.borrow().clone()
    }
}

/// A value as the host stores it: checked, and a `content-length` as the
/// number it reads (so `007` is kept as `7`).
fn checked_value(name: &str, value: FieldValue) -> Result<FieldValue, HeaderError> {
    valid_value(name, &value).map_err(|_| HeaderError::InvalidSyntax)?;
    if !is_content_length(name) {
        return Ok(value);
    }
    let number = core::str::from_utf8(&value)
        .ok()
        .and_then(|s| s.parse::<u64>().ok());
    number
        .map(|n| n.to_string().into_bytes())
        .ok_or(HeaderError::InvalidSyntax)
}

impl GuestFields for P3Fields {
    fn new() -> Self {
        P3Fields::with(Vec::new(), false)
    }

    fn from_list(entries: Vec<(FieldName, FieldValue)>) -> Result<Fields, HeaderError> {
        let fields = P3Fields::new();
        for (name, value) in entries {
            fields.append(name, value)?;
        }
        Ok(Fields::new(fields))
    }

    fn get(&self, name: FieldName) -> Vec<FieldValue> {
        self.values(&name).unwrap_or_default()
    }

    fn has(&self, name: FieldName) -> bool {
        self.values(&name).is_some()
    }

    fn set(&self, name: FieldName, value: Vec<FieldValue>) -> Result<(), HeaderError> {
        let name = self.check(&name)?;
        if is_content_length(&name) && value.len() > 1 {
            return Err(HeaderError::InvalidSyntax);
        }
        let value = value
            .into_iter()
            .map(|v| checked_value(&name, v))
            .collect::<Result<Vec<_>, _>>()?;
        let mut entries = self.entries.borrow_mut();
        match entries.iter().position(|(n, _)| *n == name) {
            Some(i) if value.is_empty() => drop(entries.swap_remove(i)),
            Some(i) => entries[i].1 = value,
            None if value.is_empty() => {}
            None => entries.push((name, value)),
        }
        Ok(())
    }

    fn delete(&self, name: FieldName) -> Result<(), HeaderError> {
        self.get_and_delete(name).map(drop)
    }

    fn get_and_delete(&self, name: FieldName) -> Result<Vec<FieldValue>, HeaderError> {
        let name = self.check(&name)?;
        Ok(self.remove(&name))
    }

    fn append(&self, name: FieldName, value: FieldValue) -> Result<(), HeaderError> {
        valid_name(&name).map_err(|_| HeaderError::InvalidSyntax)?;
        if is_forbidden(&name) {
            return Err(HeaderError::Forbidden);
        }
        let name = name.to_ascii_lowercase();
        let value = checked_value(&name, value)?;
        if is_content_length(&name) && self.values(&name).is_some() {
            return Err(HeaderError::InvalidSyntax);
        }
        if self.immutable {
            return Err(HeaderError::Immutable);
        }
        let mut entries = self.entries.borrow_mut();
        match entries.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => entries.push((name, alloc::vec![value])),
        }
        Ok(())
    }

    fn copy_all(&self) -> Vec<(FieldName, FieldValue)> {
        let entries = self.entries.borrow();
        let each = entries
            .iter()
            .flat_map(|(n, vs)| vs.iter().map(|v| (n.clone(), v.clone())));
        each.collect()
    }

    fn clone(&self) -> Fields {
        Fields::new(P3Fields::with(self.snapshot(), false))
    }
}

/// Fields taken by a request or response: immutable from then on.
fn taken(headers: Headers) -> Vec<(String, Vec<FieldValue>)> {
    headers.into_inner::<P3Fields>().snapshot()
}

/// The timeouts of `request-options`.
#[derive(Clone, Copy, Default)]
struct Timeouts {
    connect: Option<Duration>,
    first_byte: Option<Duration>,
    between_bytes: Option<Duration>,
}

/// `request-options`: immutable where a request hands it out.
pub struct P3Options {
    timeouts: Cell<Timeouts>,
    immutable: bool,
}

impl P3Options {
    fn set(&self, change: impl FnOnce(&mut Timeouts)) -> Result<(), RequestOptionsError> {
        if self.immutable {
            return Err(RequestOptionsError::Immutable);
        }
        let mut timeouts = self.timeouts.get();
        change(&mut timeouts);
        self.timeouts.set(timeouts);
        Ok(())
    }
}

impl GuestRequestOptions for P3Options {
    fn new() -> Self {
        P3Options {
            timeouts: Cell::new(Timeouts::default()),
            immutable: false,
        }
    }

    fn get_connect_timeout(&self) -> Option<Duration> {
        self.timeouts.get().connect
    }

    fn set_connect_timeout(&self, d: Option<Duration>) -> Result<(), RequestOptionsError> {
        self.set(|t| t.connect = d)
    }

    fn get_first_byte_timeout(&self) -> Option<Duration> {
        self.timeouts.get().first_byte
    }

    fn set_first_byte_timeout(&self, d: Option<Duration>) -> Result<(), RequestOptionsError> {
        self.set(|t| t.first_byte = d)
    }

    fn get_between_bytes_timeout(&self) -> Option<Duration> {
        self.timeouts.get().between_bytes
    }

    fn set_between_bytes_timeout(&self, d: Option<Duration>) -> Result<(), RequestOptionsError> {
        self.set(|t| t.between_bytes = d)
    }

    fn clone(&self) -> RequestOptions {
        RequestOptions::new(P3Options {
            timeouts: Cell::new(self.timeouts.get()),
            immutable: false,
        })
    }
}

/// `request`: its parts, checked as the host checks them when set.
pub struct P3Request {
    method: RefCell<Method>,
    path_with_query: RefCell<Option<String>>,
    scheme: RefCell<Option<Scheme>>,
    authority: RefCell<Option<String>>,
    headers: Vec<(String, Vec<FieldValue>)>,
    options: Option<Timeouts>,
    body: Body,
}

/// The methods the host names by their own case when given as `other`.
const METHODS: [(&str, Method); 9] = [
    ("GET", Method::Get),
    ("HEAD", Method::Head),
    ("POST", Method::Post),
    ("PUT", Method::Put),
    ("DELETE", Method::Delete),
    ("CONNECT", Method::Connect),
    ("OPTIONS", Method::Options),
    ("TRACE", Method::Trace),
    ("PATCH", Method::Patch),
];

/// A method as the host keeps it: a token, and a standard one by its case.
fn method(method: Method) -> Result<Method, ()> {
    let Method::Other(name) = &method else {
        return Ok(method);
    };
    valid_name(name).map_err(|_| ())?;
    let standard = METHODS.iter().find(|(n, _)| n == name);
    Ok(standard.map_or(method.clone(), |(_, m)| m.clone()))
}

/// A scheme as the host keeps it: `http` and `https` by their case, any
/// other a URI scheme of at most 64 characters.
fn scheme(scheme: Scheme) -> Result<Scheme, ()> {
    let Scheme::Other(name) = &scheme else {
        return Ok(scheme);
    };
    match name.as_str() {
        "http" => return Ok(Scheme::Http),
        "https" => return Ok(Scheme::Https),
        _ => {}
    }
    let chars = |b: u8| b.is_ascii_alphanumeric() || b"+-.".contains(&b);
    let ok = !name.is_empty() && name.len() <= 64 && name.bytes().all(chars);
    if ok {
        Ok(scheme)
    } else {
        Err(())
    }
}

/// The characters of a URI's authority or path the host takes: visible
/// ASCII, without those that end either part.
fn uri_chars(s: &str, also_excluded: &[u8]) -> bool {
    s.bytes().all(|b| {
        (0x21..0x7f).contains(&b) && !b"\"<>\\^`{|}#".contains(&b) && !also_excluded.contains(&b)
    })
}

/// An authority as the host takes it: non-empty, and a port, where there
/// is one (after an IPv6 literal's `]`), of digits that fit 16 bits.
fn authority(authority: &str) -> Result<(), ()> {
    if authority.is_empty() || !uri_chars(authority, b"/?") {
        return Err(());
    }
    let after = authority.rfind(']').map_or(authority, |i| &authority[i..]);
    let host_port = after.rsplit('@').next().unwrap_or(after);
    match host_port.rfind(':') {
        Some(i) => host_port[i + 1..].parse::<u16>().map(drop).map_err(drop),
        None => Ok(()),
    }
}

/// A path with its query as the host takes it: empty, or from a `/` or
/// `?`, of URI characters.
fn path_with_query(path: &str) -> Result<(), ()> {
    let start = path.is_empty() || path.starts_with('/') || path.starts_with('?');
    if start && uri_chars(path, b"") {
        Ok(())
    } else {
        Err(())
    }
}

/// Sets `slot` to `value` if `check` takes it.
fn checked_set<T, U>(
    slot: &RefCell<Option<T>>,
    value: Option<U>,
    check: impl FnOnce(U) -> Result<T, ()>,
) -> Result<(), ()> {
    *slot.borrow_mut() = value.map(check).transpose()?;
    Ok(())
}

impl GuestRequest for P3Request {
    fn new(
        headers: Headers,
        contents: Option<StreamReader<u8>>,
        trailers: FutureReader<Result<Option<Trailers>, ErrorCode>>,
        options: Option<RequestOptions>,
    ) -> (Request, FutureReader<Result<(), ErrorCode>>) {
        let b = &request_builtins::BUILTINS;
        let request = P3Request {
            method: RefCell::new(Method::Get),
            path_with_query: RefCell::new(None),
            scheme: RefCell::new(None),
            authority: RefCell::new(None),
            headers: taken(headers),
            options: options.map(|o| o.into_inner::<P3Options>().timeouts.get()),
            body: Body::new(b, contents, trailers),
        };
        (Request::new(request), denied_future(b))
    }

    fn get_method(&self) -> Method {
        self.method.borrow().clone()
    }

    fn set_method(&self, m: Method) -> Result<(), ()> {
        *self.method.borrow_mut() = method(m)?;
        Ok(())
    }

    fn get_path_with_query(&self) -> Option<String> {
        self.path_with_query.borrow().clone()
    }

    /// An empty path is kept as `/`, as the host keeps it.
    fn set_path_with_query(&self, path: Option<String>) -> Result<(), ()> {
        checked_set(&self.path_with_query, path, |p| match p.is_empty() {
            true => Ok(String::from("/")),
            false => path_with_query(&p).map(|()| p),
        })
    }

    fn get_scheme(&self) -> Option<Scheme> {
        self.scheme.borrow().clone()
    }

    fn set_scheme(&self, s: Option<Scheme>) -> Result<(), ()> {
        checked_set(&self.scheme, s, scheme)
    }

    fn get_authority(&self) -> Option<String> {
        self.authority.borrow().clone()
    }

    fn set_authority(&self, a: Option<String>) -> Result<(), ()> {
        checked_set(&self.authority, a, |a| authority(&a).map(|()| a))
    }

    fn get_options(&self) -> Option<RequestOptions> {
        self.options.map(|timeouts| {
            RequestOptions::new(P3Options {
                timeouts: Cell::new(timeouts),
                immutable: true,
            })
        })
    }

    fn get_headers(&self) -> Headers {
        Fields::new(P3Fields::with(self.headers.clone(), true))
    }

    fn consume_body(
        this: Request,
        res: FutureReader<Result<(), ErrorCode>>,
    ) -> (
        StreamReader<u8>,
        FutureReader<Result<Option<Trailers>, ErrorCode>>,
    ) {
        this.into_inner::<P3Request>().body.consume(res)
    }
}

/// `response`: built by the component, whose body only it can consume.
pub struct P3Response {
    status: Cell<StatusCode>,
    headers: Vec<(String, Vec<FieldValue>)>,
    body: Body,
}

impl GuestResponse for P3Response {
    fn new(
        headers: Headers,
        contents: Option<StreamReader<u8>>,
        trailers: FutureReader<Result<Option<Trailers>, ErrorCode>>,
    ) -> (Response, FutureReader<Result<(), ErrorCode>>) {
        let b = &response_builtins::BUILTINS;
        let response = P3Response {
            status: Cell::new(200),
            headers: taken(headers),
            body: Body::new(b, contents, trailers),
        };
        (Response::new(response), denied_future(b))
    }

    fn get_status_code(&self) -> StatusCode {
        self.status.get()
    }

    fn set_status_code(&self, status_code: StatusCode) -> Result<(), ()> {
        set_status(&self.status, status_code)
    }

    fn get_headers(&self) -> Headers {
        Fields::new(P3Fields::with(self.headers.clone(), true))
    }

    fn consume_body(
        this: Response,
        res: FutureReader<Result<(), ErrorCode>>,
    ) -> (
        StreamReader<u8>,
        FutureReader<Result<Option<Trailers>, ErrorCode>>,
    ) {
        this.into_inner::<P3Response>().body.consume(res)
    }
}

impl super::bindings::exports::wasi::http::types::Guest for Adapter {
    type Fields = P3Fields;
    type Request = P3Request;
    type RequestOptions = P3Options;
    type Response = P3Response;
}

impl client::Guest for Adapter {
    /// Denied: the request is dropped unsent, with its body unread.
    fn send(request: Request) -> Result<Response, ErrorCode> {
        let request = request.into_inner::<P3Request>();
        let authority = request.authority.borrow().clone().unwrap_or_default();
        let path = request.path_with_query.borrow().clone();
        let path = path.unwrap_or_else(|| String::from("/"));
        trace!(Call::ClientSend, authority.as_str(), path.as_str());
        trace!(denied: Call::ClientSend);
        Err(ErrorCode::HttpRequestDenied)
    }
}
