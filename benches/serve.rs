//! Serving throughput (not a test): `cargo bench --bench serve`. Prints
//! requests per second and ratios; asserts nothing about time.
//!
//! The `http-server` guest is served twice over loopback, as `wasmtime
//! serve` serves a component (the harness's host: a fresh instance for
//! each request): as it was, reading a host preopen, and virtualized, with
//! the same directory embedded and stdout allowed. 32 clients send requests
//! to one server at a time, each on a new connection, for a fixed time:
//!
//! - `GET /file?/data/greeting.txt`, a 10-byte file;
//! - `POST /echo` with a 1 MiB body, which the guest streams back.
//!
//! Clients and servers share this process and its cores, the same for both
//! servers, so the ratio is the figure to read.

#[path = "../tests/harness/mod.rs"]
mod harness;

#[allow(dead_code)]
mod goals;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const CLIENTS: usize = 32;

/// One kind of request the clients send, and what its answer must be.
struct Load {
    label: &'static str,
    method: &'static str,
    target: &'static str,
    body: Vec<u8>,
    expect: Vec<u8>,
    time: Duration,
}

fn main() {
    let (server, host, served) = harness::http_server_both_ways();
    let direct = harness::HttpServer::start(&server, &host).unwrap();
    let through = harness::HttpServer::start(&served, &harness::Host::default()).unwrap();

    let greeting = std::fs::read(harness::repo().join("tests/fixtures/data/greeting.txt")).unwrap();
    let megabyte: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    let small = Load {
        label: "GET a 10-byte file",
        method: "GET",
        target: "/file?/data/greeting.txt",
        body: Vec::new(),
        expect: greeting,
        time: Duration::from_secs(3),
    };
    let large = Load {
        label: "POST /echo, 1 MiB body",
        method: "POST",
        target: "/echo",
        body: megabyte.clone(),
        expect: megabyte,
        time: Duration::from_secs(4),
    };
    println!("serving throughput, http-server, {CLIENTS} clients, a new connection per request");
    let mut ratios = Vec::new();
    for load in [&small, &large] {
        let as_it_was = throughput(&direct, load);
        let virtualized = throughput(&through, load);
        let ratio = virtualized / as_it_was;
        println!(
            "  {:<24} {virtualized:>8.0} req/s virtualized, {as_it_was:>8.0} req/s as it was (ratio {ratio:.2})",
            load.label
        );
        ratios.push(ratio);
    }
    println!("goals (`benches/goals.sh` prints these with every other row)");
    goals::SERVE_SMALL_RATIO.print(ratios[0]);
    goals::SERVE_LARGE_RATIO.print(ratios[1]);
}

/// Requests per second that `CLIENTS` clients get answered by `server`
/// with `load` for `load.time`, after a warm-up request; every answer is
/// checked.
fn throughput(server: &harness::HttpServer, load: &Load) -> f64 {
    let request = || {
        let r =
            harness::http_request(server.addr, load.method, load.target, &[], &load.body).unwrap();
        assert_eq!(r.status, 200, "{}", server.logs());
        assert!(r.body == load.expect, "{}: a wrong body", load.label);
    };
    request();
    let stop = AtomicBool::new(false);
    let answered = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..CLIENTS {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    request();
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(load.time);
        stop.store(true, Ordering::Relaxed);
    });
    answered.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}
