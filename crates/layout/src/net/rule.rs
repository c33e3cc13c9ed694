//! The rules' part of the configuration, after the call names: a count,
//! then the rules' bytes (length-prefixed), each rule a fixed sequence of
//! words, addresses and strings. [`Rules::read`] only takes the bytes; the
//! adapter decodes them behind its `net` hook ([`Rules::iter`]).

use super::{Family, HostMatch, Kind, Ports, Rule, Rules};
use crate::wire::{Error, Reader};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

impl<'a> Rules<'a> {
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
            read_rule(&mut inner)?;
        }
        if !inner.bytes.is_empty() {
            return Err(Error::Truncated);
        }
        Ok(())
    }
}

#[cfg(feature = "encode")]
impl Rules<'_> {
    /// Writes what [`Rules::read`] reads: the count, then the rules' bytes.
    pub(crate) fn write(rules: &[RuleSpec<'_>], w: &mut crate::wire::Writer) {
        w.list(rules, write_rule);
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
fn write_rule(w: &mut crate::wire::Writer, rule: &RuleSpec<'_>) {
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
