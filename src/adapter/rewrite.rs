//! Specializes the adapter's core module for one policy.
//!
//! Three steps, in the shape of a garbage collector: a [`Summary`] of the
//! module, [`Live`]ness from what the policy keeps, then one re-encoding
//! ([`Specializer`], an `impl Reencode`) that overrides only the hooks it
//! needs:
//!
//! - exports of interfaces that are not virtualized are dropped;
//! - imports the policy denies become local functions that trap, so no path
//!   in the output can reach that host capability; the hooks
//!   (`crates/layout`) become the adapter's own functions;
//! - exports of methods of resources the policy makes impossible to create
//!   (no preopen means no descriptor) become traps, and exports with a
//!   fixed answer that stands alone (`src/adapter/fixed.rs`, `Partial`)
//!   that answer, placed after the configuration;
//! - functions and imports no longer reachable from an export are removed;
//! - the configuration is placed in a new data segment above the initial
//!   memory, and the adapter's anchor is patched to point at it; file
//!   contents follow as passive segments;
//! - WASI names are renamed to the output's version.

mod live;
mod summary;

use super::fixed::Partial;
use anyhow::{anyhow, bail, Context, Result};
use live::{Live, Roots, Stub};
use std::collections::{BTreeMap, HashMap};
use summary::Summary;
use wasi_virt_layout::heap::{ARENA_PAGES, PAGE};
use wasi_virt_layout::{
    file_segment_index, Anchor, ANCHOR_SYMBOL, HOOK_MODULE, HTTP_SEND, HTTP_SEND_IMPL, MEMFS,
    MEMFS_IMPL, NET, NET_IMPL, PASSIVE_READ, SEEDED, SEEDED_IMPL, SERVE, SERVE_IMPL, TRACE,
    TRACE_IMPL,
};
use wasm_encoder::reencode::{Error as ReencodeError, Reencode};
use wasm_encoder::{
    CodeSection, ConstExpr, DataCountSection, DataSection, ExportKind, ExportSection, Function,
    FunctionSection, ImportSection, Instruction, Module, SectionId,
};
use wasmparser::{ExternalKind, Parser};

/// What to do to the module.
#[derive(Clone, Copy)]
pub struct Plan<'a> {
    /// Whether to keep a function export (by its name as built). `memory`
    /// and `cabi_realloc` are always kept.
    pub keep_export: &'a dyn Fn(&str) -> bool,
    /// Whether an import `(module, name)` is denied and becomes a trap.
    pub deny_import: &'a dyn Fn(&str, &str) -> bool,
    /// Whether a kept function export (by its name as built) is answered by
    /// a trap instead of its body: its code, and what only it reaches, goes.
    pub stub_export: &'a dyn Fn(&str) -> bool,
    /// Renames import modules and exports to the output's WASI version.
    pub rename: &'a dyn Fn(&str) -> String,
    /// The encoded configuration.
    pub config: &'a [u8],
    /// How many passive data segments the embedded filesystem has, read
    /// through the `passive-read` hook. They are written empty, followed by
    /// a [`FILES_MARKER`] section; `src/adapter/splice.rs` fills them in when
    /// the output is written.
    pub files: u32,
    /// Whether `--debug` output is wanted: binds the `trace` hook.
    pub debug: bool,
    /// Whether the configuration has network rules: binds the `net` hook.
    pub net: bool,
    /// Whether the configuration has a tmpfs or an overlay: binds the
    /// `memfs` hook.
    pub memfs: bool,
    /// Whether the policy seeds randomness: binds the `seeded` hook.
    pub seeded: bool,
    /// Whether HTTP may pass to the host: binds the `http-send` hook.
    pub http_send: bool,
    /// Whether a command is served per request: binds the `serve` hook.
    pub serve: bool,
    /// Fixed answers that kept function exports give in place of their
    /// code (`src/adapter/fixed.rs`); their post-return functions go.
    pub answers: Option<&'a Partial<'a>>,
}

/// The name of the custom section that follows the data section of an
/// adapter whose file segments are still empty; it holds their count
/// (`u32`, little-endian).
pub const FILES_MARKER: &str = "wasi-virt:files";

/// The specialized module and what it still imports.
pub struct Rewritten {
    /// The core module.
    pub module: Vec<u8>,
    /// `(module, name)` of every import left, renamed.
    pub imports: Vec<(String, String)>,
}

/// Specializes `wasm` (the adapter's core module) according to `plan`.
pub fn rewrite(wasm: &[u8], plan: &Plan<'_>) -> Result<Rewritten> {
    let summary = Summary::parse(wasm).context("failed to parse the adapter module")?;
    let calls = answer_calls(&summary, plan)?;
    let answered = answered_exports(&summary, plan, &calls);
    let answer_export = |name: &str| answered.get(name).copied();
    let keep_export = |name: &str| {
        // An answer frees nothing after the call.
        let answered = |f| (plan.keep_export)(f) && answer_export(f).is_some();
        let post_of_answered = name.strip_prefix("cabi_post_").is_some_and(answered);
        (name == "cabi_realloc" || (plan.keep_export)(name)) && !post_of_answered
    };
    let bound: Vec<(u32, u32)> = [
        (TRACE, TRACE_IMPL, plan.debug),
        (NET, NET_IMPL, plan.net),
        (MEMFS, MEMFS_IMPL, plan.memfs),
        (SEEDED, SEEDED_IMPL, plan.seeded),
        (HTTP_SEND, HTTP_SEND_IMPL, plan.http_send),
        (SERVE, SERVE_IMPL, plan.serve),
    ]
    .into_iter()
    .filter_map(|(hook, target, on)| bind(&summary, hook, target, on).transpose())
    .collect::<Result<_>>()?;
    let called = (summary.exports.iter())
        .filter(|(name, kind, _)| *kind == ExternalKind::Func && keep_export(name))
        .filter_map(|(name, _, _)| calls[answer_export(name)?].as_ref())
        .flat_map(|called| called.iter().map(|&(_, import)| import))
        .collect();
    let roots = Roots {
        keep_export: &keep_export,
        deny_import: plan.deny_import,
        stub_export: plan.stub_export,
        answer_export: &answer_export,
        called,
        traps: traps(&summary, plan, &bound),
        bound,
    };
    let live = Live::compute(&summary, &roots)?;
    let types = used_types(&summary, &live)?;
    let (memory, config, answers) = place(&summary, plan, &live, &calls)?;
    let segments = active_segments(&summary, &live, &memory)?;
    let mut specializer = Specializer {
        files: if live.reads_passive() { plan.files } else { 0 },
        summary: &summary,
        live: &live,
        plan,
        keep_export: &keep_export,
        memory,
        segments,
        types,
        traps: &roots.traps,
        config,
        answers,
    };
    let mut module = Module::new();
    specializer
        .parse_core_module(&mut module, Parser::new(0), wasm)
        .map_err(into_anyhow)
        .context("failed to re-encode the adapter module")?;
    // Not validated here: the component encoder (standalone) or the
    // composition (composed) validates it as part of the output, once.
    let module = module.finish();
    let imports = live
        .kept_imports
        .iter()
        .map(|&i| &summary.imports[i])
        .map(|i| ((plan.rename)(i.module), i.name.to_string()))
        .collect();
    Ok(Rewritten { module, imports })
}

/// The imports an answer calls: each by name (`module`, `name`, as the
/// output names it) and by its index in the adapter.
type Calls = Vec<((String, String), u32)>;

/// For each of `plan`'s fixed answers, by index, the adapter's imports it
/// calls ([`Partial::calls`]), if the adapter has them all.
fn answer_calls(summary: &Summary<'_>, plan: &Plan<'_>) -> Result<Vec<Option<Calls>>> {
    let Some(answers) = plan.answers else {
        return Ok(Vec::new());
    };
    let import = |call: (String, String)| {
        let found = (summary.imports.iter())
            .position(|i| i.name == call.1 && (plan.rename)(i.module) == call.0);
        found.map(|i| (call, i as u32))
    };
    (0..answers.len())
        .map(|k| Ok(answers.calls(k)?.into_iter().map(import).collect()))
        .collect()
}

/// Each function export of the adapter (by its name as built) given its
/// fixed answer, and the answer's index: not one a trap stands for
/// (`stub_export`), nor one whose calls the adapter does not import.
fn answered_exports<'s>(
    summary: &Summary<'s>,
    plan: &Plan<'_>,
    calls: &[Option<Calls>],
) -> HashMap<&'s str, usize> {
    let Some(answers) = plan.answers else {
        return HashMap::new();
    };
    (summary.exports.iter())
        .filter(|(name, kind, _)| *kind == ExternalKind::Func && !(plan.stub_export)(name))
        .filter_map(|&(name, _, _)| Some((name, answers.of(name)?)))
        .filter(|&(_, k)| calls[k].is_some())
        .collect()
}

/// Places the configuration above the initial memory, and after it the
/// data and the return area of `plan`'s fixed answers, which call the
/// imports `calls` (by answer) at their new indices in `live`: where memory
/// goes, the bytes written at the configuration's address, and the
/// answers' bodies.
fn place(
    summary: &Summary<'_>,
    plan: &Plan<'_>,
    live: &Live,
    calls: &[Option<Calls>],
) -> Result<(Memory, Vec<u8>, Vec<Function>)> {
    let config_len = plan.config.len();
    let Some(answers) = plan.answers else {
        let memory = Memory::place(summary, config_len, config_len)?;
        return Ok((memory, plan.config.to_vec(), Vec::new()));
    };
    let indices: BTreeMap<(String, String), u32> = (calls.iter().flatten().flatten())
        .filter_map(|(name, import)| Some((name.clone(), live.map[*import as usize]?)))
        .collect();
    let at = config_len.next_multiple_of(8);
    let base = u32::try_from(config_addr(summary)? + at as u64)
        .context("the fixed answers' address overflows")?;
    let (bodies, data, used) = answers.write(base, &indices)?;
    let memory = Memory::place(summary, config_len, at + used as usize)?;
    let mut config = plan.config.to_vec();
    if !data.is_empty() {
        config.resize(at, 0);
        config.extend(data);
    }
    Ok((memory, config, bodies))
}

/// The name wit-bindgen gives an interface's function export, in the
/// component model's standard name mangling (`cm32p2|wasi:cli/environment@0.2|get-environment`
/// for `wasi:cli/environment@0.2.12#get-environment`); other exports as they
/// are. wit-component matches a standard name by its interface, where a
/// legacy name is compared with the formatted name of every exported
/// function (a fifth of a whole CLI run on an adapter with every interface).
pub(crate) fn standard_export_name(name: &str) -> String {
    let (post, legacy) = match name.strip_prefix("cabi_post_") {
        Some(rest) => ("_post", rest),
        None => ("", name),
    };
    // The standard mangling has no names for async lifts and their
    // callbacks (WASI 0.3's async functions): they keep wit-bindgen's.
    let Some((interface, item)) = legacy.split_once('#').filter(|_| !legacy.starts_with('['))
    else {
        return name.to_string();
    };
    let (item, dtor) = match item.strip_prefix("[dtor]") {
        Some(resource) => (resource, "_dtor"),
        None => (item, ""),
    };
    let interface = match interface.split_once('@') {
        Some((path, version)) => match wasmparser::names::split_canonical_version(version) {
            Some((track, _)) => format!("{path}@{track}"),
            None => interface.to_string(),
        },
        None => interface.to_string(),
    };
    format!("cm32p2|{interface}|{item}{dtor}{post}")
}

/// Which functions become traps, by index: imports the policy denies, and
/// hooks left unbound (`passive-read` is no trap: it becomes the reader of
/// file segments).
fn traps(summary: &Summary<'_>, plan: &Plan<'_>, bound: &[(u32, u32)]) -> Vec<bool> {
    let mut traps = vec![false; summary.imports.len() + summary.defined.len()];
    for (i, import) in summary.imports.iter().enumerate() {
        traps[i] = match import.module == HOOK_MODULE {
            true => {
                import.name != PASSIVE_READ && !bound.iter().any(|(hook, _)| *hook as usize == i)
            }
            false => (plan.deny_import)(import.module, import.name),
        };
    }
    traps
}

/// The hook `hook` and the function `target` it is bound to, when `on`.
/// Calls of the hook become calls of it, so their types must be the same.
fn bind(summary: &Summary<'_>, hook: &str, target: &str, on: bool) -> Result<Option<(u32, u32)>> {
    let (Some(import), true) = (summary.hook(hook), on) else {
        return Ok(None);
    };
    let Some(function) = summary.export(target, ExternalKind::Func) else {
        bail!("adapter has a `{hook}` hook but no `{target}`");
    };
    if summary.type_of(import) != summary.type_of(function) {
        bail!("adapter's `{target}` does not have the type of its `{hook}` hook");
    }
    Ok(Some((import, function)))
}

/// Where the configuration goes: just above the adapter's initial memory,
/// which the adapter's allocator never hands out; after what is placed
/// there, the pages its heap takes first (`ARENA_PAGES`), then it grows
/// the memory for what it needs.
struct Memory {
    /// The anchor's address.
    anchor_addr: u64,
    /// The configuration's address.
    config_addr: u64,
    /// The memory's new minimum, in pages.
    minimum: u64,
    anchor: Anchor,
}

/// Where the configuration goes: at the end of the adapter's initial
/// memory.
fn config_addr(summary: &Summary<'_>) -> Result<u64> {
    let ty = (summary.memory).ok_or_else(|| anyhow!("adapter defines no memory"))?;
    Ok(ty.initial << ty.page_size_log2.unwrap_or(16))
}

impl Memory {
    /// Places the configuration (`config_len` bytes, of the `placed` bytes
    /// written at its address) above the initial memory.
    fn place(summary: &Summary<'_>, config_len: usize, placed: usize) -> Result<Memory> {
        let ty = summary
            .memory
            .ok_or_else(|| anyhow!("adapter defines no memory"))?;
        let page = 1u64 << ty.page_size_log2.unwrap_or(16);
        let anchor_addr = summary
            .export(ANCHOR_SYMBOL, ExternalKind::Global)
            .and_then(|g| *summary.global_i32.get(g as usize)?)
            .ok_or_else(|| anyhow!("adapter does not export its `{ANCHOR_SYMBOL}` address"))?
            as u32 as u64;
        let config_addr = config_addr(summary)?;
        if page != PAGE as u64 {
            bail!("adapter memory has pages of {page} bytes; its heap's are {PAGE}");
        }
        let heap = ARENA_PAGES as u64;
        let minimum = ty.initial + (placed.max(config_len) as u64).div_ceil(page) + heap;
        if ty.maximum.is_some_and(|max| max < minimum) {
            bail!("adapter memory maximum leaves no room for a configuration");
        }
        let anchor = Anchor {
            config_ptr: u32::try_from(config_addr).context("configuration address overflows")?,
            config_len: u32::try_from(config_len).context("configuration is too large")?,
            ..Anchor::UNPATCHED
        };
        Ok(Memory {
            anchor_addr,
            config_addr,
            minimum,
            anchor,
        })
    }

    /// The segment `bytes` at `offset` with the anchor patched, if it holds
    /// the anchor.
    fn patch(&self, offset: u64, bytes: &[u8]) -> Result<Option<Vec<u8>>> {
        let end = offset + bytes.len() as u64;
        if !(offset <= self.anchor_addr && self.anchor_addr + Anchor::SIZE as u64 <= end) {
            return Ok(None);
        }
        let at = (self.anchor_addr - offset) as usize;
        let mut bytes = bytes.to_vec();
        check_unpatched(&bytes[at..at + Anchor::SIZE])?;
        bytes[at..at + Anchor::SIZE].copy_from_slice(&self.anchor.to_bytes());
        Ok(Some(bytes))
    }
}

/// The re-encoder: the module as it was, through the liveness map.
struct Specializer<'a> {
    summary: &'a Summary<'a>,
    live: &'a Live,
    plan: &'a Plan<'a>,
    keep_export: &'a dyn Fn(&str) -> bool,
    memory: Memory,
    /// The active data segments written, as `(address, bytes)`.
    segments: Vec<(u64, Vec<u8>)>,
    /// Each type's index in the output, if a function left uses it.
    types: Vec<Option<u32>>,
    /// The functions that become traps (`Roots::traps`).
    traps: &'a [bool],
    /// How many file segments there are, if the `passive-read` hook is live.
    files: u32,
    /// The bytes placed at the configuration's address: the configuration,
    /// then the data of the fixed answers.
    config: Vec<u8>,
    /// The fixed answers' bodies, by index (`Stub::Answer`).
    answers: Vec<Function>,
}

type Hook<T = ()> = Result<T, ReencodeError<anyhow::Error>>;

fn user(e: anyhow::Error) -> ReencodeError<anyhow::Error> {
    ReencodeError::UserError(e)
}

fn into_anyhow(e: ReencodeError<anyhow::Error>) -> anyhow::Error {
    match e {
        ReencodeError::UserError(e) => e,
        ReencodeError::ParseError(e) => anyhow::Error::new(e),
        other => anyhow!("{other}"),
    }
}

impl Specializer<'_> {
    /// How many data segments the output has.
    fn data_count(&self) -> u32 {
        file_segment_index(self.segments.len() as u32, self.files)
    }

    fn stub_body(&self, stub: Stub) -> Function {
        match stub {
            Stub::PassiveRead => {
                let first = file_segment_index(self.segments.len() as u32, 0);
                passive_reader(first, self.files)
            }
            Stub::Trap => {
                let mut f = Function::new([]);
                f.instruction(&Instruction::Unreachable);
                f.instruction(&Instruction::End);
                f
            }
            Stub::Answer(k) => self.answers[k].clone(),
        }
    }
}

impl Reencode for Specializer<'_> {
    type Error = anyhow::Error;

    fn type_index(&mut self, ty: u32) -> Hook<u32> {
        self.types
            .get(ty as usize)
            .copied()
            .flatten()
            .ok_or_else(|| user(anyhow!("type {ty} is used but was removed as unused")))
    }

    fn parse_type_section(
        &mut self,
        out: &mut wasm_encoder::TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> Hook {
        for (index, group) in section.into_iter().enumerate() {
            let group = group?;
            if group.types().len() != 1 {
                return Err(user(anyhow!("adapter has a recursive type group")));
            }
            if self.types[index].is_some() {
                self.parse_recursive_type_group(out.ty(), group)?;
            }
        }
        Ok(())
    }

    fn function_index(&mut self, func: u32) -> Hook<u32> {
        self.live
            .map
            .get(func as usize)
            .copied()
            .flatten()
            .ok_or_else(|| {
                user(anyhow!(
                    "function {func} is referenced but was removed as dead"
                ))
            })
    }

    fn parse_import_section(
        &mut self,
        out: &mut ImportSection,
        _: wasmparser::ImportSectionReader<'_>,
    ) -> Hook {
        for &i in &self.live.kept_imports {
            let import = &self.summary.imports[i];
            let module = (self.plan.rename)(import.module);
            out.import(
                &module,
                import.name,
                wasm_encoder::EntityType::Function(self.type_index(import.ty)?),
            );
        }
        Ok(())
    }

    fn parse_function_section(
        &mut self,
        out: &mut FunctionSection,
        _: wasmparser::FunctionSectionReader<'_>,
    ) -> Hook {
        for &(ty, _) in &self.live.stubs {
            out.function(self.type_index(ty)?);
        }
        let first = self.summary.import_count();
        for (j, &ty) in self.summary.defined.iter().enumerate() {
            if self.live.is_live(first + j as u32) {
                out.function(self.type_index(ty)?);
            }
        }
        Ok(())
    }

    fn parse_export_section(
        &mut self,
        out: &mut ExportSection,
        _: wasmparser::ExportSectionReader<'_>,
    ) -> Hook {
        for &(name, kind, index) in &self.summary.exports {
            let (kind, index) = match kind {
                ExternalKind::Func if (self.keep_export)(name) => {
                    match self.live.export_traps.get(name) {
                        Some(&trap) => (ExportKind::Func, trap),
                        None => (ExportKind::Func, self.function_index(index)?),
                    }
                }
                ExternalKind::Memory if name == "memory" => (ExportKind::Memory, index),
                _ => continue,
            };
            out.export(
                &standard_export_name(&(self.plan.rename)(name)),
                kind,
                index,
            );
        }
        Ok(())
    }

    fn memory_type(&mut self, ty: wasmparser::MemoryType) -> Hook<wasm_encoder::MemoryType> {
        Ok(wasm_encoder::MemoryType {
            minimum: self.memory.minimum,
            ..wasm_encoder::MemoryType::from(ty)
        })
    }

    fn data_count(&mut self, _: u32) -> Hook<u32> {
        Ok(Specializer::data_count(self))
    }

    /// `memory.init` needs the data count declared before the code; the
    /// empty file segments are marked for `src/adapter/splice.rs`.
    fn intersperse_section_hook(
        &mut self,
        module: &mut Module,
        after: Option<SectionId>,
        before: Option<SectionId>,
    ) -> Hook {
        if before == Some(SectionId::Code) && !self.summary.has_data_count && self.files > 0 {
            module.section(&DataCountSection {
                count: Specializer::data_count(self),
            });
        }
        if after == Some(SectionId::Data) && self.files > 0 {
            module.section(&wasm_encoder::CustomSection {
                name: FILES_MARKER.into(),
                data: self.files.to_le_bytes().as_slice().into(),
            });
        }
        Ok(())
    }

    /// A body with what follows each call of a trap cut to the end of its
    /// block (`summary::live_operators`), an `unreachable` in its place.
    fn parse_function_body(
        &mut self,
        out: &mut CodeSection,
        body: wasmparser::FunctionBody<'_>,
    ) -> Hook {
        let mut f = self.new_function_with_parsed_locals(&body)?;
        let mut failed = None;
        let traps = self.traps;
        summary::live_operators(&body, traps, |op| {
            match self.instruction(op.clone()) {
                Ok(instruction) => f.instruction(&instruction),
                Err(e) => {
                    failed.get_or_insert(e);
                    return Ok(());
                }
            };
            if let wasmparser::Operator::Call { function_index } = *op {
                if traps.get(function_index as usize) == Some(&true) {
                    f.instruction(&Instruction::Unreachable);
                }
            }
            Ok(())
        })
        .map_err(user)?;
        if let Some(e) = failed {
            return Err(e);
        }
        out.function(&f);
        Ok(())
    }

    fn parse_code_section(
        &mut self,
        out: &mut CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Hook {
        for &(_, stub) in &self.live.stubs {
            out.function(&self.stub_body(stub));
        }
        let first = self.summary.import_count();
        for (j, body) in section.into_iter().enumerate() {
            let body = body?;
            if self.live.is_live(first + j as u32) {
                self.parse_function_body(out, body)?;
            }
        }
        Ok(())
    }

    /// The active segments as [`active_segments`] writes them, then the
    /// configuration's, then the empty file segments.
    fn parse_data_section(
        &mut self,
        out: &mut DataSection,
        _: wasmparser::DataSectionReader<'_>,
    ) -> Hook {
        for (offset, bytes) in &self.segments {
            out.active(
                0,
                &ConstExpr::i32_const(*offset as i32),
                bytes.iter().copied(),
            );
        }
        let (config_addr, config) = without_zero_ends(self.memory.config_addr, &self.config);
        out.active(
            0,
            &ConstExpr::i32_const(config_addr as i32),
            config.iter().copied(),
        );
        for _ in 0..self.files {
            out.passive([]);
        }
        Ok(())
    }

    /// Names, producers and the build's component-type metadata no longer
    /// describe the module; the encoder writes fresh metadata.
    fn parse_custom_section(
        &mut self,
        _: &mut Module,
        _: wasmparser::CustomSectionReader<'_>,
    ) -> Hook {
        Ok(())
    }

    fn parse_unknown_section(&mut self, _: &mut Module, id: u8, _: &[u8]) -> Hook {
        Err(user(anyhow!("adapter has an unexpected section (id {id})")))
    }
}

/// Numbers the types that the output still uses, in their order: those of
/// the functions left (kept imports, stubs, live functions) and those their
/// bodies name. The adapter declares every signature of every interface;
/// an output with a few interfaces uses a fraction of them.
fn used_types(summary: &Summary<'_>, live: &Live) -> Result<Vec<Option<u32>>> {
    let mut used = vec![false; summary.types];
    let imports = live.kept_imports.iter().map(|&i| summary.imports[i].ty);
    let stubs = live.stubs.iter().map(|&(ty, _)| ty);
    let first = summary.import_count();
    let defined = (0..summary.defined.len())
        .filter(|&j| live.is_live(first + j as u32))
        .map(|j| summary.defined[j]);
    let named = live.named_types.iter().copied();
    for ty in imports.chain(stubs).chain(defined).chain(named) {
        *used
            .get_mut(ty as usize)
            .ok_or_else(|| anyhow!("adapter uses type {ty}, which does not exist"))? = true;
    }
    let mut next = 0;
    Ok(used
        .into_iter()
        .map(|u| {
            u.then(|| {
                next += 1;
                next - 1
            })
        })
        .collect())
}

/// A run of zeros longer than this inside a segment splits it in two: a
/// segment's header (flags, `i32.const` of an address, `end`, length)
/// costs about as much.
const SPLIT_AT_ZEROS: usize = 8;

/// The adapter's active segments as the output writes them, as
/// `(address, bytes)`: the bytes of data objects that no live code reaches
/// zeroed (`Live::objects`; bytes no object covers are kept), the anchor
/// patched, then each segment cut into the stretches that are not zero
/// (memory starts zeroed, and the adapter's segments do not overlap). The
/// output's segment numbering changes with it: only the file segments,
/// which follow, are referred to by index.
fn active_segments(
    summary: &Summary<'_>,
    live: &Live,
    memory: &Memory,
) -> Result<Vec<(u64, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut anchor_patched = false;
    for (index, segment) in summary.segments.iter().enumerate() {
        let Some(offset) = segment.offset else {
            bail!("adapter has a passive data segment");
        };
        let mut bytes = segment.bytes.to_vec();
        if let (Some(refs), Some(objects)) = (&summary.refs, &live.objects) {
            let (at, globals) = ((index as u32, offset), &summary.global_i32);
            zero_dead_objects(&mut bytes, at, &refs.spans, objects, globals);
        }
        if let Some(patched) = memory.patch(offset, &bytes)? {
            bytes = patched;
            anchor_patched = true;
        }
        for (at, piece) in nonzero_stretches(&bytes) {
            out.push((offset + at as u64, piece.to_vec()));
        }
    }
    if !anchor_patched {
        bail!("adapter's `{ANCHOR_SYMBOL}` does not lie in an active data segment");
    }
    Ok(out)
}

/// Zeroes the bytes of segment `index`, written at `offset`, that only
/// objects no live code reaches cover (`objects`, by index, and their
/// `spans`). An object holding an address a global is initialized with
/// (`globals`: an exported one, the anchor) is kept.
fn zero_dead_objects(
    bytes: &mut [u8],
    (index, offset): (u32, u64),
    spans: &[wasi_virt_layout::refs::Span],
    objects: &[bool],
    globals: &[Option<i32>],
) {
    let in_segment = || {
        spans
            .iter()
            .enumerate()
            .filter(move |(_, span)| span.segment == index)
            .map(|(o, span)| (o, span.offset as usize..(span.offset + span.size) as usize))
    };
    let held_by_global = |range: &std::ops::Range<usize>| {
        globals.iter().flatten().any(|&v| {
            let at = (v as u32 as u64).wrapping_sub(offset);
            range.contains(&(at as usize))
        })
    };
    let mut keep = vec![true; bytes.len()];
    for (o, range) in in_segment() {
        if !objects[o] && !held_by_global(&range) {
            keep[range].fill(false);
        }
    }
    for (o, range) in in_segment() {
        if objects[o] || held_by_global(&range) {
            keep[range].fill(true);
        }
    }
    for (byte, keep) in bytes.iter_mut().zip(keep) {
        if !keep {
            *byte = 0;
        }
    }
}

/// The stretches of `bytes` that are not zero, as `(start, bytes)`, two
/// apart by no more than [`SPLIT_AT_ZEROS`] zeros written as one.
fn nonzero_stretches(bytes: &[u8]) -> Vec<(usize, &[u8])> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    while let Some(start) = bytes[at..].iter().position(|&b| b != 0).map(|p| at + p) {
        let end = bytes[start..]
            .iter()
            .position(|&b| b == 0)
            .map_or(bytes.len(), |p| start + p);
        match out.last_mut() {
            Some(last) if start - last.1 <= SPLIT_AT_ZEROS => last.1 = end,
            _ => out.push((start, end)),
        }
        at = end;
    }
    out.into_iter().map(|(s, e)| (s, &bytes[s..e])).collect()
}

/// The configuration's segment, written to `offset` without its leading
/// and trailing zero bytes (memory starts zeroed). It keeps its place in
/// the numbering, even if empty: the file segments follow it.
fn without_zero_ends(offset: u64, bytes: &[u8]) -> (u64, &[u8]) {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|&b| b != 0).map_or(start, |i| i + 1);
    (offset + start as u64, &bytes[start..end])
}

/// `passive-read(segment, offset, len, dest)`: `memory.init` of data segment
/// `first + segment`, dispatched by a `br_table`; an unknown segment traps.
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

#[cfg(test)]
mod tests {
    use super::*;
    use wasi_virt_layout::refs::Span;

    #[test]
    fn a_segment_is_cut_at_runs_of_zeros_longer_than_a_header() {
        let mut bytes = vec![0, 0, 1, 2, 0, 0, 3];
        bytes.extend([0; SPLIT_AT_ZEROS + 1]);
        bytes.extend([4, 0]);
        let cut = SPLIT_AT_ZEROS + 8;
        assert_eq!(
            nonzero_stretches(&bytes),
            vec![(2, &[1, 2, 0, 0, 3][..]), (cut, &[4][..])]
        );
        assert!(nonzero_stretches(&[0; 4]).is_empty());
    }

    #[test]
    fn only_bytes_that_dead_objects_alone_cover_are_zeroed() {
        let span = |offset, size| Span {
            segment: 0,
            offset,
            size,
        };
        // 0..4 live; 2..6 and 6..8 dead (2..4 shared with the live one);
        // 8..10 dead but holding a global's address; 10..12 no object's.
        let spans = [span(0, 4), span(2, 4), span(6, 2), span(8, 2)];
        let objects = [true, false, false, false];
        let mut bytes: Vec<u8> = (1..=12).collect();
        let globals = [None, Some(100 + 9)];
        zero_dead_objects(&mut bytes, (0, 100), &spans, &objects, &globals);
        assert_eq!(bytes, [1, 2, 3, 4, 0, 0, 0, 0, 9, 10, 11, 12]);
        // Another segment's objects leave this one alone.
        let mut other: Vec<u8> = (1..=12).collect();
        zero_dead_objects(&mut other, (1, 100), &spans, &objects, &globals);
        assert_eq!(other, (1..=12).collect::<Vec<u8>>());
    }
}
