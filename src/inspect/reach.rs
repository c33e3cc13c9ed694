//! Which imported functions a component's code can reach: a call graph over
//! its core modules, from the functions its host can call.
//!
//! The roots are the core functions the host calls: those lifted into the
//! component's exports and the canonical options' `realloc`, `post-return`
//! and `callback` functions, and every core instance's start function. From
//! a root, a `call` reaches its callee; an imported callee is followed to
//! what satisfies it: a lowered component import (that import function is
//! reached), or another core instance's export (that function is visited).
//! A `call_indirect` reaches what the table's element segments put in the
//! slot it calls when the slot is a constant (as in the shim modules that
//! `wit-component` writes between a module and its lowered imports), else
//! everything any segment puts in that table; `ref.func` reaches its
//! function. Whatever the analysis cannot see into (a nested component, an
//! imported or aliased module) is counted as reaching everything passed to
//! it, and the result says it is not exact.

use anyhow::{Context, Result};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use wasmparser::{
    CanonicalFunction, CanonicalOption, Chunk, ComponentAlias, ComponentExternalKind,
    ComponentInstance, ComponentTypeRef, ElementItems, ElementKind, ExternalKind, Instance,
    Operator, Parser, Payload, TypeRef,
};

/// An imported function: the import's name (`wasi:cli/stdout@0.2.6`, or a
/// core module's import module such as `wasi_snapshot_preview1`) and the
/// function's (`get-stdout`); `None` for all of the import's functions.
pub type Reached = BTreeSet<(String, Option<String>)>;

/// What the analysis found.
#[derive(Debug, Default)]
pub struct Reach {
    /// The import functions reachable.
    pub reached: Reached,
    /// Whether every path was seen; when not, what was hidden counts as
    /// reached.
    pub exact: bool,
}

/// A core module's call graph.
#[derive(Default)]
struct Module {
    /// `(module, field)` of each imported function, in index order.
    func_imports: Vec<(String, String)>,
    /// The number of imported tables (they come first in the table space).
    table_imports: Vec<(String, String)>,
    /// Exports by name.
    exports: HashMap<String, (ExternalKind, u32)>,
    /// Per defined function: what it calls.
    edges: Vec<Vec<Edge>>,
    /// Element segments.
    elements: Vec<Segment>,
    start: Option<u32>,
}

#[derive(Clone, Copy)]
enum Edge {
    /// A direct call or a function reference.
    Func(u32),
    /// An indirect call through a table, at a constant slot if known.
    Indirect { table: u32, slot: Option<u32> },
}

struct Segment {
    /// The table and the offset of an active segment with a constant
    /// offset; `None` for a passive segment or a computed offset.
    at: Option<(u32, Option<u32>)>,
    funcs: Vec<Option<u32>>,
}

impl Module {
    fn parse(bytes: &[u8]) -> Result<Module> {
        let mut m = Module::default();
        for payload in Parser::new(0).parse_all(bytes) {
            match payload? {
                Payload::ImportSection(s) => {
                    for import in s.into_imports() {
                        let import = import?;
                        let key = (import.module.to_string(), import.name.to_string());
                        match import.ty {
                            TypeRef::Func(_) | TypeRef::FuncExact(_) => m.func_imports.push(key),
                            TypeRef::Table(_) => m.table_imports.push(key),
                            _ => {}
                        }
                    }
                }
                Payload::ExportSection(s) => {
                    for export in s {
                        let export = export?;
                        m.exports
                            .insert(export.name.to_string(), (export.kind, export.index));
                    }
                }
                Payload::StartSection { func, .. } => m.start = Some(func),
                Payload::ElementSection(s) => {
                    for element in s {
                        m.elements.push(segment(element?)?);
                    }
                }
                Payload::CodeSectionEntry(body) => {
                    let mut edges = Vec::new();
                    let mut last_const = None;
                    let mut ops = body.get_operators_reader()?;
                    while !ops.eof() {
                        let op = ops.read()?;
                        match op {
                            Operator::Call { function_index }
                            | Operator::ReturnCall { function_index }
                            | Operator::RefFunc { function_index } => {
                                edges.push(Edge::Func(function_index))
                            }
                            Operator::CallIndirect { table_index, .. }
                            | Operator::ReturnCallIndirect { table_index, .. } => {
                                edges.push(Edge::Indirect {
                                    table: table_index,
                                    slot: last_const,
                                })
                            }
                            _ => {}
                        }
                        last_const = match op {
                            Operator::I32Const { value } => Some(value as u32),
                            _ => None,
                        };
                    }
                    m.edges.push(edges);
                }
                _ => {}
            }
        }
        Ok(m)
    }

    fn imported_funcs(&self) -> u32 {
        self.func_imports.len() as u32
    }
}

fn segment(element: wasmparser::Element<'_>) -> Result<Segment> {
    let at = match element.kind {
        ElementKind::Active {
            table_index,
            offset_expr,
        } => {
            let mut ops = offset_expr.get_operators_reader();
            let offset = match (ops.read()?, ops.read()?) {
                (Operator::I32Const { value }, Operator::End) => Some(value as u32),
                _ => None,
            };
            Some((table_index.unwrap_or(0), offset))
        }
        ElementKind::Passive => None,
        // Declared only for `ref.func`, which is an edge of its own.
        ElementKind::Declared => {
            return Ok(Segment {
                at: None,
                funcs: Vec::new(),
            })
        }
    };
    let mut funcs = Vec::new();
    match element.items {
        ElementItems::Functions(f) => {
            for index in f {
                funcs.push(Some(index?));
            }
        }
        ElementItems::Expressions(_, exprs) => {
            for expr in exprs {
                let mut ops = expr?.get_operators_reader();
                funcs.push(match ops.read()? {
                    Operator::RefFunc { function_index } => Some(function_index),
                    _ => None,
                });
            }
        }
    }
    Ok(Segment { at, funcs })
}

/// A core instance.
enum CoreInstance {
    /// A module instantiated with these arguments (by import module name).
    Module {
        module: usize,
        args: HashMap<String, u32>,
    },
    /// Items gathered under names.
    Exports(HashMap<String, CoreItem>),
    /// The host, for a core module analysed alone: its imports are the
    /// reachable imports.
    Host,
}

#[derive(Clone, Copy)]
enum CoreItem {
    Func(u32),
    Table(u32),
    Other,
}

/// Where a core function comes from.
#[derive(Clone)]
enum CoreFunc {
    /// A lowered component function.
    Lowered(u32),
    /// An export of a core instance.
    Export(u32, String),
    /// A canonical built-in (`resource.drop`, ...): reaches no import.
    Builtin,
}

/// Where a component function comes from.
#[derive(Clone)]
enum Func {
    /// An imported instance's function, or an imported function (`None`).
    Import(String, Option<String>),
    Other,
}

/// Where a component instance comes from.
#[derive(Clone)]
enum CompInstance {
    Import(String),
    Exports(Vec<(ComponentExternalKind, u32)>),
    Other,
}

/// A function of a core instance, or an import reached.
enum Target {
    Defined(u32, u32),
    Import(String, Option<String>),
    Opaque,
}

#[derive(Default)]
struct Graph {
    /// Parsed modules; `None` for one the analysis cannot see (imported or
    /// aliased).
    modules: Vec<Option<Module>>,
    instances: Vec<CoreInstance>,
    core_funcs: Vec<CoreFunc>,
    /// Core tables: the instance export each aliases.
    core_tables: Vec<(u32, String)>,
    funcs: Vec<Func>,
    comp_instances: Vec<CompInstance>,
    roots: Vec<u32>,
    reach: Reach,
}

/// Analyses a component.
pub fn component(bytes: &[u8]) -> Result<Reach> {
    let mut g = Graph {
        reach: Reach {
            exact: true,
            ..Reach::default()
        },
        ..Graph::default()
    };
    g.read_component(bytes)?;
    let roots = std::mem::take(&mut g.roots);
    let mut walk = Walk::new(&g);
    for core in roots {
        walk.core_func(core);
    }
    let Walk { reached, exact, .. } = walk;
    g.reach.reached.extend(reached);
    g.reach.exact &= exact;
    Ok(g.reach)
}

/// Analyses a core module alone: the roots are its exports and its start
/// function, and its imports are the reachable imports.
pub fn module(bytes: &[u8]) -> Result<Reach> {
    let m = Module::parse(bytes).context("failed to read the core module")?;
    let roots: Vec<u32> = m
        .exports
        .values()
        .filter(|(kind, _)| *kind == ExternalKind::Func)
        .map(|(_, index)| *index)
        .chain(m.start)
        .collect();
    let g = Graph {
        modules: vec![Some(m)],
        instances: vec![
            CoreInstance::Host,
            CoreInstance::Module {
                module: 0,
                args: HashMap::new(),
            },
        ],
        ..Graph::default()
    };
    let mut walk = Walk::new(&g);
    walk.prepare_tables();
    for f in roots {
        walk.func(1, f);
    }
    Ok(Reach {
        reached: walk.reached,
        exact: walk.exact,
    })
}

impl Graph {
    /// Reads the component `bytes` into the graph, section by section.
    fn read_component(&mut self, bytes: &[u8]) -> Result<()> {
        let mut parser = Parser::new(0);
        let mut offset = 0;
        loop {
            let (consumed, payload) = match parser.parse(&bytes[offset..], true)? {
                Chunk::Parsed { consumed, payload } => (consumed, payload),
                Chunk::NeedMoreData(_) => unreachable!("the whole component is given"),
            };
            offset += consumed;
            match payload {
                Payload::ModuleSection {
                    unchecked_range, ..
                } => {
                    let range = unchecked_range.start as usize..unchecked_range.end as usize;
                    self.modules
                        .push(Some(Module::parse(&bytes[range.clone()])?));
                    offset += range.len();
                }
                Payload::ComponentSection {
                    unchecked_range, ..
                } => {
                    offset += (unchecked_range.end - unchecked_range.start) as usize;
                }
                Payload::ComponentImportSection(s) => {
                    for import in s {
                        self.component_import(import?);
                    }
                }
                Payload::ComponentAliasSection(s) => {
                    for alias in s {
                        self.alias(alias?);
                    }
                }
                Payload::ComponentCanonicalSection(s) => {
                    for canon in s {
                        self.canon(canon?);
                    }
                }
                Payload::InstanceSection(s) => {
                    for instance in s {
                        self.core_instance(instance?);
                    }
                }
                Payload::ComponentInstanceSection(s) => {
                    for instance in s {
                        self.component_instance(instance?);
                    }
                }
                Payload::ComponentExportSection(s) => {
                    for export in s {
                        self.component_export(export?);
                    }
                }
                Payload::End(_) => return Ok(()),
                _ => {}
            }
        }
    }

    /// A component import: a new instance, function or module index.
    fn component_import(&mut self, import: wasmparser::ComponentImport<'_>) {
        let name = import.name.full_name().into_owned();
        match import.ty {
            ComponentTypeRef::Instance(_) => self.comp_instances.push(CompInstance::Import(name)),
            ComponentTypeRef::Func(_) => self.funcs.push(Func::Import(name, None)),
            ComponentTypeRef::Module(_) => self.modules.push(None),
            _ => {}
        }
    }

    /// A component instance: what an instantiation is given escapes into
    /// it; one made of exports keeps them.
    fn component_instance(&mut self, instance: ComponentInstance<'_>) {
        match instance {
            ComponentInstance::Instantiate { args, .. } => {
                for arg in args.iter() {
                    self.escapes(arg.kind, arg.index);
                }
                self.comp_instances.push(CompInstance::Other);
            }
            ComponentInstance::FromExports(items) => {
                let items = items.iter().map(|e| (e.kind, e.index)).collect();
                self.comp_instances.push(CompInstance::Exports(items));
            }
        }
    }

    /// A component export: what the host can call through it is reached;
    /// the export is also a new index.
    fn component_export(&mut self, export: wasmparser::ComponentExport<'_>) {
        self.exported(export.kind, export.index);
        match export.kind {
            ComponentExternalKind::Func => {
                let f = self.func(export.index);
                self.funcs.push(f);
            }
            ComponentExternalKind::Instance => {
                let i = self.comp_instance(export.index);
                self.comp_instances.push(i);
            }
            ComponentExternalKind::Module => self.modules.push(None),
            _ => {}
        }
    }

    fn func(&self, index: u32) -> Func {
        self.funcs
            .get(index as usize)
            .cloned()
            .unwrap_or(Func::Other)
    }

    fn comp_instance(&self, index: u32) -> CompInstance {
        self.comp_instances
            .get(index as usize)
            .cloned()
            .unwrap_or(CompInstance::Other)
    }

    fn alias(&mut self, alias: ComponentAlias<'_>) {
        match alias {
            ComponentAlias::InstanceExport {
                kind,
                instance_index,
                name,
            } => {
                let from = self.comp_instance(instance_index);
                match kind {
                    ComponentExternalKind::Func => {
                        let f = match from {
                            CompInstance::Import(i) => Func::Import(i, Some(name.to_string())),
                            _ => Func::Other,
                        };
                        self.funcs.push(f);
                    }
                    ComponentExternalKind::Instance => {
                        self.comp_instances.push(CompInstance::Other)
                    }
                    ComponentExternalKind::Module => self.modules.push(None),
                    _ => {}
                }
            }
            ComponentAlias::CoreInstanceExport {
                kind,
                instance_index,
                name,
            } => match kind {
                ExternalKind::Func | ExternalKind::FuncExact => self
                    .core_funcs
                    .push(CoreFunc::Export(instance_index, name.to_string())),
                ExternalKind::Table => self.core_tables.push((instance_index, name.to_string())),
                _ => {}
            },
            ComponentAlias::Outer { kind, .. } => {
                if kind == wasmparser::ComponentOuterAliasKind::CoreModule {
                    self.modules.push(None);
                }
            }
        }
    }

    fn canon(&mut self, canon: CanonicalFunction) {
        let options = |options: &[CanonicalOption], roots: &mut Vec<u32>| {
            for option in options {
                match option {
                    CanonicalOption::Realloc(f)
                    | CanonicalOption::PostReturn(f)
                    | CanonicalOption::Callback(f) => roots.push(*f),
                    _ => {}
                }
            }
        };
        match canon {
            CanonicalFunction::Lift {
                core_func_index,
                options: o,
                ..
            } => {
                self.roots.push(core_func_index);
                options(&o, &mut self.roots);
                self.funcs.push(Func::Other);
            }
            CanonicalFunction::Lower {
                func_index,
                options: o,
            } => {
                options(&o, &mut self.roots);
                self.core_funcs.push(CoreFunc::Lowered(func_index));
            }
            // Every other canonical function defines one core function.
            _ => self.core_funcs.push(CoreFunc::Builtin),
        }
    }

    fn core_instance(&mut self, instance: Instance<'_>) {
        match instance {
            Instance::Instantiate { module_index, args } => {
                let args = args.iter().map(|a| (a.name.to_string(), a.index)).collect();
                self.instances.push(CoreInstance::Module {
                    module: module_index as usize,
                    args,
                });
            }
            Instance::FromExports(exports) => {
                let items = exports
                    .iter()
                    .map(|e| {
                        let item = match e.kind {
                            ExternalKind::Func | ExternalKind::FuncExact => CoreItem::Func(e.index),
                            ExternalKind::Table => CoreItem::Table(e.index),
                            _ => CoreItem::Other,
                        };
                        (e.name.to_string(), item)
                    })
                    .collect();
                self.instances.push(CoreInstance::Exports(items));
            }
        }
    }

    /// An item passed where the analysis cannot follow: every import
    /// function in it counts as reached.
    fn escapes(&mut self, kind: ComponentExternalKind, index: u32) {
        let before = self.reach.reached.len();
        self.exported(kind, index);
        if self.reach.reached.len() != before {
            self.reach.exact = false;
        }
    }

    /// An item the host (or another component) can call.
    fn exported(&mut self, kind: ComponentExternalKind, index: u32) {
        match kind {
            ComponentExternalKind::Func => {
                if let Func::Import(i, f) = self.func(index) {
                    self.reach.reached.insert((i, f));
                }
            }
            ComponentExternalKind::Instance => match self.comp_instance(index) {
                CompInstance::Import(i) => {
                    self.reach.reached.insert((i, None));
                }
                CompInstance::Exports(items) => {
                    for (kind, index) in items {
                        self.exported(kind, index);
                    }
                }
                CompInstance::Other => {}
            },
            _ => {}
        }
    }
}

/// A function of a core instance: the instance, and the function's index
/// in its module.
type Node = (u32, u32);

/// The traversal.
struct Walk<'g> {
    g: &'g Graph,
    seen: HashSet<(u32, u32)>,
    stack: Vec<(u32, u32)>,
    /// Per table (defining instance, index): functions by slot, and those
    /// at slots not known.
    slots: HashMap<(u32, u32), BTreeMap<u32, Vec<Node>>>,
    anywhere: HashMap<(u32, u32), Vec<Node>>,
    reached: Reached,
    exact: bool,
    tables_ready: bool,
}

impl<'g> Walk<'g> {
    fn new(g: &'g Graph) -> Self {
        Walk {
            g,
            seen: HashSet::new(),
            stack: Vec::new(),
            slots: HashMap::new(),
            anywhere: HashMap::new(),
            reached: Reached::new(),
            exact: true,
            tables_ready: false,
        }
    }

    fn module(&self, instance: u32) -> Option<(&'g Module, &'g HashMap<String, u32>)> {
        match self.g.instances.get(instance as usize)? {
            CoreInstance::Module { module, args } => {
                Some((self.g.modules.get(*module)?.as_ref()?, args))
            }
            _ => None,
        }
    }

    /// Gathers every element segment of every instance into its table.
    fn prepare_tables(&mut self) {
        if self.tables_ready {
            return;
        }
        self.tables_ready = true;
        for instance in 0..self.g.instances.len() as u32 {
            let Some((module, _)) = self.module(instance) else {
                continue;
            };
            let tables = module.table_imports.len() as u32 + 1;
            for segment in &module.elements {
                let funcs = segment
                    .funcs
                    .iter()
                    .flatten()
                    .map(|f| (instance, *f))
                    .collect::<Vec<_>>();
                match segment.at {
                    Some((table, Some(offset))) => {
                        let Some(key) = self.table(instance, table) else {
                            continue;
                        };
                        let slots = self.slots.entry(key).or_default();
                        for (i, f) in segment.funcs.iter().enumerate() {
                            if let Some(f) = f {
                                slots
                                    .entry(offset.wrapping_add(i as u32))
                                    .or_default()
                                    .push((instance, *f));
                            }
                        }
                    }
                    Some((table, None)) => {
                        if let Some(key) = self.table(instance, table) {
                            self.anywhere.entry(key).or_default().extend(funcs);
                        }
                    }
                    // A passive segment may be copied into any of the
                    // instance's tables.
                    None => {
                        for table in 0..tables {
                            if let Some(key) = self.table(instance, table) {
                                self.anywhere
                                    .entry(key)
                                    .or_default()
                                    .extend(funcs.iter().copied());
                            }
                        }
                    }
                }
            }
        }
    }

    /// The defining instance and index of `instance`'s table `table`.
    fn table(&self, instance: u32, table: u32) -> Option<(u32, u32)> {
        let (module, args) = self.module(instance)?;
        let Some((from, field)) = module.table_imports.get(table as usize) else {
            return Some((instance, table));
        };
        self.export_table(*args.get(from)?, field, 0)
    }

    fn export_table(&self, instance: u32, name: &str, depth: u32) -> Option<(u32, u32)> {
        if depth > 64 {
            return None;
        }
        match self.g.instances.get(instance as usize)? {
            CoreInstance::Exports(items) => match items.get(name)? {
                CoreItem::Table(t) => {
                    let (i, n) = self.g.core_tables.get(*t as usize)?;
                    self.export_table(*i, n, depth + 1)
                }
                _ => None,
            },
            CoreInstance::Module { .. } => {
                let (module, _) = self.module(instance)?;
                match module.exports.get(name)? {
                    (ExternalKind::Table, t) => self.table(instance, *t),
                    _ => None,
                }
            }
            CoreInstance::Host => None,
        }
    }

    /// Visits a component-level core function.
    fn core_func(&mut self, index: u32) {
        self.prepare_tables();
        let target = self.resolve_core(index, 0);
        self.target(target);
    }

    fn target(&mut self, target: Target) {
        match target {
            Target::Defined(instance, f) => self.push(instance, f),
            Target::Import(i, f) => {
                self.reached.insert((i, f));
            }
            Target::Opaque => {}
        }
        self.drain();
    }

    fn resolve_core(&mut self, index: u32, depth: u32) -> Target {
        match self.g.core_funcs.get(index as usize) {
            Some(CoreFunc::Lowered(f)) => match self.g.funcs.get(*f as usize) {
                Some(Func::Import(i, name)) => Target::Import(i.clone(), name.clone()),
                _ => Target::Opaque,
            },
            Some(CoreFunc::Export(instance, name)) => {
                self.resolve_export(*instance, &name.clone(), depth + 1)
            }
            _ => Target::Opaque,
        }
    }

    fn resolve_export(&mut self, instance: u32, name: &str, depth: u32) -> Target {
        if depth > 64 {
            return Target::Opaque;
        }
        match self.g.instances.get(instance as usize) {
            Some(CoreInstance::Exports(items)) => match items.get(name) {
                Some(CoreItem::Func(f)) => self.resolve_core(*f, depth),
                _ => Target::Opaque,
            },
            Some(CoreInstance::Module { .. }) => {
                let Some((module, _)) = self.module(instance) else {
                    self.opaque_instance(instance);
                    return Target::Opaque;
                };
                match module.exports.get(name) {
                    Some((ExternalKind::Func | ExternalKind::FuncExact, f)) => {
                        self.resolve_func(instance, *f, depth)
                    }
                    _ => Target::Opaque,
                }
            }
            _ => Target::Opaque,
        }
    }

    /// `instance`'s function `f`: a defined one, or what its import is.
    fn resolve_func(&mut self, instance: u32, f: u32, depth: u32) -> Target {
        let Some((module, args)) = self.module(instance) else {
            return Target::Opaque;
        };
        let Some((from, field)) = module.func_imports.get(f as usize) else {
            return Target::Defined(instance, f);
        };
        match args.get(from) {
            Some(i) => self.resolve_export(*i, field, depth + 1),
            None if matches!(self.g.instances.first(), Some(CoreInstance::Host)) => {
                Target::Import(from.clone(), Some(field.clone()))
            }
            None => Target::Opaque,
        }
    }

    /// An instance of a module the analysis cannot see: everything passed
    /// to it counts as reached.
    fn opaque_instance(&mut self, instance: u32) {
        if !self.seen.insert((instance, u32::MAX)) {
            return;
        }
        self.exact = false;
        let Some(CoreInstance::Module { args, .. }) = self.g.instances.get(instance as usize)
        else {
            return;
        };
        for arg in args.values() {
            if let Some(CoreInstance::Exports(items)) = self.g.instances.get(*arg as usize) {
                for item in items.values() {
                    if let CoreItem::Func(f) = item {
                        let t = self.resolve_core(*f, 0);
                        if let Target::Import(i, f) = t {
                            self.reached.insert((i, f));
                        } else if let Target::Defined(i, f) = t {
                            self.push(i, f);
                        }
                    }
                }
            }
        }
    }

    fn func(&mut self, instance: u32, f: u32) {
        self.prepare_tables();
        let t = self.resolve_func(instance, f, 0);
        self.target(t);
    }

    fn push(&mut self, instance: u32, f: u32) {
        if self.seen.insert((instance, f)) {
            self.stack.push((instance, f));
        }
    }

    fn drain(&mut self) {
        while let Some((instance, f)) = self.stack.pop() {
            let Some((module, _)) = self.module(instance) else {
                continue;
            };
            let Some(edges) = f
                .checked_sub(module.imported_funcs())
                .and_then(|d| module.edges.get(d as usize))
            else {
                continue;
            };
            for edge in edges {
                match *edge {
                    Edge::Func(callee) => {
                        let t = self.resolve_func(instance, callee, 0);
                        self.visit(t);
                    }
                    Edge::Indirect { table, slot } => {
                        let Some(key) = self.table(instance, table) else {
                            continue;
                        };
                        let mut callees: Vec<(u32, u32)> =
                            self.anywhere.get(&key).cloned().unwrap_or_default();
                        if let Some(slots) = self.slots.get(&key) {
                            match slot {
                                Some(s) => callees.extend(slots.get(&s).into_iter().flatten()),
                                None => callees.extend(slots.values().flatten()),
                            }
                        }
                        for (i, callee) in callees {
                            let t = self.resolve_func(i, callee, 0);
                            self.visit(t);
                        }
                    }
                }
            }
        }
    }

    fn visit(&mut self, t: Target) {
        match t {
            Target::Defined(i, f) => self.push(i, f),
            Target::Import(i, f) => {
                self.reached.insert((i, f));
            }
            Target::Opaque => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_reaches_only_what_its_exports_call() {
        let wat = r#"(module
            (import "m" "used" (func $used))
            (import "m" "via-table" (func $via))
            (import "m" "unused" (func $unused))
            (table 2 funcref)
            (elem (i32.const 1) $via)
            (func $dead call $unused)
            (func (export "run") call $used i32.const 1 call_indirect))"#;
        let bytes = wat::parse_str(wat).unwrap();
        let reach = module(&bytes).unwrap();
        let names: Vec<_> = reach
            .reached
            .iter()
            .map(|(_, f)| f.clone().unwrap())
            .collect();
        assert_eq!(names, ["used", "via-table"]);
        assert!(reach.exact);
    }

    /// A component made by wit-component, whose lowered imports that take
    /// strings go through a shim's table (filled by a fix-up module): only
    /// the import that the exported function calls is reached.
    #[test]
    fn a_component_reaches_through_the_shim_tables() {
        let wit = r#"package my:app;
            interface api { used: func(s: string); unused: func(s: string); plain: func(); }
            world app { import api; export run: func(); }"#;
        let mut resolve = wit_parser::Resolve::default();
        let pkg = resolve.push_str("app.wit", wit).unwrap();
        let world = resolve.select_world(&[pkg], Some("app")).unwrap();
        let wat = r#"(module
            (import "my:app/api" "used" (func $used (param i32 i32)))
            (import "my:app/api" "unused" (func $unused (param i32 i32)))
            (import "my:app/api" "plain" (func $plain))
            (memory (export "memory") 1)
            (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 8)
            (func $never i32.const 0 i32.const 0 call $unused call $plain)
            (func (export "run") i32.const 0 i32.const 0 call $used))"#;
        let mut module = wat::parse_str(wat).unwrap();
        wit_component::embed_component_metadata(
            &mut module,
            &resolve,
            world,
            wit_component::StringEncoding::UTF8,
            false,
        )
        .unwrap();
        let bytes = wit_component::ComponentEncoder::default()
            .module(&module)
            .unwrap()
            .validate(true)
            .encode()
            .unwrap();
        let reach = component(&bytes).unwrap();
        let names: Vec<_> = reach
            .reached
            .iter()
            .map(|(i, f)| format!("{i}#{}", f.clone().unwrap()))
            .collect();
        assert_eq!(names, ["my:app/api#used"]);
        assert!(reach.exact);
    }
}
