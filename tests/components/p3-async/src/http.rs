//! WASI 0.3's `wasi:http`: every step of building a request and a response
//! printed as it answered (`types`), and a request sent (`send`).

use crate::wasi::http::client;
use crate::wasi::http::types::{
    ErrorCode, Fields, Method, Request, RequestOptions, Response, Scheme,
};
use crate::{wit_future, wit_stream};

/// Builds fields, options, a request and a response, printing each answer.
pub async fn types() {
    let fields = fields();
    let options = options();
    request(fields, options).await;
    response().await;
}

/// Fields built, changed, cloned and listed, each step printed.
fn fields() -> Fields {
    let fields = Fields::new();
    let steps: [(&str, &[u8]); 8] = [
        ("Content-Type", b"text/plain"),
        ("X-Multi", b"a"),
        ("x-multi", b"b"),
        ("bad name", b"x"),
        ("connection", b"close"),
        ("x-bad", b"a\nb"),
        ("content-length", b"007"),
        ("Content-Length", b"8"),
    ];
    for (name, value) in steps {
        println!("append {name:?}: {:?}", fields.append(name, value));
    }
    println!("get x-multi: {:?}", text(fields.get("X-MULTI")));
    println!("has CONTENT-TYPE: {}", fields.has("CONTENT-TYPE"));
    println!("has x-none: {}", fields.has("x-none"));
    println!(
        "set content-length twice: {:?}",
        fields.set("content-length", &[b"1".to_vec(), b"2".to_vec()])
    );
    println!(
        "set x-multi to c: {:?}",
        fields.set("x-multi", &[b"c".to_vec()])
    );
    println!(
        "set host: {:?}",
        fields.set("host", &[b"example.com".to_vec()])
    );
    println!(
        "get-and-delete content-type: {:?}",
        fields.get_and_delete("Content-Type").map(text)
    );
    println!(
        "get-and-delete x-none: {:?}",
        fields.get_and_delete("x-none").map(text)
    );
    println!("delete bad name: {:?}", fields.delete("bad name"));
    println!("set x-empty to nothing: {:?}", fields.set("x-empty", &[]));
    println!("copy-all: {:?}", pairs(fields.copy_all()));
    let copy = fields.clone();
    println!("clone, append: {:?}", copy.append("x-copy", b"1"));
    println!("clone's copy-all: {:?}", pairs(copy.copy_all()));
    let listed = Fields::from_list(&[
        ("a".into(), b"1".to_vec()),
        ("bad name".into(), b"x".to_vec()),
    ]);
    println!(
        "from-list with a bad name: {:?}",
        listed.map(|f| pairs(f.copy_all()))
    );
    let listed = Fields::from_list(&[
        ("B".into(), b"2".to_vec()),
        ("a".into(), b"1".to_vec()),
        ("b".into(), b"3".to_vec()),
    ]);
    println!("from-list: {:?}", listed.map(|f| pairs(f.copy_all())));
    fields
}

/// Request options set, cloned and read, each step printed.
fn options() -> RequestOptions {
    let options = RequestOptions::new();
    println!(
        "options connect: {:?}",
        options.set_connect_timeout(Some(5_000))
    );
    println!(
        "options first byte: {:?}",
        options.set_first_byte_timeout(None)
    );
    let again = options.clone();
    println!(
        "options clone between: {:?}",
        again.set_between_bytes_timeout(Some(7))
    );
    println!(
        "options read: {:?} {:?} {:?}",
        again.get_connect_timeout(),
        again.get_first_byte_timeout(),
        again.get_between_bytes_timeout()
    );
    options
}

async fn request(headers: Fields, options: RequestOptions) {
    let (trailers_tx, trailers_rx) = wit_future::new(|| Ok(None));
    let (request, _transmitted) = Request::new(headers, None, trailers_rx, Some(options));
    let headers = request.get_headers();
    println!("request headers: {:?}", pairs(headers.copy_all()));
    println!(
        "request headers, append: {:?}",
        headers.append("x-late", b"1")
    );
    println!("method: {:?}", request.get_method());
    for method in [
        Method::Other("GET".into()),
        Method::Other("bad method".into()),
        Method::Other("PURGE".into()),
        Method::Patch,
    ] {
        println!(
            "set method {method:?}: {:?} -> {:?}",
            request.set_method(&method),
            request.get_method()
        );
    }
    for scheme in [
        Some(Scheme::Other("http".into())),
        Some(Scheme::Other("not a scheme!".into())),
        Some(Scheme::Other("ftp".into())),
        None,
        Some(Scheme::Https),
    ] {
        println!(
            "set scheme {scheme:?}: {:?} -> {:?}",
            request.set_scheme(scheme.as_ref()),
            request.get_scheme()
        );
    }
    for authority in [
        "example.com:80",
        "example.com:abc",
        "",
        "[::1]:8080",
        "user@host",
        "a b",
        "example.com",
    ] {
        println!(
            "set authority {authority:?}: {:?} -> {:?}",
            request.set_authority(Some(authority)),
            request.get_authority()
        );
    }
    for path in ["/a?b=c", "no-slash", "/with space", "?q", "", "/x"] {
        println!(
            "set path {path:?}: {:?} -> {:?}",
            request.set_path_with_query(Some(path)),
            request.get_path_with_query()
        );
    }
    let options = request.get_options().expect("options were given");
    println!(
        "request options: {:?}; set: {:?}",
        options.get_connect_timeout(),
        options.set_connect_timeout(Some(1))
    );
    drop(options);
    let (res_tx, res_rx) = wit_future::new(|| Ok(()));
    let (body, trailers) = Request::consume_body(request, res_rx);
    println!("request body: {} bytes", body.collect().await.len());
    // The trailers are this component's own future: the component model
    // does not let a component read what it writes itself, so they are
    // dropped unread (as a body it wrote would be).
    drop((trailers, trailers_tx, res_tx));
}

async fn response() {
    let (body_tx, body_rx) = wit_stream::new::<u8>();
    let (trailers_tx, trailers_rx) = wit_future::new(|| Ok(None));
    let headers = Fields::from_list(&[("x-r".into(), b"1".to_vec())]).expect("valid fields");
    let (response, _transmitted) = Response::new(headers, Some(body_rx), trailers_rx);
    println!("status: {}", response.get_status_code());
    for status in [99, 404, 600, 599] {
        println!(
            "set status {status}: {:?} -> {}",
            response.set_status_code(status),
            response.get_status_code()
        );
    }
    println!(
        "response headers: {:?}",
        pairs(response.get_headers().copy_all())
    );
    let (res_tx, res_rx) = wit_future::new(|| Ok(()));
    let (body, trailers) = Response::consume_body(response, res_rx);
    println!("response consumed");
    drop((body, trailers, body_tx, trailers_tx, res_tx));
}

/// Posts `ping` to `http://AUTHORITY/PATH`, printing what comes back.
pub async fn send(authority: &str, path: &str) {
    let headers = Fields::from_list(&[
        ("content-type".into(), b"text/plain".to_vec()),
        ("content-length".into(), b"4".to_vec()),
    ])
    .expect("valid fields");
    let (mut body_tx, body_rx) = wit_stream::new();
    let (trailers_tx, trailers_rx) = wit_future::new(|| Ok(None));
    let (request, transmitted) = Request::new(headers, Some(body_rx), trailers_rx, None);
    request.set_method(&Method::Post).expect("a method");
    request.set_scheme(Some(&Scheme::Http)).expect("a scheme");
    request
        .set_authority(Some(authority))
        .expect("an authority");
    request.set_path_with_query(Some(path)).expect("a path");
    let writer = wit_bindgen::spawn_local(async move {
        let rest = body_tx.write_all(b"ping".to_vec()).await;
        drop(body_tx);
        let _ = trailers_tx.write(Ok(None)).await;
        rest.len()
    });
    println!("POST {path}");
    match client::send(request).await {
        Ok(response) => {
            println!("status: {}", response.get_status_code());
            let (res_tx, res_rx) = wit_future::new(|| Ok(()));
            let (body, _trailers) = Response::consume_body(response, res_rx);
            println!("body: {:?}", String::from_utf8_lossy(&body.collect().await));
            drop(res_tx);
        }
        Err(e) => println!("send: {e:?}"),
    }
    println!("body bytes not taken: {:?}", writer.await);
    println!("request: {:?}", transmitted.await.map_err(|e: ErrorCode| e));
}

fn text(values: Vec<Vec<u8>>) -> Vec<String> {
    values
        .into_iter()
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .collect()
}

fn pairs(entries: Vec<(String, Vec<u8>)>) -> Vec<(String, String)> {
    entries
        .into_iter()
        .map(|(n, v)| (n, String::from_utf8_lossy(&v).into_owned()))
        .collect()
}
