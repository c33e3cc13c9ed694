//! `wasi:http/{types,outgoing-handler}`: outgoing requests.
//!
//! Fields, requests, options and response builders are the adapter's own
//! data, so a component can build a request whatever the policy; only
//! `outgoing-handler.handle` reaches the host. Allowed, it turns the request
//! into the host's and wraps what comes back (response, body stream,
//! trailers). Denied, it returns `HTTP-request-denied`, and no `wasi:http`
//! import is left.
//!
//! `incoming-request` and `response-outparam` exist when a host calls a
//! component's `wasi:http/incoming-handler`: they wrap the host's, which
//! the front of a served output hands over (`serve.rs`). A response is
//! built in the adapter; when it is set, the host's response is built from
//! it, and its body streams to the host's from then on.

use crate::exports::wasi::http::outgoing_handler;
use crate::exports::wasi::http::types::{
    self, Duration, ErrorCode, FieldName, FieldValue, Fields, FutureIncomingResponse,
    FutureTrailers, GuestFields, GuestFutureIncomingResponse, GuestFutureTrailers,
    GuestIncomingBody, GuestIncomingRequest, GuestIncomingResponse, GuestOutgoingBody,
    GuestOutgoingRequest, GuestOutgoingResponse, GuestRequestOptions, GuestResponseOutparam,
    HeaderError, Headers, IncomingBody, IncomingResponse, InputStream, IoErrorBorrow, Method,
    OutgoingBody, OutgoingResponse, OutputStream, ResponseOutparam, Scheme, StatusCode, Trailers,
};
use crate::io::{IoError, Sink, VInputStream, VOutputStream, VPollable};
use crate::state::config;
use crate::wasi::http as host;
use crate::Adapter;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::mem::{ManuallyDrop, MaybeUninit};
use wasi_virt_layout::{allow, hooks, same_name, Call, HTTP_SEND_IMPL};

/// `wasi:http/types.fields`.
pub struct VFields {
    entries: RefCell<Vec<(String, Vec<u8>)>>,
    immutable: bool,
}

impl VFields {
    fn mutable(entries: Vec<(String, Vec<u8>)>) -> Self {
        VFields {
            entries: RefCell::new(entries),
            immutable: false,
        }
    }

    fn immutable(entries: Vec<(String, Vec<u8>)>) -> Fields {
        Fields::new(VFields {
            entries: RefCell::new(entries),
            immutable: true,
        })
    }

    /// The checks of a change to `name`, in the host's order: its syntax,
    /// a forbidden name, then whether these fields may change.
    fn check(&self, name: &str) -> Result<(), HeaderError> {
        valid_name(name)?;
        if is_forbidden(name) {
            return Err(HeaderError::Forbidden);
        }
        if self.immutable {
            return Err(HeaderError::Immutable);
        }
        Ok(())
    }

    /// Appends one value after the host's checks: the name's, the value's,
    /// a second `content-length`, then mutability.
    fn append_checked(&self, name: String, value: Vec<u8>) -> Result<(), HeaderError> {
        valid_name(&name)?;
        if is_forbidden(&name) {
            return Err(HeaderError::Forbidden);
        }
        valid_value(&name, &value)?;
        let mut entries = self.entries.borrow_mut();
        if is_content_length(&name) && entries.iter().any(|(n, _)| is_content_length(n)) {
            return Err(HeaderError::InvalidSyntax);
        }
        if self.immutable {
            return Err(HeaderError::Immutable);
        }
        entries.push((name, value));
        Ok(())
    }

    fn snapshot(&self) -> Vec<(String, Vec<u8>)> {
        self.entries.borrow().clone()
    }
}

/// Sets `status` to `code` if a host takes it as a response's status:
/// `100` to `599`, as wasmtime-wasi-http's 0.2 and 0.3 hosts do.
pub(crate) fn set_status(status: &Cell<u16>, code: u16) -> Result<(), ()> {
    if !(100..=599).contains(&code) {
        return Err(());
    }
    status.set(code);
    Ok(())
}

/// The names a host refuses in any fields: the hop-by-hop headers, and
/// `host`, which would let a request name another authority than the one
/// the rules checked (wasmtime-wasi-http's default list, which its host
/// answers with `forbidden`).
const FORBIDDEN: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "host",
    "http2-settings",
];

pub(crate) fn is_forbidden(name: &str) -> bool {
    FORBIDDEN.iter().any(|f| f.eq_ignore_ascii_case(name))
}

pub(crate) fn is_content_length(name: &str) -> bool {
    name.eq_ignore_ascii_case("content-length")
}

/// A field value as a host takes it (RFC 9110): visible ASCII, spaces,
/// tabs and bytes from 0x80, so no CR, LF or NUL can split a header; a
/// `content-length` is one run of digits that fits 64 bits.
pub(crate) fn valid_value(name: &str, value: &[u8]) -> Result<(), HeaderError> {
    let ok = if is_content_length(name) {
        !value.is_empty()
            && value.len() <= 20
            && value.iter().all(u8::is_ascii_digit)
            && core::str::from_utf8(value).is_ok_and(|s| s.parse::<u64>().is_ok())
    } else {
        value
            .iter()
            .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b) || b >= 0x80)
    };
    if ok {
        Ok(())
    } else {
        Err(HeaderError::InvalidSyntax)
    }
}

/// RFC 9110 token characters.
pub(crate) fn valid_name(name: &str) -> Result<(), HeaderError> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(HeaderError::InvalidSyntax)
    }
}

impl GuestFields for VFields {
    fn new() -> Self {
        VFields::mutable(Vec::new())
    }

    fn from_list(entries: Vec<(FieldName, FieldValue)>) -> Result<Fields, HeaderError> {
        let fields = VFields::mutable(Vec::new());
        for (name, value) in entries {
            fields.append_checked(name, value)?;
        }
        Ok(Fields::new(fields))
    }

    fn get(&self, name: FieldName) -> Vec<FieldValue> {
        self.entries
            .borrow()
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(&name))
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn has(&self, name: FieldName) -> bool {
        self.entries
            .borrow()
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(&name))
    }

    fn set(&self, name: FieldName, value: Vec<FieldValue>) -> Result<(), HeaderError> {
        self.check(&name)?;
        if is_content_length(&name) && value.len() > 1 {
            return Err(HeaderError::InvalidSyntax);
        }
        for v in &value {
            valid_value(&name, v)?;
        }
        let mut entries = self.entries.borrow_mut();
        entries.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        entries.extend(value.into_iter().map(|v| (name.clone(), v)));
        Ok(())
    }

    fn delete(&self, name: FieldName) -> Result<(), HeaderError> {
        self.check(&name)?;
        self.entries
            .borrow_mut()
            .retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        Ok(())
    }

    fn append(&self, name: FieldName, value: FieldValue) -> Result<(), HeaderError> {
        self.append_checked(name, value)
    }

    fn entries(&self) -> Vec<(FieldName, FieldValue)> {
        self.snapshot()
    }

    fn clone(&self) -> Fields {
        Fields::new(VFields::mutable(self.snapshot()))
    }
}

/// Trailers as a body's `finish` gives them: `(name, value)` pairs, or none.
type TrailerList = Option<Vec<(String, Vec<u8>)>>;

/// A body that buffers until its request is sent, then streams to the host.
#[derive(Default)]
struct BodyState {
    /// Where writes go: a buffer before the request is sent, the host's
    /// body stream after.
    sink: Rc<RefCell<Sink>>,
    /// Whether `write` handed out the stream already.
    stream_taken: bool,
    /// `finish` was called before sending, with these trailers.
    finished: Option<TrailerList>,
    /// The host body, once sent and until finished.
    host: Option<host::types::OutgoingBody>,
}

/// `wasi:http/types.outgoing-body`.
pub struct VOutgoingBody(Rc<RefCell<BodyState>>);

/// The body of a request or response, held in `slot`: handed out once.
fn new_body(slot: &RefCell<Option<Rc<RefCell<BodyState>>>>) -> Result<OutgoingBody, ()> {
    let mut body = slot.borrow_mut();
    if body.is_some() {
        return Err(());
    }
    let state = Rc::new(RefCell::new(BodyState::default()));
    *body = Some(state.clone());
    Ok(OutgoingBody::new(VOutgoingBody(state)))
}

impl GuestOutgoingBody for VOutgoingBody {
    fn write(&self) -> Result<OutputStream, ()> {
        let mut state = self.0.borrow_mut();
        if core::mem::replace(&mut state.stream_taken, true) {
            return Err(());
        }
        Ok(OutputStream::new(VOutputStream::Shared(state.sink.clone())))
    }

    fn finish(this: OutgoingBody, trailers: Option<Trailers>) -> Result<(), ErrorCode> {
        trace!(Call::OutgoingBodyFinish);
        let body = this.into_inner::<VOutgoingBody>();
        let trailers = trailers.map(|t| t.into_inner::<VFields>().snapshot());
        let mut state = body.0.borrow_mut();
        match state.host.take() {
            Some(host_body) => {
                // The host's stream is a child of its body: drop it first.
                *state.sink.borrow_mut() = Sink::Closed;
                let trailers = trailers.map(host_fields).transpose()?;
                host::types::OutgoingBody::finish(host_body, trailers).map_err(error_code)
            }
            None => {
                state.finished = Some(trailers);
                Ok(())
            }
        }
    }
}

/// `wasi:http/types.outgoing-request`: held in the adapter until `handle`.
pub struct VOutgoingRequest {
    method: RefCell<Method>,
    path_with_query: RefCell<Option<String>>,
    scheme: RefCell<Option<Scheme>>,
    authority: RefCell<Option<String>>,
    headers: Vec<(String, Vec<u8>)>,
    body: RefCell<Option<Rc<RefCell<BodyState>>>>,
}

impl GuestOutgoingRequest for VOutgoingRequest {
    fn new(headers: Headers) -> Self {
        VOutgoingRequest {
            method: RefCell::new(Method::Get),
            path_with_query: RefCell::new(None),
            scheme: RefCell::new(None),
            authority: RefCell::new(None),
            headers: headers.into_inner::<VFields>().snapshot(),
            body: RefCell::new(None),
        }
    }

    fn body(&self) -> Result<OutgoingBody, ()> {
        new_body(&self.body)
    }

    fn method(&self) -> Method {
        self.method.borrow().clone()
    }

    fn set_method(&self, method: Method) -> Result<(), ()> {
        if let Method::Other(m) = &method {
            valid_name(m).map_err(|_| ())?;
        }
        *self.method.borrow_mut() = method;
        Ok(())
    }

    fn path_with_query(&self) -> Option<String> {
        self.path_with_query.borrow().clone()
    }

    fn set_path_with_query(&self, path_with_query: Option<String>) -> Result<(), ()> {
        *self.path_with_query.borrow_mut() = path_with_query;
        Ok(())
    }

    fn scheme(&self) -> Option<Scheme> {
        self.scheme.borrow().clone()
    }

    fn set_scheme(&self, scheme: Option<Scheme>) -> Result<(), ()> {
        *self.scheme.borrow_mut() = scheme;
        Ok(())
    }

    fn authority(&self) -> Option<String> {
        self.authority.borrow().clone()
    }

    fn set_authority(&self, authority: Option<String>) -> Result<(), ()> {
        *self.authority.borrow_mut() = authority;
        Ok(())
    }

    fn headers(&self) -> Headers {
        VFields::immutable(self.headers.clone())
    }
}

/// `wasi:http/types.request-options`.
#[derive(Default)]
pub struct VRequestOptions {
    connect: Cell<Option<Duration>>,
    first_byte: Cell<Option<Duration>>,
    between_bytes: Cell<Option<Duration>>,
}

impl GuestRequestOptions for VRequestOptions {
    fn new() -> Self {
        VRequestOptions::default()
    }

    fn connect_timeout(&self) -> Option<Duration> {
        self.connect.get()
    }

    fn set_connect_timeout(&self, duration: Option<Duration>) -> Result<(), ()> {
        self.connect.set(duration);
        Ok(())
    }

    fn first_byte_timeout(&self) -> Option<Duration> {
        self.first_byte.get()
    }

    fn set_first_byte_timeout(&self, duration: Option<Duration>) -> Result<(), ()> {
        self.first_byte.set(duration);
        Ok(())
    }

    fn between_bytes_timeout(&self) -> Option<Duration> {
        self.between_bytes.get()
    }

    fn set_between_bytes_timeout(&self, duration: Option<Duration>) -> Result<(), ()> {
        self.between_bytes.set(duration);
        Ok(())
    }
}

/// `wasi:http/types.outgoing-response`: a builder, turned into the host's
/// when it is set through a `response-outparam`.
pub struct VOutgoingResponse {
    status: Cell<StatusCode>,
    headers: Vec<(String, Vec<u8>)>,
    body: RefCell<Option<Rc<RefCell<BodyState>>>>,
}

impl GuestOutgoingResponse for VOutgoingResponse {
    fn new(headers: Headers) -> Self {
        VOutgoingResponse {
            status: Cell::new(200),
            headers: headers.into_inner::<VFields>().snapshot(),
            body: RefCell::new(None),
        }
    }

    fn status_code(&self) -> StatusCode {
        self.status.get()
    }

    fn set_status_code(&self, status_code: StatusCode) -> Result<(), ()> {
        set_status(&self.status, status_code)
    }

    fn headers(&self) -> Headers {
        VFields::immutable(self.headers.clone())
    }

    fn body(&self) -> Result<OutgoingBody, ()> {
        new_body(&self.body)
    }
}

/// `wasi:http/types.incoming-request`: the host's request to a served
/// component.
pub struct VIncomingRequest(pub host::types::IncomingRequest);

impl GuestIncomingRequest for VIncomingRequest {
    fn method(&self) -> Method {
        method_out(self.0.method())
    }
    fn path_with_query(&self) -> Option<String> {
        self.0.path_with_query()
    }
    fn scheme(&self) -> Option<Scheme> {
        self.0.scheme().map(scheme_out)
    }
    fn authority(&self) -> Option<String> {
        self.0.authority()
    }
    fn headers(&self) -> Headers {
        VFields::immutable(self.0.headers().entries())
    }
    fn consume(&self) -> Result<IncomingBody, ()> {
        self.0
            .consume()
            .map(|b| IncomingBody::new(VIncomingBody(b)))
    }
}

/// `wasi:http/types.response-outparam`: the host's.
pub struct VResponseOutparam(pub host::types::ResponseOutparam);

impl GuestResponseOutparam for VResponseOutparam {
    fn set(param: ResponseOutparam, response: Result<OutgoingResponse, ErrorCode>) {
        trace!(Call::ResponseOutparamSet);
        let out = param.into_inner::<VResponseOutparam>().0;
        match response {
            Ok(response) => respond(out, response.into_inner::<VOutgoingResponse>()),
            Err(e) => host::types::ResponseOutparam::set(out, Err(error_code_in(e))),
        }
    }
}

/// Sets the host's `out` to a response built from `response`; what its
/// body holds so far is written, and later writes stream to the host.
fn respond(out: host::types::ResponseOutparam, response: VOutgoingResponse) {
    let built = host_response(response.status.get(), response.headers).and_then(|host| {
        let body = response.body.into_inner();
        let host_body = match &body {
            Some(_) => Some(
                host.body()
                    .map_err(|()| internal_error("invalid ", "body"))?,
            ),
            None => None,
        };
        Ok((host, body.zip(host_body)))
    });
    match built {
        Ok((host, body)) => {
            host::types::ResponseOutparam::set(out, Ok(host));
            if let Some((state, host_body)) = body {
                // Once set, the response has gone: a body the host refuses
                // ends as the host ends it.
                let _ = attach(&state, host_body);
            }
        }
        Err(e) => host::types::ResponseOutparam::set(out, Err(error_code_in(e))),
    }
}

/// The host's response with `status` and `headers`.
pub fn host_response(
    status: StatusCode,
    headers: Vec<(String, Vec<u8>)>,
) -> Result<host::types::OutgoingResponse, ErrorCode> {
    let response = host::types::OutgoingResponse::new(host_fields(headers)?);
    response
        .set_status_code(status)
        .map_err(|()| internal_error("invalid ", "status"))?;
    Ok(response)
}

/// `wasi:http/types.incoming-response`, the host's.
pub struct VIncomingResponse(host::types::IncomingResponse);

impl GuestIncomingResponse for VIncomingResponse {
    fn status(&self) -> StatusCode {
        self.0.status()
    }

    fn headers(&self) -> Headers {
        VFields::immutable(self.0.headers().entries())
    }

    fn consume(&self) -> Result<IncomingBody, ()> {
        self.0
            .consume()
            .map(|b| IncomingBody::new(VIncomingBody(b)))
    }
}

/// `wasi:http/types.incoming-body`, the host's.
pub struct VIncomingBody(host::types::IncomingBody);

impl GuestIncomingBody for VIncomingBody {
    fn stream(&self) -> Result<InputStream, ()> {
        self.0
            .stream()
            .map(|s| InputStream::new(VInputStream::Host(s)))
    }

    fn finish(this: IncomingBody) -> FutureTrailers {
        let body = this.into_inner::<VIncomingBody>();
        FutureTrailers::new(VFutureTrailers(host::types::IncomingBody::finish(body.0)))
    }
}

/// `wasi:http/types.future-trailers`, the host's.
pub struct VFutureTrailers(host::types::FutureTrailers);

impl GuestFutureTrailers for VFutureTrailers {
    fn subscribe(&self) -> types::Pollable {
        VPollable::host(self.0.subscribe())
    }

    fn get(&self) -> Option<Result<Result<Option<Trailers>, ErrorCode>, ()>> {
        self.0.get().map(|r| {
            r.map(|r| {
                r.map(|t| t.map(|t| VFields::immutable(t.entries())))
                    .map_err(error_code)
            })
        })
    }
}

/// `wasi:http/types.future-incoming-response`, the host's.
pub struct VFutureIncomingResponse(host::types::FutureIncomingResponse);

impl GuestFutureIncomingResponse for VFutureIncomingResponse {
    fn subscribe(&self) -> types::Pollable {
        VPollable::host(self.0.subscribe())
    }

    fn get(&self) -> Option<Result<Result<IncomingResponse, ErrorCode>, ()>> {
        self.0.get().map(|r| {
            r.map(|r| {
                r.map(|resp| IncomingResponse::new(VIncomingResponse(resp)))
                    .map_err(error_code)
            })
        })
    }
}

impl types::Guest for Adapter {
    type Fields = VFields;
    type IncomingRequest = VIncomingRequest;
    type OutgoingRequest = VOutgoingRequest;
    type RequestOptions = VRequestOptions;
    type ResponseOutparam = VResponseOutparam;
    type IncomingResponse = VIncomingResponse;
    type IncomingBody = VIncomingBody;
    type FutureTrailers = VFutureTrailers;
    type OutgoingResponse = VOutgoingResponse;
    type OutgoingBody = VOutgoingBody;
    type FutureIncomingResponse = VFutureIncomingResponse;

    fn http_error_code(err: IoErrorBorrow<'_>) -> Option<ErrorCode> {
        match err.get::<IoError>() {
            IoError::Host(e) if config().allows(allow::HTTP) => {
                host::types::http_error_code(e).map(error_code)
            }
            _ => None,
        }
    }
}

impl outgoing_handler::Guest for Adapter {
    fn handle(
        request: types::OutgoingRequest,
        options: Option<types::RequestOptions>,
    ) -> Result<FutureIncomingResponse, ErrorCode> {
        let request = request.into_inner::<VOutgoingRequest>();
        trace!(
            Call::Handle,
            request.authority.borrow().as_deref().unwrap_or(""),
            request.path_with_query.borrow().as_deref().unwrap_or("/")
        );
        if !config().allows(allow::HTTP) {
            trace!(denied: Call::Handle);
            return Err(ErrorCode::HttpRequestDenied);
        }
        if let Err(reason) = granted(&request) {
            trace!(denied: Call::Handle, reason);
            return Err(ErrorCode::HttpRequestDenied);
        }
        let query =
            ManuallyDrop::new((request, options.map(|o| o.into_inner::<VRequestOptions>())));
        let mut answer = MaybeUninit::<Result<FutureIncomingResponse, ErrorCode>>::uninit();
        // SAFETY: the hook (`wasi_virt_http_send`, bound whenever HTTP may
        // pass, as it does here) takes the query and writes the answer.
        unsafe {
            hooks::http_send(
                &*query as *const SendQuery as *mut u8,
                answer.as_mut_ptr() as *mut u8,
            );
            answer.assume_init()
        }
    }
}

/// What `handle` hands the `http-send` hook.
type SendQuery = (VOutgoingRequest, Option<VRequestOptions>);

/// Sends a request through the host: behind the `http-send` hook, bound
/// only when the configuration lets HTTP through, so that an adapter that
/// denies it carries none of this.
///
/// # Safety
/// `query` points at a [`SendQuery`] this call takes, and `answer` at room
/// for `handle`'s result, which it writes.
#[no_mangle]
pub unsafe extern "C" fn wasi_virt_http_send(query: *mut u8, answer: *mut u8) {
    // SAFETY: as the caller promised.
    unsafe {
        let (request, options) = core::ptr::read(query as *const SendQuery);
        let result = send(request, options);
        core::ptr::write(
            answer as *mut Result<FutureIncomingResponse, ErrorCode>,
            result,
        );
    }
}

const _: () = assert!(same_name(stringify!(wasi_virt_http_send), HTTP_SEND_IMPL));

/// The library aliases the `http-send` import to [`wasi_virt_http_send`]:
/// their types must be the same.
const _: [unsafe extern "C" fn(*mut u8, *mut u8); 2] = [hooks::http_send, wasi_virt_http_send];

/// Whether the network rules (if they govern HTTP) grant the request, or
/// why not: its scheme (the host's default is HTTPS), the host and port of
/// its authority, read as the host's client reads them, its method, and
/// its path as the server will read it. A granted request's target is
/// replaced by its normalized form, the one the rules decided on.
fn granted(request: &VOutgoingRequest) -> Result<(), &'static str> {
    if !config().net_http() {
        return Ok(());
    }
    let https = match &*request.scheme.borrow() {
        None | Some(Scheme::Https) => Ok(true),
        Some(Scheme::Http) => Ok(false),
        Some(Scheme::Other(_)) => Err(()),
    };
    let authority = request.authority.borrow().clone();
    let target = request.path_with_query.borrow().clone();
    let method = String::from(method_name(&request.method.borrow()));
    let normal = decide(https, authority.as_deref(), &method, target.as_deref())?;
    *request.path_with_query.borrow_mut() = Some(normal);
    Ok(())
}

/// Whether the rules grant a request, from its parts as it will be sent:
/// `https` (an error for a scheme that is neither), the authority, the
/// method and the path with its query. The path the rules checked, in its
/// normal form, which the request is then sent with; or why not.
pub(crate) fn decide(
    https: Result<bool, ()>,
    authority: Option<&str>,
    method: &str,
    target: Option<&str>,
) -> Result<String, &'static str> {
    let https = https.map_err(|()| "the scheme is neither http nor https")?;
    let Some(authority) = authority else {
        return Err("the request has no authority");
    };
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host, port) = match host_port.rfind(':') {
        Some(i) if !host_port[i..].contains(']') => (&host_port[..i], Some(&host_port[i + 1..])),
        _ => (host_port, None),
    };
    let port = match port {
        None if https => 443,
        None => 80,
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| "the authority's port is no port")?,
    };
    let query = crate::rules::Query::Http(https, host, port, method, target.unwrap_or("/"));
    match crate::rules::ask(&query) {
        crate::rules::Answer::Target(answer) => answer,
        _ => Err("the rules gave no answer"),
    }
}

/// Defines `method_name`, a WIT `method` (`$method`, of either WASI
/// version) as the request line spells it.
macro_rules! method_name {
    ($method:ident) => {
        fn method_name(method: &$method) -> &str {
            match method {
                $method::Get => "GET",
                $method::Head => "HEAD",
                $method::Post => "POST",
                $method::Put => "PUT",
                $method::Delete => "DELETE",
                $method::Connect => "CONNECT",
                $method::Options => "OPTIONS",
                $method::Trace => "TRACE",
                $method::Patch => "PATCH",
                $method::Other(other) => other,
            }
        }
    };
}

method_name!(Method);

/// Builds the host's request from the adapter's, sends it, then streams
/// what was written to the body so far (and finishes it, if it was).
fn send(
    request: VOutgoingRequest,
    options: Option<VRequestOptions>,
) -> Result<FutureIncomingResponse, ErrorCode> {
    let out = host::types::OutgoingRequest::new(host_fields(request.headers)?);
    let invalid = |what: &str| internal_error("invalid ", what);
    out.set_method(&method_in(request.method.into_inner()))
        .map_err(|()| invalid("method"))?;
    out.set_path_with_query(request.path_with_query.into_inner().as_deref())
        .map_err(|()| invalid("path"))?;
    out.set_scheme(request.scheme.into_inner().map(scheme_in).as_ref())
        .map_err(|()| invalid("scheme"))?;
    out.set_authority(request.authority.into_inner().as_deref())
        .map_err(|()| invalid("authority"))?;
    let body = request.body.into_inner();
    let host_body = match &body {
        Some(_) => Some(out.body().map_err(|()| invalid("body"))?),
        None => None,
    };
    let options = options.map(|o| {
        let h = host::types::RequestOptions::new();
        // The host may not support every timeout; unsupported ones are
        // left at its defaults, as a direct call would leave them.
        let _ = h.set_connect_timeout(o.connect.get());
        let _ = h.set_first_byte_timeout(o.first_byte.get());
        let _ = h.set_between_bytes_timeout(o.between_bytes.get());
        h
    });
    let future = host::outgoing_handler::handle(out, options).map_err(error_code)?;

    if let (Some(state), Some(host_body)) = (body, host_body) {
        attach(&state, host_body)?;
    }
    Ok(FutureIncomingResponse::new(VFutureIncomingResponse(future)))
}

/// Joins a body to the host's `host_body`: what was written to it so far
/// goes to the host, and so will every later write; a body finished
/// already is finished on the host too.
fn attach(
    state: &RefCell<BodyState>,
    host_body: host::types::OutgoingBody,
) -> Result<(), ErrorCode> {
    let mut state = state.borrow_mut();
    let stream = host_body
        .write()
        .map_err(|()| internal_error("invalid ", "body stream"))?;
    let buffered = match core::mem::take(&mut *state.sink.borrow_mut()) {
        Sink::Buffer(bytes) => bytes,
        _ => Vec::new(),
    };
    write_all(&stream, &buffered)?;
    match state.finished.take() {
        Some(trailers) => {
            drop(stream);
            let trailers = trailers.map(host_fields).transpose()?;
            host::types::OutgoingBody::finish(host_body, trailers).map_err(error_code)?;
        }
        None => {
            *state.sink.borrow_mut() = Sink::Host(stream);
            state.host = Some(host_body);
        }
    }
    Ok(())
}

/// Writes `bytes` to the host's `stream`, in the pieces a blocking write
/// takes at most.
pub fn write_all(
    stream: &crate::wasi::io::streams::OutputStream,
    bytes: &[u8],
) -> Result<(), ErrorCode> {
    for chunk in bytes.chunks(4096) {
        stream
            .blocking_write_and_flush(chunk)
            .map_err(|_| ErrorCode::HttpProtocolError)?;
    }
    Ok(())
}

fn host_fields(entries: Vec<(String, Vec<u8>)>) -> Result<host::types::Fields, ErrorCode> {
    host::types::Fields::from_list(&entries)
        .map_err(|e| internal_error("the host refused a header: ", header_error(&e)))
}

/// `internal-error` with the message `what` + `detail`.
fn internal_error(what: &str, detail: &str) -> ErrorCode {
    let mut message = String::from(what);
    message.push_str(detail);
    ErrorCode::InternalError(Some(message))
}

/// The host's header error as its `Debug` form shows it (what the guest
/// has always read), without `core::fmt`.
fn header_error(e: &host::types::HeaderError) -> &'static str {
    use host::types::HeaderError as H;
    match e {
        H::InvalidSyntax => "HeaderError::InvalidSyntax",
        H::Forbidden => "HeaderError::Forbidden",
        H::Immutable => "HeaderError::Immutable",
    }
}

/// `value` of type `$from` as a `$to`, two bindings of one WIT enum or
/// variant: each unit case maps to its namesake, and each case with a
/// payload maps its payload with `$map` (another conversion, or `same`).
macro_rules! same_cases {
    ($value:expr, $from:ty => $to:ty {
        units: $($unit:ident),* ;
        payloads: $($case:ident($map:expr)),* $(,)?
    }) => {{
        type F = $from;
        type T = $to;
        match $value {
            $(F::$unit => T::$unit,)*
            $(F::$case(p) => T::$case($map(p)),)*
        }
    }};
}

fn same<T>(value: T) -> T {
    value
}

fn method_in(value: Method) -> host::types::Method {
    same_cases!(value, Method => host::types::Method { units: Get, Head, Post, Put, Delete, Connect, Options, Trace, Patch; payloads: Other(same) })
}
fn method_out(value: host::types::Method) -> Method {
    same_cases!(value, host::types::Method => Method { units: Get, Head, Post, Put, Delete, Connect, Options, Trace, Patch; payloads: Other(same) })
}
fn scheme_in(value: Scheme) -> host::types::Scheme {
    same_cases!(value, Scheme => host::types::Scheme { units: Http, Https; payloads: Other(same) })
}
fn scheme_out(value: host::types::Scheme) -> Scheme {
    same_cases!(value, host::types::Scheme => Scheme { units: Http, Https; payloads: Other(same) })
}

/// Both directions of `error-code`, between the host's binding (`host`)
/// and the adapter's (`own`).
macro_rules! error_codes {
    ($name:ident: $($from:ident)::+ => $($to:ident)::+) => {
        fn $name(e: $($from)::+::ErrorCode) -> $($to)::+::ErrorCode {
            let size = |p: $($from)::+::FieldSizePayload| $($to)::+::FieldSizePayload {
                field_name: p.field_name,
                field_size: p.field_size,
            };
            let dns = |p: $($from)::+::DnsErrorPayload| $($to)::+::DnsErrorPayload {
                rcode: p.rcode,
                info_code: p.info_code,
            };
            let tls = |p: $($from)::+::TlsAlertReceivedPayload| {
                $($to)::+::TlsAlertReceivedPayload {
                    alert_id: p.alert_id,
                    alert_message: p.alert_message,
                }
            };
            same_cases!(e, $($from)::+::ErrorCode => $($to)::+::ErrorCode {
                units: DnsTimeout, DestinationNotFound, DestinationUnavailable,
                    DestinationIpProhibited, DestinationIpUnroutable, ConnectionRefused,
                    ConnectionTerminated, ConnectionTimeout, ConnectionReadTimeout,
                    ConnectionWriteTimeout, ConnectionLimitReached, TlsProtocolError,
                    TlsCertificateError, HttpRequestDenied, HttpRequestLengthRequired,
                    HttpRequestMethodInvalid, HttpRequestUriInvalid, HttpRequestUriTooLong,
                    HttpResponseIncomplete, HttpResponseTimeout, HttpUpgradeFailed,
                    HttpProtocolError, LoopDetected, ConfigurationError;
                payloads: DnsError(dns), TlsAlertReceived(tls),
                    HttpRequestBodySize(same), HttpRequestHeaderSectionSize(same),
                    HttpRequestHeaderSize(|p: Option<_>| p.map(size)),
                    HttpRequestTrailerSectionSize(same), HttpRequestTrailerSize(size),
                    HttpResponseHeaderSectionSize(same), HttpResponseHeaderSize(size),
                    HttpResponseBodySize(same), HttpResponseTrailerSectionSize(same),
                    HttpResponseTrailerSize(size), HttpResponseTransferCoding(same),
                    HttpResponseContentCoding(same), InternalError(same)
            })
        }
    };
}

error_codes!(error_code: host::types => types);
error_codes!(error_code_in: types => host::types);
