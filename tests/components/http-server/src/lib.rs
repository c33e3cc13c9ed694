//! A component that serves HTTP (`wasi:http/incoming-handler`), for the
//! served-output tests (`tests/runtime.rs`, `serve_*`). Every request is
//! logged on stdout; the path chooses the answer:
//!
//! - `/echo`: the request body back, read and written in pieces as it
//!   arrives, with the request's method, path and `x-test` header in
//!   response headers;
//! - `/file?PATH`: the file at `PATH` (a mounted one);
//! - `/fetch`: a GET of `http://$UPSTREAM/upstream`, answered with the
//!   upstream's status and body;
//! - `/env?NAME`: the variable `NAME`;
//! - anything else: 404.
use std::io::Write as _;
use wasi::http::outgoing_handler;
use wasi::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingRequest, OutgoingResponse,
    ResponseOutparam, Scheme,
};

wasi::http::proxy::export!(Server);

struct Server;

impl wasi::exports::http::incoming_handler::Guest for Server {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let target = request.path_with_query().unwrap_or_default();
        let method = match request.method() {
            Method::Get => "GET".to_string(),
            Method::Post => "POST".to_string(),
            Method::Put => "PUT".to_string(),
            other => format!("{other:?}"),
        };
        println!("served {method} {target}");
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let test_header = request
            .headers()
            .get(&"x-test".to_string())
            .into_iter()
            .next()
            .unwrap_or_default();
        match path {
            "/echo" => {
                let headers = vec![
                    ("x-method".to_string(), method.into_bytes()),
                    ("x-path".to_string(), path.as_bytes().to_vec()),
                    ("x-test".to_string(), test_header),
                ];
                let (body, mut out) = start(response_out, 200, headers);
                let incoming = request.consume().unwrap();
                let mut stream = incoming.stream().unwrap();
                let mut buffer = vec![0; 64 * 1024];
                loop {
                    let n = std::io::Read::read(&mut stream, &mut buffer).unwrap();
                    if n == 0 {
                        break;
                    }
                    out.write_all(&buffer[..n]).unwrap();
                }
                drop(stream);
                finish(body, out);
            }
            "/file" => match std::fs::read(query) {
                Ok(bytes) => answer(response_out, 200, &bytes),
                Err(e) => answer(response_out, 404, format!("{e}\n").as_bytes()),
            },
            "/fetch" => {
                let upstream = std::env::var("UPSTREAM").unwrap_or_default();
                match fetch(&upstream) {
                    Ok((status, bytes)) => {
                        let mut text = format!("upstream {status}\n").into_bytes();
                        text.extend(bytes);
                        answer(response_out, 200, &text)
                    }
                    Err(e) => answer(response_out, 502, format!("{e}\n").as_bytes()),
                }
            }
            "/env" => {
                let value = std::env::var(query).unwrap_or_else(|_| "(unset)".into());
                answer(response_out, 200, format!("{value}\n").as_bytes())
            }
            _ => answer(response_out, 404, b"no such page\n"),
        }
    }
}

/// Sets the response (status, `content-type: text/plain`, `x-served-by`
/// and `extra` headers) and returns its body and stream.
fn start(
    out: ResponseOutparam,
    status: u16,
    extra: Vec<(String, Vec<u8>)>,
) -> (OutgoingBody, wasi::io::streams::OutputStream) {
    let mut headers = vec![
        ("content-type".to_string(), b"text/plain".to_vec()),
        ("x-served-by".to_string(), b"http-server".to_vec()),
    ];
    headers.extend(extra);
    let response = OutgoingResponse::new(Fields::from_list(&headers).unwrap());
    response.set_status_code(status).unwrap();
    let body = response.body().unwrap();
    ResponseOutparam::set(out, Ok(response));
    let stream = body.write().unwrap();
    (body, stream)
}

fn finish(body: OutgoingBody, stream: wasi::io::streams::OutputStream) {
    stream.blocking_flush().unwrap();
    drop(stream);
    OutgoingBody::finish(body, None).unwrap();
}

fn answer(out: ResponseOutparam, status: u16, bytes: &[u8]) {
    let (body, mut stream) = start(out, status, Vec::new());
    stream.write_all(bytes).unwrap();
    finish(body, stream);
}

/// GETs `http://AUTHORITY/upstream`: its status and body, or the error.
fn fetch(authority: &str) -> Result<(u16, Vec<u8>), String> {
    let request = OutgoingRequest::new(Fields::new());
    request.set_scheme(Some(&Scheme::Http)).unwrap();
    request.set_authority(Some(authority)).unwrap();
    request.set_path_with_query(Some("/upstream")).unwrap();
    let future = outgoing_handler::handle(request, None).map_err(|e| format!("{e:?}"))?;
    future.subscribe().block();
    let response = future
        .get()
        .expect("ready")
        .expect("first get")
        .map_err(|e| format!("{e:?}"))?;
    let status = response.status();
    let body = response.consume().unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut body.stream().unwrap(), &mut bytes).unwrap();
    Ok((status, bytes))
}
