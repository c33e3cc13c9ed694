//! Makes `lib/virtual_adapter.wasm` (`build-adapter.sh`) from the adapter
//! module as wasm-ld links it with `--emit-relocs`: the linker's symbol
//! table and relocations say which data objects and which table indices
//! each function's code and each data object's contents hold. That is
//! written into one section of the adapter's own
//! ([`wasi_virt_layout::REFS_SECTION`], read by
//! `src/adapter/rewrite/summary.rs`), and every other custom section but
//! the component type is stripped.
//!
//! The rewrite then counts a function placed in the table as callable only
//! once live code or data holds its index, not whenever live code calls
//! some function of its type indirectly, and writes only the data objects
//! live code reaches (`src/adapter/rewrite/live.rs`).
//!
//!     wasi-virt-adapter-refs LINKED OUT

use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::ops::Range;
use wasi_virt_layout::{refs, REFS_SECTION};
use wasm_encoder::{CustomSection, RawSection};
use wasmparser::{
    KnownCustom, Linking, Parser, Payload, RelocationEntry, RelocationType, SymbolInfo,
};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [linked, out] = &args[..] else {
        bail!("usage: wasi-virt-adapter-refs LINKED OUT");
    };
    let bytes = std::fs::read(linked).with_context(|| format!("failed to read `{linked}`"))?;
    let module = Module::read(&bytes).with_context(|| format!("failed to read `{linked}`"))?;
    let written = module.write(&bytes)?;
    std::fs::write(out, written).with_context(|| format!("failed to write `{out}`"))
}

/// What a symbol stands for.
#[derive(Clone, Copy)]
enum Symbol {
    /// A function, by index.
    Function(u32),
    /// A data object, by its index in [`Module::objects`].
    Object(u32),
    Other,
}

/// A defined data symbol: its segment and its bytes' range there.
struct Object {
    segment: u32,
    range: Range<u32>,
}

#[derive(Default)]
struct Module {
    /// Each function body's range in the code section's contents.
    bodies: Vec<Range<usize>>,
    code_start: usize,
    /// Each data segment's bytes' range in the data section's contents.
    segments: Vec<Range<usize>>,
    data_start: usize,
    symbols: Vec<Symbol>,
    objects: Vec<Object>,
    code_relocs: Vec<RelocationEntry>,
    data_relocs: Vec<RelocationEntry>,
    /// The sections kept, as `(id, range in the input)`.
    kept: Vec<(u8, Range<usize>)>,
}

impl Module {
    fn read(bytes: &[u8]) -> Result<Module> {
        let mut m = Module::default();
        for payload in Parser::new(0).parse_all(bytes) {
            let payload = payload?;
            if let Some((id, range)) = payload.as_section() {
                let keep = match &payload {
                    Payload::CustomSection(c) => c.name().starts_with("component-type"),
                    _ => true,
                };
                if keep {
                    m.kept.push((id, range.start as usize..range.end as usize));
                }
            }
            m.add(bytes, payload)?;
        }
        if m.code_relocs.is_empty() || m.objects.is_empty() {
            bail!("the module has no relocations: link it with `--emit-relocs`");
        }
        Ok(m)
    }

    fn add(&mut self, bytes: &[u8], payload: Payload<'_>) -> Result<()> {
        match payload {
            Payload::CodeSectionStart {
                unchecked_range, ..
            } => self.code_start = unchecked_range.start as usize,
            Payload::CodeSectionEntry(body) => {
                let r = body.range();
                self.bodies
                    .push(r.start as usize - self.code_start..r.end as usize - self.code_start);
            }
            Payload::DataSection(s) => {
                self.data_start = s.range().start as usize;
                for data in s {
                    let data = data?;
                    let start = data.data.as_ptr() as usize - bytes.as_ptr() as usize;
                    let start = start - self.data_start;
                    self.segments.push(start..start + data.data.len());
                }
            }
            Payload::CustomSection(c) => match c.as_known() {
                KnownCustom::Linking(linking) => {
                    for sub in linking {
                        if let Linking::SymbolTable(symbols) = sub? {
                            for symbol in symbols {
                                self.symbol(symbol?);
                            }
                        }
                    }
                }
                KnownCustom::Reloc(reloc) => {
                    let entries = reloc.entries().into_iter().collect::<Result<Vec<_>, _>>()?;
                    match c.name() {
                        "reloc.CODE" => self.code_relocs = entries,
                        "reloc.DATA" => self.data_relocs = entries,
                        _ => {}
                    }
                }
                _ => {}
            },
            _ => {}
        }
        Ok(())
    }

    fn symbol(&mut self, symbol: SymbolInfo<'_>) {
        let s = match symbol {
            SymbolInfo::Func { index, .. } => Symbol::Function(index),
            SymbolInfo::Data {
                symbol: Some(d), ..
            } => {
                self.objects.push(Object {
                    segment: d.index,
                    range: d.offset..d.offset + d.size,
                });
                Symbol::Object(self.objects.len() as u32 - 1)
            }
            _ => Symbol::Other,
        };
        self.symbols.push(s);
    }

    /// The objects whose bytes hold offset `at` of segment `segment`.
    fn objects_at(&self, segment: u32, at: u32) -> impl Iterator<Item = u32> + '_ {
        (0..self.objects.len() as u32).filter(move |&o| {
            let object = &self.objects[o as usize];
            object.segment == segment && object.range.contains(&at)
        })
    }

    /// What relocation `r` refers to: a data object (and, where its addend
    /// points past the object's bytes, the objects there too), or a
    /// function whose table index it holds.
    fn targets(&self, r: &RelocationEntry, into: &mut BTreeSet<refs::Ref>) -> Result<()> {
        let symbol = *self
            .symbols
            .get(r.index as usize)
            .context("a relocation's symbol")?;
        match (symbol, table_index(r.ty), memory_address(r.ty)) {
            (Symbol::Function(f), true, _) => {
                into.insert(refs::Ref::Function(f));
            }
            (Symbol::Object(o), _, true) => {
                into.insert(refs::Ref::Object(o));
                let object = &self.objects[o as usize];
                let at = object.range.start as i64 + r.addend;
                if !(object.range.start as i64..object.range.end as i64).contains(&at) {
                    let at = u32::try_from(at).unwrap_or(0);
                    into.extend(self.objects_at(object.segment, at).map(refs::Ref::Object));
                }
            }
            // The rewrite writes only the objects live code reaches, so an
            // address it could not attribute to one would go unwritten.
            (_, _, true) => bail!("a memory address relocation against no defined data object"),
            _ => {}
        }
        Ok(())
    }

    /// Where each data object lies, checked against the segments.
    fn spans(&self) -> Result<Vec<refs::Span>> {
        self.objects
            .iter()
            .map(|o| {
                let segment = self.segments.get(o.segment as usize);
                if segment.is_none_or(|s| o.range.end as usize > s.len()) {
                    bail!("a data object outside its segment");
                }
                Ok(refs::Span {
                    segment: o.segment,
                    offset: o.range.start,
                    size: o.range.end - o.range.start,
                })
            })
            .collect()
    }

    fn write(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        let mut functions = vec![BTreeSet::new(); self.bodies.len()];
        for r in &self.code_relocs {
            let at = r.offset as usize;
            let body = self.bodies.partition_point(|b| b.start <= at);
            let Some(body) = body
                .checked_sub(1)
                .filter(|b| self.bodies[*b].contains(&at))
            else {
                bail!("a code relocation outside every function");
            };
            self.targets(r, &mut functions[body])?;
        }
        let mut objects = vec![BTreeSet::new(); self.objects.len()];
        for r in &self.data_relocs {
            let at = r.offset as usize;
            let segment = self
                .segments
                .iter()
                .position(|s| s.contains(&at))
                .context("a data relocation outside every segment")?;
            let at = (at - self.segments[segment].start) as u32;
            let owners: Vec<u32> = self.objects_at(segment as u32, at).collect();
            if owners.is_empty() {
                bail!("a data relocation outside every data symbol");
            }
            let mut targets = BTreeSet::new();
            self.targets(r, &mut targets)?;
            for owner in owners {
                objects[owner as usize].extend(targets.iter().copied());
            }
        }
        let refs = refs::Refs {
            objects: objects
                .into_iter()
                .map(|s| s.into_iter().collect())
                .collect(),
            functions: functions
                .into_iter()
                .map(|s| s.into_iter().collect())
                .collect(),
            spans: self.spans()?,
        };
        let mut out = wasm_encoder::Module::new();
        for (id, range) in &self.kept {
            out.section(&RawSection {
                id: *id,
                data: &bytes[range.clone()],
            });
        }
        out.section(&CustomSection {
            name: REFS_SECTION.into(),
            data: refs.encode().into(),
        });
        Ok(out.finish())
    }
}

fn table_index(ty: RelocationType) -> bool {
    use RelocationType::*;
    matches!(
        ty,
        TableIndexSleb
            | TableIndexI32
            | TableIndexRelSleb
            | TableIndexSleb64
            | TableIndexI64
            | TableIndexRelSleb64
            | FunctionIndexI32
    )
}

fn memory_address(ty: RelocationType) -> bool {
    use RelocationType::*;
    matches!(
        ty,
        MemoryAddrLeb
            | MemoryAddrSleb
            | MemoryAddrI32
            | MemoryAddrRelSleb
            | MemoryAddrLeb64
            | MemoryAddrSleb64
            | MemoryAddrI64
            | MemoryAddrRelSleb64
            | MemoryAddrTlsSleb
            | MemoryAddrLocrelI32
            | MemoryAddrTlsSleb64
    )
}
