//! Network rules: the grants that `--allow-outbound`, `--allow-inbound` and
//! `--allow-resolve` compile to, how they are laid out in the configuration,
//! and how the adapter decides a call with them.
//!
//! The library parses the rule grammar (`src/policy/network.rs`) and writes each
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
pub use rule::{canonical, in_net, Family, HostMatch, Kind, Ports, Rule};

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

    /// Takes the rules' bytes without decoding them: the adapter decodes
    /// rules only behind its `net` hook, so that an adapter without rules
    /// carries no code for them. [`Rules::check`] decodes them all.
    pub(crate) fn read(r: &mut Reader<'a>) -> Result<Rules<'a>, Error> {
        let count = r.u32()?;
        let bytes = r.bytes()?;
        Ok(Rules { count, bytes })
    }

    /// Decodes every rule, as [`Rules::iter`] will.
    pub fn check(&self) -> Result<(), Error> {
        let mut inner = Reader::new(self.bytes);
        for _ in 0..self.count {
            rule::read_rule(&mut inner)?;
        }
        if !inner.bytes.is_empty() {
            return Err(Error::Truncated);
        }
        Ok(())
    }

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

#[cfg(feature = "encode")]
impl Rules<'_> {
    /// Writes what [`Rules::read`] reads: the count, then the rules' bytes.
    pub(crate) fn write(rules: &[RuleSpec<'_>], w: &mut crate::wire::Writer) {
        w.list(rules, rule::write_rule);
    }
}
