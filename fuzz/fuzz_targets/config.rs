//! The configuration decoder (`crates/layout`) over arbitrary bytes: it
//! must refuse or decode, never panic, and whatever it decodes must be
//! safe to walk: every node, preopen, list and rule, and every network
//! decision on arbitrary queries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use wasi_virt_layout::net::{host_literal, name_key, Kind};
use wasi_virt_layout::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(config) = Config::parse(data) else {
        return;
    };
    for i in 0..config.fs.node_count().min(10_000) {
        let _ = config.fs.node(i);
    }
    let _ = config.fs.node(u32::MAX);
    for (name, node) in config.fs.preopens() {
        let _ = (name.len(), config.fs.node(node));
    }
    for memory in config.fs.memory.iter() {
        let _ = memory;
    }
    let _ = config.fs.memory.get(usize::MAX);
    let _ = (
        config.env.host_names.iter().count(),
        config.env.overrides.iter().count(),
    );
    let _ = config.env.overrides.get("PATH");
    let _ = config.store.properties.iter().count();
    for call in 0..64 {
        let _ = config.call_name(call);
    }
    let rules = config.net;
    if rules.check().is_err() {
        return;
    }
    let _ = rules.needs();
    let tail = &data[data.len().saturating_sub(18)..];
    let mut octets = [0u8; 16];
    octets[..tail.len().min(16)].copy_from_slice(&tail[..tail.len().min(16)]);
    let port = u16::from_le_bytes([
        tail.first().copied().unwrap_or(0),
        tail.last().copied().unwrap_or(0),
    ]);
    let v6 = IpAddr::V6(Ipv6Addr::from(octets));
    let v4 = IpAddr::V4(Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3]));
    for ip in [v4, v6] {
        for kind in [Kind::TcpOut, Kind::UdpOut] {
            let _ = rules.outbound(kind, ip, port, |_| true);
        }
        for kind in [Kind::TcpIn, Kind::UdpIn] {
            let _ = rules.inbound(kind, ip, port);
        }
    }
    let name = String::from_utf8_lossy(tail);
    let _ = rules.resolve(name_key(&name));
    let _ = rules.resolve(None);
    for https in [false, true] {
        let _ = rules.http(https, host_literal(&name), port, "GET", &name);
    }
});
