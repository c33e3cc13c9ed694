//! Specializes the adapter's core module for one policy.
//!
//! One pass over the module with `wasmparser` finds what is live; a second
//! re-encodes it with `wasm_encoder::reencode`, mapping function indices:
//!
//! - exports of interfaces that are not virtualized are dropped;
//! - imports the policy denies become local functions that trap, so no path
//!   in the output can reach that host capability;
//! - functions and imports no longer reachable from an export are removed;
//! - the configuration is placed in a new data segment above the initial
//!   memory, and the adapter's anchor is patched to point at it;
//! - WASI names are renamed to the output's version.

use anyhow::{anyhow, bail, Context, Result};
use wasi_virt_layout::{Anchor, ANCHOR_SYMBOL};
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    CodeSection, ConstExpr, DataCountSection, DataSection, ElementSection, ExportKind,
    ExportSection, Function, FunctionSection, GlobalSection, ImportSection, Instruction,
    MemorySection, MemoryType, Module, StartSection, TableSection, TypeSection,
};
use wasmparser::{
    DataKind, ElementItems, ExternalKind, FunctionBody, Operator, Parser, Payload, TypeRef,
};

const PAGE: u64 = 65536;

/// What to do to the module.
pub struct Plan<'a> {
    /// Whether to keep an export (by its name as built). `memory` and
    /// `cabi_realloc` are always kept.
    pub keep_export: &'a dyn Fn(&str) -> bool,
    /// Whether an import `(module, name)` is denied and becomes a trap.
    pub deny_import: &'a dyn Fn(&str, &str) -> bool,
    /// Renames import modules and exports to the output's WASI version.
    pub rename: &'a dyn Fn(&str) -> String,
    /// The encoded configuration.
    pub config: &'a [u8],
    /// Passive data segments for the embedded filesystem, read through the
    /// adapter's `wasi-virt` `passive-read` import, which is defined here.
    pub passive: &'a [Vec<u8>],
    /// Whether `--debug` output is wanted.
    pub debug: bool,
}

/// The adapter's import that the rewrite defines: `memory.init` of one of
/// the passive segments.
const PASSIVE_READ: (&str, &str) = ("wasi-virt", "passive-read");

/// The adapter's `--debug` output: bound to the adapter's own
/// [`TRACE_IMPL`] when debugging, else a trap, so that the formatting code
/// is dead and removed.
const TRACE: (&str, &str) = ("wasi-virt", "trace");
const TRACE_IMPL: &str = "wasi_virt_trace";

/// The specialized module and what it still imports.
pub struct Rewritten {
    /// The core module.
    pub module: Vec<u8>,
    /// `(module, name)` of every import left, renamed.
    pub imports: Vec<(String, String)>,
}

struct Import<'a> {
    module: &'a str,
    name: &'a str,
    ty: u32,
}

#[derive(Default)]
struct Info<'a> {
    imports: Vec<Import<'a>>,
    defined: Vec<u32>,
    bodies: Vec<FunctionBody<'a>>,
    exports: Vec<(&'a str, ExternalKind, u32)>,
    global_inits: Vec<ConstExprInfo>,
    start: Option<u32>,
    /// Functions referenced by global initializers and element expressions:
    /// always live.
    referenced: Vec<u32>,
    /// Functions placed in tables by element segments: live only if a live
    /// function makes an indirect call of their type.
    in_tables: Vec<u32>,
    memory: Option<wasmparser::MemoryType>,
    /// How many data segments the module has.
    data_count: u32,
    /// Whether it has a data count section.
    has_data_count: bool,
}

struct ConstExprInfo {
    i32_value: Option<i32>,
}

fn analyze(wasm: &[u8]) -> Result<Info<'_>> {
    let mut info = Info::default();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload? {
            Payload::ImportSection(s) => {
                for imp in s.into_imports() {
                    let imp = imp?;
                    let TypeRef::Func(ty) = imp.ty else {
                        bail!(
                            "adapter imports `{}::{}`, which is not a function",
                            imp.module,
                            imp.name
                        );
                    };
                    info.imports.push(Import {
                        module: imp.module,
                        name: imp.name,
                        ty,
                    });
                }
            }
            Payload::FunctionSection(s) => {
                for ty in s {
                    info.defined.push(ty?);
                }
            }
            Payload::MemorySection(s) => {
                for m in s {
                    if info.memory.replace(m?).is_some() {
                        bail!("adapter defines more than one memory");
                    }
                }
            }
            Payload::GlobalSection(s) => {
                for g in s {
                    let g = g?;
                    let mut ops = g.init_expr.get_operators_reader();
                    let mut i32_value = None;
                    while !ops.eof() {
                        match ops.read()? {
                            Operator::I32Const { value } => i32_value = Some(value),
                            Operator::RefFunc { function_index } => {
                                info.referenced.push(function_index)
                            }
                            _ => {}
                        }
                    }
                    info.global_inits.push(ConstExprInfo { i32_value });
                }
            }
            Payload::ExportSection(s) => {
                for e in s {
                    let e = e?;
                    info.exports.push((e.name, e.kind, e.index));
                }
            }
            Payload::StartSection { func, .. } => info.start = Some(func),
            Payload::ElementSection(s) => {
                for e in s {
                    match e?.items {
                        ElementItems::Functions(fs) => {
                            for f in fs {
                                info.in_tables.push(f?);
                            }
                        }
                        ElementItems::Expressions(_, exprs) => {
                            for expr in exprs {
                                let mut ops = expr?.get_operators_reader();
                                while !ops.eof() {
                                    if let Operator::RefFunc { function_index } = ops.read()? {
                                        info.referenced.push(function_index);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            Payload::CodeSectionEntry(body) => info.bodies.push(body),
            Payload::DataSection(s) => info.data_count = s.count(),
            Payload::DataCountSection { .. } => info.has_data_count = true,
            _ => {}
        }
    }
    Ok(info)
}

/// Functions a body calls or references, and the types it calls indirectly.
fn callees(body: &FunctionBody<'_>, out: &mut Vec<u32>, types: &mut Vec<u32>) -> Result<()> {
    let mut ops = body.get_operators_reader()?;
    while !ops.eof() {
        match ops.read()? {
            Operator::Call { function_index }
            | Operator::ReturnCall { function_index }
            | Operator::RefFunc { function_index } => out.push(function_index),
            Operator::CallIndirect { type_index, .. }
            | Operator::ReturnCallIndirect { type_index, .. } => types.push(type_index),
            _ => {}
        }
    }
    Ok(())
}

/// Old function index to new, for the re-encoder.
struct FuncMap {
    map: Vec<Option<u32>>,
}

impl Reencode for FuncMap {
    type Error = anyhow::Error;

    fn function_index(
        &mut self,
        func: u32,
    ) -> Result<u32, wasm_encoder::reencode::Error<Self::Error>> {
        self.map
            .get(func as usize)
            .copied()
            .flatten()
            .ok_or_else(|| {
                wasm_encoder::reencode::Error::UserError(anyhow!(
                    "function {func} is referenced but was removed as dead"
                ))
            })
    }
}

fn reencode_err(e: wasm_encoder::reencode::Error<anyhow::Error>) -> anyhow::Error {
    match e {
        wasm_encoder::reencode::Error::UserError(e) => e,
        other => anyhow!("{other}"),
    }
}

/// Specializes `wasm` (the adapter's core module) according to `plan`.
pub fn rewrite(wasm: &[u8], plan: &Plan<'_>) -> Result<Rewritten> {
    let info = analyze(wasm).context("failed to parse the adapter module")?;
    let n_imports = info.imports.len() as u32;
    let n_funcs = n_imports as usize + info.defined.len();

    // Liveness, from the kept exports, the start function and every function
    // a table or global can reach.
    let keep_export = |name: &str, kind: ExternalKind| match kind {
        ExternalKind::Memory => name == "memory",
        ExternalKind::Func => name == "cabi_realloc" || (plan.keep_export)(name),
        _ => false,
    };
    // A function in a table can only be reached by an indirect call of its
    // exact type, so it is live once a live function makes such a call.
    let type_of = |f: u32| match f.checked_sub(n_imports) {
        None => info.imports[f as usize].ty,
        Some(d) => info.defined[d as usize],
    };
    // `trace` stands for the adapter's own implementation when debugging.
    let trace_import = info
        .imports
        .iter()
        .position(|i| (i.module, i.name) == TRACE)
        .map(|i| i as u32);
    let trace_impl = info
        .exports
        .iter()
        .find(|(name, kind, _)| *name == TRACE_IMPL && *kind == ExternalKind::Func)
        .map(|(_, _, idx)| *idx);
    let alias = match (plan.debug, trace_import, trace_impl) {
        (true, Some(import), Some(target)) => Some((import, target)),
        (true, Some(_), None) => bail!("adapter has a `trace` import but no `{TRACE_IMPL}`"),
        _ => None,
    };
    let mut live = vec![false; n_funcs];
    let mut called_types = std::collections::HashSet::new();
    let mut work: Vec<u32> = info
        .exports
        .iter()
        .filter(|(name, kind, _)| *kind == ExternalKind::Func && keep_export(name, *kind))
        .map(|(_, _, idx)| *idx)
        .chain(info.start)
        .chain(info.referenced.iter().copied())
        .collect();
    let (mut scratch, mut types) = (Vec::new(), Vec::new());
    while let Some(f) = work.pop() {
        let slot = live
            .get_mut(f as usize)
            .ok_or_else(|| anyhow!("adapter references function {f}, which does not exist"))?;
        if std::mem::replace(slot, true) {
            continue;
        }
        if let Some((import, target)) = alias {
            if f == import {
                work.push(target);
            }
        }
        if let Some(def) = f.checked_sub(n_imports) {
            scratch.clear();
            types.clear();
            callees(&info.bodies[def as usize], &mut scratch, &mut types)?;
            work.extend_from_slice(&scratch);
            for ty in types.drain(..) {
                if called_types.insert(ty) {
                    work.extend(info.in_tables.iter().filter(|t| type_of(**t) == ty));
                }
            }
        }
    }

    // New index space: kept imports, then trap stubs for denied imports that
    // are still reachable, then the live defined functions.
    let aliased = |index: usize| alias.is_some_and(|(import, _)| import as usize == index);
    let denied = |i: &Import<'_>| {
        (i.module, i.name) == PASSIVE_READ
            || (i.module, i.name) == TRACE
            || (plan.deny_import)(i.module, i.name)
    };
    let mut map = vec![None; n_funcs];
    let mut next = 0u32;
    let mut kept_imports = Vec::new();
    for (i, imp) in info.imports.iter().enumerate() {
        if live[i] && !denied(imp) {
            map[i] = Some(next);
            next += 1;
            kept_imports.push(imp);
        }
    }
    // Each stub: its type, and whether it is the passive reader.
    let mut stubs = Vec::new();
    let mut reads_passive = false;
    for (i, imp) in info.imports.iter().enumerate() {
        if live[i] && denied(imp) && !aliased(i) {
            map[i] = Some(next);
            next += 1;
            let passive = (imp.module, imp.name) == PASSIVE_READ;
            reads_passive |= passive;
            stubs.push((imp.ty, passive));
        }
    }
    // The passive segments follow the module's own and the configuration.
    let passive: &[Vec<u8>] = if reads_passive { plan.passive } else { &[] };
    let first_passive = info.data_count + 1;
    // Table slots of dead functions get a trap of the same type: no live
    // indirect call has that type, so none can reach it. One per type,
    // numbered right after the import stubs.
    let mut table_stubs: Vec<u32> = Vec::new();
    for &f in &info.in_tables {
        if live[f as usize] {
            continue;
        }
        let ty = type_of(f);
        let k = table_stubs
            .iter()
            .position(|t| *t == ty)
            .unwrap_or_else(|| {
                table_stubs.push(ty);
                table_stubs.len() - 1
            });
        map[f as usize] = Some(next + k as u32);
    }
    next += table_stubs.len() as u32;
    stubs.extend(table_stubs.into_iter().map(|ty| (ty, false)));
    for (i, slot) in map.iter_mut().enumerate().skip(n_imports as usize) {
        if live[i] {
            *slot = Some(next);
            next += 1;
        }
    }
    if let Some((import, target)) = alias {
        if live[import as usize] {
            map[import as usize] = map[target as usize];
        }
    }
    let mut funcs = FuncMap { map };

    // Where the configuration goes, and the anchor to point at it.
    let anchor_addr = info
        .exports
        .iter()
        .find(|(name, kind, _)| *name == ANCHOR_SYMBOL && *kind == ExternalKind::Global)
        .and_then(|(_, _, g)| info.global_inits.get(*g as usize)?.i32_value)
        .ok_or_else(|| anyhow!("adapter does not export its `{ANCHOR_SYMBOL}` address"))?
        as u32 as u64;
    let memory = info
        .memory
        .ok_or_else(|| anyhow!("adapter defines no memory"))?;
    let config_addr = memory.initial * PAGE;
    let config_pages = (plan.config.len() as u64).div_ceil(PAGE);
    let initial = memory.initial + config_pages;
    if memory.maximum.is_some_and(|max| max < initial) {
        bail!("adapter memory maximum leaves no room for a configuration");
    }
    let anchor = Anchor {
        config_ptr: u32::try_from(config_addr).context("configuration address overflows")?,
        config_len: u32::try_from(plan.config.len()).context("configuration is too large")?,
        ..Anchor::UNPATCHED
    };
    let mut anchor_patched = false;

    let mut module = Module::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload?;
        match payload {
            Payload::TypeSection(s) => {
                let mut out = TypeSection::new();
                RoundtripReencoder
                    .parse_type_section(&mut out, s)
                    .map_err(|e| anyhow!("{e}"))?;
                module.section(&out);
            }
            Payload::ImportSection(_) => {
                let mut out = ImportSection::new();
                for imp in &kept_imports {
                    out.import(
                        &(plan.rename)(imp.module),
                        imp.name,
                        wasm_encoder::EntityType::Function(imp.ty),
                    );
                }
                module.section(&out);
            }
            Payload::FunctionSection(_) => {
                let mut out = FunctionSection::new();
                for (ty, _) in &stubs {
                    out.function(*ty);
                }
                for (j, ty) in info.defined.iter().enumerate() {
                    if live[n_imports as usize + j] {
                        out.function(*ty);
                    }
                }
                module.section(&out);
            }
            Payload::TableSection(s) => {
                let mut out = TableSection::new();
                funcs
                    .parse_table_section(&mut out, s)
                    .map_err(reencode_err)?;
                module.section(&out);
            }
            Payload::MemorySection(_) => {
                let mut out = MemorySection::new();
                out.memory(MemoryType {
                    minimum: initial,
                    maximum: memory.maximum,
                    memory64: memory.memory64,
                    shared: memory.shared,
                    page_size_log2: memory.page_size_log2,
                });
                module.section(&out);
            }
            Payload::GlobalSection(s) => {
                let mut out = GlobalSection::new();
                funcs
                    .parse_global_section(&mut out, s)
                    .map_err(reencode_err)?;
                module.section(&out);
            }
            Payload::ExportSection(_) => {
                let mut out = ExportSection::new();
                for (name, kind, idx) in &info.exports {
                    if !keep_export(name, *kind) {
                        continue;
                    }
                    let (kind, idx) = match kind {
                        ExternalKind::Func => (
                            ExportKind::Func,
                            funcs.function_index(*idx).map_err(reencode_err)?,
                        ),
                        _ => (ExportKind::Memory, *idx),
                    };
                    out.export(&(plan.rename)(name), kind, idx);
                }
                module.section(&out);
            }
            Payload::StartSection { func, .. } => {
                let function_index = funcs.function_index(func).map_err(reencode_err)?;
                module.section(&StartSection { function_index });
            }
            Payload::ElementSection(s) => {
                let mut out = ElementSection::new();
                funcs
                    .parse_element_section(&mut out, s)
                    .map_err(reencode_err)?;
                module.section(&out);
            }
            Payload::DataCountSection { count, .. } => {
                module.section(&DataCountSection {
                    count: count + 1 + passive.len() as u32,
                });
            }
            Payload::CodeSectionStart { .. } => {
                if !info.has_data_count && !passive.is_empty() {
                    // `memory.init` needs the count declared before the code.
                    module.section(&DataCountSection {
                        count: info.data_count + 1 + passive.len() as u32,
                    });
                }
                let mut out = CodeSection::new();
                for (_, is_passive) in &stubs {
                    let f = if *is_passive {
                        passive_reader(first_passive, passive.len() as u32)
                    } else {
                        let mut f = Function::new([]);
                        f.instruction(&Instruction::Unreachable);
                        f.instruction(&Instruction::End);
                        f
                    };
                    out.function(&f);
                }
                for (j, body) in info.bodies.iter().enumerate() {
                    if live[n_imports as usize + j] {
                        funcs
                            .parse_function_body(&mut out, body.clone())
                            .map_err(reencode_err)?;
                    }
                }
                module.section(&out);
            }
            Payload::DataSection(s) => {
                let mut out = DataSection::new();
                for data in s {
                    let data = data?;
                    let DataKind::Active {
                        memory_index,
                        ref offset_expr,
                    } = data.kind
                    else {
                        funcs.parse_data(&mut out, data).map_err(reencode_err)?;
                        continue;
                    };
                    let offset = const_i32(offset_expr)? as u32 as u64;
                    let end = offset + data.data.len() as u64;
                    if offset <= anchor_addr && anchor_addr + Anchor::SIZE as u64 <= end {
                        let at = (anchor_addr - offset) as usize;
                        let mut bytes = data.data.to_vec();
                        check_unpatched(&bytes[at..at + Anchor::SIZE])?;
                        bytes[at..at + Anchor::SIZE].copy_from_slice(&anchor.to_bytes());
                        anchor_patched = true;
                        out.active(memory_index, &ConstExpr::i32_const(offset as i32), bytes);
                    } else {
                        funcs.parse_data(&mut out, data).map_err(reencode_err)?;
                    }
                }
                out.active(
                    0,
                    &ConstExpr::i32_const(config_addr as i32),
                    plan.config.iter().copied(),
                );
                for segment in passive {
                    out.passive(segment.iter().copied());
                }
                module.section(&out);
            }
            // Names, producers and the build's component-type metadata no
            // longer describe the module; the encoder writes fresh metadata.
            Payload::CustomSection(_) => {}
            Payload::Version { .. } | Payload::End(_) | Payload::CodeSectionEntry(_) => {}
            other => {
                if let Some((id, range)) = other.as_section() {
                    bail!("adapter has an unexpected section (id {id}) at {range:?}");
                }
            }
        }
    }
    if !anchor_patched {
        bail!("adapter's `{ANCHOR_SYMBOL}` does not lie in an active data segment");
    }

    let module = module.finish();
    wasmparser::Validator::new()
        .validate_all(&module)
        .context("specialized adapter module failed to validate")?;
    let imports = kept_imports
        .iter()
        .map(|i| ((plan.rename)(i.module), i.name.to_string()))
        .collect();
    Ok(Rewritten { module, imports })
}

/// `passive-read(segment, offset, len, dest)`: `memory.init` of passive
/// segment `first + segment`, dispatched by a `br_table`; an unknown segment
/// traps.
fn passive_reader(first: u32, count: u32) -> Function {
    let mut f = Function::new([]);
    // One block per segment, and an outer one for the default.
    for _ in 0..=count {
        f.instruction(&Instruction::Block(wasm_encoder::BlockType::Empty));
    }
    f.instruction(&Instruction::LocalGet(0));
    let targets: Vec<u32> = (0..count).collect();
    f.instruction(&Instruction::BrTable(targets.into(), count));
    for segment in 0..count {
        f.instruction(&Instruction::End);
        f.instruction(&Instruction::LocalGet(3));
        f.instruction(&Instruction::LocalGet(1));
        f.instruction(&Instruction::LocalGet(2));
        f.instruction(&Instruction::MemoryInit {
            mem: 0,
            data_index: first + segment,
        });
        f.instruction(&Instruction::Return);
    }
    f.instruction(&Instruction::End);
    f.instruction(&Instruction::Unreachable);
    f.instruction(&Instruction::End);
    f
}

fn const_i32(expr: &wasmparser::ConstExpr<'_>) -> Result<i32> {
    let mut ops = expr.get_operators_reader();
    match (ops.read()?, ops.read()?) {
        (Operator::I32Const { value }, Operator::End) => Ok(value),
        _ => bail!("adapter has a data segment whose offset is not an `i32.const`"),
    }
}

fn check_unpatched(bytes: &[u8]) -> Result<()> {
    let found = Anchor::from_bytes(bytes).ok_or_else(|| anyhow!("anchor is truncated"))?;
    let want = Anchor::UNPATCHED;
    if found.magic != want.magic {
        bail!("adapter's `{ANCHOR_SYMBOL}` does not hold the expected magic");
    }
    if found.layout_version != want.layout_version {
        bail!(
            "adapter was built for configuration layout {}, but this library writes layout {}; \
             rebuild it with `./build-adapter.sh`",
            found.layout_version,
            want.layout_version
        );
    }
    Ok(())
}
