//! POSTs `hello http` to `http://$HTTP_AUTHORITY/echo` (`https://` when
//! `HTTP_SCHEME` is `https`) through `wasi:http/outgoing-handler`, with a
//! header, and prints the response's status, one of its headers and its
//! body; or the error code.
use wasi::http::outgoing_handler::handle;
use wasi::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};

fn main() {
    let authority = std::env::var("HTTP_AUTHORITY").unwrap_or_default();
    let payload = b"hello http";
    let headers = Fields::from_list(&[
        ("x-client".to_string(), b"wasi-virt".to_vec()),
        ("content-length".to_string(), payload.len().to_string().into_bytes()),
    ])
    .unwrap();
    let request = OutgoingRequest::new(headers);
    request.set_method(&Method::Post).unwrap();
    let scheme = match std::env::var("HTTP_SCHEME").as_deref() {
        Ok("https") => Scheme::Https,
        _ => Scheme::Http,
    };
    request.set_scheme(Some(&scheme)).unwrap();
    request.set_authority(Some(&authority)).unwrap();
    request.set_path_with_query(Some("/echo")).unwrap();
    let body = request.body().unwrap();
    {
        let stream = body.write().unwrap();
        stream.blocking_write_and_flush(payload).unwrap();
    }
    OutgoingBody::finish(body, None).unwrap();

    let future = match handle(request, None) {
        Ok(future) => future,
        Err(e) => {
            println!("handle error: {e:?}");
            return;
        }
    };
    future.subscribe().block();
    let response = match future.get().expect("ready").expect("first get") {
        Ok(response) => response,
        Err(e) => {
            println!("response error: {e:?}");
            return;
        }
    };
    println!("status {}", response.status());
    for value in response.headers().get(&"x-server".to_string()) {
        println!("x-server: {}", String::from_utf8_lossy(&value));
    }
    let body = response.consume().unwrap();
    let stream = body.stream().unwrap();
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(4096) {
            Ok(chunk) => bytes.extend(chunk),
            Err(_) => break,
        }
    }
    println!("body: {}", String::from_utf8_lossy(&bytes));
}
