//! Liveness, and the function index space of the specialized module.
//!
//! Live: what the kept exports, the start function, and every function a
//! global or element expression references can reach; a function placed in
//! a table is live once a live function makes an indirect call of its type
//! and live code or data holds its table index ([`Table`]).
//!
//! The new index space: kept imports, then a stub for each live hook or
//! denied import, then one trap per type for table slots of dead functions,
//! then the live defined functions.

use super::summary::{callees, Import, Summary};
use anyhow::{anyhow, Result};
use std::collections::{HashMap, HashSet};
use wasi_virt_layout::refs::Ref;
use wasi_virt_layout::{HOOK_MODULE, PASSIVE_READ};

/// What a stub does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stub {
    /// `unreachable`: a denied import, a dead table slot, or a hook not bound.
    Trap,
    /// The `passive-read` hook: `memory.init` of the file segments.
    PassiveRead,
    /// A kept export's fixed answer, by index (`Roots::answer_export`).
    Answer(usize),
}

/// The liveness and the new index of every function.
pub struct Live {
    live: Vec<bool>,
    /// Old function index to new.
    pub map: Vec<Option<u32>>,
    /// Indices (into the summary's imports) of the imports kept.
    pub kept_imports: Vec<usize>,
    /// The stubs, in index order after the kept imports, with their types.
    pub stubs: Vec<(u32, Stub)>,
    /// The new index of each export answered by a trap (`stub_export`) or
    /// a fixed answer (`answer_export`).
    pub export_traps: HashMap<String, u32>,
    /// The types that the kept code of the live functions names (their
    /// indirect calls and blocks), with repeats.
    pub named_types: Vec<u32>,
    /// Which data objects live code reaches, by index, when the module
    /// says what its code refers to (`summary.refs`).
    pub objects: Option<Vec<bool>>,
}

/// Which imports the rewrite defines, and which exports stay.
pub struct Roots<'p> {
    /// Whether a function export stays.
    pub keep_export: &'p dyn Fn(&str) -> bool,
    /// Whether a host import is denied and becomes a trap.
    pub deny_import: &'p dyn Fn(&str, &str) -> bool,
    /// Whether a kept function export is answered by a trap of its type
    /// instead of its body (a method of a resource the policy makes
    /// impossible to create).
    pub stub_export: &'p dyn Fn(&str) -> bool,
    /// The fixed answer, by index, that a kept function export gives
    /// instead of its body, if it has one (`src/adapter/fixed.rs`).
    pub answer_export: &'p dyn Fn(&str) -> Option<usize>,
    /// The imports those answers call (`[resource-drop]`s), by index.
    pub called: Vec<u32>,
    /// Hooks bound to functions of the adapter: `(hook import, function)`
    /// (`trace` under `--debug`, `net` under network rules).
    pub bound: Vec<(u32, u32)>,
    /// The functions that become traps, by index: denied imports and
    /// unbound hooks. What follows a call of one is cut (see
    /// `summary::live_operators`).
    pub traps: Vec<bool>,
}

impl Live {
    /// Computes liveness of `summary` from `roots`.
    pub fn compute(summary: &Summary<'_>, roots: &Roots<'_>) -> Result<Live> {
        let (live, named_types, objects) = mark(summary, roots, &roots.bound)?;
        let mut out = Live {
            map: vec![None; live.len()],
            live,
            kept_imports: Vec::new(),
            stubs: Vec::new(),
            export_traps: HashMap::new(),
            named_types,
            objects: summary.refs.as_ref().map(|_| objects),
        };
        out.number(summary, roots)?;
        Ok(out)
    }

    /// Whether function `f` (old index) is live.
    pub fn is_live(&self, f: u32) -> bool {
        self.live[f as usize]
    }

    /// Whether the `passive-read` hook is live, so the file segments are read.
    pub fn reads_passive(&self) -> bool {
        self.stubs.iter().any(|(_, s)| *s == Stub::PassiveRead)
    }

    fn number(&mut self, summary: &Summary<'_>, roots: &Roots<'_>) -> Result<()> {
        let defines =
            |i: &Import<'_>| i.module == HOOK_MODULE || (roots.deny_import)(i.module, i.name);
        let mut next = 0u32;
        for (i, import) in summary.imports.iter().enumerate() {
            if self.live[i] && !defines(import) {
                self.map[i] = Some(next);
                next += 1;
                self.kept_imports.push(i);
            }
        }
        let bound = |i: usize| roots.bound.iter().any(|(hook, _)| *hook as usize == i);
        for (i, import) in summary.imports.iter().enumerate() {
            if self.live[i] && defines(import) && !bound(i) {
                self.map[i] = Some(next);
                next += 1;
                let stub = if (import.module, import.name) == (HOOK_MODULE, PASSIVE_READ) {
                    Stub::PassiveRead
                } else {
                    Stub::Trap
                };
                self.stubs.push((import.ty, stub));
            }
        }
        next = self.table_traps(summary, next);
        next = self.export_traps(summary, roots, next);
        for f in summary.import_count() as usize..self.live.len() {
            if self.live[f] {
                self.map[f] = Some(next);
                next += 1;
            }
        }
        for &(hook, target) in &roots.bound {
            self.map[hook as usize] = self.map[target as usize];
        }
        Ok(())
    }

    /// Table slots of dead functions get a trap of the same type: no live
    /// indirect call can reach them (none has the type, or no live code or
    /// data holds their index).
    fn table_traps(&mut self, summary: &Summary<'_>, first: u32) -> u32 {
        let dead: Vec<u32> = summary
            .in_tables
            .iter()
            .copied()
            .filter(|&f| !self.live[f as usize])
            .collect();
        let (traps, next) = self.traps_by_type(first, dead.iter().map(|&f| summary.type_of(f)));
        for (f, trap) in dead.into_iter().zip(traps) {
            self.map[f as usize] = Some(trap);
        }
        next
    }

    /// Exports answered by a trap (`stub_export`) get one of their type;
    /// those with a fixed answer (`answer_export`), a stub of their own.
    fn export_traps(&mut self, summary: &Summary<'_>, roots: &Roots<'_>, first: u32) -> u32 {
        let stubbed: Vec<(&str, u32)> = summary
            .exports
            .iter()
            .filter(|(name, kind, _)| {
                *kind == wasmparser::ExternalKind::Func
                    && (roots.keep_export)(name)
                    && (roots.stub_export)(name)
            })
            .map(|&(name, _, index)| (name, index))
            .collect();
        let types = stubbed.iter().map(|&(_, f)| summary.type_of(f));
        let (traps, mut next) = self.traps_by_type(first, types);
        for ((name, _), trap) in stubbed.into_iter().zip(traps) {
            self.export_traps.insert(name.to_string(), trap);
        }
        for &(name, kind, index) in &summary.exports {
            let kept = kind == wasmparser::ExternalKind::Func && (roots.keep_export)(name);
            if let Some(answer) = (roots.answer_export)(name).filter(|_| kept) {
                self.stubs
                    .push((summary.type_of(index), Stub::Answer(answer)));
                self.export_traps.insert(name.to_string(), next);
                next += 1;
            }
        }
        next
    }

    /// One trap stub per distinct type in `types`, numbered from `first`:
    /// the index of each one's trap, and the next free index.
    fn traps_by_type(&mut self, first: u32, types: impl Iterator<Item = u32>) -> (Vec<u32>, u32) {
        let mut distinct: Vec<u32> = Vec::new();
        let traps = types
            .map(|ty| {
                let k = distinct.iter().position(|t| *t == ty).unwrap_or_else(|| {
                    distinct.push(ty);
                    distinct.len() - 1
                });
                first + k as u32
            })
            .collect();
        let next = first + distinct.len() as u32;
        self.stubs
            .extend(distinct.into_iter().map(|ty| (ty, Stub::Trap)));
        (traps, next)
    }
}

/// Marks what the roots reach, and gathers the types the kept code of the
/// functions marked names, and the data objects it reaches. `aliases` are
/// hook imports and the defined functions they stand for.
fn mark(
    summary: &Summary<'_>,
    roots: &Roots<'_>,
    aliases: &[(u32, u32)],
) -> Result<(Vec<bool>, Vec<u32>, Vec<bool>)> {
    let n = summary.imports.len() + summary.defined.len();
    let mut live = vec![false; n];
    let mut table = Table::new(summary);
    let mut work: Vec<u32> = summary
        .exports
        .iter()
        .filter(|(name, kind, _)| {
            *kind == wasmparser::ExternalKind::Func
                && (roots.keep_export)(name)
                && !(roots.stub_export)(name)
                && (roots.answer_export)(name).is_none()
        })
        .map(|(_, _, index)| *index)
        .chain(summary.start)
        .chain(summary.referenced.iter().copied())
        .chain(roots.called.iter().copied())
        .collect();
    let (mut funcs, mut types, mut named) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(f) = work.pop() {
        let slot = live
            .get_mut(f as usize)
            .ok_or_else(|| anyhow!("adapter references function {f}, which does not exist"))?;
        if std::mem::replace(slot, true) {
            continue;
        }
        work.extend(
            aliases
                .iter()
                .filter(|(import, _)| *import == f)
                .map(|(_, target)| *target),
        );
        let Some(def) = f.checked_sub(summary.import_count()) else {
            continue;
        };
        funcs.clear();
        types.clear();
        callees(
            &summary.bodies[def as usize],
            &roots.traps,
            &mut funcs,
            &mut types,
            &mut named,
        )?;
        work.extend_from_slice(&funcs);
        named.extend_from_slice(&types);
        table.reached(def, &types, &mut work);
    }
    Ok((live, named, table.objects))
}

/// The functions placed in the table that an indirect call can reach: one
/// of a type that live code calls indirectly, whose table index live code
/// or data holds (`summary.refs`, from the linker's relocations; without
/// them, every function in the table counts as held).
struct Table<'s> {
    summary: &'s Summary<'s>,
    called_types: HashSet<u32>,
    /// The data objects live code reaches, by index.
    objects: Vec<bool>,
    /// The functions whose index live code or data holds.
    held: HashSet<u32>,
}

impl<'s> Table<'s> {
    fn new(summary: &'s Summary<'s>) -> Self {
        let objects = summary.refs.as_ref().map_or(0, |r| r.objects.len());
        Table {
            summary,
            called_types: HashSet::new(),
            objects: vec![false; objects],
            held: HashSet::new(),
        }
    }

    fn holds(&self, f: u32) -> bool {
        self.summary.refs.is_none() || self.held.contains(&f)
    }

    /// Notes the defined function `def` live, and that it calls `types`
    /// indirectly: adds to `work` each function in the table that becomes
    /// reachable.
    fn reached(&mut self, def: u32, types: &[u32], work: &mut Vec<u32>) {
        let summary = self.summary;
        let callable = |t: &Table<'_>, f: u32| {
            t.called_types.contains(&summary.type_of(f)) && summary.in_tables.contains(&f)
        };
        for held in self.hold(def) {
            if callable(self, held) {
                work.push(held);
            }
        }
        for &ty in types {
            if self.called_types.insert(ty) {
                let reachable = summary.in_tables.iter().copied();
                work.extend(reachable.filter(|&f| summary.type_of(f) == ty && self.holds(f)));
            }
        }
    }

    /// The functions whose index `def`'s code holds, directly or through
    /// the data objects it reaches, that no live code held before.
    fn hold(&mut self, def: u32) -> Vec<u32> {
        let Some(refs) = &self.summary.refs else {
            return Vec::new();
        };
        let mut newly = Vec::new();
        let mut pending: Vec<Ref> = refs.functions[def as usize].clone();
        while let Some(r) = pending.pop() {
            match r {
                Ref::Function(f) => {
                    if self.held.insert(f) {
                        newly.push(f);
                    }
                }
                Ref::Object(o) => {
                    if !std::mem::replace(&mut self.objects[o as usize], true) {
                        pending.extend_from_slice(&refs.objects[o as usize]);
                    }
                }
            }
        }
        newly
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module whose export `run` calls through its table, which holds
    /// `$held` and `$idle`, both of the type called; with `refs`, its
    /// references say that `run`'s code holds `$held`'s index and the first
    /// of two data objects, and nothing holds `$idle`'s index or the
    /// second object.
    fn module(refs: bool) -> Vec<u8> {
        // Two objects, referring to nothing; three functions: `run` holds
        // object 0 and function 1; the objects are the data segment's
        // first four bytes and its last four.
        let section = concat!(
            r#"(@custom "wasi-virt:refs" "#,
            r#""\02\00\00" "\03\02\00\03\00\00" "\02\00\00\04\00\04\04")"#
        );
        wat::parse_str(format!(
            r#"(module
                (type $t (func))
                (memory 1)
                (data (i32.const 16) "\01\02\03\04\05\06\07\08")
                (table 3 funcref)
                (elem (i32.const 1) func $held $idle)
                (func $run (export "run") i32.const 1 call_indirect (type $t))
                (func $held)
                (func $idle)
                {}
            )"#,
            if refs { section } else { "" }
        ))
        .unwrap()
    }

    fn live(wasm: &[u8]) -> Live {
        let summary = Summary::parse(wasm).unwrap();
        let roots = Roots {
            keep_export: &|name| name == "run",
            deny_import: &|_, _| false,
            stub_export: &|_| false,
            answer_export: &|_| None,
            called: Vec::new(),
            bound: Vec::new(),
            traps: vec![false; 3],
        };
        Live::compute(&summary, &roots).unwrap()
    }

    #[test]
    fn a_table_function_and_an_object_live_once_live_code_holds_them() {
        let with = live(&module(true));
        assert!(with.is_live(1));
        assert!(!with.is_live(2), "nothing holds `$idle`'s index");
        assert_eq!(with.objects, Some(vec![true, false]));
        let without = live(&module(false));
        assert!(without.is_live(1) && without.is_live(2));
        assert_eq!(
            without.objects, None,
            "without references, no object is told dead"
        );
    }
}
