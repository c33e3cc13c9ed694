//! The probe (see `probe`), plus steps for every other subsystem, so that
//! one component uses all of WASI: `fs:PATH` (read a file), `tcp` (create a
//! socket), `http:AUTHORITY` (GET `/probe`; `http-with-options:AUTHORITY`
//! with request options), `config:KEY`, and `touch`
//! (one call into every other WASI interface, so that it imports them all).
#[path = "../../probe/src/steps.rs"]
mod steps;
mod touch;

/// `wasi:config/store`, which the `wasi` crate does not cover.
mod bindings {
    wit_bindgen::generate!({
        path: ["../../../wit/deps/config", "wit"],
        world: "test:probe-all/probe-all",
        generate_all,
    });
}

fn main() {
    let probe = std::env::var("PROBE").unwrap_or_default();
    for step in probe.split(',').filter(|s| !s.is_empty()) {
        let (name, arg) = step.split_once(':').unwrap_or((step, ""));
        if steps::run(name, arg) {
            continue;
        }
        match name {
            "fs" => match std::fs::read_to_string(arg) {
                Ok(text) => println!("fs ok: {} bytes", text.len()),
                Err(e) => println!("fs error: {:?}", e.kind()),
            },
            "tcp" => {
                use ::wasi::sockets::network::IpAddressFamily;
                match ::wasi::sockets::tcp_create_socket::create_tcp_socket(IpAddressFamily::Ipv4) {
                    Ok(_) => println!("tcp ok"),
                    Err(e) => println!("tcp error: {}", e.name()),
                }
            }
            "http" => http(arg, None),
            // The same request given options (a connect timeout), which a
            // denied `handle` drops with the request.
            "http-with-options" => {
                let options = ::wasi::http::types::RequestOptions::new();
                options.set_connect_timeout(Some(10_000_000_000)).unwrap();
                http(arg, Some(options));
            }
            "touch" => touch::run(),
            "config" => match bindings::wasi::config::store::get(arg) {
                Ok(v) => println!("config {arg}: {v:?}"),
                Err(e) => println!("config error: {e:?}"),
            },
            other => println!("unknown step {other}"),
        }
    }
    println!("done");
}

/// A GET of `/probe` from `authority`, with `options` if given.
fn http(authority: &str, options: Option<::wasi::http::types::RequestOptions>) {
    use ::wasi::http::types::{Fields, OutgoingRequest, Scheme};
    let request = OutgoingRequest::new(Fields::new());
    request.set_scheme(Some(&Scheme::Http)).unwrap();
    request.set_authority(Some(authority)).unwrap();
    request.set_path_with_query(Some("/probe")).unwrap();
    match ::wasi::http::outgoing_handler::handle(request, options) {
        Ok(future) => {
            future.subscribe().block();
            match future.get() {
                Some(Ok(Ok(response))) => println!("http status {}", response.status()),
                other => println!("http response error: {other:?}"),
            }
        }
        Err(e) => println!("http error: {e:?}"),
    }
}
