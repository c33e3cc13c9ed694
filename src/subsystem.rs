//! The WASI interfaces the adapter virtualizes, grouped by subsystem, and the
//! rule that decides which of them one adapter exports.

use crate::names::InterfaceName;
use crate::policy::Policy;
use crate::wit;
use anyhow::{bail, Result};
use semver::Version;
use std::collections::BTreeSet;
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
    /// Files and directories.
    Fs,
    /// Outgoing HTTP.
    Http,
    /// `wasi:config/store`.
    Config,
    /// `wasi:io`: never asked for by a policy; exported whenever another
    /// exported interface hands out streams or pollables.
    Io,
}

/// `(interface, subsystem, whether it hands out streams or pollables)`.
const INTERFACES: &[(&str, Subsystem, bool)] = &[
    ("wasi:cli/environment", Subsystem::Env, false),
    ("wasi:cli/stdin", Subsystem::Stdio, true),
    ("wasi:cli/stdout", Subsystem::Stdio, true),
    ("wasi:cli/stderr", Subsystem::Stdio, true),
    ("wasi:cli/terminal-input", Subsystem::Stdio, false),
    ("wasi:cli/terminal-output", Subsystem::Stdio, false),
    ("wasi:cli/terminal-stdin", Subsystem::Stdio, false),
    ("wasi:cli/terminal-stdout", Subsystem::Stdio, false),
    ("wasi:cli/terminal-stderr", Subsystem::Stdio, false),
    ("wasi:clocks/monotonic-clock", Subsystem::Clocks, true),
    ("wasi:clocks/wall-clock", Subsystem::Clocks, false),
    ("wasi:random/random", Subsystem::Random, false),
    ("wasi:random/insecure", Subsystem::Random, false),
    ("wasi:random/insecure-seed", Subsystem::Random, false),
    ("wasi:cli/exit", Subsystem::Exit, false),
    ("wasi:sockets/network", Subsystem::Sockets, false),
    ("wasi:sockets/instance-network", Subsystem::Sockets, false),
    ("wasi:sockets/tcp", Subsystem::Sockets, true),
    ("wasi:sockets/tcp-create-socket", Subsystem::Sockets, false),
    ("wasi:sockets/udp", Subsystem::Sockets, true),
    ("wasi:sockets/udp-create-socket", Subsystem::Sockets, false),
    ("wasi:sockets/ip-name-lookup", Subsystem::Sockets, true),
    ("wasi:filesystem/types", Subsystem::Fs, true),
    ("wasi:filesystem/preopens", Subsystem::Fs, false),
    ("wasi:http/types", Subsystem::Http, true),
    ("wasi:http/outgoing-handler", Subsystem::Http, false),
    ("wasi:config/store", Subsystem::Config, false),
    ("wasi:io/error", Subsystem::Io, true),
    ("wasi:io/poll", Subsystem::Io, true),
    ("wasi:io/streams", Subsystem::Io, true),
];

/// The version of `wasi:config`, a draft outside the WASI 0.2 releases.
pub const CONFIG_VERSION: &str = "0.2.0-rc.1";

/// The full name of `interface` in an adapter for WASI `version`.
pub fn versioned(interface: &str, version: &Version) -> String {
    if interface.starts_with("wasi:config/") {
        format!("{interface}@{CONFIG_VERSION}")
    } else {
        format!("{interface}@{version}")
    }
}

/// The subsystem of a supported interface (unversioned name).
pub fn subsystem_of(interface: &str) -> Option<Subsystem> {
    INTERFACES
        .iter()
        .find(|(name, ..)| *name == interface)
        .map(|(_, s, _)| *s)
}

fn io_bearing(interface: &str) -> bool {
    INTERFACES
        .iter()
        .any(|(name, _, io)| *name == interface && *io)
}

fn interfaces_of(subsystem: Subsystem) -> impl Iterator<Item = &'static str> {
    INTERFACES
        .iter()
        .filter(move |(_, s, _)| *s == subsystem)
        .map(|(name, ..)| *name)
}

/// The subsystems a policy configures.
pub fn requested(policy: &Policy) -> Vec<Subsystem> {
    let mut out = Vec::new();
    if policy.env.is_some() {
        out.push(Subsystem::Env);
    }
    if policy.stdio.is_some() {
        out.push(Subsystem::Stdio);
    }
    if policy.clocks.is_some() {
        out.push(Subsystem::Clocks);
    }
    if policy.random.is_some() {
        out.push(Subsystem::Random);
    }
    if policy.exit.is_some() {
        out.push(Subsystem::Exit);
    }
    if policy.sockets.is_some() {
        out.push(Subsystem::Sockets);
    }
    if policy.fs.is_some() {
        out.push(Subsystem::Fs);
    }
    if policy.http.is_some() {
        out.push(Subsystem::Http);
    }
    if policy.config.is_some() {
        out.push(Subsystem::Config);
    }
    out
}

/// The interfaces (unversioned) the adapter exports.
///
/// - What the policy configures, limited to what the component imports
///   (import filtering); without a component, all of it.
/// - Closed under `use`: an exported interface's dependencies are exported
///   (DESIGN.md hazard 1).
/// - IO closure: once any exported interface hands out streams or
///   pollables, every such interface the component imports is exported too,
///   so all of its streams come from the adapter. Without a component, every
///   such interface is. Those the policy does not configure pass through.
pub fn select(
    policy: &Policy,
    component_imports: Option<&[String]>,
    resolve: &Resolve,
    version: &Version,
) -> Result<BTreeSet<&'static str>> {
    let imported: Option<BTreeSet<String>> = component_imports.map(|imports| {
        imports
            .iter()
            .filter_map(|i| InterfaceName::parse(i))
            .map(|n| n.unversioned)
            .collect()
    });
    let is_imported = |name: &str| imported.as_ref().is_none_or(|set| set.contains(name));

    let mut exports: BTreeSet<&'static str> = requested(policy)
        .into_iter()
        .flat_map(interfaces_of)
        .filter(|name| is_imported(name))
        .collect();
    loop {
        let before = exports.len();
        for name in exports.clone() {
            for dep in wit::dependencies(resolve, &versioned(name, version)) {
                let dep = InterfaceName::parse(&dep)
                    .expect("WIT names parse")
                    .unversioned;
                match INTERFACES.iter().find(|(n, ..)| *n == dep) {
                    Some((n, ..)) => {
                        exports.insert(n);
                    }
                    None => bail!(
                        "cannot virtualize `{name}`: it uses `{dep}`, which wasi-virt does not \
                         virtualize yet"
                    ),
                }
            }
        }
        if exports.iter().any(|name| io_bearing(name)) {
            for (name, _, io) in INTERFACES {
                if *io && is_imported(name) {
                    exports.insert(name);
                }
            }
        }
        if exports.len() == before {
            break;
        }
    }

    Ok(exports)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Access, StdioPolicy};

    fn v() -> Version {
        wit::BUILT_WASI_VERSION
    }

    fn imports(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| format!("{n}@0.2.12")).collect()
    }

    #[test]
    fn import_filtering_keeps_what_is_used() {
        let resolve = wit::load(&v()).unwrap();
        let mut policy = Policy::deny_all();
        policy.stdio = None;
        let got = select(
            &policy,
            Some(&imports(&["wasi:cli/environment", "wasi:random/random"])),
            &resolve,
            &v(),
        )
        .unwrap();
        assert_eq!(got, ["wasi:cli/environment", "wasi:random/random"].into());
    }

    #[test]
    fn clocks_pull_in_poll_and_the_io_closure() {
        let resolve = wit::load(&v()).unwrap();
        let policy = Policy {
            clocks: Some(Access::Allow),
            ..Policy::default()
        };
        let component = imports(&[
            "wasi:clocks/monotonic-clock",
            "wasi:io/poll",
            "wasi:io/error",
            "wasi:io/streams",
            "wasi:cli/stdout",
            "wasi:cli/environment",
        ]);
        let got = select(&policy, Some(&component), &resolve, &v()).unwrap();
        assert_eq!(
            got,
            [
                "wasi:clocks/monotonic-clock",
                "wasi:io/poll",
                "wasi:io/error",
                "wasi:io/streams",
                "wasi:cli/stdout",
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
        assert!(got.contains("wasi:io/streams") && got.contains("wasi:cli/terminal-stderr"));
        assert!(!got.contains("wasi:cli/environment"));
    }
}
