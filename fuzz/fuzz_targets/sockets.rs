//! Sequences of socket operations against the inbound rules: arbitrary
//! rules (kinds, hosts, ports, remaps) and an arbitrary script of binds
//! (some refused by the host), finishes, connects, listens and accepts on
//! one TCP or UDP socket, run through the adapter's deciding code
//! (`crates/layout/src/socket.rs`) against the model of the host's socket
//! in `crates/layout/tests/socket_model`. After every step a serving
//! socket must hold only what a rule grants for the port the guest bound.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use wasi_virt_layout::net::{Family, HostMatch, Kind, RuleSpec};
use wasi_virt_layout::{encode, Config, ConfigSpec};

#[path = "../../crates/layout/tests/socket_model.rs"]
mod socket_model;
use socket_model::{Op, ADDRESSES, PORTS};

fn rule(u: &mut Unstructured<'_>) -> arbitrary::Result<RuleSpec<'static>> {
    let kind = *u.choose(&[Kind::TcpIn, Kind::UdpIn, Kind::TcpOut, Kind::UdpOut])?;
    let family = *u.choose(&[Family::Any, Family::V4, Family::V6])?;
    let host = match u.int_in_range(0..=3)? {
        0 => HostMatch::Any,
        1 => HostMatch::Loopback,
        _ => {
            let ip = *u.choose(&ADDRESSES)?;
            let full = if ip.is_ipv4() { 32 } else { 128 };
            HostMatch::Net(ip, full)
        }
    };
    let lo = *u.choose(&PORTS)?;
    let hi = if u.arbitrary()? { lo } else { *u.choose(&PORTS)? }.max(lo);
    let to_port = match u.int_in_range(0..=2)? {
        0 => None,
        1 => Some(0),
        _ => Some(*u.choose(&PORTS)?),
    };
    Ok(RuleSpec {
        kind,
        family,
        host,
        ports: vec![(lo, hi)],
        to_host: None,
        to_port,
        methods: "",
        path: "",
    })
}

fn op(u: &mut Unstructured<'_>) -> arbitrary::Result<Op> {
    Ok(match u.int_in_range(0..=4)? {
        0 => Op::StartBind {
            ip: u.arbitrary()?,
            port: u.arbitrary()?,
            fails: u.arbitrary()?,
        },
        1 => Op::FinishBind,
        2 => Op::Connect,
        3 => Op::Serve,
        _ => Op::Accept,
    })
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(count) = u.int_in_range(0..=4u8) else {
        return;
    };
    let Ok(specs) = (0..count).map(|_| rule(&mut u)).collect::<arbitrary::Result<Vec<_>>>() else {
        return;
    };
    let Ok(tcp) = bool::arbitrary(&mut u) else {
        return;
    };
    let mut ops = Vec::new();
    while let Ok(op) = op(&mut u) {
        if u.is_empty() {
            break;
        }
        ops.push(op);
    }
    let bytes = encode(&ConfigSpec {
        net: specs,
        ..ConfigSpec::default()
    });
    let rules = Config::parse(&bytes).expect("an encoded configuration decodes").net;
    socket_model::run(&rules, tcp, ops);
});
