//! What one virtualization did, and its summary in words.

use crate::inspect::InputKind;
use crate::names::InterfaceName;
use crate::policy::Policy;
use crate::subsystem::permissions::Permission;
use crate::subsystem::registry::{self, Subsystem, REGISTRY};
use crate::subsystem::select::Selection;
use semver::Version;
use std::collections::BTreeSet;
use std::fmt;

pub(crate) mod traps;

/// A summary of one virtualization. Its `Display` is the summary the CLI
/// prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// What the output is.
    pub output: Output,
    /// The WASI version the adapter's names use.
    pub wasi_version: Version,
    /// The interfaces the adapter provides (versioned names).
    pub virtualized: Vec<String>,
    /// Each subsystem the adapter provides, with its setting in words.
    pub subsystems: Vec<SubsystemReport>,
    /// The network rules the adapter enforces, each with its direction
    /// (`outbound tcp://127.0.0.1:5432`), in the canonical form that parses
    /// back to the same rule.
    pub rules: Vec<String>,
    /// Whether virtualized calls are traced to the host's stderr.
    pub debug: bool,
    /// Every top-level import of the output.
    pub imports: Vec<String>,
    /// The output's size in bytes.
    pub size: u64,
    /// What the input was (`None` for a standalone adapter).
    pub input: Option<InputKind>,
    /// Imports satisfied before the adapter: each import, and the provider
    /// (`--plug`) or `denied` (traps, `--deny-import`).
    pub plugged: Vec<(String, String)>,
    /// WASI interfaces that no subsystem governs, let through to the host
    /// by `--allow-import`.
    pub allowed_imports: Vec<String>,
    /// WASI interfaces that no subsystem governs, answered by traps because
    /// no `--allow-import` let them through (they are in `plugged` too, by
    /// `denied`).
    pub denied_by_default: Vec<String>,
    /// The declared permissions, if any, and whether they were checked.
    pub permissions: Option<PermissionCheck>,
    /// How the output serves HTTP, if it does.
    pub serving: Option<Serving>,
    /// The functions the component's code can reach that the policy
    /// answers with traps, by subsystem, each with the flags that would
    /// serve them (`--deny-reachable=error` refuses when there are any).
    pub reachable_traps: Vec<ReachableTraps>,
    /// Interfaces the policy leaves to the host (a plain pass-through) that
    /// the adapter carries all the same, and why: each group's interfaces
    /// (unversioned) and its reason (`wasi:io/streams is virtualized for
    /// wasi:filesystem/types`). Every other pass-through interface the
    /// component imports from the host directly.
    pub routed: Vec<(Vec<String>, String)>,
    /// Whether the adapter is fixed answers alone: under the policy, every
    /// function it exports answers the same way at every call, so its code
    /// was left out ([`WasiVirt::fixed_answers`](crate::WasiVirt::fixed_answers)).
    pub fixed_answers: bool,
}

/// Functions of one subsystem (or one import trapped in front of the
/// adapter) that the component's code can reach and the policy answers
/// with traps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReachableTraps {
    /// The subsystem's label (`random`), or the import's unversioned name
    /// when it is trapped in front of the adapter (`wasi:logging/logging`).
    pub subsystem: String,
    /// Each function, `wasi:random/insecure-seed.insecure-seed`.
    pub functions: Vec<String>,
    /// The flags that would serve them (`--allow-random or --random-seed N`).
    pub served_by: String,
}

impl fmt::Display for ReachableTraps {
    /// `random: wasi:random/insecure-seed.insecure-seed (--allow-random or
    /// --random-seed N)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({})",
            self.subsystem,
            self.functions.join(", "),
            self.served_by
        )
    }
}

/// How an output serves HTTP (docs/serving.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Serving {
    /// The component's own `wasi:http/incoming-handler`, behind a front.
    Handler,
    /// A command run once per request (`--serve-http`).
    Command {
        /// Whether its stderr goes into the response too.
        stderr_too: bool,
    },
}

/// Declared permissions in the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermissionCheck {
    /// As declared.
    pub declared: Vec<String>,
    /// Whether the output's imports were checked against them (not with
    /// `--skip-validation`).
    pub checked: bool,
}

/// What `finish()` wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// The component, with the adapter (or only providers and traps, when
    /// nothing is virtualized) composed in front of it.
    Composed,
    /// The specialized adapter alone.
    Standalone,
    /// The component as it was: it imports nothing the policy covers.
    Unchanged,
}

/// One virtualized subsystem in the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubsystemReport {
    /// Its label (`env`, `stdio`, `fs`, ...).
    pub label: &'static str,
    /// Its setting in words.
    pub setting: String,
}

impl Report {
    pub(crate) fn new(
        policy: &Policy,
        output: Output,
        wasi_version: Version,
        selection: &Selection,
        imports: Vec<String>,
        runs_per_request: bool,
    ) -> Report {
        let exports = &selection.exports;
        // The summary lists every subsystem the policy decides, whether the
        // adapter carries it or leaves it to the host.
        let decided = &selection.decided;
        let subsystems = REGISTRY
            .iter()
            .filter(|row| row.interfaces.iter().any(|i| decided.contains(i)))
            .map(|row| SubsystemReport {
                label: row.label,
                setting: row.describe_as(policy, runs_per_request)
                    + &host_0_3(row, policy, &imports),
            })
            .collect();
        let governed = |row: Subsystem| {
            registry::row(row)
                .interfaces
                .iter()
                .any(|i| exports.contains(i))
        };
        let rules = policy
            .network
            .as_ref()
            .map(|n| n.describe_governed(governed(Subsystem::Sockets), governed(Subsystem::Http)))
            .unwrap_or_default();
        Report {
            output,
            rules,
            virtualized: exports
                .iter()
                .map(|i| registry::versioned(i, &wasi_version))
                .collect(),
            wasi_version,
            subsystems,
            debug: policy.debug && output != Output::Unchanged,
            imports,
            size: 0,
            input: None,
            plugged: Vec::new(),
            allowed_imports: Vec::new(),
            denied_by_default: Vec::new(),
            permissions: None,
            serving: None,
            reachable_traps: Vec::new(),
            routed: selection
                .routed
                .iter()
                .map(|r| {
                    let names = r.interfaces.iter().map(|i| i.to_string()).collect();
                    (names, r.reason.clone())
                })
                .collect(),
            fixed_answers: false,
        }
    }
}

/// What of WASI 0.3 a subsystem that the policy denies or restricts still
/// takes from the host, and why (the adapter's guards, which hand the
/// component the host's own types: `src/adapter/specialize.rs`), for the
/// summary: empty where nothing is, or where the subsystem passes whole.
fn host_0_3(row: &registry::Row, policy: &Policy, imports: &[String]) -> String {
    if row
        .slot
        .is_none_or(|s| !s.configured(policy) || s.passes_through(policy))
    {
        return String::new();
    }
    let taken: Vec<&str> = (imports.iter())
        .filter(|i| i.contains("@0.3."))
        .filter(|i| registry::governing(i).is_some_and(|r| r.subsystem == row.subsystem))
        .map(String::as_str)
        .collect();
    let why = match row.subsystem {
        Subsystem::Http if taken.iter().any(|i| i.starts_with("wasi:http/client@")) => {
            "each request checked by the adapter's client"
        }
        Subsystem::Http => "the requests and responses of the HTTP service it is",
        Subsystem::Sockets => "each socket call checked by the rules",
        Subsystem::Fs => "the descriptors of the host preopens it renames",
        _ => return String::new(),
    };
    match taken.is_empty() {
        true => String::new(),
        false => format!(" (at WASI 0.3, the host's own {}: {why})", taken.join(", ")),
    }
}

/// An output's `imports` in the order an adapter's world lists them,
/// whichever side imports them: the interfaces a subsystem governs first,
/// by name, each after the interfaces it uses; then the others, as they
/// were. So the list reads the same whether the adapter carries an
/// interface or the component imports it from the host directly (for an
/// output whose selection leaves some interface to the host; the others
/// keep the order composition gives).
pub(crate) fn in_world_order(imports: Vec<String>, resolve: &wit_parser::Resolve) -> Vec<String> {
    let (governed, rest): (Vec<String>, Vec<String>) = imports
        .into_iter()
        .partition(|i| registry::governing(i).is_some());
    let governed: BTreeSet<String> = governed.into_iter().collect();
    let mut ordered = Vec::with_capacity(governed.len() + rest.len());
    let mut seen = BTreeSet::new();
    for name in &governed {
        visit(name, &governed, resolve, &mut seen, &mut ordered);
    }
    ordered.extend(rest);
    ordered
}

/// Puts `name` in `ordered` after the interfaces of `among` it uses.
fn visit(
    name: &str,
    among: &BTreeSet<String>,
    resolve: &wit_parser::Resolve,
    seen: &mut BTreeSet<String>,
    ordered: &mut Vec<String>,
) {
    if !among.contains(name) || !seen.insert(name.to_string()) {
        return;
    }
    for dep in crate::wit::dependencies(resolve, name) {
        visit(&dep, among, resolve, seen, ordered);
    }
    ordered.push(name.to_string());
}

impl Report {
    /// The report as JSON, the `wasi-virt-report/1` schema documented in the
    /// docs/permissions.md ("Reports as JSON").
    pub fn to_json(&self) -> serde_json::Value {
        let imports: Vec<serde_json::Value> = self
            .imports
            .iter()
            .map(|name| {
                serde_json::json!({
                    "name": name,
                    "permission": Permission::of_interface(name).map(|p| p.name().to_string()),
                })
            })
            .collect();
        let mut by_permission = serde_json::Map::new();
        for name in &self.imports {
            if let Some(p) = Permission::of_interface(name) {
                let list = by_permission
                    .entry(p.name().to_string())
                    .or_insert_with(|| serde_json::Value::Array(Vec::new()));
                if let serde_json::Value::Array(list) = list {
                    list.push(name.clone().into());
                }
            }
        }
        serde_json::json!({
            "schema": "wasi-virt-report/1",
            "output": match self.output {
                Output::Composed => "composed",
                Output::Standalone => "standalone",
                Output::Unchanged => "unchanged",
            },
            "input": self.input,
            "wasi-version": self.wasi_version.to_string(),
            "size": self.size,
            "virtualized": self.virtualized,
            "subsystems": self.subsystems.iter().map(|s| serde_json::json!({
                "subsystem": s.label,
                "setting": s.setting,
            })).collect::<Vec<_>>(),
            "rules": self.rules,
            "plugged": self.plugged.iter().map(|(import, by)| serde_json::json!({
                "import": import,
                "by": by,
            })).collect::<Vec<_>>(),
            "ungoverned-wasi": {
                "allowed": self.allowed_imports,
                "denied": self.denied_by_default,
            },
            "permissions": self.permissions.as_ref().map(|p| serde_json::json!({
                "declared": p.declared,
                "checked": p.checked,
            })),
            "debug": self.debug,
            "fixed-answers": self.fixed_answers,
            "serving": self.serving.map(|s| match s {
                Serving::Handler => "handler",
                Serving::Command { .. } => "command",
            }),
            "imports": imports,
            "by-permission": by_permission,
            "routed": self.routed.iter().map(|(interfaces, reason)| serde_json::json!({
                "interfaces": interfaces,
                "reason": reason,
            })).collect::<Vec<_>>(),
            "reachable-traps": self.reachable_traps.iter().map(|t| serde_json::json!({
                "subsystem": t.subsystem,
                "functions": t.functions,
                "served-by": t.served_by,
            })).collect::<Vec<_>>(),
        })
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Output::Composed => "virtualized component",
            Output::Standalone => "standalone virtual adapter",
            Output::Unchanged => "component, unchanged",
        })
    }
}

impl Report {
    /// The subsystems virtualized, and how the output serves HTTP.
    fn write_virtualized(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.subsystems.is_empty() {
            writeln!(
                f,
                "virtualized: nothing (the component imports none of what the policy covers)"
            )?;
        } else {
            writeln!(f, "virtualized:")?;
            for s in &self.subsystems {
                writeln!(f, "  {}: {}", s.label, s.setting)?;
            }
        }
        match self.serving {
            Some(Serving::Handler) => writeln!(
                f,
                "serves HTTP: the component's handler, its requests and responses through the \
                 adapter"
            )?,
            Some(Serving::Command { stderr_too }) => writeln!(
                f,
                "serves HTTP: the command, run once per request (--serve-http): its request is \
                 its arguments, variables and stdin, and its stdout{} the response",
                if stderr_too { " and stderr" } else { "" }
            )?,
            None => {}
        }
        if self.fixed_answers {
            writeln!(
                f,
                "fixed answers: each call answers the same way every time, so the output \
                 carries those answers and none of the adapter's code"
            )?;
        }
        for (interfaces, reason) in &self.routed {
            writeln!(
                f,
                "routed through the adapter: {}, because {reason}",
                interfaces.join(", ")
            )?;
        }
        if !self.rules.is_empty() {
            writeln!(f, "network rules ({}):", self.rules.len())?;
            for rule in &self.rules {
                writeln!(f, "  {rule}")?;
            }
        }
        Ok(())
    }

    /// What stands in front of the component's imports, or lets them
    /// through.
    fn write_in_front(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.input == Some(InputKind::Wasip1Module) {
            writeln!(
                f,
                "input: a wasm32-wasip1 module, made a component with the preview1 adapter"
            )?;
        }
        for (import, by) in &self.plugged {
            match by.as_str() {
                crate::compose::plug::DENIED if self.denied_by_default.contains(import) => {
                    writeln!(
                        f,
                        "denied import: {import} (traps; no subsystem governs it, --allow-import \
                     would keep it)"
                    )?
                }
                crate::compose::plug::DENIED => writeln!(f, "denied import: {import} (traps)")?,
                _ => writeln!(f, "plugged: {import} from {by}")?,
            }
        }
        for import in &self.allowed_imports {
            writeln!(
                f,
                "allowed import: {import} (--allow-import; no subsystem governs it)"
            )?;
        }
        Ok(())
    }

    /// The functions the code can reach that the policy answers with traps.
    fn write_traps(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reachable_traps.is_empty() {
            return Ok(());
        }
        writeln!(
            f,
            "reachable traps (the code can call these, and the policy answers them with traps):"
        )?;
        for traps in &self.reachable_traps {
            writeln!(f, "  {traps}")?;
        }
        Ok(())
    }

    /// The declared permissions, and whether calls are traced.
    fn write_checks(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.permissions {
            let declared = match p.declared.is_empty() {
                true => "none".to_string(),
                false => p.declared.join(", "),
            };
            match p.checked {
                true => writeln!(f, "permissions: {declared}; every import falls under them")?,
                false => writeln!(
                    f,
                    "permissions: {declared}; NOT checked (--skip-validation)"
                )?,
            }
        }
        if self.debug {
            writeln!(
                f,
                "debug: virtualized calls are traced to the host's stderr"
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for Report {
    /// The subsystems virtualized, whether calls are traced, and the WASI
    /// imports left, one item a line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_virtualized(f)?;
        self.write_in_front(f)?;
        self.write_traps(f)?;
        self.write_checks(f)?;
        let wasi: Vec<&String> = self
            .imports
            .iter()
            .filter(|i| InterfaceName::parse(i).is_some_and(|n| n.namespace() == "wasi"))
            .collect();
        if wasi.is_empty() {
            return writeln!(f, "WASI imports left: none");
        }
        writeln!(f, "WASI imports left ({}):", wasi.len())?;
        for import in wasi {
            writeln!(f, "  {import}")?;
        }
        Ok(())
    }
}
