//! A socket's standing under the inbound rules (`crates/layout/src/socket.rs`): decided
//! on what the host holds, never on what the guest attempted.
use core::net::{IpAddr, Ipv4Addr};
use wasi_virt_layout::net::{Family, HostMatch, Kind, RuleSpec};
use wasi_virt_layout::socket::{ask_bind, Standing};
use wasi_virt_layout::{encode, Config, ConfigSpec};

mod gen;
mod socket_model;
use gen::Gen;
use socket_model::{Op, ADDRESSES, PORTS};

fn rule(
    kind: Kind,
    host: HostMatch<'static>,
    port: u16,
    to_port: Option<u16>,
) -> RuleSpec<'static> {
    RuleSpec {
        kind,
        family: Family::Any,
        host,
        ports: vec![(port, port)],
        to_host: None,
        to_port,
        methods: "",
        path: "",
    }
}

fn encoded(specs: Vec<RuleSpec<'static>>) -> Vec<u8> {
    encode(&ConfigSpec {
        net: specs,
        ..ConfigSpec::default()
    })
}

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const ANY: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

/// The grant `--allow-inbound tcp://127.0.0.1:18080` plus a client rule,
/// and the attack: a client's bind to `0.0.0.0:0`, then a bind to the
/// granted address, which the host refuses (the socket is bound), then a
/// listen. The listen must be refused: the socket holds `0.0.0.0` and an
/// ephemeral port, which no rule grants.
#[test]
fn a_failed_bind_grants_nothing() {
    let bytes = encoded(vec![
        rule(Kind::TcpIn, HostMatch::Net(LOOPBACK, 32), 18080, None),
        rule(Kind::TcpOut, HostMatch::Any, 443, None),
    ]);
    let rules = Config::parse(&bytes).unwrap().net;
    let mut standing = Standing::default();

    let client = ask_bind(&rules, Kind::TcpIn, Kind::TcpOut, ANY, 0).expect("a client's bind");
    assert!(!client.inbound);
    standing.bind_started(client);
    standing.bind_finished(true);

    let granted = ask_bind(&rules, Kind::TcpIn, Kind::TcpOut, LOOPBACK, 18080).expect("granted");
    assert!(granted.inbound);
    // The host's start-bind fails (invalid-state): nothing is recorded.
    assert!(!standing.may_serve(&rules, Kind::TcpIn, ANY, 40_123));
    assert_eq!(standing.bound(), Some(client));

    // Even a forged record of the grant would not pass on what is held.
    standing.bind_started(granted);
    standing.bind_finished(true);
    assert!(!standing.may_serve(&rules, Kind::TcpIn, ANY, 40_123));
    assert!(standing.may_serve(&rules, Kind::TcpIn, LOOPBACK, 18080));
}

/// A bind the host started but failed to finish is not held; an accepted
/// socket never serves; a remapped port is shown as the guest's.
#[test]
fn only_finished_binds_hold() {
    let bytes = encoded(vec![rule(
        Kind::TcpIn,
        HostMatch::Loopback,
        80,
        Some(18081),
    )]);
    let rules = Config::parse(&bytes).unwrap().net;
    let mut standing = Standing::default();
    let bind = ask_bind(&rules, Kind::TcpIn, Kind::TcpOut, LOOPBACK, 80).unwrap();
    assert_eq!((bind.guest_port, bind.host_port), (80, 18081));
    standing.bind_started(bind);
    standing.bind_finished(false);
    assert_eq!(standing.bound(), None);
    assert!(!standing.may_serve(&rules, Kind::TcpIn, LOOPBACK, 18081));

    standing.bind_started(bind);
    standing.bind_finished(true);
    assert!(standing.may_serve(&rules, Kind::TcpIn, LOOPBACK, 18081));
    assert!(!standing.may_serve(&rules, Kind::TcpIn, LOOPBACK, 80));
    assert!(!standing.may_serve(&rules, Kind::UdpIn, LOOPBACK, 18081));
    assert_eq!(standing.guest_port(18081), 80);
    assert_eq!(standing.guest_port(5000), 5000);

    let accepted = Standing::accepted(&standing);
    assert!(!accepted.may_serve(&rules, Kind::TcpIn, LOOPBACK, 18081));
    assert_eq!(accepted.guest_port(18081), 80);
}

/// Without an inbound rule a client may bind port 0 only; with no client
/// rule either, nothing binds.
#[test]
fn client_binds_are_port_zero_and_never_serve() {
    let bytes = encoded(vec![rule(Kind::UdpOut, HostMatch::Any, 53, None)]);
    let rules = Config::parse(&bytes).unwrap().net;
    assert!(ask_bind(&rules, Kind::UdpIn, Kind::UdpOut, ANY, 53).is_none());
    assert!(ask_bind(&rules, Kind::TcpIn, Kind::TcpOut, ANY, 0).is_none());
    let bind = ask_bind(&rules, Kind::UdpIn, Kind::UdpOut, ANY, 0).unwrap();
    let mut standing = Standing::default();
    standing.bind_started(bind);
    standing.bind_finished(true);
    assert!(!standing.may_serve(&rules, Kind::UdpIn, ANY, 40_001));
}

/// Seeded scripts over seeded rules: the model (`socket_model`) checks
/// after every step that a serving socket holds only what a rule grants.
#[test]
fn scripts_never_serve_what_no_rule_grants() {
    let mut g = Gen(0x50c7_e75c_9e37_79b9);
    for _ in 0..3_000 {
        let mut specs = Vec::new();
        for _ in 0..g.below(4) {
            let kind = [Kind::TcpIn, Kind::UdpIn, Kind::TcpOut, Kind::UdpOut][g.below(4)];
            let host = match g.below(4) {
                0 => HostMatch::Any,
                1 => HostMatch::Loopback,
                _ => {
                    let ip = ADDRESSES[g.below(ADDRESSES.len())];
                    HostMatch::Net(ip, if ip.is_ipv4() { 32 } else { 128 })
                }
            };
            let to_port = [None, None, Some(0), Some(18081)][g.below(4)];
            specs.push(rule(kind, host, PORTS[g.below(PORTS.len())], to_port));
        }
        let bytes = encoded(specs);
        let rules = Config::parse(&bytes).unwrap().net;
        let ops: Vec<Op> = (0..g.below(12))
            .map(|_| match g.below(6) {
                0 | 1 => Op::StartBind {
                    ip: g.below(ADDRESSES.len()),
                    port: g.below(PORTS.len()),
                    fails: g.below(4) == 0,
                },
                2 => Op::FinishBind,
                3 => Op::Connect,
                4 => Op::Serve,
                _ => Op::Accept,
            })
            .collect();
        socket_model::run(&rules, g.below(2) == 0, ops);
    }
}
