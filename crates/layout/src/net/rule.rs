//! One network rule: what it grants and matches ([`Rule`]), and how it is
//! laid out in the configuration, its decoder ([`read_rule`]) beside its
//! encoder ([`RuleSpec`], `write_rule`). A rule is a fixed sequence of
//! words, addresses and strings.

use crate::wire::{Error, Reader};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What a rule grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `--allow-outbound=tcp://...`: TCP connects.
    TcpOut = 0,
    /// `--allow-outbound=udp://...`: UDP datagrams sent.
    UdpOut = 1,
    /// `--allow-inbound=tcp://...`: TCP binds and listens.
    TcpIn = 2,
    /// `--allow-inbound=udp://...`: UDP binds.
    UdpIn = 3,
    /// `--allow-resolve=...`: name lookups.
    Resolve = 4,
    /// `--allow-outbound=http://...`: outgoing HTTP requests.
    Http = 5,
    /// `--allow-outbound=https://...`: outgoing HTTPS requests.
    Https = 6,
}

impl Kind {
    /// Every kind, in tag order.
    pub const ALL: [Kind; 7] = [
        Kind::TcpOut,
        Kind::UdpOut,
        Kind::TcpIn,
        Kind::UdpIn,
        Kind::Resolve,
        Kind::Http,
        Kind::Https,
    ];

    fn from_u32(v: u32) -> Result<Kind, Error> {
        Kind::ALL
            .into_iter()
            .find(|k| *k as u32 == v)
            .ok_or(Error::BadTag(v))
    }

    /// Whether a TCP or UDP rule of this kind lets a name be looked up
    /// (`tcp://example.com:80` implies `--allow-resolve=example.com`).
    pub(super) fn implies_resolve(self) -> bool {
        matches!(self, Kind::TcpOut | Kind::UdpOut | Kind::Resolve)
    }
}

/// Which address family a rule admits (`#ipv4-only`, `#ipv6-only`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Family {
    /// Both.
    #[default]
    Any = 0,
    /// IPv4 alone.
    V4 = 1,
    /// IPv6 alone.
    V6 = 2,
}

impl Family {
    fn from_u32(v: u32) -> Result<Family, Error> {
        [Family::Any, Family::V4, Family::V6]
            .into_iter()
            .find(|f| *f as u32 == v)
            .ok_or(Error::BadTag(v))
    }

    /// Whether `ip` (canonical) is of a family this admits.
    pub fn admits(self, ip: IpAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => ip.is_ipv4(),
            Family::V6 => ip.is_ipv6(),
        }
    }
}

/// What a rule's host part matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostMatch<'a> {
    /// `*`: every address and every name.
    Any,
    /// `localhost` or `lo` in an inbound rule: the loopback addresses.
    Loopback,
    /// One name, as [`name_key`](super::name_key) gives it.
    Name(&'a str),
    /// `*.example.com`: the names below `example.com` (here without the
    /// `*.`), not `example.com` itself.
    Below(&'a str),
    /// An address and prefix length (32 or 128 for one address).
    Net(IpAddr, u8),
}

impl HostMatch<'_> {
    /// Whether the name `key` (from [`name_key`](super::name_key)) matches, ignoring ASCII
    /// case (rules hold lower-case names).
    pub fn matches_name(&self, key: &str) -> bool {
        match *self {
            HostMatch::Any => true,
            HostMatch::Name(n) => n.eq_ignore_ascii_case(key),
            HostMatch::Below(suffix) => {
                let (key, suffix) = (key.as_bytes(), suffix.as_bytes());
                key.len() > suffix.len() + 1
                    && key[key.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
                    && key[key.len() - suffix.len() - 1] == b'.'
            }
            HostMatch::Loopback | HostMatch::Net(..) => false,
        }
    }

    /// Whether the address `ip` (canonical) matches by itself, without a
    /// name it was resolved from.
    pub fn matches_ip(&self, ip: IpAddr) -> bool {
        match *self {
            HostMatch::Any => true,
            HostMatch::Loopback => ip.is_loopback(),
            HostMatch::Net(net, prefix) => in_net(ip, net, prefix),
            HostMatch::Name(_) | HostMatch::Below(_) => false,
        }
    }

    pub(super) fn is_name(&self) -> bool {
        matches!(self, HostMatch::Name(_) | HostMatch::Below(_))
    }
}

/// Whether `ip` lies in `net/prefix` (both canonical, same family).
pub fn in_net(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(prefix.min(32)))
                .unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(prefix.min(128)))
                .unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// An address as rules compare it: an IPv4-mapped IPv6 address
/// (`::ffff:127.0.0.1`) is the IPv4 address it maps.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

/// One rule, as the adapter reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule<'a> {
    /// What it grants.
    pub kind: Kind,
    /// Which family it admits.
    pub family: Family,
    /// Which hosts.
    pub host: HostMatch<'a>,
    /// Which ports (empty for name lookups).
    pub ports: Ports<'a>,
    /// The address the host really reaches instead (`name->172.17.0.14`).
    pub to_host: Option<IpAddr>,
    /// The port the host really uses instead (`:5432->5433`).
    pub to_port: Option<u16>,
    /// HTTP rules: the methods granted, separated by commas (`GET,HEAD`);
    /// empty for every method.
    pub methods: &'a str,
    /// HTTP rules: the path pattern, as [`http_path::matches`](super::http_path::matches) reads it;
    /// empty for every path.
    pub path: &'a str,
}

/// Inclusive port ranges, four bytes each (low, high; little-endian).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ports<'a> {
    bytes: &'a [u8],
}

impl<'a> Ports<'a> {
    /// The ranges, in order.
    pub fn iter(&self) -> impl Iterator<Item = (u16, u16)> + 'a {
        self.bytes.chunks_exact(4).map(|c| {
            (
                u16::from_le_bytes([c[0], c[1]]),
                u16::from_le_bytes([c[2], c[3]]),
            )
        })
    }

    /// Whether `port` is in one of the ranges.
    pub fn contains(&self, port: u16) -> bool {
        self.iter().any(|(lo, hi)| lo <= port && port <= hi)
    }
}

impl Rule<'_> {
    /// Whether the host part names something that is looked up: a name,
    /// a name pattern, or `*`.
    pub(super) fn host_resolvable(&self) -> bool {
        matches!(
            self.host,
            HostMatch::Any | HostMatch::Name(_) | HostMatch::Below(_)
        )
    }
}

const HOST_ANY: u32 = 0;
const HOST_LOOPBACK: u32 = 1;
const HOST_NAME: u32 = 2;
const HOST_BELOW: u32 = 3;
const HOST_NET: u32 = 4;
const NO_PORT: u32 = u32::MAX;

fn read_ip(r: &mut Reader<'_>) -> Result<Option<IpAddr>, Error> {
    let tag = r.u32()?;
    let b = r.take(16)?;
    let mut octets = [0u8; 16];
    octets.copy_from_slice(b);
    Ok(match tag {
        0 => None,
        4 => Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
        6 => Some(IpAddr::V6(Ipv6Addr::from(octets))),
        t => return Err(Error::BadTag(t)),
    })
}

pub(super) fn read_rule<'a>(r: &mut Reader<'a>) -> Result<Rule<'a>, Error> {
    let kind = Kind::from_u32(r.u32()?)?;
    let family = Family::from_u32(r.u32()?)?;
    let host_tag = r.u32()?;
    let prefix = r.u32()?;
    let ip = read_ip(r)?;
    let name = r.str()?;
    let host = match (host_tag, ip) {
        (HOST_ANY, _) => HostMatch::Any,
        (HOST_LOOPBACK, _) => HostMatch::Loopback,
        (HOST_NAME, _) => HostMatch::Name(name),
        (HOST_BELOW, _) => HostMatch::Below(name),
        (HOST_NET, Some(ip)) if prefix <= if ip.is_ipv4() { 32 } else { 128 } => {
            HostMatch::Net(ip, prefix as u8)
        }
        (t, _) => return Err(Error::BadTag(t)),
    };
    let ports = r.bytes()?;
    if ports.len() % 4 != 0 {
        return Err(Error::Truncated);
    }
    let to_host = read_ip(r)?;
    let to_port = match r.u32()? {
        NO_PORT => None,
        p => Some(u16::try_from(p).map_err(|_| Error::BadTag(p))?),
    };
    let methods = r.str()?;
    let path = r.str()?;
    Ok(Rule {
        kind,
        family,
        host,
        ports: Ports { bytes: ports },
        to_host,
        to_port,
        methods,
        path,
    })
}

/// One rule, as the library writes it.
#[cfg(feature = "encode")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSpec<'s> {
    /// What it grants.
    pub kind: Kind,
    /// Which family it admits.
    pub family: Family,
    /// Which hosts.
    pub host: HostMatch<'s>,
    /// Inclusive port ranges.
    pub ports: alloc::vec::Vec<(u16, u16)>,
    /// The address the host really reaches instead.
    pub to_host: Option<IpAddr>,
    /// The port the host really uses instead.
    pub to_port: Option<u16>,
    /// HTTP rules: the methods, separated by commas; empty for all.
    pub methods: &'s str,
    /// HTTP rules: the path pattern; empty for every path.
    pub path: &'s str,
}

/// Writes what [`read_ip`] reads: a tag (`0`, `4` or `6`) and 16 bytes.
#[cfg(feature = "encode")]
fn write_ip(w: &mut crate::wire::Writer, ip: Option<IpAddr>) {
    let mut octets = [0u8; 16];
    let tag = match ip {
        None => 0,
        Some(IpAddr::V4(v4)) => {
            octets[..4].copy_from_slice(&v4.octets());
            4
        }
        Some(IpAddr::V6(v6)) => {
            octets = v6.octets();
            6
        }
    };
    w.u32(tag);
    w.bytes.extend_from_slice(&octets);
}

/// Writes what [`read_rule`] reads.
#[cfg(feature = "encode")]
pub(super) fn write_rule(w: &mut crate::wire::Writer, rule: &RuleSpec<'_>) {
    w.u32(rule.kind as u32);
    w.u32(rule.family as u32);
    let (tag, prefix, ip, name) = match rule.host {
        HostMatch::Any => (HOST_ANY, 0, None, ""),
        HostMatch::Loopback => (HOST_LOOPBACK, 0, None, ""),
        HostMatch::Name(n) => (HOST_NAME, 0, None, n),
        HostMatch::Below(n) => (HOST_BELOW, 0, None, n),
        HostMatch::Net(ip, prefix) => (HOST_NET, u32::from(prefix), Some(ip), ""),
    };
    w.u32(tag);
    w.u32(prefix);
    write_ip(w, ip);
    w.str(name);
    let ports: alloc::vec::Vec<u8> = rule
        .ports
        .iter()
        .flat_map(|(lo, hi)| lo.to_le_bytes().into_iter().chain(hi.to_le_bytes()))
        .collect();
    w.blob(&ports);
    write_ip(w, rule.to_host);
    w.u32(rule.to_port.map_or(NO_PORT, u32::from));
    w.str(rule.methods);
    w.str(rule.path);
}
