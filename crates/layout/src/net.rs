//! Network rules: the grants that `--allow-outbound`, `--allow-inbound` and
//! `--allow-resolve` compile to, how they are laid out in the configuration,
//! and how the adapter decides a call with them.
//!
//! The library parses the rule grammar (`src/network.rs`) and writes each
//! rule as a [`RuleSpec`]; the adapter reads [`Rules`] and asks
//! [`Rules::resolve`], [`Rules::outbound`], [`Rules::inbound`] and
//! [`Rules::http`]. The deciding code lives here, in one place, so that the
//! host's tests exercise exactly what the adapter runs.
//!
//! Every address is compared in its canonical form ([`canonical`]): an
//! IPv4-mapped IPv6 address is the IPv4 address it maps. Names are compared
//! as [`name_key`] gives them: ASCII, one trailing dot removed, case
//! ignored.

use crate::wire::{Error, Reader};
use core::net::IpAddr;

pub mod http_path;
mod literal;
mod rule;

pub use literal::{host_literal, name_key, Literal};
#[cfg(feature = "encode")]
pub use rule::RuleSpec;

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
    fn implies_resolve(self) -> bool {
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
    /// One name, as [`name_key`] gives it.
    Name(&'a str),
    /// `*.example.com`: the names below `example.com` (here without the
    /// `*.`), not `example.com` itself.
    Below(&'a str),
    /// An address and prefix length (32 or 128 for one address).
    Net(IpAddr, u8),
}

impl HostMatch<'_> {
    /// Whether the name `key` (from [`name_key`]) matches, ignoring ASCII
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

    fn is_name(&self) -> bool {
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
    /// HTTP rules: the path pattern, as [`http_path::matches`] reads it;
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

/// What a name lookup may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// No rule lets this name be looked up.
    Denied,
    /// A remap answers it with this address; the host is not asked.
    Local(IpAddr),
    /// The host looks it up; only addresses of the admitted families are
    /// passed on.
    Host {
        /// IPv4 addresses pass.
        v4: bool,
        /// IPv6 addresses pass.
        v6: bool,
    },
}

/// Which host interfaces the rules need: the adapter never calls the others,
/// and the library removes their imports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// `wasi:sockets/tcp` and `tcp-create-socket`.
    pub tcp: bool,
    /// `wasi:sockets/udp` and `udp-create-socket`.
    pub udp: bool,
    /// `wasi:sockets/ip-name-lookup`: some name is looked up by the host.
    pub lookup: bool,
    /// `wasi:http/outgoing-handler` and `wasi:http/types`.
    pub http: bool,
}

impl Needs {
    /// Whether the host's network (`instance-network`) is needed.
    pub fn network(&self) -> bool {
        self.tcp || self.udp || self.lookup
    }
}

/// The rules of a configuration, decoded as they are iterated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules<'a> {
    count: u32,
    bytes: &'a [u8],
}

impl<'a> Rules<'a> {
    /// No rules.
    pub const EMPTY: Rules<'static> = Rules {
        count: 0,
        bytes: &[],
    };

    /// How many rules.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The rules, in order, up to the first that does not decode (none,
    /// in a configuration the library wrote; [`Rules::check`] tells).
    pub fn iter(&self) -> impl Iterator<Item = Rule<'a>> + 'a {
        let mut r = Reader::new(self.bytes);
        (0..self.count).map_while(move |_| rule::read_rule(&mut r).ok())
    }

    /// Whether some rule is of kind `kind`.
    pub fn any(&self, kind: Kind) -> bool {
        self.iter().any(|r| r.kind == kind)
    }

    /// Which host interfaces these rules need.
    pub fn needs(&self) -> Needs {
        let mut needs = Needs::default();
        for rule in self.iter() {
            match rule.kind {
                Kind::TcpOut | Kind::TcpIn => needs.tcp = true,
                Kind::UdpOut | Kind::UdpIn => needs.udp = true,
                Kind::Http | Kind::Https => needs.http = true,
                Kind::Resolve => {}
            }
            let remapped_name = matches!(rule.host, HostMatch::Name(_)) && rule.to_host.is_some();
            if rule.kind.implies_resolve() && rule.host_resolvable() && !remapped_name {
                needs.lookup = true;
            }
        }
        needs
    }

    /// What a lookup of a name may do: `key` is the name as [`name_key`]
    /// gives it, or `None` for a name only the host can read
    /// ([`Literal::Opaque`]), which only `*` matches. A remap of this exact
    /// name answers it; otherwise every rule that matches the name adds its
    /// families.
    pub fn resolve(&self, key: Option<&str>) -> Lookup {
        let (mut v4, mut v6) = (false, false);
        for rule in self.iter().filter(|r| r.kind.implies_resolve()) {
            let matches = match key {
                Some(key) => rule.host.matches_name(key),
                None => rule.host == HostMatch::Any,
            };
            if !rule.host_resolvable() || !matches {
                continue;
            }
            if let (HostMatch::Name(_), Some(to)) = (rule.host, rule.to_host) {
                return Lookup::Local(to);
            }
            v4 |= rule.family != Family::V6;
            v6 |= rule.family != Family::V4;
        }
        if v4 || v6 {
            Lookup::Host { v4, v6 }
        } else {
            Lookup::Denied
        }
    }

    /// Where an outbound connect or datagram of kind `kind` (`TcpOut` or
    /// `UdpOut`) to `ip` (canonical) and `port` really goes, if a rule
    /// allows it: the first rule that matches. `resolved(host)` tells
    /// whether the guest got `ip` from a lookup of a name `host` matches.
    pub fn outbound(
        &self,
        kind: Kind,
        ip: IpAddr,
        port: u16,
        resolved: impl Fn(&HostMatch<'_>) -> bool,
    ) -> Option<(IpAddr, u16)> {
        self.iter()
            .filter(|r| r.kind == kind && r.family.admits(ip) && r.ports.contains(port))
            .find(|r| r.host.matches_ip(ip) || (r.host.is_name() && resolved(&r.host)))
            .map(|r| {
                let to_ip = match r.host {
                    HostMatch::Net(..) => r.to_host.unwrap_or(ip),
                    _ => ip,
                };
                (to_ip, r.to_port.unwrap_or(port))
            })
    }

    /// The port the host really binds for a bind of kind `kind` (`TcpIn` or
    /// `UdpIn`) to `ip` (canonical) and `port`, if a rule allows it.
    pub fn inbound(&self, kind: Kind, ip: IpAddr, port: u16) -> Option<u16> {
        self.iter()
            .filter(|r| r.kind == kind && r.family.admits(ip) && r.ports.contains(port))
            .find(|r| r.host.matches_ip(ip))
            .map(|r| r.to_port.unwrap_or(port))
    }

    /// Whether an outgoing request to `host` (from [`host_literal`]) and
    /// `port`, over HTTPS or plain HTTP, with `method` and the normalized
    /// `path` (from [`http_path::normalize`]) is allowed.
    pub fn http(
        &self,
        https: bool,
        host: Literal<'_>,
        port: u16,
        method: &str,
        path: &str,
    ) -> bool {
        let kind = if https { Kind::Https } else { Kind::Http };
        self.iter()
            .filter(|r| r.kind == kind && r.ports.contains(port))
            .filter(|r| http_path::method_granted(r.methods, method))
            .filter(|r| http_path::matches(r.path, path))
            .any(|r| match host {
                Literal::Ip(ip) => r.host.matches_ip(canonical(ip)),
                Literal::Name(name) => r.host.matches_name(name),
                Literal::Opaque => r.host == HostMatch::Any,
                Literal::Invalid => false,
            })
    }
}

impl Rule<'_> {
    /// Whether the host part names something that is looked up: a name,
    /// a name pattern, or `*`.
    fn host_resolvable(&self) -> bool {
        matches!(
            self.host,
            HostMatch::Any | HostMatch::Name(_) | HostMatch::Below(_)
        )
    }
}
