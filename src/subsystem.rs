//! The subsystem registry: every subsystem the adapter virtualizes, described
//! once (its interfaces, its policy slot, its allow bit in the layout, its
//! summary label, and which of its host functions a policy keeps), and the
//! rule that decides which interfaces one adapter exports.
//!
//! Everything that differs by subsystem is a field of a [`Row`]; everything
//! else (the policy's `allow_all`/`deny_all`, the policy-file overlay, the
//! allow bits, the denied imports, the summary) loops over [`REGISTRY`].

use crate::names::InterfaceName;
use crate::network::NetworkPolicy;
use crate::policy::{
    Access, ClocksPolicy, ConfigPolicy, EnvPolicy, FsEntry, FsPolicy, Policy, RandomPolicy,
    Setting, StdioPolicy,
};
use crate::wit;
use anyhow::{bail, Result};
use semver::Version;
use std::collections::BTreeSet;
use wasi_virt_layout::{allow, Stream};
use wit_parser::Resolve;

/// A group of interfaces configured together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subsystem {
    /// `wasi:cli/environment`.
    Env,
    /// Standard streams and terminals.
    Stdio,
    /// Monotonic and wall clocks.
    Clocks,
    /// Secure and insecure randomness.
    Random,
    /// `wasi:cli/exit`.
    Exit,
    /// TCP, UDP and name lookup.
    Sockets,
    /// Outgoing HTTP.
    Http,
    /// `wasi:config/store`.
    Config,
    /// Files and directories.
    Fs,
    /// `wasi:io`: never asked for by a policy; exported whenever another
    /// exported interface uses its streams or pollables.
    Io,
}

/// `wasi:cli/environment`.
pub const ENVIRONMENT: &str = "wasi:cli/environment";
/// `wasi:filesystem/preopens`, through which embedded files reach a component.
pub const PREOPENS: &str = "wasi:filesystem/preopens";
/// `wasi:http/types`.
pub const HTTP_TYPES: &str = "wasi:http/types";
/// `wasi:config/store`.
pub const CONFIG_STORE: &str = "wasi:config/store";

const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock";
const WALL_CLOCK: &str = "wasi:clocks/wall-clock";
const RANDOM_INTERFACES: &[&str] = &[
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
];
const EXIT: &str = "wasi:cli/exit";
const FS_TYPES: &str = "wasi:filesystem/types";
const SOCKETS_INTERFACES: &[&str] = &[
    NETWORK,
    INSTANCE_NETWORK,
    TCP,
    TCP_CREATE_SOCKET,
    UDP,
    UDP_CREATE_SOCKET,
    IP_NAME_LOOKUP,
];
const NETWORK: &str = "wasi:sockets/network";
const INSTANCE_NETWORK: &str = "wasi:sockets/instance-network";
const TCP: &str = "wasi:sockets/tcp";
const TCP_CREATE_SOCKET: &str = "wasi:sockets/tcp-create-socket";
const UDP: &str = "wasi:sockets/udp";
const UDP_CREATE_SOCKET: &str = "wasi:sockets/udp-create-socket";
const IP_NAME_LOOKUP: &str = "wasi:sockets/ip-name-lookup";
const OUTGOING_HANDLER: &str = "wasi:http/outgoing-handler";
const STDIN: &str = "wasi:cli/stdin";
const STDOUT: &str = "wasi:cli/stdout";
const STDERR: &str = "wasi:cli/stderr";
const TERMINAL_INPUT: &str = "wasi:cli/terminal-input";
const TERMINAL_OUTPUT: &str = "wasi:cli/terminal-output";
const TERMINAL_STDIN: &str = "wasi:cli/terminal-stdin";
const TERMINAL_STDOUT: &str = "wasi:cli/terminal-stdout";
const TERMINAL_STDERR: &str = "wasi:cli/terminal-stderr";

/// One subsystem.
pub struct Row {
    /// Which subsystem.
    pub subsystem: Subsystem,
    /// Its name in the summary and in a policy file.
    pub label: &'static str,
    /// The CLI flag that lets it through to the host (`--allow-stdio`);
    /// `None` for `wasi:io`, which passes exactly when another subsystem's
    /// streams or pollables do.
    pub flag: Option<&'static str>,
    /// Its interfaces, without versions.
    pub interfaces: &'static [&'static str],
    /// The version of its interfaces when they are not WASI 0.2 releases
    /// (`wasi:config` is a draft with a version of its own).
    pub own_version: Option<&'static str>,
    /// Its bit in the layout's allow word, set while the policy allows it;
    /// 0 when its settings are finer than allow and deny.
    pub allow_bit: u32,
    /// Where the policy configures it; `None` for `wasi:io`, which no
    /// policy configures.
    slot: Option<&'static (dyn Slot + Sync)>,
    /// The interfaces through which its content (variables, files,
    /// properties, a baked stdin, a virtual clock, a seed) reaches a
    /// component: the component must import one of them.
    pub content_via: &'static [&'static str],
    /// Which of its host functions the adapter keeps importing.
    host: HostRule,
    /// The permission its interfaces fall under, and its preview1
    /// functions.
    pub permits: Permits,
    /// The resources of its interfaces that only a source the
    /// configuration may leave out creates.
    pub impossible: Option<Impossible>,
    /// Its setting in words when a command is served per request
    /// (`--serve-http`) and the request and response stand in for it;
    /// `None` when serving changes nothing.
    served: Option<fn(&Policy) -> String>,
}

/// The permission a subsystem's interfaces fall under (`wasi-virt
/// inspect`, `--permissions`).
pub struct Permits {
    /// Its name, one of [`WASI_PERMISSIONS`]; `None` for `wasi:io`, which
    /// carries the others' streams and pollables and grants nothing by
    /// itself.
    pub name: Option<&'static str>,
    /// Whether it covers every interface of the row's packages, listed or
    /// not (`wasi:clocks/timezone` is `clocks`), rather than the row's own
    /// interfaces alone (`wasi:cli` holds three permissions).
    pub whole_package: bool,
    /// Its `wasi_snapshot_preview1` functions. A name ending in `*` stands
    /// for every function that begins so, unless another row names the
    /// function exactly (`fd_read` is `stdio`, `fd_seek` `filesystem`).
    pub preview1: &'static [&'static str],
}

/// Resources that only a source the configuration may leave out creates
/// (a preopen, the host's sockets, the host's HTTP). Without that source
/// their methods can only be called on handles that never exist, so the
/// adapter answers them with traps (`src/rewrite.rs`), and the code behind
/// them goes.
pub struct Impossible {
    /// Whether the configuration, as the adapter reads it, has the source.
    pub sourced: fn(&wasi_virt_layout::Config<'_>) -> bool,
    /// `(unversioned interface, resource)`.
    pub resources: &'static [(&'static str, &'static str)],
    /// Those that the front of a component serving HTTP creates too (its
    /// request), which exist whenever it serves one.
    pub made_by_front: &'static [(&'static str, &'static str)],
}

/// Which host functions of a subsystem the adapter keeps. A host function not
/// kept is cut off: the rewrite replaces it with a trap that no configured
/// path reaches, and its import disappears from the output.
enum HostRule {
    /// Every host function, while the subsystem is allowed.
    WhenAllowed,
    /// Decided per interface and function by the subsystem's settings.
    Settings(fn(&Policy, &HostNeeds, &str, &str) -> bool),
    /// `wasi:io`, the carrier: kept while a kept host import of another
    /// subsystem hands out its streams or pollables.
    Carrier,
}

/// The permissions WASI's interfaces fall under, in the order they are listed
/// (`wasi-virt inspect`, the report's JSON). Each row names one of them in
/// its [`Permits`]; sockets and HTTP share `networking`.
pub const WASI_PERMISSIONS: &[&str] = &[
    ENVIRONMENT_PERMISSION,
    STDIO_PERMISSION,
    FILESYSTEM_PERMISSION,
    NETWORKING_PERMISSION,
    CLOCKS_PERMISSION,
    RANDOM_PERMISSION,
    EXIT_PERMISSION,
    CONFIG_PERMISSION,
];

const ENVIRONMENT_PERMISSION: &str = "environment";
const STDIO_PERMISSION: &str = "stdio";
const FILESYSTEM_PERMISSION: &str = "filesystem";
const NETWORKING_PERMISSION: &str = "networking";
const CLOCKS_PERMISSION: &str = "clocks";
const RANDOM_PERMISSION: &str = "random";
const EXIT_PERMISSION: &str = "exit";
const CONFIG_PERMISSION: &str = "config";

/// Every subsystem, in summary order.
pub static REGISTRY: &[Row] = &[
    Row {
        subsystem: Subsystem::Env,
        label: "env",
        flag: Some("--allow-env"),
        interfaces: &[ENVIRONMENT],
        own_version: None,
        allow_bit: 0,
        slot: Some(&Field::<EnvPolicy> {
            get: |p| &p.env,
            get_mut: |p| &mut p.env,
        }),
        content_via: &[ENVIRONMENT],
        host: HostRule::Settings(env_host),
        permits: Permits {
            name: Some(ENVIRONMENT_PERMISSION),
            whole_package: false,
            preview1: &[
                "args_get",
                "args_sizes_get",
                "environ_get",
                "environ_sizes_get",
            ],
        },
        impossible: None,
        served: Some(|p| {
            let arguments = "from the request path and query; CGI variables";
            p.env
                .clone()
                .unwrap_or_default()
                .describe_with_arguments(arguments)
        }),
    },
    Row {
        subsystem: Subsystem::Stdio,
        label: "stdio",
        flag: Some("--allow-stdio"),
        interfaces: &[
            STDIN,
            STDOUT,
            STDERR,
            TERMINAL_INPUT,
            TERMINAL_OUTPUT,
            TERMINAL_STDIN,
            TERMINAL_STDOUT,
            TERMINAL_STDERR,
        ],
        own_version: None,
        allow_bit: 0,
        slot: Some(&Field::<StdioPolicy> {
            get: |p| &p.stdio,
            get_mut: |p| &mut p.stdio,
        }),
        content_via: &[STDIN],
        host: HostRule::Settings(stdio_host),
        // The descriptor functions that apply to any descriptor: without
        // `filesystem` (whose functions are the only way to open a file) or
        // `networking` (the only way to accept a socket), descriptors 0 to 2
        // are all a module has.
        permits: Permits {
            name: Some(STDIO_PERMISSION),
            whole_package: false,
            preview1: &[
                "fd_read",
                "fd_write",
                "fd_close",
                "fd_fdstat_get",
                "fd_fdstat_set_flags",
                "fd_renumber",
            ],
        },
        impossible: None,
        served: Some(|p| {
            let stderr = match p.stderr_into_response() {
                true => "into the response".to_string(),
                false => p
                    .stdio
                    .clone()
                    .unwrap_or_default()
                    .mode(Stream::Stderr)
                    .to_string(),
            };
            format!("stdin the request body, stdout the response, stderr {stderr}")
        }),
    },
    Row {
        subsystem: Subsystem::Clocks,
        label: "clocks",
        flag: Some("--allow-clocks"),
        interfaces: &[MONOTONIC_CLOCK, WALL_CLOCK],
        own_version: None,
        allow_bit: allow::CLOCKS,
        slot: Some(&Field::<ClocksPolicy> {
            get: |p| &p.clocks,
            get_mut: |p| &mut p.clocks,
        }),
        content_via: &[MONOTONIC_CLOCK, WALL_CLOCK],
        host: HostRule::Settings(clocks_host),
        permits: Permits {
            name: Some(CLOCKS_PERMISSION),
            whole_package: true,
            preview1: &["clock_res_get", "clock_time_get", "poll_oneoff"],
        },
        impossible: None,
        served: None,
    },
    Row {
        subsystem: Subsystem::Random,
        label: "random",
        flag: Some("--allow-random"),
        interfaces: RANDOM_INTERFACES,
        own_version: None,
        allow_bit: allow::RANDOM,
        slot: Some(&Field::<RandomPolicy> {
            get: |p| &p.random,
            get_mut: |p| &mut p.random,
        }),
        content_via: RANDOM_INTERFACES,
        host: HostRule::WhenAllowed,
        permits: Permits {
            name: Some(RANDOM_PERMISSION),
            whole_package: true,
            preview1: &["random_get"],
        },
        impossible: None,
        served: None,
    },
    Row {
        subsystem: Subsystem::Exit,
        label: "exit",
        flag: Some("--allow-exit"),
        interfaces: &[EXIT],
        own_version: None,
        allow_bit: allow::EXIT,
        slot: Some(&Field::<Access> {
            get: |p| &p.exit,
            get_mut: |p| &mut p.exit,
        }),
        content_via: &[EXIT],
        host: HostRule::Settings(exit_host),
        permits: Permits {
            name: Some(EXIT_PERMISSION),
            whole_package: false,
            preview1: &["proc_exit", "proc_raise"],
        },
        impossible: None,
        served: Some(|_| "answers the request, then ends the run".to_string()),
    },
    Row {
        subsystem: Subsystem::Sockets,
        label: "sockets",
        flag: Some("--allow-sockets"),
        interfaces: SOCKETS_INTERFACES,
        own_version: None,
        allow_bit: allow::SOCKETS,
        slot: Some(&Networked {
            access: Field::<Access> {
                get: |p| &p.sockets,
                get_mut: |p| &mut p.sockets,
            },
            granted: NetworkPolicy::grants_sockets,
        }),
        content_via: SOCKETS_INTERFACES,
        host: HostRule::Settings(sockets_host),
        permits: Permits {
            name: Some(NETWORKING_PERMISSION),
            whole_package: true,
            preview1: &["sock_*"],
        },
        // With sockets denied, no socket or lookup stream.
        impossible: Some(Impossible {
            sourced: |config| config.allows(allow::SOCKETS),
            resources: &[
                (TCP, "tcp-socket"),
                (UDP, "udp-socket"),
                (UDP, "incoming-datagram-stream"),
                (UDP, "outgoing-datagram-stream"),
                (IP_NAME_LOOKUP, "resolve-address-stream"),
            ],
            made_by_front: &[],
        }),
        served: None,
    },
    Row {
        subsystem: Subsystem::Http,
        label: "http",
        flag: Some("--allow-http"),
        interfaces: &[HTTP_TYPES, OUTGOING_HANDLER],
        own_version: None,
        allow_bit: allow::HTTP,
        slot: Some(&Networked {
            access: Field::<Access> {
                get: |p| &p.http,
                get_mut: |p| &mut p.http,
            },
            granted: NetworkPolicy::grants_http,
        }),
        content_via: &[HTTP_TYPES, OUTGOING_HANDLER],
        host: HostRule::Settings(http_host),
        // Outgoing HTTP only: `wasi:http/incoming-handler` is no host
        // interface a component calls.
        permits: Permits {
            name: Some(NETWORKING_PERMISSION),
            whole_package: false,
            preview1: &[],
        },
        // With HTTP denied, no response; and no incoming request, unless a
        // served component's comes through the front (`src/serve.rs`), with
        // its body and trailers.
        impossible: Some(Impossible {
            sourced: |config| config.allows(allow::HTTP),
            resources: &[
                (HTTP_TYPES, "future-incoming-response"),
                (HTTP_TYPES, "incoming-response"),
            ],
            made_by_front: &[
                (HTTP_TYPES, "incoming-request"),
                (HTTP_TYPES, "response-outparam"),
                (HTTP_TYPES, "incoming-body"),
                (HTTP_TYPES, "future-trailers"),
            ],
        }),
        served: None,
    },
    Row {
        subsystem: Subsystem::Config,
        label: "config",
        flag: Some("--allow-config"),
        interfaces: &[CONFIG_STORE],
        own_version: Some("0.2.0-rc.1"),
        allow_bit: 0,
        slot: Some(&Field::<ConfigPolicy> {
            get: |p| &p.config,
            get_mut: |p| &mut p.config,
        }),
        content_via: &[CONFIG_STORE],
        // Allowed while some host property is visible (`ConfigPolicy`).
        host: HostRule::WhenAllowed,
        permits: Permits {
            name: Some(CONFIG_PERMISSION),
            whole_package: true,
            preview1: &[],
        },
        impossible: None,
        served: None,
    },
    Row {
        subsystem: Subsystem::Fs,
        label: "fs",
        flag: Some("--allow-fs"),
        interfaces: &[FS_TYPES, PREOPENS],
        own_version: None,
        allow_bit: allow::HOST_PREOPENS,
        slot: Some(&Field::<FsPolicy> {
            get: |p| &p.fs,
            get_mut: |p| &mut p.fs,
        }),
        content_via: &[PREOPENS],
        host: HostRule::Settings(fs_host),
        // Those that only mean something for files (`fd_seek`,
        // `fd_readdir`, `fd_prestat_get`, `path_*`, ...).
        permits: Permits {
            name: Some(FILESYSTEM_PERMISSION),
            whole_package: true,
            preview1: &["fd_*", "path_*"],
        },
        // Without a preopen of any kind, no descriptor exists.
        impossible: Some(Impossible {
            sourced: |config| {
                let fs = &config.fs;
                fs.preopens().next().is_some()
                    || !fs.memory.is_empty()
                    || !fs.remaps.is_empty()
                    || config.allows(allow::HOST_PREOPENS)
            },
            resources: &[
                (FS_TYPES, "descriptor"),
                (FS_TYPES, "directory-entry-stream"),
            ],
            made_by_front: &[],
        }),
        served: None,
    },
    Row {
        subsystem: Subsystem::Io,
        label: "io",
        flag: None,
        interfaces: &["wasi:io/error", "wasi:io/poll", "wasi:io/streams"],
        own_version: None,
        allow_bit: 0,
        slot: None,
        content_via: &[],
        host: HostRule::Carrier,
        // `sched_yield` touches nothing.
        permits: Permits {
            name: None,
            whole_package: true,
            preview1: &["sched_yield"],
        },
        impossible: None,
        served: None,
    },
];

/// The clocks the component imports, while they are allowed (they are also
/// exported only for their types, `datetime` and `duration`, and then never
/// called); and the wall clock's `now` for the times of an in-memory
/// filesystem's files.
fn clocks_host(policy: &Policy, needs: &HostNeeds, iface: &str, func: &str) -> bool {
    let allowed = policy.clocks.as_ref().is_none_or(ClocksPolicy::allows);
    let imported = needs.imported.is_none_or(|i| i.contains(iface));
    let file_times = iface == WALL_CLOCK && func == "now" && has_memory_fs(policy);
    allowed && (imported || file_times)
}

/// The host's exit while it is allowed, unless the command is served per
/// request: its exit answers the request and ends the instance there.
fn exit_host(policy: &Policy, needs: &HostNeeds, _: &str, _: &str) -> bool {
    policy.exit.is_none_or(|e| e == Access::Allow) && !needs.runs_per_request()
}

/// Whether the policy has a tmpfs or an overlay.
fn has_memory_fs(policy: &Policy) -> bool {
    policy.fs.as_ref().is_some_and(|fs| {
        fs.preopens
            .values()
            .any(|e| matches!(e, FsEntry::Tmpfs(_) | FsEntry::Overlay(_)))
    })
}

/// `get-environment` while some host variable is visible; arguments and the
/// cwd while they are the host's.
fn env_host(policy: &Policy, needs: &HostNeeds, _: &str, func: &str) -> bool {
    let env = policy.env.clone().unwrap_or_default();
    match func {
        "get-environment" => env.host.mode() != wasi_virt_layout::HostFilterMode::None,
        "get-arguments" => env.args() == crate::policy::Args::Host && !needs.runs_per_request(),
        "initial-cwd" => env.cwd() == crate::policy::Cwd::Host,
        _ => true,
    }
}

/// A stream and its terminal while the stream is allowed; stderr also for
/// `--debug`, which writes there. A command served per request has the
/// request and the response for stdin and stdout (and stderr, if it goes
/// into the response), and no terminal.
fn stdio_host(policy: &Policy, needs: &HostNeeds, iface: &str, _: &str) -> bool {
    let stdio = policy.stdio.clone().unwrap_or_default();
    let served = |s: Stream| {
        needs.runs_per_request() && (s != Stream::Stderr || policy.stderr_into_response())
    };
    if needs.runs_per_request() && iface.starts_with("wasi:cli/terminal-") {
        return false;
    }
    let allows = |s: Stream| stdio.mode(s) == crate::policy::StdioMode::Allow && !served(s);
    match iface {
        STDIN | TERMINAL_STDIN | TERMINAL_INPUT => allows(Stream::Stdin),
        STDOUT | TERMINAL_STDOUT => allows(Stream::Stdout),
        STDERR => allows(Stream::Stderr) || policy.debug,
        TERMINAL_STDERR => allows(Stream::Stderr),
        TERMINAL_OUTPUT => allows(Stream::Stdout) || allows(Stream::Stderr),
        _ => false,
    }
}

/// The host's filesystem while its preopens pass, or a remapped directory or
/// runtime file needs it.
fn fs_host(policy: &Policy, needs: &HostNeeds, _: &str, _: &str) -> bool {
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
fn sockets_host(policy: &Policy, needs: &HostNeeds, iface: &str, _: &str) -> bool {
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
fn http_host(policy: &Policy, needs: &HostNeeds, iface: &str, _: &str) -> bool {
    if needs.serving.is_some() && iface == HTTP_TYPES {
        return true;
    }
    let ruled = policy
        .network
        .as_ref()
        .is_some_and(NetworkPolicy::grants_http);
    policy.http == Some(Access::Allow) || ruled || policy.http.is_none()
}

/// Reads and writes one subsystem's slot of a [`Policy`], whatever its type.
trait Slot {
    fn configured(&self, policy: &Policy) -> bool;
    fn set(&self, policy: &mut Policy, allow: bool);
    fn overlay(&self, policy: &mut Policy, from: &Policy);
    fn allows(&self, policy: &Policy) -> bool;
    fn describe(&self, policy: &Policy) -> String;
    fn content(&self, policy: &Policy) -> Option<&'static str>;
}

/// A slot holding `Option<T>`: absent is "not virtualized", which passes
/// everything through and is described as allowing.
struct Field<T: 'static> {
    get: fn(&Policy) -> &Option<T>,
    get_mut: fn(&mut Policy) -> &mut Option<T>,
}

impl<T: Setting> Slot for Field<T> {
    fn configured(&self, policy: &Policy) -> bool {
        (self.get)(policy).is_some()
    }

    fn set(&self, policy: &mut Policy, allow: bool) {
        *(self.get_mut)(policy) = Some(if allow { T::allowing() } else { T::denying() });
    }

    fn overlay(&self, policy: &mut Policy, from: &Policy) {
        if let Some(setting) = (self.get)(from) {
            *(self.get_mut)(policy) = Some(setting.clone());
        }
    }

    fn allows(&self, policy: &Policy) -> bool {
        (self.get)(policy).as_ref().is_none_or(T::allows)
    }

    fn describe(&self, policy: &Policy) -> String {
        match (self.get)(policy) {
            Some(setting) => setting.describe(),
            None => T::allowing().describe(),
        }
    }

    fn content(&self, policy: &Policy) -> Option<&'static str> {
        (self.get)(policy).as_ref().and_then(T::content)
    }
}

/// Sockets or HTTP: allowed or denied as a whole, or granted in part by the
/// policy's network rules, which deny everything they do not grant.
struct Networked {
    access: Field<Access>,
    granted: fn(&NetworkPolicy) -> bool,
}

impl Networked {
    fn ruled(&self, policy: &Policy) -> bool {
        policy.network.as_ref().is_some_and(self.granted)
    }
}

impl Slot for Networked {
    fn configured(&self, policy: &Policy) -> bool {
        self.access.configured(policy) || self.ruled(policy)
    }

    fn set(&self, policy: &mut Policy, allow: bool) {
        self.access.set(policy, allow);
    }

    fn overlay(&self, policy: &mut Policy, from: &Policy) {
        // The rules themselves are merged once, by `Policy::overlay`.
        self.access.overlay(policy, from);
    }

    fn allows(&self, policy: &Policy) -> bool {
        self.access.allows(policy) || self.ruled(policy)
    }

    fn describe(&self, policy: &Policy) -> String {
        if self.ruled(policy) {
            "the network rules below; nothing else".to_string()
        } else {
            self.access.describe(policy)
        }
    }

    fn content(&self, policy: &Policy) -> Option<&'static str> {
        self.ruled(policy).then_some("network rules")
    }
}

impl Row {
    /// Whether the policy configures this subsystem.
    pub fn configured(&self, policy: &Policy) -> bool {
        self.slot.is_some_and(|s| s.configured(policy))
    }

    /// Sets the subsystem to allow or deny everything.
    pub fn set(&self, policy: &mut Policy, allow: bool) {
        if let Some(slot) = self.slot {
            slot.set(policy, allow);
        }
    }

    /// Takes the subsystem's setting from `from`, if it has one.
    pub fn overlay(&self, policy: &mut Policy, from: &Policy) {
        if let Some(slot) = self.slot {
            slot.overlay(policy, from);
        }
    }

    /// The policy's setting, in words, for the summary.
    pub fn describe(&self, policy: &Policy) -> String {
        match self.slot {
            Some(slot) => slot.describe(policy),
            None => "the streams and pollables of the above".to_string(),
        }
    }

    /// The policy's setting, in words, for the summary of an output that
    /// serves a command per request when `runs_per_request`: what the
    /// request and response replace, not the policy's settings for them.
    pub fn describe_as(&self, policy: &Policy, runs_per_request: bool) -> String {
        match self.served {
            Some(served) if runs_per_request => served(policy),
            _ => self.describe(policy),
        }
    }

    /// What content the policy gives this subsystem, in words, if any.
    pub fn content(&self, policy: &Policy) -> Option<&'static str> {
        self.slot.and_then(|s| s.content(policy))
    }

    /// Its bit of the layout's allow word for `policy`.
    pub fn allow_bits(&self, policy: &Policy) -> u32 {
        match self.slot {
            Some(slot) if slot.allows(policy) => self.allow_bit,
            _ => 0,
        }
    }

    fn versioned(&self, interface: &str, version: &Version) -> String {
        match self.own_version {
            Some(own) => format!("{interface}@{own}"),
            None => format!("{interface}@{version}"),
        }
    }
}

/// The policy's operations on every subsystem at once, which loop over the
/// registry (the policy's types know nothing of it).
impl Policy {
    /// Everything virtualized and passed through to the host.
    pub fn allow_all() -> Policy {
        Policy::every_subsystem(true)
    }

    /// Everything virtualized and denied: the environment is sealed, and a
    /// composed component imports nothing of WASI.
    pub fn deny_all() -> Policy {
        Policy::every_subsystem(false)
    }

    fn every_subsystem(allow: bool) -> Policy {
        let mut policy = Policy::default();
        for row in REGISTRY {
            row.set(&mut policy, allow);
        }
        policy
    }

    /// Virtualizes `subsystem`, allowing or denying all of it.
    pub fn set(&mut self, subsystem: Subsystem, allow: bool) {
        row(subsystem).set(self, allow);
    }

    /// Takes every subsystem that `other` configures from `other`, keeping
    /// the rest; `debug` is on if either has it. This is how a policy file
    /// refines the CLI's starting point.
    pub fn overlay(&mut self, other: &Policy) {
        for row in REGISTRY {
            row.overlay(self, other);
        }
        self.overlay_beyond_subsystems(other);
    }
}

/// The row of `subsystem`.
pub fn row(subsystem: Subsystem) -> &'static Row {
    REGISTRY
        .iter()
        .find(|r| r.subsystem == subsystem)
        .expect("every subsystem has a row")
}

/// The row of a supported interface (unversioned name), and the interface
/// as the registry spells it.
fn row_of(interface: &str) -> Option<(&'static Row, &'static str)> {
    REGISTRY.iter().find_map(|row| {
        let name = row.interfaces.iter().find(|n| **n == interface)?;
        Some((row, *name))
    })
}

/// The row that governs `import` (an interface name, with or without its
/// version): the one that lists it. An interface the registry does not list
/// is governed by no subsystem, whatever its package
/// (`wasi:clocks/timezone`, beside the clocks).
pub fn governing(import: &str) -> Option<&'static Row> {
    let name = InterfaceName::parse(import)?;
    row_of(&name.unversioned).map(|(row, _)| row)
}

/// The row whose permission covers `interface` (unversioned): the row
/// that lists it, else the row whose permission covers its whole package.
pub fn permitting(interface: &str) -> Option<&'static Row> {
    if let Some((row, _)) = row_of(interface) {
        return Some(row);
    }
    let package = |name: &str| name.rsplit_once('/').map(|(p, _)| p.to_string());
    let wanted = package(interface)?;
    REGISTRY.iter().find(|row| {
        row.permits.whole_package
            && row
                .interfaces
                .iter()
                .any(|i| package(i).as_ref() == Some(&wanted))
    })
}

/// The row whose permission covers the `wasi_snapshot_preview1` function
/// `function`: the one naming it, else the one naming a prefix of it.
pub fn permitting_preview1(function: &str) -> Option<&'static Row> {
    let names = |row: &&Row| row.permits.preview1.contains(&function);
    let prefixes = |row: &&Row| {
        row.permits.preview1.iter().any(|p| {
            p.strip_suffix('*')
                .is_some_and(|prefix| function.starts_with(prefix))
        })
    };
    REGISTRY
        .iter()
        .find(names)
        .or_else(|| REGISTRY.iter().find(prefixes))
}

/// Whether `import` is a WASI interface that no subsystem governs
/// (`wasi:logging/logging`, `wasi:keyvalue/store`): the output never imports
/// one unless it is allowed by name (`--allow-import`).
pub fn is_ungoverned_wasi(import: &str) -> bool {
    InterfaceName::parse(import).is_some_and(|n| n.namespace() == "wasi")
        && governing(import).is_none()
}

/// Every interface the adapter can export, without versions.
pub fn all_interfaces() -> impl Iterator<Item = &'static str> {
    REGISTRY.iter().flat_map(|r| r.interfaces.iter().copied())
}

/// The full name of `interface` in an adapter for WASI `version`.
pub fn versioned(interface: &str, version: &Version) -> String {
    // The adapter's private interfaces (`wit/deps/serve.wit`) have no
    // version.
    if interface.starts_with("wasi-virt:") {
        return interface.to_string();
    }
    match row_of(interface) {
        Some((row, _)) => row.versioned(interface, version),
        None => format!("{interface}@{version}"),
    }
}

/// The subsystems a policy configures.
pub fn requested(policy: &Policy) -> impl Iterator<Item = &'static Row> + '_ {
    REGISTRY.iter().filter(|r| r.configured(policy))
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
    /// How the output serves HTTP, if it does: the adapter then takes the
    /// host's requests and answers them through the host's
    /// `wasi:http/types`.
    pub serving: Option<crate::serve::Serving>,
}

impl HostNeeds<'_> {
    /// Whether a command is served per request (`--serve-http`): its
    /// arguments, stdin, stdout and exit are the request's and the
    /// response's, never the host's.
    fn runs_per_request(&self) -> bool {
        self.serving == Some(crate::serve::Serving::Run)
    }
}

/// The host interfaces (unversioned) whose functions the adapter keeps
/// importing, as far as the subsystem decides per interface; `keeps` then
/// decides per function.
pub struct HostImports<'a> {
    policy: &'a Policy,
    needs: HostNeeds<'a>,
    /// The `wasi:io` interfaces kept, from the kept imports of the others.
    carried: BTreeSet<String>,
}

impl<'a> HostImports<'a> {
    /// Works out the carrier from what the other subsystems keep: an
    /// interface the adapter exports (or stderr, which `--debug` writes to)
    /// whose host functions pass brings along the `wasi:io` interfaces it
    /// uses, directly or not.
    pub fn new(
        policy: &'a Policy,
        needs: HostNeeds<'a>,
        resolve: &Resolve,
        version: &Version,
    ) -> Self {
        let mut host = HostImports {
            policy,
            needs,
            carried: BTreeSet::new(),
        };
        let debug = policy.debug.then_some(STDERR);
        let served = host.needs.serving.map(|_| HTTP_TYPES);
        let used: Vec<&str> = host
            .needs
            .exports
            .iter()
            .copied()
            .chain(debug)
            .chain(served)
            .collect();
        let mut work: Vec<String> = used
            .into_iter()
            .filter(|i| row_of(i).is_some_and(|(r, _)| !matches!(r.host, HostRule::Carrier)))
            .filter(|i| host.keeps_interface(i, ""))
            .map(String::from)
            .collect();
        while let Some(iface) = work.pop() {
            for dep in uses(resolve, &iface, version) {
                let carrier =
                    row_of(&dep).is_some_and(|(r, _)| matches!(r.host, HostRule::Carrier));
                if carrier && host.carried.insert(dep.clone()) {
                    work.push(dep);
                }
            }
        }
        host
    }

    /// Whether the adapter keeps importing host function `func` of `module`
    /// (a versioned interface name).
    pub fn keeps(&self, module: &str, func: &str) -> bool {
        match InterfaceName::parse(module) {
            Some(name) => self.keeps_interface(&name.unversioned, func),
            None => true,
        }
    }

    fn keeps_interface(&self, iface: &str, func: &str) -> bool {
        let Some((row, _)) = row_of(iface) else {
            return true;
        };
        let allowed = || row.slot.is_none_or(|s| s.allows(self.policy));
        match row.host {
            HostRule::WhenAllowed => allowed(),
            HostRule::Settings(rule) => rule(self.policy, &self.needs, iface, func),
            HostRule::Carrier => self.carried.contains(iface),
        }
    }
}

/// The interfaces (unversioned) that `interface` uses types from.
fn uses(resolve: &Resolve, interface: &str, version: &Version) -> Vec<String> {
    wit::dependencies(resolve, &versioned(interface, version))
        .iter()
        .filter_map(|d| InterfaceName::parse(d))
        .map(|d| d.unversioned)
        .collect()
}

/// The interfaces (unversioned) the adapter exports, for a component that
/// imports `component_imports` (unversioned; `None` for a standalone adapter).
///
/// - What the policy configures, limited to what the component imports
///   (import filtering); without a component, all of it.
/// - Closed under `use`, forwards: an exported interface's dependencies are
///   exported (DESIGN.md hazard 1).
/// - Closed under `use`, backwards (the IO closure): an interface the
///   component imports that uses an exported one must come from the adapter
///   too, or its types would name resources of two owners (a host
///   `wasi:cli/stdout` handing out streams of the adapter's `wasi:io`).
///   Without a component, every interface the adapter can export counts as
///   imported. Those the policy does not configure pass through.
pub fn select(
    policy: &Policy,
    component_imports: Option<&BTreeSet<String>>,
    resolve: &Resolve,
    version: &Version,
) -> Result<BTreeSet<&'static str>> {
    let imported: BTreeSet<String> = match component_imports {
        Some(imports) => imports.clone(),
        None => all_interfaces().map(String::from).collect(),
    };
    let mut exports: BTreeSet<&'static str> = requested(policy)
        .flat_map(|row| row.interfaces.iter().copied())
        .filter(|name| imported.contains(*name))
        .collect();
    loop {
        let before = exports.len();
        close_forwards(&mut exports, resolve, version)?;
        close_backwards(&mut exports, &imported, resolve, version)?;
        if exports.len() == before {
            return Ok(exports);
        }
    }
}

/// Adds what the exported interfaces use.
fn close_forwards(
    exports: &mut BTreeSet<&'static str>,
    resolve: &Resolve,
    version: &Version,
) -> Result<()> {
    for name in exports.clone() {
        for dep in uses(resolve, name, version) {
            match row_of(&dep) {
                Some((_, dep)) => {
                    exports.insert(dep);
                }
                None => bail!(
                    "cannot virtualize `{name}`: it uses `{dep}`, which wasi-virt does not \
                     virtualize yet"
                ),
            }
        }
    }
    Ok(())
}

/// Adds the imported interfaces that use an exported one.
fn close_backwards(
    exports: &mut BTreeSet<&'static str>,
    imported: &BTreeSet<String>,
    resolve: &Resolve,
    version: &Version,
) -> Result<()> {
    for name in imported {
        if exports.contains(name.as_str()) {
            continue;
        }
        let deps = uses(resolve, name, version);
        let Some(user) = deps.iter().find(|d| exports.contains(d.as_str())) else {
            continue;
        };
        match row_of(name) {
            Some((_, name)) => {
                exports.insert(name);
            }
            None => bail!(
                "the component imports `{name}`, which uses `{user}`; wasi-virt cannot \
                 virtualize `{name}` yet, so it cannot virtualize `{user}` either"
            ),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::StdioPolicy;

    fn v() -> Version {
        wit::BUILT_WASI_VERSION
    }

    fn imports(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn every_interface_has_one_row() {
        let all: Vec<&str> = all_interfaces().collect();
        let unique: BTreeSet<&str> = all.iter().copied().collect();
        assert_eq!(all.len(), unique.len(), "an interface is in two rows");
        let mut subsystems: Vec<Subsystem> = REGISTRY.iter().map(|r| r.subsystem).collect();
        subsystems.dedup();
        assert_eq!(subsystems.len(), REGISTRY.len(), "a subsystem has two rows");
    }

    #[test]
    fn every_interface_the_adapter_exports_has_a_row() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("wit");
        let mut resolve = Resolve::default();
        let (package, _) = resolve.push_dir(&root).unwrap();
        let world = resolve
            .select_world(&[package], Some("virtual-adapter"))
            .unwrap();
        let mut exported = BTreeSet::new();
        for key in resolve.worlds[world].exports.keys() {
            let name = resolve.name_world_key(key);
            if name.starts_with("wasi-virt:") {
                continue; // the adapter's own bridges (`wit/deps/serve.wit`)
            }
            let unversioned = InterfaceName::parse(&name).unwrap().unversioned;
            let row = governing(&name);
            assert!(row.is_some(), "`{name}` in wit/virt.wit belongs to no row");
            assert_eq!(versioned(&unversioned, &v()), name, "{name}");
            exported.insert(unversioned);
        }
        for iface in all_interfaces() {
            assert!(
                exported.contains(iface),
                "`{iface}` is not exported by wit/virt.wit"
            );
        }
    }

    #[test]
    fn every_permission_has_a_row() {
        let named: BTreeSet<&str> = REGISTRY.iter().filter_map(|r| r.permits.name).collect();
        let listed: BTreeSet<&str> = WASI_PERMISSIONS.iter().copied().collect();
        assert_eq!(named, listed);
        assert_eq!(
            listed.len(),
            WASI_PERMISSIONS.len(),
            "a permission is listed twice"
        );
    }

    #[test]
    fn every_interface_is_in_the_adapter_world() {
        let resolve = wit::load(&v()).unwrap();
        for iface in all_interfaces() {
            assert!(
                wit::interface(&resolve, &versioned(iface, &v())).is_some(),
                "`{iface}` is not in wit/"
            );
        }
    }

    #[test]
    fn only_listed_interfaces_are_governed() {
        assert_eq!(
            governing("wasi:clocks/wall-clock@0.2.6").map(|r| r.label),
            Some("clocks")
        );
        assert_eq!(governing("wasi:io/streams").map(|r| r.flag), Some(None));
        for ungoverned in [
            "wasi:clocks/timezone@0.2.6",
            "wasi:logging/logging@0.1.0-draft",
            "wasi:keyvalue/store",
            "wasi:nn/inference@0.2.0-rc-2024-10-28",
        ] {
            assert!(governing(ungoverned).is_none(), "{ungoverned}");
            assert!(is_ungoverned_wasi(ungoverned), "{ungoverned}");
        }
        assert!(!is_ungoverned_wasi("ocre:gpio/pins@0.1.0"));
        assert!(!is_ungoverned_wasi("wasi:cli/stdout@0.2.6"));
        for row in REGISTRY {
            assert_eq!(
                row.flag.is_none(),
                row.subsystem == Subsystem::Io,
                "{}",
                row.label
            );
        }
    }

    #[test]
    fn import_filtering_keeps_what_is_used() {
        let resolve = wit::load(&v()).unwrap();
        let mut policy = Policy::deny_all();
        policy.stdio = None;
        let got = select(
            &policy,
            Some(&imports(&[ENVIRONMENT, "wasi:random/random"])),
            &resolve,
            &v(),
        )
        .unwrap();
        assert_eq!(got, [ENVIRONMENT, "wasi:random/random"].into());
    }

    #[test]
    fn clocks_pull_in_poll_and_the_io_closure() {
        let resolve = wit::load(&v()).unwrap();
        let policy = Policy {
            clocks: Some(ClocksPolicy::Allow),
            ..Policy::default()
        };
        let component = imports(&[
            "wasi:clocks/monotonic-clock",
            "wasi:io/poll",
            "wasi:io/error",
            "wasi:io/streams",
            STDOUT,
            ENVIRONMENT,
        ]);
        let got = select(&policy, Some(&component), &resolve, &v()).unwrap();
        assert_eq!(
            got,
            [
                "wasi:clocks/monotonic-clock",
                "wasi:io/poll",
                "wasi:io/error",
                "wasi:io/streams",
                STDOUT,
            ]
            .into()
        );
    }

    #[test]
    fn standalone_io_virtualizes_every_stream() {
        let resolve = wit::load(&v()).unwrap();
        let policy = Policy {
            stdio: Some(StdioPolicy::default()),
            ..Policy::default()
        };
        let got = select(&policy, None, &resolve, &v()).unwrap();
        assert!(got.contains("wasi:clocks/monotonic-clock"));
        assert!(got.contains("wasi:io/streams") && got.contains(TERMINAL_STDERR));
        assert!(!got.contains(ENVIRONMENT));
    }

    #[test]
    fn passed_through_sockets_carry_the_host_streams() {
        let resolve = wit::load(&v()).unwrap();
        let mut policy = Policy::deny_all();
        policy.set(Subsystem::Sockets, true);
        let exports: BTreeSet<&str> = [
            "wasi:sockets/tcp",
            "wasi:sockets/network",
            "wasi:io/streams",
            "wasi:io/poll",
            "wasi:io/error",
        ]
        .into();
        let needs = HostNeeds {
            exports: &exports,
            imported: None,
            host_fs: false,
            rules: None,
            serving: None,
        };
        let host = HostImports::new(&policy, needs, &resolve, &v());
        assert!(host.keeps("wasi:io/streams@0.2.12", "[method]input-stream.read"));
        assert!(host.keeps("wasi:io/poll@0.2.12", "poll"));
        assert!(!host.keeps("wasi:cli/stdout@0.2.12", "get-stdout"));

        policy.set(Subsystem::Sockets, false);
        let needs = HostNeeds {
            exports: &exports,
            imported: None,
            host_fs: false,
            rules: None,
            serving: None,
        };
        let host = HostImports::new(&policy, needs, &resolve, &v());
        assert!(!host.keeps("wasi:io/streams@0.2.12", "[method]input-stream.read"));
        assert!(!host.keeps("wasi:sockets/tcp@0.2.12", "[method]tcp-socket.connect"));
    }
}
