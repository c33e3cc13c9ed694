//! Runs the network script in `NET_SCRIPT` (commands separated by `;`) and
//! prints one line per command: what it got, or the error code of the step
//! that failed. Addresses are `127.0.0.1:80` or `[::1]:80`.
//!
//! - `resolve NAME`: every address, sorted.
//! - `connect ADDR:PORT`: TCP connect, send `ping`, print the reply and the
//!   remote address the socket reports.
//! - `connect-name NAME:PORT`: look NAME up, then connect to its first
//!   address as above.
//! - `listen ADDR:PORT`: bind and listen (kept for `accept`); print the
//!   local address (`:ephemeral` for a port the host chose).
//! - `accept`: accept one connection on the last listener, print its line.
//! - `udp ADDR:PORT`: bind an unspecified address, send `ping` to ADDR:PORT,
//!   print the reply and who it came from.
//! - `udp-connected ADDR:PORT`: the same through a connected stream.
//! - `bind-udp ADDR:PORT`: bind a UDP socket.
//! - `tcp-steps STEP,STEP,...`: one TCP socket (IPv4 unless a step names
//!   an IPv6 address first) taken through the steps `bind=ADDR:PORT`,
//!   `connect=ADDR:PORT` and `listen`; prints each step's result (`ok` or
//!   its error code) and, after a listen that succeeded, the address
//!   listened on. For the state paths of the inbound rules.
//! - `udp-peers ADDR:PORT`: socket A binds ADDR:PORT and takes datagrams
//!   from anyone (`stream` with no remote); clients C and B on loopback
//!   send `early` and then `knock` to A, and A sends `hello` to B. Prints
//!   the first datagram A receives: `early` where A may serve, `knock`
//!   where A only hears the peers it sent to.
use wasi::sockets::instance_network::instance_network;
use wasi::sockets::ip_name_lookup::resolve_addresses;
use wasi::sockets::network::{
    ErrorCode, IpAddress, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, Ipv6SocketAddress,
    Network,
};
use wasi::sockets::tcp::TcpSocket;
use wasi::sockets::tcp_create_socket::create_tcp_socket;
use wasi::sockets::udp::OutgoingDatagram;
use wasi::sockets::udp_create_socket::create_udp_socket;

type Step<T> = Result<T, (&'static str, ErrorCode)>;

fn main() {
    let script = std::env::var("NET_SCRIPT").unwrap_or_default();
    let network = instance_network();
    let mut listener: Option<TcpSocket> = None;
    for command in script.split(';').map(str::trim).filter(|c| !c.is_empty()) {
        let (verb, arg) = command.split_once(' ').unwrap_or((command, ""));
        let result = match verb {
            "resolve" => resolve(&network, arg).map(|ips| {
                let mut ips: Vec<String> = ips.iter().map(show_ip).collect();
                ips.sort();
                ips.join(", ")
            }),
            "connect" => connect(&network, parse_addr(arg)),
            "connect-name" => connect_name(&network, arg),
            "listen" => listen(&network, parse_addr(arg)).map(|(socket, local)| {
                listener = Some(socket);
                local
            }),
            "accept" => match &listener {
                Some(socket) => accept(socket),
                None => Ok("no listener".to_string()),
            },
            "udp" => udp(&network, parse_addr(arg), false),
            "udp-connected" => udp(&network, parse_addr(arg), true),
            "bind-udp" => bind_udp(&network, parse_addr(arg)),
            "tcp-steps" => Ok(tcp_steps(&network, arg)),
            "udp-peers" => udp_peers(&network, parse_addr(arg)),
            other => panic!("unknown command `{other}`"),
        };
        match result {
            Ok(text) => println!("{command}: {text}"),
            Err((step, code)) => println!("{command}: {step} {}", code.name()),
        }
    }
}

fn parse_addr(text: &str) -> IpSocketAddress {
    let (ip, port) = text.rsplit_once(':').expect("ADDR:PORT");
    let port: u16 = port.parse().expect("a port");
    match ip.strip_prefix('[').and_then(|i| i.strip_suffix(']')) {
        Some(v6) => {
            let s = v6.parse::<std::net::Ipv6Addr>().expect("an IPv6 address").segments();
            IpSocketAddress::Ipv6(Ipv6SocketAddress {
                port,
                flow_info: 0,
                address: (s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]),
                scope_id: 0,
            })
        }
        None => {
            let o = ip.parse::<std::net::Ipv4Addr>().expect("an IPv4 address").octets();
            IpSocketAddress::Ipv4(Ipv4SocketAddress {
                port,
                address: (o[0], o[1], o[2], o[3]),
            })
        }
    }
}

fn show_ip(ip: &IpAddress) -> String {
    match *ip {
        IpAddress::Ipv4((a, b, c, d)) => std::net::Ipv4Addr::new(a, b, c, d).to_string(),
        IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => {
            std::net::Ipv6Addr::new(a, b, c, d, e, f, g, h).to_string()
        }
    }
}

fn show(addr: &IpSocketAddress) -> String {
    match addr {
        IpSocketAddress::Ipv4(a) => format!("{}:{}", show_ip(&IpAddress::Ipv4(a.address)), a.port),
        IpSocketAddress::Ipv6(a) => {
            format!("[{}]:{}", show_ip(&IpAddress::Ipv6(a.address)), a.port)
        }
    }
}

fn family(addr: &IpSocketAddress) -> IpAddressFamily {
    match addr {
        IpSocketAddress::Ipv4(_) => IpAddressFamily::Ipv4,
        IpSocketAddress::Ipv6(_) => IpAddressFamily::Ipv6,
    }
}

fn resolve(network: &Network, name: &str) -> Step<Vec<IpAddress>> {
    let lookup = resolve_addresses(network, name).map_err(|e| ("resolve", e))?;
    let mut ips = Vec::new();
    loop {
        match lookup.resolve_next_address() {
            Ok(Some(ip)) => ips.push(ip),
            Ok(None) => return Ok(ips),
            Err(ErrorCode::WouldBlock) => lookup.subscribe().block(),
            Err(e) => return Err(("next-address", e)),
        }
    }
}

fn connect(network: &Network, remote: IpSocketAddress) -> Step<String> {
    let socket = create_tcp_socket(family(&remote)).map_err(|e| ("create", e))?;
    socket
        .start_connect(network, remote)
        .map_err(|e| ("start-connect", e))?;
    let (input, output) = loop {
        match socket.finish_connect() {
            Ok(streams) => break streams,
            Err(ErrorCode::WouldBlock) => socket.subscribe().block(),
            Err(e) => return Err(("finish-connect", e)),
        }
    };
    output.blocking_write_and_flush(b"ping\n").expect("send");
    let reply = read_line(&input);
    let peer = socket.remote_address().map_err(|e| ("remote-address", e))?;
    Ok(format!("{reply} (remote {})", show(&peer)))
}

fn connect_name(network: &Network, arg: &str) -> Step<String> {
    let (name, port) = arg.rsplit_once(':').expect("NAME:PORT");
    let ips = resolve(network, name)?;
    let Some(ip) = ips.first() else {
        return Ok("no address".to_string());
    };
    let text = match *ip {
        IpAddress::Ipv4(_) => format!("{}:{port}", show_ip(ip)),
        IpAddress::Ipv6(_) => format!("[{}]:{port}", show_ip(ip)),
    };
    connect(network, parse_addr(&text)).map(|reply| format!("{} -> {reply}", show_ip(ip)))
}

fn read_line(input: &wasi::io::streams::InputStream) -> String {
    let mut line = Vec::new();
    while !line.ends_with(b"\n") {
        match input.blocking_read(64) {
            Ok(bytes) => line.extend(bytes),
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&line).trim_end().to_string()
}

fn local_text(socket_local: &IpSocketAddress, asked: &IpSocketAddress) -> String {
    let port = |a: &IpSocketAddress| match a {
        IpSocketAddress::Ipv4(a) => a.port,
        IpSocketAddress::Ipv6(a) => a.port,
    };
    let shown = show(socket_local);
    if port(asked) == 0 && port(socket_local) != 0 {
        let (ip, _) = shown.rsplit_once(':').unwrap();
        format!("{ip}:ephemeral")
    } else {
        shown
    }
}

fn listen(network: &Network, local: IpSocketAddress) -> Step<(TcpSocket, String)> {
    let socket = create_tcp_socket(family(&local)).map_err(|e| ("create", e))?;
    socket
        .start_bind(network, local)
        .map_err(|e| ("start-bind", e))?;
    socket.finish_bind().map_err(|e| ("finish-bind", e))?;
    socket.start_listen().map_err(|e| ("start-listen", e))?;
    loop {
        match socket.finish_listen() {
            Ok(()) => break,
            Err(ErrorCode::WouldBlock) => socket.subscribe().block(),
            Err(e) => return Err(("finish-listen", e)),
        }
    }
    let bound = socket.local_address().map_err(|e| ("local-address", e))?;
    let text = format!("listening on {}", local_text(&bound, &local));
    Ok((socket, text))
}

fn accept(listener: &TcpSocket) -> Step<String> {
    let (socket, input, _output) = loop {
        match listener.accept() {
            Ok(accepted) => break accepted,
            Err(ErrorCode::WouldBlock) => listener.subscribe().block(),
            Err(e) => return Err(("accept", e)),
        }
    };
    let line = read_line(&input);
    let local = socket.local_address().map_err(|e| ("local-address", e))?;
    Ok(format!("{line} (local {})", show(&local)))
}

fn unspecified(like: &IpSocketAddress) -> IpSocketAddress {
    match like {
        IpSocketAddress::Ipv4(_) => IpSocketAddress::Ipv4(Ipv4SocketAddress {
            port: 0,
            address: (0, 0, 0, 0),
        }),
        IpSocketAddress::Ipv6(_) => IpSocketAddress::Ipv6(Ipv6SocketAddress {
            port: 0,
            flow_info: 0,
            address: (0, 0, 0, 0, 0, 0, 0, 0),
            scope_id: 0,
        }),
    }
}

fn udp(network: &Network, remote: IpSocketAddress, connected: bool) -> Step<String> {
    let socket = create_udp_socket(family(&remote)).map_err(|e| ("create", e))?;
    socket
        .start_bind(network, unspecified(&remote))
        .map_err(|e| ("start-bind", e))?;
    loop {
        match socket.finish_bind() {
            Ok(()) => break,
            Err(ErrorCode::WouldBlock) => socket.subscribe().block(),
            Err(e) => return Err(("finish-bind", e)),
        }
    }
    let (incoming, outgoing) = socket
        .stream(connected.then_some(remote))
        .map_err(|e| ("stream", e))?;
    loop {
        match outgoing.check_send() {
            Ok(0) => outgoing.subscribe().block(),
            Ok(_) => break,
            Err(e) => return Err(("check-send", e)),
        }
    }
    let datagram = OutgoingDatagram {
        data: b"ping".to_vec(),
        remote_address: (!connected).then_some(remote),
    };
    outgoing.send(&[datagram]).map_err(|e| ("send", e))?;
    let reply = loop {
        match incoming.receive(1) {
            Ok(mut got) if !got.is_empty() => break got.remove(0),
            Ok(_) => incoming.subscribe().block(),
            Err(e) => return Err(("receive", e)),
        }
    };
    let mut text = format!(
        "{} (from {})",
        String::from_utf8_lossy(&reply.data),
        show(&reply.remote_address)
    );
    if connected {
        let peer = socket.remote_address().map_err(|e| ("remote-address", e))?;
        text.push_str(&format!(" (remote {})", show(&peer)));
    }
    Ok(text)
}

fn bind_udp(network: &Network, local: IpSocketAddress) -> Step<String> {
    let socket = create_udp_socket(family(&local)).map_err(|e| ("create", e))?;
    socket
        .start_bind(network, local)
        .map_err(|e| ("start-bind", e))?;
    loop {
        match socket.finish_bind() {
            Ok(()) => break,
            Err(ErrorCode::WouldBlock) => socket.subscribe().block(),
            Err(e) => return Err(("finish-bind", e)),
        }
    }
    let bound = socket.local_address().map_err(|e| ("local-address", e))?;
    Ok(format!("bound {}", local_text(&bound, &local)))
}

fn tcp_steps(network: &Network, steps: &str) -> String {
    let first_v6 = steps.split(',').find_map(|s| s.split_once('=')).is_some_and(|(_, a)| a.starts_with('['));
    let family = if first_v6 { IpAddressFamily::Ipv6 } else { IpAddressFamily::Ipv4 };
    let socket = match create_tcp_socket(family) {
        Ok(socket) => socket,
        Err(e) => return format!("create {}", e.name()),
    };
    let mut out = Vec::new();
    for step in steps.split(',') {
        let (verb, arg) = step.split_once('=').unwrap_or((step, ""));
        let result = match verb {
            "bind" => socket
                .start_bind(network, parse_addr(arg))
                .and_then(|()| finish(&socket, TcpSocket::finish_bind)),
            "connect" => socket
                .start_connect(network, parse_addr(arg))
                .and_then(|()| finish(&socket, TcpSocket::finish_connect).map(drop)),
            "listen" => socket
                .start_listen()
                .and_then(|()| finish(&socket, TcpSocket::finish_listen)),
            other => panic!("unknown step `{other}`"),
        };
        out.push(match result {
            Ok(()) if verb == "listen" => match socket.local_address() {
                Ok(local) => {
                    let asked = steps.split(',').filter_map(|s| s.strip_prefix("bind=")).last();
                    let asked = asked.map_or(unspecified(&local), parse_addr);
                    format!("{step} ok, listening on {}", local_text(&local, &asked))
                }
                Err(e) => format!("{step} ok, local-address {}", e.name()),
            },
            Ok(()) => format!("{step} ok"),
            Err(e) => format!("{step} {}", e.name()),
        });
    }
    out.join("; ")
}

/// Calls a `finish-*` until it no longer would block.
fn finish<T>(socket: &TcpSocket, f: impl Fn(&TcpSocket) -> Result<T, ErrorCode>) -> Result<T, ErrorCode> {
    loop {
        match f(socket) {
            Err(ErrorCode::WouldBlock) => socket.subscribe().block(),
            other => return other,
        }
    }
}

fn udp_peers(network: &Network, local: IpSocketAddress) -> Step<String> {
    let bound = |at: IpSocketAddress| -> Step<_> {
        let socket = create_udp_socket(family(&at)).map_err(|e| ("create", e))?;
        socket.start_bind(network, at).map_err(|e| ("start-bind", e))?;
        loop {
            match socket.finish_bind() {
                Ok(()) => break,
                Err(ErrorCode::WouldBlock) => socket.subscribe().block(),
                Err(e) => return Err(("finish-bind", e)),
            }
        }
        let (incoming, outgoing) = socket.stream(None).map_err(|e| ("stream", e))?;
        let port = match socket.local_address().map_err(|e| ("local-address", e))? {
            IpSocketAddress::Ipv4(a) => a.port,
            IpSocketAddress::Ipv6(a) => a.port,
        };
        Ok((socket, incoming, outgoing, port))
    };
    let loopback = |port| IpSocketAddress::Ipv4(Ipv4SocketAddress { port, address: (127, 0, 0, 1) });
    let send = |outgoing: &wasi::sockets::udp::OutgoingDatagramStream, data: &[u8], to| -> Step<()> {
        loop {
            match outgoing.check_send() {
                Ok(0) => outgoing.subscribe().block(),
                Ok(_) => break,
                Err(e) => return Err(("check-send", e)),
            }
        }
        let datagram = OutgoingDatagram { data: data.to_vec(), remote_address: Some(to) };
        outgoing.send(&[datagram]).map_err(|e| ("send", e)).map(drop)
    };
    let receive = |incoming: &wasi::sockets::udp::IncomingDatagramStream| -> Step<_> {
        loop {
            match incoming.receive(1) {
                Ok(mut got) if !got.is_empty() => return Ok(got.remove(0)),
                Ok(_) => incoming.subscribe().block(),
                Err(e) => return Err(("receive", e)),
            }
        }
    };
    let (_a, a_in, a_out, a_port) = bound(local)?;
    let unspecified_v4 = IpSocketAddress::Ipv4(Ipv4SocketAddress { port: 0, address: (0, 0, 0, 0) });
    let (_b, _b_in, b_out, b_port) = bound(unspecified_v4)?;
    let (_c, _c_in, c_out, _) = bound(unspecified_v4)?;
    send(&c_out, b"early", loopback(a_port))?;
    send(&b_out, b"knock", loopback(a_port))?;
    send(&a_out, b"hello", loopback(b_port))?;
    let first = receive(&a_in)?;
    Ok(format!("A's first datagram: {}", String::from_utf8_lossy(&first.data)))
}
