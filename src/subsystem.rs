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
    /// exported interface uses its streams or pollables.
    Io,
}

/// Every interface the adapter can export, and its subsystem.
const INTERFACES: &[(&str, Subsystem)] = &[
    ("wasi:cli/environment", Subsystem::Env),
    ("wasi:cli/stdin", Subsystem::Stdio),
    ("wasi:cli/stdout", Subsystem::Stdio),
    ("wasi:cli/stderr", Subsystem::Stdio),
    ("wasi:cli/terminal-input", Subsystem::Stdio),
    ("wasi:cli/terminal-output", Subsystem::Stdio),
    ("wasi:cli/terminal-stdin", Subsystem::Stdio),
    ("wasi:cli/terminal-stdout", Subsystem::Stdio),
    ("wasi:cli/terminal-stderr", Subsystem::Stdio),
    ("wasi:clocks/monotonic-clock", Subsystem::Clocks),
    ("wasi:clocks/wall-clock", Subsystem::Clocks),
    ("wasi:random/random", Subsystem::Random),
    ("wasi:random/insecure", Subsystem::Random),
    ("wasi:random/insecure-seed", Subsystem::Random),
    ("wasi:cli/exit", Subsystem::Exit),
    ("wasi:sockets/network", Subsystem::Sockets),
    ("wasi:sockets/instance-network", Subsystem::Sockets),
    ("wasi:sockets/tcp", Subsystem::Sockets),
    ("wasi:sockets/tcp-create-socket", Subsystem::Sockets),
    ("wasi:sockets/udp", Subsystem::Sockets),
    ("wasi:sockets/udp-create-socket", Subsystem::Sockets),
    ("wasi:sockets/ip-name-lookup", Subsystem::Sockets),
    ("wasi:filesystem/types", Subsystem::Fs),
    ("wasi:filesystem/preopens", Subsystem::Fs),
    ("wasi:http/types", Subsystem::Http),
    ("wasi:http/outgoing-handler", Subsystem::Http),
    ("wasi:config/store", Subsystem::Config),
    ("wasi:io/error", Subsystem::Io),
    ("wasi:io/poll", Subsystem::Io),
    ("wasi:io/streams", Subsystem::Io),
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
        .find(|(name, _)| *name == interface)
        .map(|(_, s)| *s)
}

fn interfaces_of(subsystem: Subsystem) -> impl Iterator<Item = &'static str> {
    INTERFACES
        .iter()
        .filter(move |(_, s)| *s == subsystem)
        .map(|(name, _)| *name)
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
        None => INTERFACES.iter().map(|(n, _)| n.to_string()).collect(),
    };
    let deps = |name: &str| -> Vec<String> {
        wit::dependencies(resolve, &versioned(name, version))
            .iter()
            .filter_map(|d| InterfaceName::parse(d))
            .map(|d| d.unversioned)
            .collect()
    };
    let supported = |name: &str| INTERFACES.iter().find(|(n, _)| *n == name).map(|(n, _)| *n);

    let mut exports: BTreeSet<&'static str> = requested(policy)
        .into_iter()
        .flat_map(interfaces_of)
        .filter(|name| imported.contains(*name))
        .collect();
    loop {
        let before = exports.len();
        for name in exports.clone() {
            for dep in deps(name) {
                match supported(&dep) {
                    Some(dep) => {
                        exports.insert(dep);
                    }
                    None => bail!(
                        "cannot virtualize `{name}`: it uses `{dep}`, which wasi-virt does not \
                         virtualize yet"
                    ),
                }
            }
        }
        for name in &imported {
            if exports.contains(name.as_str()) {
                continue;
            }
            let Some(user) = deps(name)
                .into_iter()
                .find(|d| exports.contains(d.as_str()))
            else {
                continue;
            };
            match supported(name) {
                Some(name) => {
                    exports.insert(name);
                }
                None => bail!(
                    "the component imports `{name}`, which uses `{user}`; wasi-virt cannot \
                     virtualize `{name}` yet, so it cannot virtualize `{user}` either"
                ),
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

    fn imports(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
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
