//! The network rules, behind the `net` hook: the socket and HTTP code asks
//! [`ask`] a [`Query`] and gets an [`Answer`]; [`wasi_virt_net`], bound to
//! the hook only when the configuration has rules, decides it with
//! `wasi_virt_layout::net`. An adapter without rules has the hook bound to a
//! trap, so that none of this code (the rule decoder, the host-name reader,
//! the table of looked-up names) is in it.
//!
//! Only this file reads and writes the values the hook's pointers point
//! at, and both sides are this adapter's code.

use crate::global::Global;
use crate::state::config;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::IpAddr;
use wasi_virt_layout::net::http_path::{self, Refusal};
use wasi_virt_layout::net::{
    canonical, host_literal, name_key, Kind, Literal, Lookup, Needs, Rules,
};
use wasi_virt_layout::socket::Grants;

/// A question about one call.
pub enum Query<'a> {
    /// Which host interfaces the rules need.
    Needs,
    /// A lookup of a name, as the guest gave it.
    Resolve(&'a str),
    /// The host returned `ip` for a lookup of `name` (as the guest gave it).
    Resolved(IpAddr, &'a str),
    /// A connect or datagram of kind `TcpOut` or `UdpOut` to an address
    /// and port.
    Outbound(Kind, IpAddr, u16),
    /// A bind of kind `TcpIn` or `UdpIn` to an address and port.
    Inbound(Kind, IpAddr, u16),
    /// Whether some rule is of this kind.
    Any(Kind),
    /// An HTTP request: HTTPS or not, its authority's host and port, its
    /// method and its `path-with-query`.
    Http(bool, &'a str, u16, &'a str, &'a str),
}

/// What [`ask`] answers.
pub enum Answer {
    /// No answer yet (the hook writes one).
    Unanswered,
    /// To [`Query::Needs`].
    Needs(Needs),
    /// To [`Query::Resolve`]: the name is not a host at all.
    Invalid,
    /// To [`Query::Resolve`]: an address the adapter gives itself (the name
    /// was one, or a rule remaps it).
    Local(IpAddr),
    /// To [`Query::Resolve`]: the host looks it up; addresses of these
    /// families (IPv4, IPv6) pass.
    Host(bool, bool),
    /// To [`Query::Outbound`]: where it really goes, if allowed.
    To(Option<(IpAddr, u16)>),
    /// To [`Query::Inbound`]: the port the host really binds, if allowed.
    Port(Option<u16>),
    /// To the rest: allowed or not.
    Yes(bool),
    /// To [`Query::Http`]: the normalized target to send, or why the
    /// request is denied.
    Target(Result<String, &'static str>),
}

/// Asks the rules. Only called when the configuration has rules, so the
/// hook is bound.
pub fn ask(query: &Query<'_>) -> Answer {
    let mut answer = Answer::Unanswered;
    // SAFETY: both pointers are live for the call; the hook is
    // `wasi_virt_net`, which reads a `Query` and writes an `Answer`.
    unsafe {
        wasi_virt_layout::hooks::net(
            query as *const Query<'_> as *const u8,
            &mut answer as *mut Answer as *mut u8,
        )
    };
    answer
}

/// Which host interfaces the rules need, or `None` without rules for
/// sockets.
pub fn needs() -> Option<Needs> {
    if !config().net_sockets() {
        return None;
    }
    match ask(&Query::Needs) {
        Answer::Needs(needs) => Some(needs),
        _ => Some(Needs::default()),
    }
}

const _: [unsafe extern "C" fn(*const u8, *mut u8); 2] =
    [wasi_virt_layout::hooks::net, wasi_virt_net];

/// The implementation of the `net` hook.
///
/// # Safety
/// `query` points at a live [`Query`], `answer` at a live [`Answer`].
#[no_mangle]
pub unsafe extern "C" fn wasi_virt_net(query: *const u8, answer: *mut u8) {
    let query = &*(query as *const Query<'_>);
    *(answer as *mut Answer) = decide(query);
}

fn decide(query: &Query<'_>) -> Answer {
    let rules = &config().net;
    match *query {
        Query::Needs => Answer::Needs(rules.needs()),
        Query::Resolve(name) => {
            let key = match host_literal(name) {
                Literal::Ip(ip) => return Answer::Local(ip),
                Literal::Invalid => return Answer::Invalid,
                Literal::Name(key) => Some(key),
                Literal::Opaque => None,
            };
            match rules.resolve(key) {
                Lookup::Denied => Answer::Yes(false),
                Lookup::Local(ip) => {
                    if let Some(key) = key {
                        remember(ip, key);
                    }
                    Answer::Local(ip)
                }
                Lookup::Host { v4, v6 } => Answer::Host(v4, v6),
            }
        }
        Query::Resolved(ip, name) => {
            if let Some(key) = name_key(name) {
                remember(ip, key);
            }
            Answer::Yes(true)
        }
        Query::Outbound(kind, ip, port) => Answer::To(rules.outbound(kind, ip, port, |host| {
            RESOLVED.with(|seen| {
                seen.iter()
                    .any(|(i, name)| *i == ip && host.matches_name(name))
            })
        })),
        Query::Inbound(kind, ip, port) => Answer::Port(rules.inbound(kind, ip, port)),
        Query::Any(kind) => Answer::Yes(rules.any(kind)),
        Query::Http(https, host, port, method, target) => {
            Answer::Target(http(rules, https, host, port, method, target))
        }
    }
}

/// Decides an HTTP request on the target the server will read: the
/// normalized one, which is what the adapter then sends.
fn http(
    rules: &Rules<'_>,
    https: bool,
    host: &str,
    port: u16,
    method: &str,
    target: &str,
) -> Result<String, &'static str> {
    let normal = http_path::normalize(target).map_err(Refusal::reason)?;
    if rules.http(https, host_literal(host), port, method, &normal.path) {
        Ok(normal.target())
    } else {
        Err("no rule grants this scheme, host, port, method and path")
    }
}

/// The names the component looked up through the adapter, with an address
/// each returned: a connect to that address matches rules for those names.
static RESOLVED: Global<Vec<(IpAddr, String)>> = Global::new(Vec::new());

fn remember(ip: IpAddr, key: &str) {
    let ip = canonical(ip);
    RESOLVED.with(|seen| {
        if !seen
            .iter()
            .any(|(i, n)| *i == ip && n.eq_ignore_ascii_case(key))
        {
            seen.push((ip, key.to_string()));
        }
    });
}

/// The rules as `wasi_virt_layout::socket` asks them, through the hook.
pub struct Hooked;

impl Grants for Hooked {
    fn inbound(&self, kind: Kind, ip: IpAddr, port: u16) -> Option<u16> {
        match ask(&Query::Inbound(kind, ip, port)) {
            Answer::Port(port) => port,
            _ => None,
        }
    }

    fn any(&self, kind: Kind) -> bool {
        matches!(ask(&Query::Any(kind)), Answer::Yes(true))
    }
}
