//! Calls WASI 0.3's environment, standard streams (their streams and
//! futures), terminals, preopens and sockets directly, and returns every
//! answer as a line of text; the steps that trap under deny (`exit`,
//! `clocks`, `random`) call one function each.
use std::fmt::Write;

wit_bindgen::generate!({
    path: [
        "../p3-mixed/wit/deps/clocks.wit",
        "../p3-mixed/wit/deps/filesystem.wit",
        "../p3-mixed/wit/deps/random.wit",
        "../p3-mixed/wit/deps/sockets.wit",
        "../p3-mixed/wit/deps/cli.wit",
        "wit/world.wit",
    ],
    world: "test:p3-probe/p3-probe",
    generate_all,
});

use wasi::cli::{
    environment, exit, stderr, stdin, stdout, terminal_stderr, terminal_stdin, terminal_stdout,
};

struct Probe;

impl Guest for Probe {
    fn probe(step: String) -> String {
        let mut out = String::new();
        match step.as_str() {
            "env" => env(&mut out),
            "stdio" => stdio(&mut out),
            "fs" => {
                let dirs = wasi::filesystem::preopens::get_directories();
                let names: Vec<&str> = dirs.iter().map(|(_, name)| name.as_str()).collect();
                let _ = writeln!(out, "preopens {names:?}");
            }
            "sockets" => sockets(&mut out),
            "exit" => exit::exit_with_code(3),
            "clocks" => {
                let _ = writeln!(out, "now {}", wasi::clocks::monotonic_clock::now());
            }
            "random" => {
                let _ = writeln!(out, "u64 {}", wasi::random::random::get_random_u64());
            }
            other => {
                let _ = writeln!(out, "unknown step {other}");
            }
        }
        out
    }
}

fn env(out: &mut String) {
    for (k, v) in environment::get_environment() {
        let _ = writeln!(out, "var {k}={v}");
    }
    let _ = writeln!(out, "args {:?}", environment::get_arguments());
    let _ = writeln!(out, "cwd {:?}", environment::get_initial_cwd());
}

/// Each stream read to its end or written, and its future; twice, since
/// each call hands out a stream and a future of its own; then whether each
/// stream is a terminal.
fn stdio(out: &mut String) {
    for _ in 0..2 {
        let (data, done) = stdin::read_via_stream();
        let data = wit_bindgen::block_on(data.collect());
        let done = wit_bindgen::block_on(std::future::IntoFuture::into_future(done));
        let _ = writeln!(out, "stdin: {} bytes, then {done:?}", data.len());
        for (name, write) in [
            ("stdout", stdout::write_via_stream as fn(_) -> _),
            ("stderr", stderr::write_via_stream),
        ] {
            let (mut tx, rx) = wit_stream::new();
            let done = write(rx);
            let rest = wit_bindgen::block_on(tx.write_all(b"through 0.3\n".to_vec()));
            drop(tx);
            let done = wit_bindgen::block_on(std::future::IntoFuture::into_future(done));
            let _ = writeln!(out, "{name}: {} bytes not taken, then {done:?}", rest.len());
        }
    }
    let _ = writeln!(
        out,
        "terminals: {} {} {}",
        terminal_stdin::get_terminal_stdin().is_some(),
        terminal_stdout::get_terminal_stdout().is_some(),
        terminal_stderr::get_terminal_stderr().is_some()
    );
}

fn sockets(out: &mut String) {
    use wasi::sockets::types::{IpAddressFamily, TcpSocket, UdpSocket};
    let tcp = TcpSocket::create(IpAddressFamily::Ipv4).map(drop);
    let _ = writeln!(out, "tcp {tcp:?}");
    let udp = UdpSocket::create(IpAddressFamily::Ipv6).map(drop);
    let _ = writeln!(out, "udp {udp:?}");
    let lookup = wit_bindgen::block_on(wasi::sockets::ip_name_lookup::resolve_addresses(
        "example.com".into(),
    ));
    let _ = writeln!(out, "lookup {:?}", lookup.map(drop));
}

export!(Probe);
