//! The `touch` step: one harmless call into every WASI 0.2 interface the
//! adapter can virtualize, through the `wasi` crate, so that the component
//! imports each of them whatever std happens to link. The encapsulation
//! sweep (tests/sweep.rs) checks that none is missing. Each call prints one
//! line; a denied one prints its error or traps, like the other steps.
use ::wasi::cli::{
    environment, stderr, stdin, stdout, terminal_stderr, terminal_stdin, terminal_stdout,
};
use ::wasi::clocks::{monotonic_clock, wall_clock};
use ::wasi::filesystem::preopens;
use ::wasi::io::poll;
use ::wasi::random::{insecure, insecure_seed, random};
use ::wasi::sockets::network::IpAddressFamily;
use ::wasi::sockets::{instance_network, ip_name_lookup, tcp_create_socket, udp_create_socket};

pub fn run() {
    cli();
    clocks_and_random();
    filesystem();
    sockets();
    // wasi:http and wasi:config are the `http` and `config` steps;
    // wasi:cli/exit is the `exit` step.
}

/// wasi:cli/{environment,stdin,stdout,stderr,terminal-*} and wasi:io.
fn cli() {
    println!(
        "touch environment: {}",
        environment::get_environment().len()
    );
    println!("touch arguments: {}", environment::get_arguments().len());
    println!("touch cwd: {:?}", environment::initial_cwd());
    let input = stdin::get_stdin();
    println!("touch stdin ready: {}", input.subscribe().ready());
    let out = stdout::get_stdout();
    match out.blocking_write_and_flush(b"touch stdout\n") {
        Ok(()) => println!("touch stdout ok"),
        Err(::wasi::io::streams::StreamError::LastOperationFailed(e)) => {
            println!("touch stdout error: {}", e.to_debug_string())
        }
        Err(::wasi::io::streams::StreamError::Closed) => println!("touch stdout closed"),
    }
    println!("touch poll: {:?}", poll::poll(&[&out.subscribe()]));
    println!(
        "touch stderr check: {:?}",
        stderr::get_stderr().check_write().is_ok()
    );
    println!(
        "touch terminals: {} {} {}",
        terminal_stdin::get_terminal_stdin().is_some(),
        terminal_stdout::get_terminal_stdout().is_some(),
        terminal_stderr::get_terminal_stderr().is_some()
    );
}

/// wasi:clocks/* and wasi:random/*.
fn clocks_and_random() {
    println!("touch monotonic: {}", monotonic_clock::now() > 0);
    println!("touch wall: {}", wall_clock::now().seconds > 0);
    println!("touch random: {}", random::get_random_bytes(4).len());
    println!(
        "touch insecure: {}",
        insecure::get_insecure_random_bytes(4).len()
    );
    let (a, b) = insecure_seed::insecure_seed();
    println!("touch insecure seed: {}", a | b != 0);
}

/// wasi:filesystem/{types,preopens}.
fn filesystem() {
    for (dir, path) in preopens::get_directories() {
        println!("touch preopen {path}: {:?}", dir.get_type());
    }
}

/// wasi:sockets/*.
fn sockets() {
    let network = instance_network::instance_network();
    match ip_name_lookup::resolve_addresses(&network, "localhost") {
        Ok(_) => println!("touch lookup ok"),
        Err(e) => println!("touch lookup error: {}", e.name()),
    }
    match tcp_create_socket::create_tcp_socket(IpAddressFamily::Ipv4) {
        Ok(socket) => println!("touch tcp: {:?}", socket.address_family()),
        Err(e) => println!("touch tcp error: {}", e.name()),
    }
    match udp_create_socket::create_udp_socket(IpAddressFamily::Ipv4) {
        Ok(socket) => println!("touch udp: {:?}", socket.address_family()),
        Err(e) => println!("touch udp error: {}", e.name()),
    }
}
