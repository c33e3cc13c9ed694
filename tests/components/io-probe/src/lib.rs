//! Calls the standard streams, `wasi:io` and `wasi:cli/environment`
//! directly, and returns every answer as a line of text; the steps that
//! trap under deny (`exit`, `clocks`, `random`) call one function each.
use std::fmt::Write;
use ::wasi::cli::{environment, stderr, stdin, stdout, terminal_stderr, terminal_stdin, terminal_stdout};
use ::wasi::io::poll;
use ::wasi::io::streams::{InputStream, OutputStream, StreamError};

wit_bindgen::generate!({
    path: ["../../../wit/deps/config", "wit"],
    world: "test:io-probe/io-probe",
    generate_all,
});

struct Probe;

impl Guest for Probe {
    fn probe(step: String) -> String {
        let mut out = String::new();
        match step.as_str() {
            "streams" => streams(&mut out),
            "env" => env(&mut out),
            "sockets" => sockets(&mut out),
            "exit" => ::wasi::cli::exit::exit(Err(())),
            "clocks" => {
                let _ = writeln!(out, "now {}", ::wasi::clocks::monotonic_clock::now());
            }
            "random" => {
                let _ = writeln!(out, "u64 {}", ::wasi::random::random::get_random_u64());
            }
            other if other.starts_with("config:") => config(&mut out, &other[7..]),
            other => {
                let _ = writeln!(out, "unknown step {other}");
            }
        }
        out
    }
}

/// A stream error in words; the error's own text for a failed operation.
fn error(e: &StreamError) -> String {
    match e {
        StreamError::LastOperationFailed(e) => format!("failed: {}", e.to_debug_string()),
        StreamError::Closed => "closed".into(),
    }
}

fn answer<T: std::fmt::Debug>(r: Result<T, StreamError>) -> String {
    match r {
        Ok(v) => format!("ok {v:?}"),
        Err(e) => error(&e),
    }
}

fn output(out: &mut String, name: &str, s: &OutputStream, from: &InputStream) {
    let lines = [
        ("check-write", answer(s.check_write())),
        ("write", answer(s.write(b"probe\n"))),
        ("write empty", answer(s.write(b""))),
        ("blocking-write-and-flush", answer(s.blocking_write_and_flush(b"probe\n"))),
        ("flush", answer(s.flush())),
        ("blocking-flush", answer(s.blocking_flush())),
        ("write-zeroes", answer(s.write_zeroes(3))),
        ("blocking-write-zeroes-and-flush", answer(s.blocking_write_zeroes_and_flush(2))),
        ("splice", answer(s.splice(from, 10))),
        ("blocking-splice", answer(s.blocking_splice(from, 10))),
    ];
    for (call, said) in lines {
        let _ = writeln!(out, "{name} {call}: {said}");
    }
    let p = s.subscribe();
    let _ = writeln!(out, "{name} ready: {}", p.ready());
    p.block();
}

fn streams(out: &mut String) {
    let input = stdin::get_stdin();
    for (call, said) in [
        ("read", answer(input.read(5))),
        ("blocking-read", answer(input.blocking_read(5))),
        ("read nothing", answer(input.read(0))),
        ("skip", answer(input.skip(5))),
        ("blocking-skip", answer(input.blocking_skip(5))),
    ] {
        let _ = writeln!(out, "stdin {call}: {said}");
    }
    let (o, e) = (stdout::get_stdout(), stderr::get_stderr());
    output(out, "stdout", &o, &input);
    output(out, "stderr", &e, &input);
    // A splice from the other way round's source, and twice the same one.
    let _ = writeln!(out, "second stdin read: {}", answer(stdin::get_stdin().read(1)));
    let pollables = [input.subscribe(), o.subscribe(), e.subscribe(), o.subscribe()];
    let ready = poll::poll(&pollables.iter().collect::<Vec<_>>());
    let _ = writeln!(out, "poll: {ready:?}");
    let _ = writeln!(
        out,
        "terminals: {} {} {}",
        terminal_stdin::get_terminal_stdin().is_some(),
        terminal_stdout::get_terminal_stdout().is_some(),
        terminal_stderr::get_terminal_stderr().is_some()
    );
}

fn sockets(out: &mut String) {
    use ::wasi::sockets::network::IpAddressFamily;
    use ::wasi::sockets::{instance_network, ip_name_lookup, tcp_create_socket, udp_create_socket};
    let network = instance_network::instance_network();
    let tcp = tcp_create_socket::create_tcp_socket(IpAddressFamily::Ipv4).map(|_| ()).map_err(|e| e.name());
    let udp = udp_create_socket::create_udp_socket(IpAddressFamily::Ipv6).map(|_| ()).map_err(|e| e.name());
    let lookup = ip_name_lookup::resolve_addresses(&network, "localhost").map(|_| ()).map_err(|e| e.name());
    let _ = writeln!(out, "tcp {tcp:?}\nudp {udp:?}\nlookup {lookup:?}");
}

/// `wasi:config/store`: `get` of each key, then `get-all`.
fn config(out: &mut String, keys: &str) {
    use self::wasi::config::store;
    for key in keys.split(',') {
        let _ = writeln!(out, "get {key:?}: {:?}", store::get(key));
    }
    let _ = writeln!(out, "get-all: {:?}", store::get_all());
}

fn env(out: &mut String) {
    for (k, v) in environment::get_environment() {
        let _ = writeln!(out, "var {k}={v}");
    }
    let _ = writeln!(out, "args {:?}", environment::get_arguments());
    let _ = writeln!(out, "cwd {:?}", environment::initial_cwd());
}

export!(Probe);
