//! Socket addresses of both WASI versions' types, so that the network
//! rules' code (`sockets.rs`) serves WASI 0.2's sockets and 0.3's
//! (`p3/sockets.rs`) alike.

use core::net::IpAddr;

/// A socket address, of either WASI version's types (`socket_address!`).
pub(crate) trait SocketAddress: Copy {
    /// The address and port, the address canonical.
    fn ip_port(&self) -> (IpAddr, u16);
    /// The address with its port replaced.
    fn with_port(self, port: u16) -> Self;
    /// `ip` and `port`, with no flow or scope.
    fn at(ip: IpAddr, port: u16) -> Self;
}

/// Implements [`SocketAddress`] for a WIT `ip-socket-address` (`$addr`,
/// with its records `$v4` and `$v6`), and defines `ip_out`, an `IpAddr` as
/// the WIT `ip-address` `$ip` of the same package.
macro_rules! socket_address {
    ($addr:ident, $v4:ident, $v6:ident, $ip:ident) => {
        impl $crate::address::SocketAddress for $addr {
            fn ip_port(&self) -> (core::net::IpAddr, u16) {
                use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
                match self {
                    $addr::Ipv4(a) => {
                        let (x, y, z, w) = a.address;
                        (IpAddr::V4(Ipv4Addr::new(x, y, z, w)), a.port)
                    }
                    $addr::Ipv6(a) => {
                        let (x0, x1, x2, x3, x4, x5, x6, x7) = a.address;
                        let ip = Ipv6Addr::new(x0, x1, x2, x3, x4, x5, x6, x7);
                        (wasi_virt_layout::net::canonical(IpAddr::V6(ip)), a.port)
                    }
                }
            }

            fn with_port(self, port: u16) -> Self {
                match self {
                    $addr::Ipv4(v4) => $addr::Ipv4($v4 { port, ..v4 }),
                    $addr::Ipv6(v6) => $addr::Ipv6($v6 { port, ..v6 }),
                }
            }

            fn at(ip: core::net::IpAddr, port: u16) -> Self {
                match ip_out(ip) {
                    $ip::Ipv4(address) => $addr::Ipv4($v4 { port, address }),
                    $ip::Ipv6(address) => $addr::Ipv6($v6 {
                        port,
                        flow_info: 0,
                        address,
                        scope_id: 0,
                    }),
                }
            }
        }

        fn ip_out(ip: core::net::IpAddr) -> $ip {
            match ip {
                core::net::IpAddr::V4(v4) => {
                    let [x, y, z, w] = v4.octets();
                    $ip::Ipv4((x, y, z, w))
                }
                core::net::IpAddr::V6(v6) => {
                    let [x0, x1, x2, x3, x4, x5, x6, x7] = v6.segments();
                    $ip::Ipv6((x0, x1, x2, x3, x4, x5, x6, x7))
                }
            }
        }
    };
}
