//! The functions a component's code can reach that the policy answers with
//! traps: denied clocks, random and exit (their interfaces have no error
//! channel; a registry row's `traps`), and the imports answered by traps in
//! front of the adapter (`--deny-import`, and WASI interfaces no subsystem
//! governs). Functions that fail with an error instead (sockets, stdio,
//! HTTP) are not listed.

use super::ReachableTraps;
use crate::compose::plug::{Plugged, DENIED};
use crate::inspect::component_import_functions;
use crate::names::InterfaceName;
use crate::policy::Policy;
use crate::subsystem::registry::{governing, REGISTRY};
use anyhow::{Context, Result};

/// Every imported function of `component` its code can reach: the
/// import's name (versioned) and the function's.
pub(crate) fn reachable_functions(component: &[u8]) -> Result<Vec<(String, String)>> {
    let reach = crate::inspect::reach::component(component)
        .context("failed to work out which imports the component's code reaches")?;
    let mut out = Vec::new();
    for (import, functions) in component_import_functions(component)? {
        let all = reach.reached.contains(&(import.clone(), None));
        for function in functions {
            if all
                || reach
                    .reached
                    .contains(&(import.clone(), Some(function.clone())))
            {
                out.push((import.clone(), function));
            }
        }
    }
    Ok(out)
}

/// Those of `reachable` that `policy` answers with traps, grouped: by
/// subsystem in the registry's order, then each import trapped in front
/// of the adapter (`plugged` by [`DENIED`]; `by_default`, those of them
/// that no `--allow-import` named).
pub(crate) fn reachable_traps(
    policy: &Policy,
    reachable: &[(String, String)],
    plugged: &Plugged,
    by_default: &[String],
) -> Vec<ReachableTraps> {
    let mut groups = Vec::new();
    for row in REGISTRY {
        let Some(traps) = row.traps.as_ref().filter(|t| (t.when)(policy)) else {
            continue;
        };
        let functions = functions_of(reachable, |import| {
            governing(import).is_some_and(|r| r.subsystem == row.subsystem)
        });
        if !functions.is_empty() {
            groups.push(ReachableTraps {
                subsystem: row.label.to_string(),
                functions,
                served_by: traps.served_by.to_string(),
            });
        }
    }
    for (import, _) in plugged.iter().filter(|(_, by)| by == DENIED) {
        let functions = functions_of(reachable, |i| i == import);
        if functions.is_empty() {
            continue;
        }
        let name = unversioned(import);
        let served_by = match by_default.contains(import) {
            true => format!("--allow-import {name} or --plug PROVIDER"),
            false => "--plug PROVIDER instead of --deny-import".to_string(),
        };
        groups.push(ReachableTraps {
            subsystem: name,
            functions,
            served_by,
        });
    }
    groups
}

/// The functions of `reachable` whose import `matches`, each as
/// `wasi:random/insecure-seed.insecure-seed`.
fn functions_of(reachable: &[(String, String)], matches: impl Fn(&str) -> bool) -> Vec<String> {
    reachable
        .iter()
        .filter(|(import, _)| matches(import))
        .map(|(import, function)| format!("{}.{function}", unversioned(import)))
        .collect()
}

fn unversioned(import: &str) -> String {
    InterfaceName::parse(import).map_or_else(|| import.to_string(), |n| n.unversioned)
}
