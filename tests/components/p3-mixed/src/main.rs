//! A command that imports WASI 0.3 (`wasi:cli/environment@0.3.0`,
//! `wasi:cli/exit@0.3.0`, `wasi:clocks/monotonic-clock@0.3.0`,
//! `wasi:clocks/system-clock@0.3.0`, `wasi:random/random@0.3.0`) beside
//! the WASI 0.2 that std imports, as components built with wit-bindgen for
//! WASI 0.3 do. Its argument says what to call: `hello` calls none of the
//! 0.3 functions and prints std's view (0.2); `args`, `time` or `random`
//! calls that 0.3 function and prints what it answered; `env` (also without
//! an argument), `clocks`,
//! `random-both` and `random-both-reversed` call the same function at both
//! versions, one after the other, and print both answers; `exit` exits
//! with status 1 through 0.3; `stdin3` reads stdin through 0.3 and `stderr3`
//! writes to stderr through 0.3, each printing (through 0.2's stdout) what
//! the stream and its future answered; `fs3` lists the 0.3 preopens and
//! `net3` creates a TCP and a UDP socket through 0.3.
wit_bindgen::generate!({ path: "wit", world: "app", generate_all });

use crate::wasi::cli::{environment, exit, stderr, stdin, terminal_stderr};
use crate::wasi::clocks::{monotonic_clock, system_clock};
use crate::wasi::random::random;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("hello") => println!("hello; 0.2 arguments {args:?}"),
        Some("args") => println!("0.3 arguments {:?}", environment::get_arguments()),
        Some("time") => println!("0.3 seconds {}", system_clock::now().seconds),
        Some("random") => println!("0.3 random {}", random::get_random_u64()),
        // No argument at all: a policy that denies the environment answers
        // the arguments with none, at both versions.
        None | Some("env") => env(),
        Some("clocks") => clocks(),
        Some("random-both") => {
            println!("0.2 random {}", ::wasi::random::random::get_random_u64());
            println!("0.3 random {}", random::get_random_u64());
        }
        Some("random-both-reversed") => {
            println!("0.3 random {}", random::get_random_u64());
            println!("0.2 random {}", ::wasi::random::random::get_random_u64());
        }
        Some("stdin3") => stdin3(),
        Some("stderr3") => stderr3(),
        Some("fs3") => {
            let dirs = wasi::filesystem::preopens::get_directories();
            let names: Vec<&str> = dirs.iter().map(|(_, name)| name.as_str()).collect();
            println!("0.3 preopens {names:?}");
        }
        Some("net3") => net3(),
        Some("exit") => {
            println!("exiting through 0.3");
            exit::exit(Err(()));
        }
        other => {
            eprintln!(
                "usage: p3-mixed hello | args | time | random | env | clocks | random-both \
                 | random-both-reversed | stdin3 | stderr3 | fs3 | net3 | exit (got {other:?})"
            );
            std::process::exit(2);
        }
    }
}

/// The environment as 0.2 (std) and 0.3 see it.
fn env() {
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    vars.sort();
    let mut vars3 = environment::get_environment();
    vars3.sort();
    println!("0.2 variables {vars:?}");
    println!("0.3 variables {vars3:?}");
    println!("0.2 arguments {:?}", std::env::args().collect::<Vec<_>>());
    println!("0.3 arguments {:?}", environment::get_arguments());
    println!("0.3 cwd {:?}", environment::get_initial_cwd());
}

/// Each clock read at 0.2, then at 0.3.
fn clocks() {
    let wall = ::wasi::clocks::wall_clock::now();
    let system = system_clock::now();
    println!("0.2 wall clock {}.{:09}", wall.seconds, wall.nanoseconds);
    println!("0.3 system clock {}.{:09}", system.seconds, system.nanoseconds);
    println!("0.2 monotonic {}", ::wasi::clocks::monotonic_clock::now());
    println!("0.3 monotonic {}", monotonic_clock::now());
    println!(
        "0.3 resolutions {} {}",
        monotonic_clock::get_resolution(),
        system_clock::get_resolution()
    );
}

/// Stdin read to its end through 0.3: how many bytes, then its future.
fn stdin3() {
    let (data, done) = stdin::read_via_stream();
    let data = wit_bindgen::block_on(data.collect());
    let done = wit_bindgen::block_on(std::future::IntoFuture::into_future(done));
    println!("0.3 stdin: {} bytes, then {done:?}", data.len());
}

/// A line written to stderr through 0.3: how much of it the stream did not
/// take, its future, and whether stderr is a terminal.
fn stderr3() {
    let (mut tx, rx) = wit_stream::new();
    let done = stderr::write_via_stream(rx);
    let rest = wit_bindgen::block_on(tx.write_all(b"through 0.3\n".to_vec()));
    drop(tx);
    let done = wit_bindgen::block_on(std::future::IntoFuture::into_future(done));
    println!("0.3 stderr: {} bytes not taken, then {done:?}", rest.len());
    let terminal = terminal_stderr::get_terminal_stderr().is_some();
    println!("0.3 stderr is a terminal: {terminal}");
}

/// A TCP and a UDP socket created through 0.3: what each creation answered.
fn net3() {
    use crate::wasi::sockets::types::{IpAddressFamily, TcpSocket, UdpSocket};
    let tcp = TcpSocket::create(IpAddressFamily::Ipv4).map(drop);
    println!("0.3 tcp socket {tcp:?}");
    let udp = UdpSocket::create(IpAddressFamily::Ipv6).map(drop);
    println!("0.3 udp socket {udp:?}");
}
