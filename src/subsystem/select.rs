//! The interfaces one adapter exports: what the policy configures, limited
//! to what the component imports, closed under `use` both ways.

use super::registry::{all_interfaces, requested, row_of, versioned, REGISTRY};
use crate::names::InterfaceName;
use crate::policy::Policy;
use crate::wit;
use anyhow::{bail, Result};
use semver::Version;
use std::collections::{BTreeMap, BTreeSet};
use wit_parser::Resolve;

/// The interfaces (unversioned) that `interface` uses types from.
pub fn uses(resolve: &Resolve, interface: &str, version: &Version) -> Vec<String> {
    wit::dependencies(resolve, &versioned(interface, version))
        .iter()
        .filter_map(|d| InterfaceName::parse(d))
        .map(|d| d.unversioned)
        .collect()
}

/// Which interfaces the adapter exports for one policy and component, and
/// which the component takes from the host directly.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// The interfaces (unversioned) the adapter exports.
    pub exports: BTreeSet<&'static str>,
    /// The interfaces (unversioned) the policy decides for the component,
    /// whether the adapter carries them or they pass straight to the host:
    /// what the summary lists.
    pub decided: BTreeSet<&'static str>,
    /// The interfaces whose setting is a plain pass-through that the
    /// adapter carries all the same, grouped by why.
    pub routed: Vec<Routed>,
}

impl Selection {
    /// Whether the component imports some interface the policy decides
    /// from the host directly.
    pub fn leaves_to_host(&self) -> bool {
        self.decided.len() > self.exports.len()
    }
}

/// Allowed interfaces that the adapter carries although the policy leaves
/// them to the host, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routed {
    /// The interfaces, unversioned.
    pub interfaces: Vec<&'static str>,
    /// Why, in words: `wasi:io/streams is virtualized for
    /// wasi:filesystem/types`.
    pub reason: String,
}

/// Why the closure added an interface to the exports.
#[derive(Clone, Copy)]
enum Cause {
    /// An exported interface uses its types.
    UsedBy(&'static str),
    /// It uses the types of an exported interface.
    Uses(&'static str),
}

/// The interfaces (unversioned) the adapter exports, for a component that
/// imports `component_imports` (unversioned; `None` for a standalone adapter).
///
/// - What the policy configures, limited to what the component imports
///   (import filtering); without a component, all of it.
/// - Left to the host: when composing, a subsystem whose setting is a plain
///   pass-through ([`passes_through`]) is not exported, so the component
///   imports it from the host directly, unless the closures below bring it
///   back (the selection says why, [`Routed`]). `--debug` traces every
///   call, and a command served per request (`--serve-http`) has its
///   streams, arguments and exit answered by the request, so then every
///   subsystem is carried.
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
) -> Result<Selection> {
    let imported: BTreeSet<String> = match component_imports {
        Some(imports) => imports.clone(),
        None => all_interfaces().map(String::from).collect(),
    };
    let configured: BTreeSet<&'static str> = requested(policy)
        .flat_map(|row| row.interfaces.iter().copied())
        .filter(|name| imported.contains(*name))
        .collect();
    let (decided, _) = closed(configured.clone(), &imported, resolve, version)?;
    let left = match component_imports {
        Some(_) if carries_everything(policy).is_none() => passing(policy, &configured),
        _ => BTreeSet::new(),
    };
    let seeds: BTreeSet<&'static str> = configured.difference(&left).copied().collect();
    let (exports, causes) = closed(seeds.clone(), &imported, resolve, version)?;
    let routed = routed(policy, &exports, &seeds, &causes);
    Ok(Selection {
        exports,
        decided,
        routed,
    })
}

/// Why every subsystem is carried whatever its setting, if it is.
fn carries_everything(policy: &Policy) -> Option<&'static str> {
    if policy.debug {
        Some("--debug traces every call")
    } else if policy.serve_http.is_some() {
        Some("the command is served per request (--serve-http)")
    } else {
        None
    }
}

/// Whether `interface`'s subsystem is configured as a plain pass-through.
fn passes_through(policy: &Policy, interface: &str) -> bool {
    row_of(interface)
        .and_then(|(row, _)| row.slot)
        .is_some_and(|slot| slot.passes_through(policy))
}

/// Those of `configured` whose setting is a plain pass-through.
fn passing(policy: &Policy, configured: &BTreeSet<&'static str>) -> BTreeSet<&'static str> {
    configured
        .iter()
        .copied()
        .filter(|i| passes_through(policy, i))
        .collect()
}

/// `exports` closed under `use` both ways, with why each interface the
/// closure added was added.
fn closed(
    mut exports: BTreeSet<&'static str>,
    imported: &BTreeSet<String>,
    resolve: &Resolve,
    version: &Version,
) -> Result<(BTreeSet<&'static str>, BTreeMap<&'static str, Cause>)> {
    let mut causes = BTreeMap::new();
    loop {
        let before = exports.len();
        close_forwards(&mut exports, &mut causes, resolve, version)?;
        close_backwards(&mut exports, &mut causes, imported, resolve, version)?;
        if exports.len() == before {
            return Ok((exports, causes));
        }
    }
}

/// The pass-through interfaces among `exports`, grouped by why the adapter
/// carries them: the interface that brought them in that the policy does
/// not leave to the host (a virtualized one, or `wasi:io`), and for which
/// virtualized interface that one is there.
fn routed(
    policy: &Policy,
    exports: &BTreeSet<&'static str>,
    seeds: &BTreeSet<&'static str>,
    causes: &BTreeMap<&'static str, Cause>,
) -> Vec<Routed> {
    let everything = carries_everything(policy);
    let mut groups: Vec<Routed> = Vec::new();
    for &name in exports {
        if !passes_through(policy, name) {
            continue;
        }
        let reason = match everything {
            Some(why) => why.to_string(),
            None => match carrier(policy, name, causes) {
                Some(carrier) => virtualized(carrier, seeds, causes),
                None => continue,
            },
        };
        match groups.iter_mut().find(|g| g.reason == reason) {
            Some(group) => group.interfaces.push(name),
            None => groups.push(Routed {
                interfaces: vec![name],
                reason,
            }),
        }
    }
    groups
}

/// The first interface along `name`'s causes that the policy does not
/// leave to the host.
fn carrier(
    policy: &Policy,
    name: &'static str,
    causes: &BTreeMap<&'static str, Cause>,
) -> Option<&'static str> {
    let mut at = name;
    for _ in 0..=causes.len() {
        let (Cause::Uses(next) | Cause::UsedBy(next)) = *causes.get(at)?;
        if !passes_through(policy, next) {
            return Some(next);
        }
        at = next;
    }
    None
}

/// `NAME is virtualized`, and for which interface the policy virtualizes
/// it, when it is exported only because of another.
fn virtualized(
    name: &'static str,
    seeds: &BTreeSet<&'static str>,
    causes: &BTreeMap<&'static str, Cause>,
) -> String {
    let mut root = name;
    for _ in 0..=causes.len() {
        if seeds.contains(root) {
            break;
        }
        match causes.get(root) {
            Some(Cause::Uses(next) | Cause::UsedBy(next)) => root = next,
            None => break,
        }
    }
    match root == name {
        true => format!("{name} is virtualized"),
        false => format!("{name} is virtualized for {root}"),
    }
}

/// Adds what the exported interfaces use.
fn close_forwards(
    exports: &mut BTreeSet<&'static str>,
    causes: &mut BTreeMap<&'static str, Cause>,
    resolve: &Resolve,
    version: &Version,
) -> Result<()> {
    for name in exports.clone() {
        for dep in uses(resolve, name, version) {
            match row_of(&dep) {
                Some((_, dep)) => {
                    if exports.insert(dep) {
                        causes.insert(dep, Cause::UsedBy(name));
                    }
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
    causes: &mut BTreeMap<&'static str, Cause>,
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
                let (_, user) = row_of(user).expect("an exported interface has a row");
                causes.insert(name, Cause::Uses(user));
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
        .unwrap()
        .exports;
        assert_eq!(got, [ENVIRONMENT, "wasi:random/random"].into());
    }

    #[test]
    fn clocks_pull_in_poll_and_the_io_closure() {
        let resolve = wit::load(&v()).unwrap();
        let policy = Policy {
            clocks: Some(ClocksPolicy::Deny),
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
        let got = select(&policy, Some(&component), &resolve, &v())
            .unwrap()
            .exports;
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

    /// What `--allow-all -e X=1` leaves to the host, for a component that
    /// imports the environment, stdout, the clocks and the filesystem.
    fn allow_all_with_a_variable() -> (Policy, BTreeSet<String>) {
        let mut policy = Policy::allow_all();
        policy
            .env
            .as_mut()
            .unwrap()
            .overrides
            .insert("X".into(), "1".into());
        let component = imports(&[
            ENVIRONMENT,
            STDOUT,
            "wasi:io/error",
            "wasi:io/poll",
            "wasi:io/streams",
            "wasi:clocks/monotonic-clock",
            "wasi:clocks/wall-clock",
            "wasi:filesystem/types",
            "wasi:filesystem/preopens",
        ]);
        (policy, component)
    }

    #[test]
    fn plain_pass_through_is_left_to_the_host() {
        let resolve = wit::load(&v()).unwrap();
        let (policy, component) = allow_all_with_a_variable();
        let got = select(&policy, Some(&component), &resolve, &v()).unwrap();
        assert_eq!(got.exports, [ENVIRONMENT].into());
        assert!(got.routed.is_empty(), "{:?}", got.routed);
        let decided: BTreeSet<&str> = component.iter().map(|s| s.as_str()).collect();
        assert_eq!(got.decided, decided);

        // Deny-all stays sealed: every interface is the adapter's.
        let sealed = select(&Policy::deny_all(), Some(&component), &resolve, &v()).unwrap();
        assert_eq!(sealed.exports, decided);
        assert!(sealed.routed.is_empty());

        // A standalone adapter, which does not know its component, carries
        // everything.
        let standalone = select(&policy, None, &resolve, &v()).unwrap();
        assert!(standalone.exports.contains(STDOUT));
    }

    #[test]
    fn routing_a_pass_through_says_why() {
        let resolve = wit::load(&v()).unwrap();
        let (mut policy, component) = allow_all_with_a_variable();
        let fs = policy.fs.as_mut().unwrap();
        fs.host_preopens = false;
        let got = select(&policy, Some(&component), &resolve, &v()).unwrap();
        assert!(got.exports.contains(STDOUT), "{:?}", got.exports);
        let streams = Routed {
            interfaces: vec![STDOUT],
            reason: "wasi:io/streams is virtualized for wasi:filesystem/types".into(),
        };
        assert!(got.routed.contains(&streams), "{:?}", got.routed);
        let wall = Routed {
            interfaces: vec!["wasi:clocks/wall-clock"],
            reason: "wasi:filesystem/types is virtualized".into(),
        };
        assert!(got.routed.contains(&wall), "{:?}", got.routed);

        let (mut policy, component) = allow_all_with_a_variable();
        policy.debug = true;
        let got = select(&policy, Some(&component), &resolve, &v()).unwrap();
        let decided: BTreeSet<&str> = component.iter().map(|s| s.as_str()).collect();
        assert_eq!(got.exports, decided);
        assert_eq!(got.routed.len(), 1, "{:?}", got.routed);
        assert_eq!(got.routed[0].reason, "--debug traces every call");
        assert!(got.routed[0].interfaces.contains(&STDOUT));
    }

    #[test]
    fn standalone_io_virtualizes_every_stream() {
        let resolve = wit::load(&v()).unwrap();
        let policy = Policy {
            stdio: Some(StdioPolicy::default()),
            ..Policy::default()
        };
        let got = select(&policy, None, &resolve, &v()).unwrap().exports;
        assert!(got.contains("wasi:clocks/monotonic-clock"));
        assert!(got.contains("wasi:io/streams") && got.contains(TERMINAL_STDERR));
        assert!(!got.contains(ENVIRONMENT));
    }
}
