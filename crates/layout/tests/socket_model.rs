//! A model of the host's TCP and UDP sockets, driven through the adapter's
//! deciding code (`wasi_virt_layout::socket`) by a script of operations,
//! with the one property that matters checked after every step: a socket
//! serves (listens, or takes datagrams from anyone) only on an address and
//! port that an inbound rule admits for the port the guest bound.
//!
//! Shared by `crates/layout/tests/socket.rs` (seeded scripts) and the
//! `sockets` fuzz target (`fuzz/fuzz_targets/sockets.rs`).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use wasi_virt_layout::net::{Kind, Rules};
use wasi_virt_layout::socket::{ask_bind, Grants, Standing};

/// The addresses a script draws from: enough to hit loopback, "any" and
/// other hosts in both families, and IPv4-mapped IPv6.
pub const ADDRESSES: [IpAddr; 6] = [
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)),
    IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)),
    IpAddr::V6(Ipv6Addr::LOCALHOST),
    IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    IpAddr::V6(Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0x7f00, 1)),
];

/// The ports a script draws from.
pub const PORTS: [u16; 5] = [0, 80, 81, 8080, 18080];

/// One step of a script.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    /// `start-bind` to an address and port; `fails` makes the host refuse
    /// it (a port in use) even where its state allows it.
    StartBind { ip: usize, port: usize, fails: bool },
    /// `finish-bind`.
    FinishBind,
    /// `start-connect` (TCP) or `stream` with a remote (UDP): an unbound
    /// socket is bound by the host to an ephemeral port.
    Connect,
    /// `start-listen` (TCP) or `stream` with no remote (UDP).
    Serve,
    /// `accept` on the serving socket; the new socket becomes the one the
    /// script works on.
    Accept,
}

/// What the host's socket holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Host {
    Unbound,
    BindStarted(Held),
    Bound(Held),
    Connected,
    Serving(Held),
}

/// A host binding: its address and port, and the port the guest asked for
/// (`None`: the host bound it itself, for a connect).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Held {
    ip: IpAddr,
    port: u16,
    guest_port: u16,
}

/// Runs a script on one socket of `tcp` or UDP kind; panics where a socket
/// serves on what no rule admits, or where a bind the rules allow for a
/// listening port is refused by the deciding code.
pub fn run(rules: &Rules<'_>, tcp: bool, ops: impl IntoIterator<Item = Op>) {
    let (kind, client) = if tcp {
        (Kind::TcpIn, Kind::TcpOut)
    } else {
        (Kind::UdpIn, Kind::UdpOut)
    };
    let mut host = Host::Unbound;
    let mut standing = Standing::default();
    let mut next_ephemeral = 40_000u16;
    for op in ops {
        match op {
            Op::StartBind { ip, port, fails } => {
                let (ip, port) = (ADDRESSES[ip % ADDRESSES.len()], PORTS[port % PORTS.len()]);
                let Some(bind) = ask_bind(rules, kind, client, ip, port) else {
                    continue;
                };
                if host != Host::Unbound || fails {
                    continue;
                }
                let bound = if bind.host_port == 0 {
                    next_ephemeral += 1;
                    next_ephemeral
                } else {
                    bind.host_port
                };
                host = Host::BindStarted(Held {
                    ip,
                    port: bound,
                    guest_port: port,
                });
                standing.bind_started(bind);
            }
            Op::FinishBind => {
                let ok = matches!(host, Host::BindStarted(_));
                if let Host::BindStarted(held) = host {
                    host = Host::Bound(held);
                }
                standing.bind_finished(ok);
            }
            Op::Connect => {
                host = match host {
                    Host::Unbound | Host::Bound(_) => Host::Connected,
                    other => other,
                };
            }
            Op::Serve => {
                let Host::Bound(held) = host else {
                    continue;
                };
                if standing.may_serve(rules, kind, held.ip, held.port) {
                    host = Host::Serving(held);
                    admitted(rules, kind, held);
                }
            }
            Op::Accept => {
                if let Host::Serving(_) = host {
                    standing = Standing::accepted(&standing);
                    host = Host::Connected;
                }
            }
        }
    }
}

/// The property: a serving socket's address and port are what an inbound
/// rule grants for the port the guest bound.
fn admitted(rules: &Rules<'_>, kind: Kind, held: Held) {
    let granted = Grants::inbound(rules, kind, held.ip, held.guest_port);
    let ok = match granted {
        Some(0) => held.guest_port == 0 || held.port >= 40_000,
        Some(port) => port == held.port,
        None => false,
    };
    assert!(
        ok,
        "serving on {}:{} (guest port {}), which the rules grant as {granted:?}",
        held.ip, held.port, held.guest_port
    );
}
