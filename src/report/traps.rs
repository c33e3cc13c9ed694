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
use crate::subsystem::registry::{governing, unvirtualized_version, REGISTRY};
use anyhow::Result;

/// Every imported function of `component` its code can reach: the
/// import's name (versioned) and the function's. Where the call graph
/// cannot be read, every imported function counts as reached, as code the
/// analysis cannot see into does: the list may say too much, never too
/// little, and virtualizing goes on as before.
pub(crate) fn reachable_functions(component: &[u8]) -> Result<Vec<(String, String)>> {
    let reach = crate::inspect::reach::component(component).ok();
    let mut out = Vec::new();
    for (import, functions) in component_import_functions(component)? {
        let Some(reach) = &reach else {
            out.extend(functions.into_iter().map(|f| (import.clone(), f)));
            continue;
        };
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
        // An interface at a version the adapter does not serve (WASI 0.3)
        // keeps its version: the same interface at 0.2 is the adapter's.
        let name = match unvirtualized_version(import) {
            Some(_) => import.clone(),
            None => shown(import),
        };
        let functions: Vec<String> = reachable
            .iter()
            .filter(|(i, _)| i == import)
            .map(|(_, function)| format!("{name}.{function}"))
            .collect();
        if functions.is_empty() {
            continue;
        }
        let served_by = match (by_default.contains(import), unvirtualized_version(import)) {
            (true, _) => format!("--allow-import {name} or --plug PROVIDER"),
            (false, Some(_)) => format!("--allow-import {name} instead of --deny-import"),
            (false, None) => "--plug PROVIDER instead of --deny-import".to_string(),
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
/// `wasi:random/insecure-seed.insecure-seed`, or with the version where it
/// is not WASI 0.2's (`wasi:random/random@0.3.0.get-random-u64`), so that a
/// component calling both versions names each once.
fn functions_of(reachable: &[(String, String)], matches: impl Fn(&str) -> bool) -> Vec<String> {
    reachable
        .iter()
        .filter(|(import, _)| matches(import))
        .map(|(import, function)| format!("{}.{function}", shown(import)))
        .collect()
}

/// `import` without its version, unless it is a WASI interface at 0.3 or
/// later.
fn shown(import: &str) -> String {
    match InterfaceName::parse(import) {
        Some(name) => match &name.version {
            Some(v) if name.unversioned.starts_with("wasi:") && (v.major, v.minor) >= (0, 3) => {
                import.to_string()
            }
            _ => name.unversioned,
        },
        None => import.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::{DenyReachable, WasiVirt};

    /// A component importing `insecure-seed` and the monotonic clock's
    /// `now`; its export `run` calls them when `called`, and otherwise only
    /// a function nothing calls does.
    fn component(called: bool) -> Vec<u8> {
        let run = match called {
            true => "(func (export \"run\") call $calls)",
            false => "(func (export \"run\"))",
        };
        wat::parse_str(format!(
            r#"(component
                (import "wasi:random/insecure-seed@0.2.6" (instance $seed
                    (export "insecure-seed" (func (result (tuple u64 u64))))))
                (import "wasi:clocks/monotonic-clock@0.2.6" (instance $clock
                    (export "now" (func (result u64)))))
                (core module $mem (memory (export "memory") 1))
                (core instance $mem_i (instantiate $mem))
                (alias core export $mem_i "memory" (core memory $memory))
                (core func $seed (canon lower (func $seed "insecure-seed") (memory $memory)))
                (core func $now (canon lower (func $clock "now")))
                (core module $m
                    (import "random" "insecure-seed" (func $seed (param i32)))
                    (import "clock" "now" (func $now (result i64)))
                    (func $calls i32.const 0 call $seed call $now drop)
                    {run})
                (core instance $seed_i (export "insecure-seed" (func $seed)))
                (core instance $clock_i (export "now" (func $now)))
                (core instance $i (instantiate $m
                    (with "random" (instance $seed_i)) (with "clock" (instance $clock_i))))
                (func (export "run") (canon lift (core func $i "run"))))"#
        ))
        .unwrap()
    }

    fn denied(called: bool) -> WasiVirt {
        let mut virt = WasiVirt::new();
        virt.compose(component(called)).clocks(false).random(false);
        virt
    }

    #[test]
    fn reachable_calls_to_denied_clocks_and_random_are_listed_with_their_flags() {
        let report = denied(true).finish().unwrap().report;
        let listed: Vec<String> = report
            .reachable_traps
            .iter()
            .map(|t| t.to_string())
            .collect();
        assert_eq!(
            listed,
            [
                "clocks: wasi:clocks/monotonic-clock.now \
                 (--allow-clocks or --clock=virtual:INSTANT)",
                "random: wasi:random/insecure-seed.insecure-seed \
                 (--allow-random or --random-seed N)",
            ]
        );
        let summary = report.to_string();
        assert!(summary.contains("reachable traps"), "{summary}");
        assert!(summary.contains(&format!("  {}\n", listed[1])), "{summary}");
        let json = report.to_json();
        assert_eq!(json["reachable-traps"][1]["subsystem"], "random");
        assert_eq!(
            json["reachable-traps"][0]["functions"][0],
            "wasi:clocks/monotonic-clock.now"
        );
        assert_eq!(
            json["reachable-traps"][1]["served-by"],
            "--allow-random or --random-seed N"
        );
    }

    #[test]
    fn imported_but_never_called_is_not_listed() {
        let report = denied(false).finish().unwrap().report;
        assert!(report.reachable_traps.is_empty(), "{report}");
        assert!(!report.to_string().contains("reachable traps"));
        let mut virt = denied(false);
        virt.deny_reachable(DenyReachable::Error);
        virt.finish().unwrap();
    }

    #[test]
    fn served_calls_are_not_listed() {
        let mut virt = denied(true);
        virt.virtual_clock("2024-01-01T00:00:00Z").random_seed(7);
        let report = virt.finish().unwrap().report;
        assert!(report.reachable_traps.is_empty(), "{report}");
        let mut allowed = WasiVirt::new();
        allowed.compose(component(true)).clocks(true).random(true);
        assert!(allowed.finish().unwrap().report.reachable_traps.is_empty());
    }

    #[test]
    fn deny_reachable_error_names_every_function_and_its_flag() {
        let mut virt = denied(true);
        virt.deny_reachable(DenyReachable::Error);
        let err = format!("{:#}", virt.finish().unwrap_err());
        for wanted in [
            "--deny-reachable=error",
            "wasi:clocks/monotonic-clock.now (--allow-clocks or --clock=virtual:INSTANT)",
            "wasi:random/insecure-seed.insecure-seed (--allow-random or --random-seed N)",
        ] {
            assert!(err.contains(wanted), "{err}");
        }
        virt.deny_reachable(DenyReachable::Warn);
        assert_eq!(virt.finish().unwrap().report.reachable_traps.len(), 2);
    }
}
