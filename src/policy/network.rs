//! Network grants: the grammar of `--allow-outbound`, `--allow-inbound` and
//! `--allow-resolve` (and of a policy file's `[network]` table), parsed into
//! rules the adapter enforces (`crates/layout/src/net.rs` decides each call).
//!
//! ```text
//! outbound  tcp://example.com:80        udp://*:53        tcp://*:21,35000-35999
//!           tcp://10.0.0.0/8:443        tcp://[::1]:80    tcp://*:*#ipv4-only
//!           tcp://db.internal->172.17.0.14:5432->5433
//!           https://api.example.com     https://*.example.com:8443
//!           https://api.example.com/v1/#GET,HEAD
//!           https://api.example.com/v1/*/status     http://127.0.0.1:8080/**
//! inbound   tcp://localhost:80          tcp://*:0         tcp://lo:8080
//!           tcp://*:80->8888
//! resolve   example.com   *.example.com   *   example.com#ipv6-only
//!           db.internal->172.17.0.14
//! ```
//!
//! Parsing is strict where leniency would widen a grant: a wildcard is only
//! a whole leading label (`*.example.com`), an address in any form the host
//! accepts (`127.1`, `0x7f.0.0.1`, `[::ffff:127.0.0.1]`) becomes its
//! canonical form, a network with host bits set is refused, names are
//! compared without case and without one trailing dot, and nothing is
//! implied but what docs/network.md lists (`tcp://example.com:80` lets
//! `example.com` be looked up, and no rule grants "this host").

use anyhow::{anyhow, bail, ensure, Context, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use wasi_virt_layout::net::{
    self as layout, canonical, host_literal, Family, HostMatch, Kind, Literal,
};

/// The grants of a policy file's `[network]` table.
///
/// ```toml
/// [network]
/// outbound = ["tcp://127.0.0.1:5432", "https://api.example.com"]
/// inbound = ["tcp://localhost:8080"]
/// resolve = ["*.example.com"]
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NetworkPolicy {
    /// Connects, datagrams and HTTP requests the component may make.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outbound: Vec<Outbound>,
    /// Addresses and ports the component may bind and listen on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inbound: Vec<Inbound>,
    /// Names the component may look up.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolve: Vec<Resolve>,
}

impl NetworkPolicy {
    /// Every rule, outbound first.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        let outbound = self.outbound.iter().map(|r| &r.0);
        let inbound = self.inbound.iter().map(|r| &r.0);
        outbound
            .chain(inbound)
            .chain(self.resolve.iter().map(|r| &r.0))
    }

    /// Whether some rule grants sockets (TCP, UDP or name lookups).
    pub fn grants_sockets(&self) -> bool {
        self.rules().any(|r| !r.is_http())
    }

    /// Whether some rule grants HTTP requests.
    pub fn grants_http(&self) -> bool {
        self.rules().any(Rule::is_http)
    }

    /// Adds `other`'s rules after these, leaving out any already here.
    pub fn extend(&mut self, other: &NetworkPolicy) {
        fn add<T: PartialEq + Clone>(to: &mut Vec<T>, from: &[T]) {
            for item in from {
                if !to.contains(item) {
                    to.push(item.clone());
                }
            }
        }
        add(&mut self.outbound, &other.outbound);
        add(&mut self.inbound, &other.inbound);
        add(&mut self.resolve, &other.resolve);
    }

    /// The rules of `kinds`, as the layout writes them.
    pub(crate) fn specs(&self, sockets: bool, http: bool) -> Vec<layout::RuleSpec<'_>> {
        self.rules()
            .filter(|r| if r.is_http() { http } else { sockets })
            .map(Rule::spec)
            .collect()
    }

    /// Each rule in words, with its direction (`outbound tcp://...`).
    pub fn describe(&self) -> Vec<String> {
        self.describe_governed(true, true)
    }

    /// The same, for the socket rules, the HTTP rules, or both.
    pub(crate) fn describe_governed(&self, sockets: bool, http: bool) -> Vec<String> {
        let dir = |d: &'static str| move |r: &Rule| format!("{d} {r}");
        let out = self.outbound.iter().map(|r| dir("outbound")(&r.0));
        let inb = self.inbound.iter().map(|r| dir("inbound")(&r.0));
        let res = self.resolve.iter().map(|r| dir("resolve")(&r.0));
        let governed = |r: &&Rule| if r.is_http() { http } else { sockets };
        let kept: Vec<bool> = self.rules().map(|r| governed(&r)).collect();
        out.chain(inb)
            .chain(res)
            .zip(kept)
            .filter_map(|(text, keep)| keep.then_some(text))
            .collect()
    }
}

/// What a rule's host part names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    /// `*`.
    Any,
    /// `localhost` or `lo`, inbound: the loopback addresses.
    Loopback,
    /// One name, lower case, without a trailing dot.
    Name(String),
    /// `*.NAME`: the names below NAME.
    Below(String),
    /// An address and prefix length (the full length for one address).
    Net(IpAddr, u8),
}

/// One compiled rule. Its `Display` is its canonical text, which parses back
/// to the same rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// What it grants.
    pub kind: Kind,
    /// Which address family it admits.
    pub family: Family,
    /// Which hosts.
    pub host: Host,
    /// Inclusive port ranges (empty for a lookup rule).
    pub ports: Vec<(u16, u16)>,
    /// The address reached instead (`->172.17.0.14`).
    pub to_host: Option<IpAddr>,
    /// The port used instead (`:5432->5433`; inbound `:80->8888`).
    pub to_port: Option<u16>,
    /// HTTP rules: the methods granted, sorted, separated by commas
    /// (`GET,HEAD`); empty for every method.
    pub methods: String,
    /// HTTP rules: the path pattern, normalized (`/v1/` for a prefix,
    /// `/v1/*/status` for one path); empty for every path.
    pub path: String,
}

impl Rule {
    fn is_http(&self) -> bool {
        matches!(self.kind, Kind::Http | Kind::Https)
    }

    fn spec(&self) -> layout::RuleSpec<'_> {
        layout::RuleSpec {
            kind: self.kind,
            family: self.family,
            host: match &self.host {
                Host::Any => HostMatch::Any,
                Host::Loopback => HostMatch::Loopback,
                Host::Name(n) => HostMatch::Name(n),
                Host::Below(n) => HostMatch::Below(n),
                Host::Net(ip, prefix) => HostMatch::Net(*ip, *prefix),
            },
            ports: self.ports.clone(),
            to_host: self.to_host,
            to_port: self.to_port,
            methods: &self.methods,
            path: &self.path,
        }
    }

    fn default_port(&self) -> Option<u16> {
        match self.kind {
            Kind::Http => Some(80),
            Kind::Https => Some(443),
            _ => None,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::TcpOut | Kind::TcpIn => f.write_str("tcp://")?,
            Kind::UdpOut | Kind::UdpIn => f.write_str("udp://")?,
            Kind::Http => f.write_str("http://")?,
            Kind::Https => f.write_str("https://")?,
            Kind::Resolve => {}
        }
        match &self.host {
            Host::Any => f.write_str("*")?,
            Host::Loopback => f.write_str("localhost")?,
            Host::Name(n) => f.write_str(n)?,
            Host::Below(n) => write!(f, "*.{n}")?,
            Host::Net(ip, prefix) => {
                let full = if ip.is_ipv4() { 32 } else { 128 };
                match ip {
                    IpAddr::V4(v4) => write!(f, "{v4}")?,
                    IpAddr::V6(v6) => write!(f, "[{v6}]")?,
                }
                // A path whose first segment is digits would read as a
                // prefix length: the full one is written then.
                let digits = self
                    .path
                    .split('/')
                    .nth(1)
                    .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
                if *prefix != full || digits {
                    write!(f, "/{prefix}")?;
                }
            }
        }
        if let Some(to) = self.to_host {
            match to {
                IpAddr::V4(v4) => write!(f, "->{v4}")?,
                IpAddr::V6(v6) => write!(f, "->[{v6}]")?,
            }
        }
        let default = self.default_port().map(|p| vec![(p, p)]);
        if self.kind != Kind::Resolve && Some(&self.ports) != default.as_ref() {
            f.write_str(":")?;
            if self.ports == [(0, u16::MAX)] {
                f.write_str("*")?;
            } else {
                for (i, (lo, hi)) in self.ports.iter().enumerate() {
                    let sep = if i == 0 { "" } else { "," };
                    if lo == hi {
                        write!(f, "{sep}{lo}")?;
                    } else {
                        write!(f, "{sep}{lo}-{hi}")?;
                    }
                }
            }
        }
        if let Some(to) = self.to_port {
            write!(f, "->{to}")?;
        }
        f.write_str(&self.path)?;
        if !self.methods.is_empty() {
            write!(f, "#{}", self.methods)?;
        }
        match self.family {
            Family::Any => Ok(()),
            Family::V4 => f.write_str("#ipv4-only"),
            Family::V6 => f.write_str("#ipv6-only"),
        }
    }
}

/// Declares a rule newtype for one direction: parsed from its flag's text,
/// written back as its canonical text.
macro_rules! direction {
    ($(#[$doc:meta])* $name:ident, $flag:literal, $parse:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(pub Rule);

        impl FromStr for $name {
            type Err = anyhow::Error;

            fn from_str(text: &str) -> Result<Self> {
                $parse(text)
                    .map($name)
                    .with_context(|| format!("invalid {} rule `{text}`", $flag))
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;

            fn try_from(text: String) -> Result<Self, String> {
                text.parse().map_err(|e: anyhow::Error| format!("{e:#}"))
            }
        }

        impl From<$name> for String {
            fn from(rule: $name) -> String {
                rule.0.to_string()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl $name {
            /// Parses one flag value, which may list several rules
            /// separated by commas where that is unambiguous.
            pub fn parse_list(text: &str) -> Result<Vec<$name>> {
                split_list(text, $name::LIST_BY_SCHEME)
                    .into_iter()
                    .map(str::parse)
                    .collect()
            }
        }
    };
}

direction!(
    /// An `--allow-outbound` rule: `tcp://`, `udp://`, `http://` or `https://`.
    Outbound, "--allow-outbound", parse_outbound
);
direction!(
    /// An `--allow-inbound` rule: `tcp://` or `udp://`.
    Inbound, "--allow-inbound", parse_inbound
);
direction!(
    /// An `--allow-resolve` rule: a name, a `*.` pattern or `*`.
    Resolve, "--allow-resolve", parse_resolve
);

impl Outbound {
    const LIST_BY_SCHEME: bool = true;
}
impl Inbound {
    const LIST_BY_SCHEME: bool = true;
}
impl Resolve {
    const LIST_BY_SCHEME: bool = false;
}

/// Splits a flag value into rules. Ports use commas too (`tcp://*:80,443`),
/// so for URL-like rules a comma starts a new rule only where a scheme
/// follows it; lookup rules never hold a comma.
fn split_list(text: &str, by_scheme: bool) -> Vec<&str> {
    if !by_scheme {
        return text.split(',').collect();
    }
    let mut out = Vec::new();
    let mut start = 0;
    for (i, _) in text.match_indices(',') {
        let rest = &text[i + 1..];
        let scheme = rest.split_once("://").map(|(s, _)| s);
        if scheme.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphabetic())) {
            out.push(&text[start..i]);
            start = i + 1;
        }
    }
    out.push(&text[start..]);
    out
}

fn parse_outbound(text: &str) -> Result<Rule> {
    let (scheme, rest) = split_scheme(text, &["tcp", "udp", "http", "https"])?;
    let kind = match scheme {
        "tcp" => Kind::TcpOut,
        "udp" => Kind::UdpOut,
        "http" => Kind::Http,
        _ => Kind::Https,
    };
    let web = matches!(kind, Kind::Http | Kind::Https);
    let (rest, family, methods) = if web {
        let (rest, methods) = split_methods(rest)?;
        (rest, Family::Any, methods)
    } else {
        let (rest, family) = split_family(rest)?;
        (rest, family, String::new())
    };
    let mut p = Parts::new(rest);
    p.web = web;
    let host = p.host(false)?;
    let to_host = p.remap_host()?;
    let (ports, to_port) = if web {
        let default = if kind == Kind::Http { 80 } else { 443 };
        let ports = match p.ports()? {
            Some(ports) => ports,
            None => vec![(default, default)],
        };
        (ports, None)
    } else {
        let ports = p
            .ports()?
            .ok_or_else(|| anyhow!("a port is missing: give `:PORT`, a list, a range or `:*`"))?;
        ensure!(
            ports.iter().all(|(lo, _)| *lo > 0) || ports == [(0, u16::MAX)],
            "port 0 is no port to connect to (it means \"any free port\" only inbound)"
        );
        let to_port = p.remap_port(&ports)?;
        (ports, to_port)
    };
    let path = if web { p.path()? } else { String::new() };
    p.end()?;
    if web {
        ensure!(to_host.is_none(), "an HTTP rule takes no remap");
    }
    if to_host.is_some() {
        ensure!(
            matches!(host, Host::Name(_))
                || matches!(host, Host::Net(ip, p) if p == full_prefix(ip)),
            "only one name or one address can be remapped, not `*` or a pattern or a network"
        );
    }
    let rule = Rule {
        kind,
        family,
        host,
        ports,
        to_host,
        to_port,
        methods,
        path,
    };
    check_family(&rule)?;
    Ok(rule)
}

fn parse_inbound(text: &str) -> Result<Rule> {
    let (scheme, rest) = split_scheme(text, &["tcp", "udp"])?;
    let kind = if scheme == "tcp" {
        Kind::TcpIn
    } else {
        Kind::UdpIn
    };
    let (rest, family) = split_family(rest)?;
    let mut p = Parts::new(rest);
    let host = p.host(true)?;
    ensure!(
        p.remap_host()?.is_none(),
        "an inbound rule remaps only its port (`:80->8888`)"
    );
    let ports = p
        .ports()?
        .ok_or_else(|| anyhow!("a port is missing: give `:PORT`, a list, a range, `:0` or `:*`"))?;
    let to_port = p.remap_port(&ports)?;
    p.end()?;
    let rule = Rule {
        kind,
        family,
        host,
        ports,
        to_host: None,
        to_port,
        methods: String::new(),
        path: String::new(),
    };
    check_family(&rule)?;
    Ok(rule)
}

fn parse_resolve(text: &str) -> Result<Rule> {
    let (rest, family) = split_family(text)?;
    ensure!(
        !rest.contains("://"),
        "a lookup rule is a name, `*.NAME` or `*`, without a scheme"
    );
    let mut p = Parts::new(rest);
    let host = p.host(false)?;
    if let Host::Net(..) = host {
        bail!("an address needs no lookup: a component resolves it without asking anyone");
    }
    let to_host = p.remap_host()?;
    p.end()?;
    if to_host.is_some() {
        ensure!(
            matches!(host, Host::Name(_)),
            "only one name can be remapped, not `*` or a pattern"
        );
    }
    let rule = Rule {
        kind: Kind::Resolve,
        family,
        host,
        ports: Vec::new(),
        to_host,
        to_port: None,
        methods: String::new(),
        path: String::new(),
    };
    check_family(&rule)?;
    Ok(rule)
}

fn full_prefix(ip: IpAddr) -> u8 {
    if ip.is_ipv4() {
        32
    } else {
        128
    }
}

/// A family filter must not contradict an address the rule names.
fn check_family(rule: &Rule) -> Result<()> {
    let family = rule.family;
    if let Host::Net(ip, _) = rule.host {
        ensure!(
            family.admits(ip),
            "`{ip}` is not an address of the family `#{}` admits",
            family_name(family)
        );
    }
    if let Some(to) = rule.to_host {
        ensure!(
            family.admits(to),
            "the remap target `{to}` is not an address of the family `#{}` admits",
            family_name(family)
        );
    }
    Ok(())
}

fn family_name(f: Family) -> &'static str {
    match f {
        Family::Any => "any",
        Family::V4 => "ipv4-only",
        Family::V6 => "ipv6-only",
    }
}

fn split_scheme<'t>(text: &'t str, schemes: &[&'static str]) -> Result<(&'static str, &'t str)> {
    let Some((scheme, rest)) = text.split_once("://") else {
        bail!(
            "expected `SCHEME://HOST:PORT` with a scheme of {}",
            quoted(schemes)
        );
    };
    let lower = scheme.to_ascii_lowercase();
    match schemes.iter().find(|s| **s == lower) {
        Some(s) => Ok((s, rest)),
        None => bail!("unknown scheme `{scheme}`: expected {}", quoted(schemes)),
    }
}

fn quoted(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("`{s}`")).collect();
    quoted.join(", ")
}

fn split_family(text: &str) -> Result<(&str, Family)> {
    let Some((rest, option)) = text.rsplit_once('#') else {
        return Ok((text, Family::Any));
    };
    let family = match option {
        "ipv4-only" => Family::V4,
        "ipv6-only" => Family::V6,
        other => bail!("unknown option `#{other}`: expected `#ipv4-only` or `#ipv6-only`"),
    };
    Ok((rest, family))
}

/// An HTTP rule's option: the methods it grants (`#GET,HEAD`), sorted and
/// without repeats; empty without one.
fn split_methods(text: &str) -> Result<(&str, String)> {
    let Some((rest, option)) = text.rsplit_once('#') else {
        return Ok((text, String::new()));
    };
    ensure!(
        option != "ipv4-only" && option != "ipv6-only",
        "`#ipv4-only` and `#ipv6-only` apply to tcp, udp and lookups; the host resolves \
         an HTTP request's name itself"
    );
    let method = |m: &str| {
        let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!$%&'*+-.^_`|~".contains(&b);
        !m.is_empty() && m.bytes().all(|b| tchar(b) && !b.is_ascii_lowercase())
    };
    ensure!(
        option.split(',').all(method),
        "unknown option `#{option}`: an HTTP rule takes `#` and methods separated by commas, \
         in upper case as HTTP spells them (`#GET,HEAD`)"
    );
    let mut methods: Vec<&str> = option.split(',').collect();
    methods.sort_unstable();
    methods.dedup();
    Ok((rest, methods.join(",")))
}

/// An HTTP rule's path pattern: `/PREFIX/`, `/PREFIX/**`, or a whole path;
/// a `*` segment stands for any one segment. Normalized as requests are
/// (`wasi_virt_layout::net::http_path`); `/` and `/**` are every path, and
/// written as none.
fn http_path(text: &str) -> Result<String> {
    ensure!(
        !text.contains('?'),
        "`{text}`: a rule path matches paths; no rule matches a query"
    );
    let mut segments: Vec<&str> = text.split('/').skip(1).collect();
    if segments.last() == Some(&"**") {
        *segments.last_mut().expect("a last segment") = "";
    }
    for segment in &segments {
        ensure!(
            *segment != "." && *segment != "..",
            "`{text}`: `.` and `..` segments are refused in a rule path; write the path they lead to"
        );
        ensure!(
            *segment == "*" || !segment.contains('*'),
            "`{text}`: a wildcard is a whole segment: `*` for one segment, a trailing `/**` for \
             any depth"
        );
    }
    let joined = ["/", &segments.join("/")].concat();
    let normal = layout::http_path::normalize(&joined).map_err(|refusal| {
        anyhow!(
            "`{text}`: {}",
            refusal.reason().replace("the target", "the path")
        )
    })?;
    Ok(if normal.path == "/" {
        String::new()
    } else {
        normal.path
    })
}

/// A cursor over the part of a rule after its scheme.
struct Parts<'t> {
    rest: &'t str,
    /// An HTTP rule: a path may follow the host or the ports.
    web: bool,
}

impl<'t> Parts<'t> {
    fn new(rest: &'t str) -> Self {
        Parts { rest, web: false }
    }

    /// An HTTP rule's path, if one follows.
    fn path(&mut self) -> Result<String> {
        if !self.rest.starts_with('/') {
            return Ok(String::new());
        }
        let text = core::mem::take(&mut self.rest);
        http_path(text)
    }

    /// The text up to the first of `stops` (or `->`), consumed.
    fn take_until(&mut self, stops: &[char]) -> &'t str {
        let end = self
            .rest
            .char_indices()
            .find(|(i, c)| stops.contains(c) || self.rest[*i..].starts_with("->"))
            .map_or(self.rest.len(), |(i, _)| i);
        let (head, tail) = self.rest.split_at(end);
        self.rest = tail;
        head
    }

    /// `*`, `*.NAME`, `NAME`, an address, `[IPV6]`, either with `/PREFIX`;
    /// inbound, `localhost` and `lo` too, and no other name.
    fn host(&mut self, inbound: bool) -> Result<Host> {
        let token = if self.rest.starts_with('[') {
            let end = self
                .rest
                .find(']')
                .ok_or_else(|| anyhow!("`[` opens an IPv6 address that `]` does not close"))?;
            let (head, tail) = self.rest.split_at(end + 1);
            self.rest = tail;
            head
        } else {
            self.take_until(&[':', '/', '#'])
        };
        ensure!(!token.is_empty(), "the host is empty");
        if let Some(prefix) = self
            .rest
            .strip_prefix('/')
            .filter(|p| !self.web || self.prefix_follows(token, p))
        {
            self.rest = prefix;
            let stops: &[char] = if self.web {
                &[':', '#', '/']
            } else {
                &[':', '#']
            };
            let digits = self.take_until(stops);
            let ip = address(token)?.ok_or_else(|| {
                anyhow!("`{token}/{digits}`: a prefix length follows an address, not a name")
            })?;
            return network(ip, digits);
        }
        if let Some(ip) = address(token)? {
            return Ok(Host::Net(ip, full_prefix(ip)));
        }
        if token == "*" {
            return Ok(Host::Any);
        }
        if inbound {
            return match token.to_ascii_lowercase().as_str() {
                "localhost" | "lo" => Ok(Host::Loopback),
                _ => bail!(
                    "`{token}`: an inbound rule takes `*`, `localhost`, the loopback interface \
                     `lo`, an address or a network; a component cannot learn another \
                     interface's or name's addresses"
                ),
            };
        }
        if let Some(below) = token.strip_prefix("*.") {
            return Ok(Host::Below(hostname(below, token)?));
        }
        Ok(Host::Name(hostname(token, token)?))
    }

    /// In an HTTP rule, whether the `/` after `token` starts a prefix length
    /// (`http://10.0.0.0/8`) rather than a path: it follows an address and
    /// digits follow it, up to a `:`, a `/` or the end.
    fn prefix_follows(&self, token: &str, after: &str) -> bool {
        let digits = after.split([':', '/']).next().unwrap_or("");
        let is_address = !matches!(address(token), Ok(None) | Err(_));
        is_address && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    }

    /// `->ADDRESS`, if it follows.
    fn remap_host(&mut self) -> Result<Option<IpAddr>> {
        let Some(rest) = self.rest.strip_prefix("->") else {
            return Ok(None);
        };
        self.rest = rest;
        let token = if rest.starts_with('[') {
            let end = rest
                .find(']')
                .ok_or_else(|| anyhow!("`[` opens an IPv6 address that `]` does not close"))?;
            let (head, tail) = rest.split_at(end + 1);
            self.rest = tail;
            head
        } else {
            self.take_until(&[':', '#'])
        };
        match address(token)? {
            Some(ip) => Ok(Some(ip)),
            None => bail!(
                "the remap target `{token}` is not an address (names are not remapped to names)"
            ),
        }
    }

    /// `:PORTS`, if it follows: `*`, or ports and ranges separated by commas.
    fn ports(&mut self) -> Result<Option<Vec<(u16, u16)>>> {
        let Some(rest) = self.rest.strip_prefix(':') else {
            return Ok(None);
        };
        self.rest = rest;
        let stops: &[char] = if self.web { &['#', '/'] } else { &['#'] };
        let text = self.take_until(stops);
        ensure!(!text.is_empty(), "the port is empty");
        if text == "*" {
            return Ok(Some(vec![(0, u16::MAX)]));
        }
        let mut ranges = Vec::new();
        for item in text.split(',') {
            let range = match item.split_once('-') {
                Some((lo, hi)) => {
                    let (lo, hi) = (port(lo)?, port(hi)?);
                    ensure!(lo <= hi, "the port range `{item}` is reversed");
                    (lo, hi)
                }
                None => {
                    let p = port(item)?;
                    (p, p)
                }
            };
            ranges.push(range);
        }
        Ok(Some(ranges))
    }

    /// `->PORT`, if it follows; only after a single port.
    fn remap_port(&mut self, ports: &[(u16, u16)]) -> Result<Option<u16>> {
        let Some(rest) = self.rest.strip_prefix("->") else {
            return Ok(None);
        };
        self.rest = "";
        ensure!(
            matches!(ports, [(lo, hi)] if lo == hi && *lo != 0),
            "only a single port can be remapped, not a list, a range, `*` or 0"
        );
        let to = port(rest)?;
        ensure!(to != 0, "port 0 is no port to remap to");
        Ok(Some(to))
    }

    fn end(&self) -> Result<()> {
        ensure!(self.rest.is_empty(), "unexpected `{}`", self.rest);
        Ok(())
    }
}

fn port(text: &str) -> Result<u16> {
    ensure!(
        !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()),
        "`{text}` is not a port number"
    );
    text.parse::<u16>()
        .map_err(|_| anyhow!("port `{text}` is out of range (0 to 65535)"))
}

/// An address, in any form a host reads as one, canonical; `None` for
/// anything that is no address.
fn address(token: &str) -> Result<Option<IpAddr>> {
    match host_literal(token) {
        Literal::Ip(ip) => Ok(Some(canonical(ip))),
        Literal::Invalid if token.starts_with('[') => {
            bail!("`{token}` is not an IPv6 address")
        }
        Literal::Invalid if token != "*" && !token.contains('*') => {
            bail!("`{token}` is neither an address nor a name")
        }
        _ => Ok(None),
    }
}

fn network(ip: IpAddr, digits: &str) -> Result<Host> {
    let full = full_prefix(ip);
    let prefix: u8 = digits
        .parse()
        .ok()
        .filter(|p| *p <= full)
        .ok_or_else(|| anyhow!("`/{digits}` is not a prefix length (0 to {full})"))?;
    ensure!(
        masked(ip, prefix) == ip,
        "`{ip}/{prefix}` has bits set past its prefix: the network is `{}/{prefix}`",
        masked(ip, prefix)
    );
    Ok(Host::Net(ip, prefix))
}

fn masked(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((u32::from(v4) & mask).into())
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & mask).into())
        }
    }
}

/// A host name in a rule: letters, digits, `-` and `_` in labels of at most
/// 63 bytes, at most 253 in all; lower-cased, one trailing dot dropped. A
/// `*` anywhere but as the whole first label is refused.
fn hostname(name: &str, whole: &str) -> Result<String> {
    ensure!(
        !name.contains('*'),
        "`{whole}`: a wildcard is only a whole leading label (`*.example.com`) or `*` alone"
    );
    let key = layout::name_key(name).ok_or_else(|| {
        anyhow!(
            "`{whole}` is not a host name (labels of letters, digits, `-` and `_`, separated \
             by single dots)"
        )
    })?;
    ensure!(
        key.len() <= 253 && key.split('.').all(|l| l.len() <= 63),
        "`{whole}` is too long for a host name (63 bytes a label, 253 in all)"
    );
    Ok(key.to_ascii_lowercase())
}
