//! `wasi-virt check`: whether every imported function a module or a
//! component can reach falls under the declared permissions, as the
//! catalogs give them ([`crate::inspect_with`]). Its JSON form,
//! `wasi-virt-check/1`, is documented in docs/catalogs.md.

use crate::inspect::catalog::UNKNOWN;
use crate::inspect::{InputKind, Inspection, InterfaceUse};
use crate::subsystem::permissions::{Declared, Permission};
use std::fmt;

/// The outcome of a check.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CheckReport {
    /// `wasi-virt-check/1`.
    pub schema: &'static str,
    /// What the input is.
    pub kind: InputKind,
    /// Whether reachability is exact (see [`Inspection::exact`]).
    pub exact: bool,
    /// The declared permissions, as given.
    pub declared: Vec<String>,
    /// Whether unreachable imports count too (`--strict`).
    pub strict: bool,
    /// Whether the check ran: false with `--skip-validation`.
    pub checked: bool,
    /// Whether it passed: every function that counts is covered (true when
    /// not checked).
    pub passed: bool,
    /// Each function that counts and is not covered: by permission, in the
    /// order `inspect` lists them, then those in no catalog.
    pub offending: Vec<Offending>,
}

/// One imported function outside the declared permissions.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Offending {
    /// The interface (`wasi:cli/stdout@0.2.6`) or the core module (`env`).
    pub import: String,
    /// The function (`ocre_gpio_init`).
    pub function: String,
    /// The permission it needs; `null` when no catalog covers it.
    pub needs: Option<String>,
    /// Whether the code can reach it (only with `strict` is an unreached
    /// one listed).
    pub reachable: bool,
}

/// Checks `inspection` against `declared`: every reachable imported
/// function (every one, when `strict`) must fall under one of them.
/// Imports that need no permission (`wasi:io`, `sched_yield`) always pass.
/// `skip` records a check that was not made (`--skip-validation`).
pub fn check(
    inspection: &Inspection,
    declared: &[Declared],
    strict: bool,
    skip: bool,
) -> CheckReport {
    let mut offending = Vec::new();
    let mut consider = |interface: &InterfaceUse, needs: Option<&str>| {
        let covered = needs.is_some_and(|n| {
            let p = Permission::named(n);
            declared.iter().any(|d| d.covers(&p))
        });
        for f in &interface.functions {
            if !covered && (f.reachable || strict) {
                offending.push(Offending {
                    import: interface.name.clone(),
                    function: f.name.clone(),
                    needs: needs.map(str::to_string),
                    reachable: f.reachable,
                });
            }
        }
    };
    for p in &inspection.permissions {
        for interface in &p.interfaces {
            consider(interface, Some(&p.permission));
        }
    }
    for interface in &inspection.unknown {
        consider(interface, None);
    }
    if skip {
        offending.clear();
    }
    CheckReport {
        schema: "wasi-virt-check/1",
        kind: inspection.kind,
        exact: inspection.exact,
        declared: declared.iter().map(ToString::to_string).collect(),
        strict,
        checked: !skip,
        passed: offending.is_empty(),
        offending,
    }
}

impl CheckReport {
    /// What failed, for the `error:` line and the lines below it: each
    /// import with the permission its functions need, or the functions no
    /// catalog covers. `None` when it passed.
    pub fn failure(&self) -> Option<String> {
        if self.passed {
            return None;
        }
        let mut groups: Vec<(&str, Option<&str>, Vec<String>)> = Vec::new();
        for o in &self.offending {
            let name = match o.reachable {
                true => o.function.clone(),
                false => format!("{} (unreached)", o.function),
            };
            let key = (o.import.as_str(), o.needs.as_deref());
            match groups.iter_mut().find(|(i, n, _)| (*i, *n) == key) {
                Some((_, _, names)) => names.push(name),
                None => groups.push((key.0, key.1, vec![name])),
            }
        }
        let lines: Vec<String> = groups
            .iter()
            .map(|(import, needs, names)| match needs {
                Some(p) => format!("  {import} needs `{p}`: {}", names.join(", ")),
                None => format!(
                    "  {import}: {} in no catalog ({UNKNOWN}); add a permission for {} to a \
                     catalog file (--catalog FILE)",
                    names.join(", "),
                    if names.len() == 1 { "it" } else { "them" }
                ),
            })
            .collect();
        let n = self.offending.len();
        Some(format!(
            "{} {} {n} {}function{} outside the declared permissions ({}); declare what {}, \
             or pass --skip-validation:\n{}",
            self.what(),
            if self.strict { "imports" } else { "can reach" },
            if self.strict { "" } else { "imported " },
            if n == 1 { "" } else { "s" },
            self.declared_list(),
            if n == 1 { "it needs" } else { "they need" },
            lines.join("\n")
        ))
    }

    fn what(&self) -> &'static str {
        match self.kind {
            InputKind::Component => "the component",
            InputKind::Wasip1Module => "the wasm32-wasip1 module",
            InputKind::CoreModule => "the core module",
        }
    }

    fn declared_list(&self) -> String {
        match self.declared.is_empty() {
            true => "none".to_string(),
            false => self.declared.join(", "),
        }
    }
}

impl fmt::Display for CheckReport {
    /// One line: what passed, or that nothing was checked; a failure is
    /// [`CheckReport::failure`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.checked {
            return writeln!(f, "NOT checked (--skip-validation)");
        }
        if let Some(failure) = self.failure() {
            return writeln!(f, "{failure}");
        }
        writeln!(
            f,
            "ok: every {}imported function of {} falls under the declared permissions ({})",
            if self.strict { "" } else { "reachable " },
            self.what(),
            self.declared_list()
        )?;
        if !self.exact {
            writeln!(
                f,
                "note: part of the code could not be analysed (a nested component or an imported \
                 module); what is passed to it counts as reached"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
