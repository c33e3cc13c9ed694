//! The interfaces one adapter exports: what the policy configures, limited
//! to what the component imports, closed under `use` both ways.

use super::registry::{all_interfaces, requested, row_of, versioned, REGISTRY};
use crate::names::InterfaceName;
use crate::policy::Policy;
use crate::wit;
use anyhow::{bail, Result};
use semver::Version;
use std::collections::BTreeSet;
use wit_parser::Resolve;

/// The interfaces (unversioned) that `interface` uses types from.
pub fn uses(resolve: &Resolve, interface: &str, version: &Version) -> Vec<String> {
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
///   exported, so that its types are the adapter's, never the host's: a
///   world that imports and exports the same interface takes an export's
///   dependency from the import unless it is exported too (`add_world` in
///   `src/adapter/world.rs`).
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

/// A setting with content (variables, files, properties) must reach the
/// component through one of the interfaces the adapter `exports`: a
/// setting that cannot apply is an error, never a no-op.
pub fn check_content_reaches(policy: &Policy, exports: &BTreeSet<&'static str>) -> Result<()> {
    for row in REGISTRY {
        let Some(what) = row.content(policy) else {
            continue;
        };
        if !row.content_via.iter().any(|via| exports.contains(via)) {
            bail!(
                "the policy sets {what}, but the component does not import `{}`; remove that setting",
                row.content_via.join("` or `")
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{ClocksPolicy, StdioPolicy};
    use crate::subsystem::interfaces::{ENVIRONMENT, STDOUT, TERMINAL_STDERR};

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
}
