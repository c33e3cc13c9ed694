//! POSTs `hello http` to `http://$HTTP_AUTHORITY/echo` (`https://` when
//! `HTTP_SCHEME` is `https`) through `wasi:http/outgoing-handler`, with a
//! header, and prints the response's status, one of its headers and its
//! body; or the error code.
//!
//! With `HTTP_TARGETS` set (targets separated by spaces) it sends one
//! request per target instead, with the method `HTTP_METHOD` (`POST` if
//! unset), and prints `TARGET: ` before each answer.
//!
//! With `HTTP_FIELDS_PROBE` set it sends nothing: it tries forbidden and
//! ordinary names, values a host refuses (CR, LF, NUL, DEL, a second
//! `content-length`) and changes to immutable fields, and prints each
//! answer, so that a host's answers and the adapter's can be compared.
use wasi::http::outgoing_handler::handle;
use wasi::http::types::{Fields, HeaderError, Method, OutgoingBody, OutgoingRequest, Scheme};

fn main() {
    if std::env::var_os("HTTP_FIELDS_PROBE").is_some() {
        fields_probe();
        return;
    }
    let authority = std::env::var("HTTP_AUTHORITY").unwrap_or_default();
    let method = match std::env::var("HTTP_METHOD").as_deref() {
        Ok("GET") => Method::Get,
        Ok("HEAD") => Method::Head,
        Ok("POST") | Err(_) => Method::Post,
        Ok(other) => Method::Other(other.to_string()),
    };
    match std::env::var("HTTP_TARGETS") {
        Ok(targets) => {
            for target in targets.split_whitespace() {
                print!("{target}: ");
                send(&authority, &method, target);
            }
        }
        Err(_) => send(&authority, &method, "/echo"),
    }
}

/// Sends one request to `target` and prints the answer.
fn send(authority: &str, method: &Method, target: &str) {
    let payload = b"hello http";
    let headers = Fields::from_list(&[
        ("x-client".to_string(), b"wasi-virt".to_vec()),
        ("content-length".to_string(), payload.len().to_string().into_bytes()),
    ])
    .unwrap();
    let request = OutgoingRequest::new(headers);
    request.set_method(method).unwrap();
    let scheme = match std::env::var("HTTP_SCHEME").as_deref() {
        Ok("https") => Scheme::Https,
        _ => Scheme::Http,
    };
    request.set_scheme(Some(&scheme)).unwrap();
    request.set_authority(Some(authority)).unwrap();
    if request.set_path_with_query(Some(target)).is_err() {
        println!("set-path-with-query error");
        return;
    }
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

fn answer(r: Result<impl Sized, HeaderError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(HeaderError::InvalidSyntax) => "invalid-syntax",
        Err(HeaderError::Forbidden) => "forbidden",
        Err(HeaderError::Immutable) => "immutable",
    }
}

fn fields_probe() {
    let x = || b"x".to_vec();
    for name in ["host", "Host", "connection", "Transfer-Encoding", "upgrade", "keep-alive", "x-fine", "bad name"] {
        let n = name.to_string();
        let list = answer(Fields::from_list(&[(n.clone(), x())]));
        let fields = Fields::new();
        let set = answer(fields.set(&n, &[x()]));
        let append = answer(fields.append(&n, &x()));
        let delete = answer(fields.delete(&n));
        println!("{name}: from-list {list}, set {set}, append {append}, delete {delete}");
    }
    let values: [(&str, &[u8]); 7] = [
        ("cr-lf", b"a\r\nhost: evil"),
        ("nul", b"a\0b"),
        ("del", b"a\x7fb"),
        ("tab", b"a\tb"),
        ("high", b"caf\xc3\xa9"),
        ("empty", b""),
        ("spaces", b" a b "),
    ];
    for (label, value) in values {
        let fields = Fields::new();
        let set = answer(fields.set(&"x-v".to_string(), &[value.to_vec()]));
        let append = answer(fields.append(&"x-v".to_string(), &value.to_vec()));
        let list = answer(Fields::from_list(&[("x-v".to_string(), value.to_vec())]));
        println!("value {label}: set {set}, append {append}, from-list {list}");
    }
    let cl = "content-length".to_string();
    for value in ["5", "+5", "-1", "", "18446744073709551615", "18446744073709551616", "5 "] {
        let fields = Fields::new();
        let set = answer(fields.set(&cl, &[value.as_bytes().to_vec()]));
        println!("content-length {value:?}: set {set}");
    }
    let fields = Fields::new();
    let two = answer(fields.set(&cl, &[b"1".to_vec(), b"2".to_vec()]));
    let first = answer(fields.append(&cl, &b"1".to_vec()));
    let second = answer(fields.append(&cl, &b"2".to_vec()));
    let list = answer(Fields::from_list(&[(cl.clone(), b"1".to_vec()), (cl.clone(), b"1".to_vec())]));
    println!("content-length twice: set {two}, append {first} then {second}, from-list {list}");
    let request = OutgoingRequest::new(Fields::new());
    let headers = request.headers();
    println!(
        "immutable: set x-fine {}, set host {}, append x-fine {}, append bad value {}, delete x-fine {}",
        answer(headers.set(&"x-fine".to_string(), &[x()])),
        answer(headers.set(&"host".to_string(), &[x()])),
        answer(headers.append(&"x-fine".to_string(), &x())),
        answer(headers.append(&"x-fine".to_string(), &b"a\nb".to_vec())),
        answer(headers.delete(&"x-fine".to_string())),
    );
}
