//! An HTTP service at WASI 0.3 (`wasi:http/handler@0.3.0`). It answers
//! `200` with a text body: for `/fetch?to=AUTHORITY/PATH`, what a `GET` of
//! `http://AUTHORITY/PATH` through `wasi:http/client` gave (the status
//! and body, or the error); for any other target, `hello from TARGET`
//! and the request's method.
wit_bindgen::generate!({ path: "wit", world: "service", generate_all });

use crate::wasi::http::client;
use crate::wasi::http::types::{ErrorCode, Fields, Method, Request, Response, Scheme};

struct Service;

impl exports::wasi::http::handler::Guest for Service {
    async fn handle(request: Request) -> Result<Response, ErrorCode> {
        let target = request.get_path_with_query().unwrap_or_default();
        let text = match target.strip_prefix("/fetch?to=") {
            Some(url) => fetch(url).await,
            None => format!("hello from {target} ({:?})\n", request.get_method()),
        };
        let headers = Fields::from_list(&[("content-type".into(), b"text/plain".to_vec())])
            .expect("valid fields");
        let (mut body, contents) = wit_stream::new();
        let (trailers, trailers_rx) = wit_future::new(|| Ok(None));
        let (response, _sent) = Response::new(headers, Some(contents), trailers_rx);
        wit_bindgen::spawn_local(async move {
            body.write_all(text.into_bytes()).await;
            drop(body);
            let _ = trailers.write(Ok(None)).await;
        });
        Ok(response)
    }
}

export!(Service);

/// `GET http://URL` through the client: what came back, as text.
async fn fetch(url: &str) -> String {
    let (authority, path) = url.split_once('/').map_or((url, "/".to_string()), |(a, p)| (a, format!("/{p}")));
    let (_, trailers) = wit_future::new(|| Ok(None));
    let (request, _sent) = Request::new(Fields::new(), None, trailers, None);
    let parts = [
        request.set_method(&Method::Get),
        request.set_scheme(Some(&Scheme::Http)),
        request.set_authority(Some(authority)),
        request.set_path_with_query(Some(&path)),
    ];
    if parts.iter().any(Result::is_err) {
        return format!("fetch {url}: a bad part {parts:?}\n");
    }
    match client::send(request).await {
        Ok(response) => {
            let status = response.get_status_code();
            let (_keep, res) = wit_future::new(|| Ok(()));
            let (body, _trailers) = Response::consume_body(response, res);
            let body = body.collect().await;
            format!("fetch {url}: {status} {}\n", String::from_utf8_lossy(&body))
        }
        Err(e) => format!("fetch {url}: {e:?}\n"),
    }
}
