//! Which host functions of each subsystem the adapter keeps importing: the
//! rules the registry's rows name ([`HostRule`]), and what decides them
//! besides the policy ([`HostNeeds`]).

use super::interfaces::*;
use crate::policy::network::NetworkPolicy;
use crate::policy::{Access, Args, ClocksPolicy, Cwd, FsEntry, Policy, Setting, StdioMode};
use std::collections::BTreeSet;
use wasi_virt_layout::Stream;

/// Which host functions of a subsystem the adapter keeps. A host function not
/// kept is cut off: the rewrite replaces it with a trap that no configured
/// path reaches, and its import disappears from the output.
pub enum HostRule {
    /// Every host function, while the subsystem is allowed.
    WhenAllowed,
    /// Decided per interface and function by the subsystem's settings.
    Settings(fn(&Policy, &HostNeeds, &str, &str) -> bool),
    /// `wasi:io`, the carrier: kept while a kept host import of another
    /// subsystem hands out its streams or pollables.
    Carrier,
}

/// What decides, besides the policy, which host functions the adapter needs.
pub struct HostNeeds<'a> {
    /// The interfaces the adapter exports, without versions.
    pub exports: &'a BTreeSet<&'static str>,
    /// The interfaces the component imports, without versions; `None` for
    /// a standalone adapter, which must serve any component.
    pub imported: Option<&'a BTreeSet<String>>,
    /// Whether the embedded filesystem reaches into the host's (remapped
    /// directories, runtime files).
    pub host_fs: bool,
    /// The host interfaces the policy's network rules need ([`rule_needs`]),
    /// worked out once.
    pub rules: Option<wasi_virt_layout::net::Needs>,
    /// Whether the output serves HTTP: the adapter then takes the host's
    /// requests and answers them through the host's `wasi:http/types`.
    pub serves_http: bool,
    /// Whether a command is served per request (`--serve-http`): its
    /// arguments, stdin, stdout and exit are the request's and the
    /// response's, never the host's.
    pub runs_per_request: bool,
}

/// The clocks the component imports, while they are allowed (they are also
/// exported only for their types, `datetime` and `duration`, and then never
/// called); and the wall clock's `now` for the times of an in-memory
/// filesystem's files.
pub fn clocks_host(policy: &Policy, needs: &HostNeeds, iface: &str, func: &str) -> bool {
    let allowed = policy.clocks.as_ref().is_none_or(ClocksPolicy::allows);
    let imported = needs.imported.is_none_or(|i| i.contains(iface));
    let file_times = iface == WALL_CLOCK && func == "now" && has_memory_fs(policy);
    allowed && (imported || file_times)
}

/// The host's exit while it is allowed, unless the command is served per
/// request: its exit answers the request and ends the instance there.
pub fn exit_host(policy: &Policy, needs: &HostNeeds, _: &str, _: &str) -> bool {
    policy.exit.is_none_or(|e| e == Access::Allow) && !needs.runs_per_request
}

/// Whether the policy has a tmpfs or an overlay.
pub fn has_memory_fs(policy: &Policy) -> bool {
    policy.fs.as_ref().is_some_and(|fs| {
        fs.preopens
            .values()
            .any(|e| matches!(e, FsEntry::Tmpfs(_) | FsEntry::Overlay(_)))
    })
}

/// `get-environment` while some host variable is visible; arguments and the
/// cwd while they are the host's.
pub fn env_host(policy: &Policy, needs: &HostNeeds, _: &str, func: &str) -> bool {
    let env = policy.env.clone().unwrap_or_default();
    match func {
        "get-environment" => env.host.mode() != wasi_virt_layout::HostFilterMode::None,
        "get-arguments" => env.args() == Args::Host && !needs.runs_per_request,
        "initial-cwd" => env.cwd() == Cwd::Host,
        _ => true,
    }
}

/// A stream and its terminal while the stream is allowed; stderr also for
/// `--debug`, which writes there. A command served per request has the
/// request and the response for stdin and stdout (and stderr, if it goes
/// into the response), and no terminal.
pub fn stdio_host(policy: &Policy, needs: &HostNeeds, iface: &str, func: &str) -> bool {
    let stdio = policy.stdio.clone().unwrap_or_default();
    let served = |s: Stream| {
        needs.runs_per_request && (s != Stream::Stderr || policy.stderr_into_response())
    };
    let terminals = [
        TERMINAL_INPUT,
        TERMINAL_OUTPUT,
        TERMINAL_STDIN,
        TERMINAL_STDOUT,
        TERMINAL_STDERR,
    ];
    if needs.runs_per_request && terminals.contains(&iface) {
        return false;
    }
    let allows = |s: Stream| stdio.mode(s) == StdioMode::Allow && !served(s);
    match iface {
        STDIN | TERMINAL_STDIN | TERMINAL_INPUT => allows(Stream::Stdin),
        STDOUT | TERMINAL_STDOUT => allows(Stream::Stdout),
        // `--debug` traces to the host's stderr through WASI 0.2.
        STDERR => allows(Stream::Stderr) || policy.debug && func != "write-via-stream",
        TERMINAL_STDERR => allows(Stream::Stderr),
        TERMINAL_OUTPUT => allows(Stream::Stdout) || allows(Stream::Stderr),
        _ => false,
    }
}

/// The host's filesystem while its preopens pass, or a remapped directory or
/// runtime file needs it.
pub fn fs_host(policy: &Policy, needs: &HostNeeds, _: &str, _: &str) -> bool {
    needs.host_fs || policy.fs.as_ref().is_none_or(|fs| fs.host_preopens)
}

/// The host interfaces the network rules need (`crates/layout/src/net.rs`
/// decides the same for the adapter, from the same rules), or `None` when
/// there are no rules.
pub fn rule_needs(policy: &Policy) -> Option<wasi_virt_layout::net::Needs> {
    let network = policy.network.as_ref()?;
    let bytes = wasi_virt_layout::encode(&wasi_virt_layout::ConfigSpec {
        net: network.specs(true, true),
        ..Default::default()
    });
    let config = wasi_virt_layout::Config::parse(&bytes).expect("the layout reads what it writes");
    Some(config.net.needs())
}

/// Every socket interface while sockets are allowed; under network rules,
/// those the rules need (TCP rules leave no UDP import, lookups alone no TCP
/// import, remapped names alone no import at all).
pub fn sockets_host(policy: &Policy, needs: &HostNeeds, iface: &str, _: &str) -> bool {
    let ruled = policy
        .network
        .as_ref()
        .is_some_and(NetworkPolicy::grants_sockets);
    match (policy.sockets, ruled) {
        (Some(Access::Allow), _) | (None, false) => return true,
        (Some(Access::Deny), false) => return false,
        (_, true) => {}
    }
    let Some(needs) = needs.rules else {
        return false;
    };
    match iface {
        NETWORK | INSTANCE_NETWORK => needs.network(),
        TCP | TCP_CREATE_SOCKET => needs.tcp,
        UDP | UDP_CREATE_SOCKET => needs.udp,
        IP_NAME_LOOKUP => needs.lookup,
        _ => false,
    }
}

/// Outgoing HTTP while it is allowed, or some `http://` or `https://` rule
/// grants part of it; and `wasi:http/types` while the output serves HTTP,
/// for the host's requests and responses.
pub fn http_host(policy: &Policy, needs: &HostNeeds, iface: &str, _: &str) -> bool {
    if needs.serves_http && iface == HTTP_TYPES {
        return true;
    }
    let ruled = policy
        .network
        .as_ref()
        .is_some_and(NetworkPolicy::grants_http);
    policy.http == Some(Access::Allow) || ruled || policy.http.is_none()
}
