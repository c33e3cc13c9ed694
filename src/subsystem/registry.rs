//! The subsystem registry: every subsystem the adapter virtualizes, described
//! once (its interfaces, its policy slot, its allow bit in the layout, its
//! summary label, its permission, the resources it makes impossible, and
//! which of its host functions a policy keeps).
//!
//! Everything that differs by subsystem is a field of a [`Row`]; everything
//! else (the policy's `allow_all`/`deny_all`, the policy-file overlay, the
//! allow bits, the denied imports, the summary, the permissions) loops over
//! [`REGISTRY`].

use super::host_rules::*;
use super::interfaces::*;
use super::slot::{Field, Networked, Slot};
use crate::names::InterfaceName;
use crate::policy::network::NetworkPolicy;
use crate::policy::{
    Access, ClocksPolicy, ConfigPolicy, EnvPolicy, FsPolicy, Policy, RandomPolicy, StdioPolicy,
};
use semver::Version;
use wasi_virt_layout::{allow, Stream};

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
    pub slot: Option<&'static (dyn Slot + Sync)>,
    /// The interfaces through which its content (variables, files,
    /// properties, a baked stdin, a virtual clock, a seed) reaches a
    /// component: the component must import one of them.
    pub content_via: &'static [&'static str],
    /// Which of its host functions the adapter keeps importing.
    pub host: HostRule,
    /// The permission its interfaces fall under, and its preview1
    /// functions.
    pub permits: Permits,
    /// The resources of its interfaces that only a source the
    /// configuration may leave out creates.
    pub impossible: Option<Impossible>,
    /// Whether its denial is answered by traps (its interfaces have no
    /// error channel), and the flags that would serve its calls instead;
    /// `None` when a denied call returns an error, or cannot be denied.
    pub traps: Option<Traps>,
    /// Its setting in words when a command is served per request
    /// (`--serve-http`) and the request and response stand in for it;
    /// `None` when serving changes nothing.
    pub served: Option<fn(&Policy) -> String>,
}

/// A subsystem whose denied calls trap: every function of its interfaces
/// (`virtual-adapter/src/clocks.rs`, `random.rs`, `exit.rs`). The report
/// lists those its component's code can reach ([`crate::Report`]).
pub struct Traps {
    /// Whether `policy` answers its functions with traps: denied, with
    /// nothing to answer from instead (no virtual clock, no seed; a command
    /// served per request answers its request when it exits).
    pub when: fn(&Policy) -> bool,
    /// The flags that would serve its calls (`--allow-random or
    /// --random-seed N`).
    pub served_by: &'static str,
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
/// adapter answers them with traps (`src/adapter/rewrite.rs`), and the
/// code behind them goes.
pub struct Impossible {
    /// Whether the configuration, as the adapter reads it, has the source.
    pub sourced: fn(&wasi_virt_layout::Config<'_>) -> bool,
    /// `(unversioned interface, resource)`.
    pub resources: &'static [(&'static str, &'static str)],
    /// Those that the front of a component serving HTTP creates too (its
    /// request), which exist whenever it serves one.
    pub made_by_front: &'static [(&'static str, &'static str)],
}

/// The permissions WASI's interfaces fall under, in the order they are listed
/// (`wasi-virt inspect`, the report's JSON). Each subsystem's row names the
/// one its interfaces fall under; sockets and HTTP share `networking`.
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
        traps: None,
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
        traps: None,
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
        traps: Some(Traps {
            when: |p| p.clocks == Some(ClocksPolicy::Deny),
            served_by: "--allow-clocks or --clock=virtual:INSTANT",
        }),
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
        traps: Some(Traps {
            when: |p| p.random == Some(RandomPolicy::Deny),
            served_by: "--allow-random or --random-seed N",
        }),
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
        traps: Some(Traps {
            when: |p| p.exit == Some(Access::Deny) && p.serve_http.is_none(),
            served_by: "--allow-exit",
        }),
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
        traps: None,
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
        // served component's comes through the front (`src/compose/serve.rs`), with
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
        traps: None,
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
        traps: None,
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
        traps: None,
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
        traps: None,
        served: None,
    },
];

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

    /// Whether its interfaces are served at `version`: a WASI 0.2 release,
    /// or the row's own version; a name without a version is served.
    pub fn serves(&self, version: Option<&Version>) -> bool {
        let Some(version) = version else {
            return true;
        };
        match self.own_version {
            Some(own) => own.parse::<Version>().is_ok_and(|own| own == *version),
            None => version.major == 0 && version.minor == 2 && version.pre.is_empty(),
        }
    }

    /// `interface` at `version`, or at the row's own version.
    pub fn versioned(&self, interface: &str, version: &Version) -> String {
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
pub fn row_of(interface: &str) -> Option<(&'static Row, &'static str)> {
    REGISTRY.iter().find_map(|row| {
        let name = row.interfaces.iter().find(|n| **n == interface)?;
        Some((row, *name))
    })
}

/// The row that governs `import` (an interface name, with or without its
/// version): the one that lists it. An interface the registry does not list
/// is governed by no subsystem, whatever its package
/// (`wasi:clocks/timezone`, beside the clocks).
///
/// Only at a version the adapter serves: `wasi:cli/environment@0.3.0` is
/// governed by no row ([`unvirtualized_version`]).
pub fn governing(import: &str) -> Option<&'static Row> {
    if let Some(face) = p3_face(import) {
        return row_of(face.counterpart).map(|(row, _)| row);
    }
    let name = InterfaceName::parse(import)?;
    let (row, _) = row_of(&name.unversioned)?;
    row.serves(name.version.as_ref()).then_some(row)
}

/// The version of `import` when it belongs to a WASI package the registry
/// covers (`wasi:cli`, `wasi:clocks`, ...) at a version the adapter does not
/// serve: a WASI 0.3 interface, which wasi-virt does not virtualize yet
/// (`wasi:http/types@0.3.0`, `wasi:clocks/timezone@0.3.0`). Such an
/// import is never decided by a subsystem's setting: it is an error unless
/// `--allow-import` or `--deny-import` names it.
pub fn unvirtualized_version(import: &str) -> Option<Version> {
    if p3_face(import).is_some() {
        return None;
    }
    let name = InterfaceName::parse(import)?;
    let version = name.version.as_ref()?;
    let package = name.unversioned.rsplit_once('/')?.0;
    let rows: Vec<&Row> = REGISTRY
        .iter()
        .filter(|row| {
            row.interfaces
                .iter()
                .any(|i| i.rsplit_once('/').is_some_and(|(p, _)| p == package))
        })
        .collect();
    let served = match row_of(&name.unversioned) {
        Some((row, _)) => row.serves(Some(version)),
        None => rows.iter().any(|row| row.serves(Some(version))),
    };
    (!rows.is_empty() && !served).then(|| version.clone())
}

/// The WASI 0.3 interface that `import` (a full name) is, if the adapter
/// serves it ([`P3_FACES`]): `wasi:clocks/system-clock@0.3.0`, governed by
/// the clocks; `None` for `wasi:cli/stdout@0.3.0`.
pub fn p3_face(import: &str) -> Option<&'static Face> {
    // Asked of every function the adapter imports and exports: most are
    // WASI 0.2's, told apart without parsing the name.
    if !import.contains("@0.3.") {
        return None;
    }
    let name = InterfaceName::parse(import)?;
    if name.version.as_ref() != Some(&WASI_0_3) {
        return None;
    }
    P3_FACES.iter().find(|f| f.name == name.unversioned)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wit;
    use std::collections::BTreeSet;
    use wit_parser::Resolve;

    fn v() -> Version {
        wit::BUILT_WASI_VERSION
    }

    /// The WASI 0.3 interfaces the adapter serves are governed by their
    /// 0.2 counterpart's row; the rest of WASI 0.3 stays unvirtualized.
    #[test]
    fn served_wasi_0_3_interfaces_are_governed() {
        let label = |i: &str| governing(i).map(|r| r.label);
        assert_eq!(label("wasi:cli/environment@0.3.0"), Some("env"));
        assert_eq!(label("wasi:clocks/system-clock@0.3.0"), Some("clocks"));
        assert_eq!(label("wasi:clocks/types@0.3.0"), Some("clocks"));
        assert_eq!(label("wasi:random/insecure-seed@0.3.0"), Some("random"));
        assert_eq!(label("wasi:cli/exit@0.3.0"), Some("exit"));
        for served in P3_FACES {
            let name = format!("{}@0.3.0", served.name);
            assert_eq!(unvirtualized_version(&name), None, "{name}");
            assert!(!is_ungoverned_wasi(&name), "{name}");
        }
        assert_eq!(label("wasi:cli/stdout@0.3.0"), Some("stdio"));
        assert_eq!(label("wasi:cli/terminal-output@0.3.0"), Some("stdio"));
        assert_eq!(label("wasi:filesystem/types@0.3.0"), Some("fs"));
        assert_eq!(label("wasi:sockets/ip-name-lookup@0.3.0"), Some("sockets"));
        assert_eq!(label("wasi:http/types@0.3.0"), Some("http"));
        assert_eq!(label("wasi:http/client@0.3.0"), Some("http"));
        for refused in ["wasi:clocks/timezone@0.3.0", "wasi:http/handler@0.3.0"] {
            assert_eq!(governing(refused).map(|r| r.label), None, "{refused}");
            assert!(unvirtualized_version(refused).is_some(), "{refused}");
        }
        assert_eq!(
            p3_face("wasi:clocks/system-clock@0.2.6").map(|f| f.name),
            None
        );
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
}
