//! WASI 0.3's sockets, one step at a time, each printing what it answered.

use crate::wasi::sockets::ip_name_lookup;
use crate::wasi::sockets::types::{
    IpAddress, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, Ipv6SocketAddress, TcpSocket,
    UdpSocket,
};
use crate::wit_stream;
use std::net::{IpAddr, SocketAddr};

/// Runs one step: `connect ADDR` (a line sent, the reply read to its
/// end), `udp ADDR` (a datagram sent, one received), `resolve NAME`,
/// `listen ADDR` (bound, then listening).
pub async fn step(step: &str) {
    let (verb, arg) = step.split_once(' ').unwrap_or((step, ""));
    let outcome = match verb {
        "connect" => connect(arg).await,
        "udp" => udp(arg).await,
        "resolve" => resolve(arg).await,
        "listen" => listen(arg),
        other => Err(format!("unknown step `{other}`")),
    };
    match outcome {
        Ok(done) => println!("{step}: {done}"),
        Err(e) => println!("{step}: error {e}"),
    }
}

fn parse(addr: &str) -> Result<IpSocketAddress, String> {
    let a: SocketAddr = addr.parse().map_err(|e| format!("bad address: {e}"))?;
    Ok(match a {
        SocketAddr::V4(a) => {
            let [x, y, z, w] = a.ip().octets();
            IpSocketAddress::Ipv4(Ipv4SocketAddress {
                port: a.port(),
                address: (x, y, z, w),
            })
        }
        SocketAddr::V6(a) => {
            let [x0, x1, x2, x3, x4, x5, x6, x7] = a.ip().segments();
            IpSocketAddress::Ipv6(Ipv6SocketAddress {
                port: a.port(),
                flow_info: 0,
                address: (x0, x1, x2, x3, x4, x5, x6, x7),
                scope_id: 0,
            })
        }
    })
}

fn family(a: &IpSocketAddress) -> IpAddressFamily {
    match a {
        IpSocketAddress::Ipv4(_) => IpAddressFamily::Ipv4,
        IpSocketAddress::Ipv6(_) => IpAddressFamily::Ipv6,
    }
}

fn show(a: &IpSocketAddress) -> String {
    match a {
        IpSocketAddress::Ipv4(a) => {
            let (x, y, z, w) = a.address;
            format!("{x}.{y}.{z}.{w}:{}", a.port)
        }
        IpSocketAddress::Ipv6(a) => {
            let (x0, x1, x2, x3, x4, x5, x6, x7) = a.address;
            let ip = std::net::Ipv6Addr::new(x0, x1, x2, x3, x4, x5, x6, x7);
            format!("[{ip}]:{}", a.port)
        }
    }
}

async fn connect(addr: &str) -> Result<String, String> {
    let a = parse(addr)?;
    let socket = TcpSocket::create(family(&a)).map_err(|e| format!("create {e:?}"))?;
    socket
        .connect(a)
        .await
        .map_err(|e| format!("connect {e:?}"))?;
    let remote = socket.get_remote_address().map(|a| show(&a));
    let (mut tx, rx) = wit_stream::new();
    let sent = socket.send(rx);
    let rest = tx.write_all(b"ping\n".to_vec()).await;
    drop(tx);
    let (data, done) = socket.receive();
    let reply = data.collect().await;
    let (sent, done) = (sent.await, done.await);
    Ok(format!(
        "{:?} ({} bytes not taken), remote {remote:?}, send {sent:?}, receive {done:?}",
        String::from_utf8_lossy(&reply),
        rest.len()
    ))
}

async fn udp(addr: &str) -> Result<String, String> {
    let a = parse(addr)?;
    let socket = UdpSocket::create(family(&a)).map_err(|e| format!("create {e:?}"))?;
    socket
        .send(b"ping".to_vec(), Some(a))
        .await
        .map_err(|e| format!("send {e:?}"))?;
    let (data, from) = socket
        .receive()
        .await
        .map_err(|e| format!("receive {e:?}"))?;
    Ok(format!(
        "{:?} from {}",
        String::from_utf8_lossy(&data),
        show(&from)
    ))
}

async fn resolve(name: &str) -> Result<String, String> {
    let found = ip_name_lookup::resolve_addresses(name.to_string())
        .await
        .map_err(|e| format!("{e:?}"))?;
    let ips: Vec<String> = found
        .into_iter()
        .map(|ip| match ip {
            IpAddress::Ipv4((x, y, z, w)) => IpAddr::from([x, y, z, w]).to_string(),
            IpAddress::Ipv6((x0, x1, x2, x3, x4, x5, x6, x7)) => {
                IpAddr::from([x0, x1, x2, x3, x4, x5, x6, x7]).to_string()
            }
        })
        .collect();
    Ok(ips.join(" "))
}

fn listen(addr: &str) -> Result<String, String> {
    let a = parse(addr)?;
    let socket = TcpSocket::create(family(&a)).map_err(|e| format!("create {e:?}"))?;
    socket.bind(a).map_err(|e| format!("bind {e:?}"))?;
    socket
        .listen()
        .map(drop)
        .map_err(|e| format!("listen {e:?}"))?;
    Ok("listening".to_string())
}
