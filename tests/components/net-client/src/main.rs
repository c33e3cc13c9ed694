//! Resolves the host part of `NET_ADDR` (`host:port`) with
//! `wasi:sockets/ip-name-lookup`, connects over TCP, sends `ping`, and prints
//! the reply; or prints the error code of the step that failed. It calls
//! `wasi:sockets@0.2.4` directly, while std's println imports 0.2.6: a
//! mixed-version component, as real ones can be.
use wasi::sockets::instance_network::instance_network;
use wasi::sockets::ip_name_lookup::resolve_addresses;
use wasi::sockets::network::{ErrorCode, IpAddress, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress};
use wasi::sockets::tcp_create_socket::create_tcp_socket;

fn main() {
    let addr = std::env::var("NET_ADDR").unwrap_or_default();
    match exchange(&addr) {
        Ok(reply) => println!("reply: {}", reply.trim_end()),
        Err((step, code)) => println!("{step} error: {}", code.name()),
    }
}

fn exchange(addr: &str) -> Result<String, (&'static str, ErrorCode)> {
    let (host, port) = addr.rsplit_once(':').expect("NET_ADDR is host:port");
    let port: u16 = port.parse().expect("a port number");
    let network = instance_network();

    let lookup = resolve_addresses(&network, host).map_err(|e| ("resolve", e))?;
    let ip = loop {
        match lookup.resolve_next_address() {
            Ok(Some(IpAddress::Ipv4(ip))) => break ip,
            Ok(Some(IpAddress::Ipv6(_))) => continue,
            Ok(None) => return Err(("resolve", ErrorCode::NameUnresolvable)),
            Err(ErrorCode::WouldBlock) => lookup.subscribe().block(),
            Err(e) => return Err(("resolve", e)),
        }
    };

    let socket = create_tcp_socket(IpAddressFamily::Ipv4).map_err(|e| ("socket", e))?;
    let remote = IpSocketAddress::Ipv4(Ipv4SocketAddress { port, address: ip });
    socket.start_connect(&network, remote).map_err(|e| ("connect", e))?;
    let (input, output) = loop {
        match socket.finish_connect() {
            Ok(streams) => break streams,
            Err(ErrorCode::WouldBlock) => socket.subscribe().block(),
            Err(e) => return Err(("connect", e)),
        }
    };
    output.blocking_write_and_flush(b"ping\n").expect("send");
    let mut reply = Vec::new();
    while !reply.ends_with(b"\n") {
        match input.blocking_read(64) {
            Ok(bytes) => reply.extend(bytes),
            Err(_) => break,
        }
    }
    Ok(String::from_utf8_lossy(&reply).into_owned())
}
