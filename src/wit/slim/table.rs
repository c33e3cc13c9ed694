//! One function table for the adapter's module and its shim.
//!
//! wit-component lowers the imports that need the adapter's memory or
//! allocator through a shim module: it defines a table, its functions call
//! through it, and it is instantiated first; a fixup module fills the
//! table once the adapter's module has made its memory. The adapter's
//! module defines a table of its own besides (its function pointers).
//!
//! A pooling host (`wasmtime serve`, a fresh instance per request) resets
//! every table of every instance after use, a change of mappings that
//! flushes every core's TLB, and the first call through each table faults
//! its page in again. So the two become one: the shim's table grows to
//! hold both, and the adapter's module imports it in place of its own.
//! The module's entries come first, so its function pointers keep their
//! values; the shim's come after them, so the shim's calls and the fixup's
//! element segment move up by as many. Served, that is a table reset and
//! a fault fewer per request (`docs/performance.md`).
//!
//! Only that shape is changed (a shim module exporting [`TABLE`], a fixup
//! importing it, and one module defining a table and a memory and not
//! exporting the table): any other component is left as it is. The
//! components slimmed are the library's own (`src/wit/slim.rs`), whose
//! code uses its table only through `call_indirect`: a larger table
//! changes nothing it does.

use super::{added_otherwise, reader, sections, write_section, Section};
use anyhow::{Context, Result};
use wasm_encoder::reencode::{Error as ReencodeError, Reencode};
use wasm_encoder::{
    ComponentSectionId, Encode, EntityType, ImportSection, InstanceSection, ModuleArg, SectionId,
    TableType,
};
use wasmparser::{
    ComponentExternalKind, ExternalKind, Instance, InstantiationArgKind, Operator, Parser, Payload,
    TypeRef,
};

/// The name the shim exports its table by (wit-component's).
const TABLE: &str = "$imports";

/// The module name the adapter's module imports the shared table from:
/// the shim's instance, given to its instantiation under this name.
const SHARED: &str = "wasi-virt:table";

/// `component`, whose top-level sections are `top`, with one table where
/// its adapter module and shim had two; `None` if it is not of that shape.
pub fn share_table(component: &[u8], top: &[Section]) -> Result<Option<Vec<u8>>> {
    let Some(plan) = Plan::find(component, top)? else {
        return Ok(None);
    };
    let mut shift = Shift {
        by: plan.entries,
        table: plan.shared,
    };
    let mut out = component[..8].to_vec();
    let mut module = 0;
    for section in top {
        let content = &component[section.content.clone()];
        match section.id {
            1 => {
                let rewritten = match module {
                    m if m == plan.adapter => importing_table(content, plan.shared)?,
                    m if m == plan.shim || m == plan.fixup => shift.module(content)?,
                    _ => content.to_vec(),
                };
                write_section(&mut out, 1, &rewritten);
                module += 1;
            }
            2 => {
                out.push(ComponentSectionId::CoreInstance as u8);
                plan.instances(content)?.encode(&mut out);
            }
            _ => out.extend_from_slice(&component[section.whole.clone()]),
        }
    }
    Ok(Some(out))
}

/// Which modules and instances take part, by index.
struct Plan {
    adapter: u32,
    shim: u32,
    fixup: u32,
    /// The core instance of the shim.
    shim_instance: u32,
    /// The entries of the adapter module's own table.
    entries: u32,
    /// The table both use.
    shared: TableType,
}

impl Plan {
    fn find(component: &[u8], top: &[Section]) -> Result<Option<Plan>> {
        let Some(found) = Found::read(component, top)? else {
            return Ok(None);
        };
        let of = |wanted: &dyn Fn(&Shape) -> bool| {
            one((0..)
                .zip(&found.modules)
                .filter(|(_, m)| wanted(m))
                .map(|(i, _)| i))
        };
        let (Some(shim), Some(fixup), Some(adapter)) = (
            of(&|m| m.shim_calls && m.exports_table && m.imports == 0),
            of(&|m| m.imported_table.is_some() && m.no_code_or_data),
            of(&|m| {
                let own_table = m.tables.len() == 1 && !m.exports_a_table;
                own_table && m.has_memory && m.imported_table.is_none()
            }),
        ) else {
            return Ok(None);
        };
        let (Some(shim_instance), Some(_), Some(_)) = (
            found.instance_of(shim),
            found.instance_of(fixup),
            found.instance_of(adapter),
        ) else {
            return Ok(None);
        };
        // The fixup must be given the shim's instance under the name it
        // imports the table from, and the adapter's module nothing under
        // the name it will.
        let from = found.modules[fixup as usize].imported_table.as_deref();
        let fixup_given = from.and_then(|from| found.given(fixup, from));
        if fixup_given != Some(shim_instance) || found.given(adapter, SHARED).is_some() {
            return Ok(None);
        }
        let own = found.modules[adapter as usize].tables[0];
        let Some((entries, shared)) = shared(own, found.modules[shim as usize].tables[0]) else {
            return Ok(None);
        };
        Ok(Some(Plan {
            adapter,
            shim,
            fixup,
            shim_instance,
            entries,
            shared,
        }))
    }

    /// The core instance section `content`, the adapter module's
    /// instantiation given the shim's instance.
    fn instances(&self, content: &[u8]) -> Result<InstanceSection> {
        let mut section = InstanceSection::new();
        for instance in wasmparser::InstanceSectionReader::new(reader(content))? {
            match instance? {
                Instance::Instantiate { module_index, args } => {
                    let mut args: Vec<(&str, ModuleArg)> = (args.iter())
                        .map(|a| (a.name, ModuleArg::Instance(a.index)))
                        .collect();
                    if module_index == self.adapter {
                        args.push((SHARED, ModuleArg::Instance(self.shim_instance)));
                    }
                    section.instantiate(module_index, args);
                }
                Instance::FromExports(exports) => {
                    section.export_items(exports.iter().map(|e| {
                        let kind = wasm_encoder::ExportKind::from(e.kind);
                        (e.name, kind, e.index)
                    }));
                }
            }
        }
        Ok(section)
    }
}

/// The only item of `found`, if there is exactly one.
fn one(mut found: impl Iterator<Item = u32>) -> Option<u32> {
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

/// The table both use, and the entries of the adapter module's own before
/// the shim's: only for two fixed-size tables of functions.
fn shared(own: wasmparser::TableType, theirs: wasmparser::TableType) -> Option<(u32, TableType)> {
    let fixed = |t: wasmparser::TableType| {
        let funcs = t.element_type == wasmparser::RefType::FUNCREF;
        (funcs && !t.table64 && !t.shared && t.maximum == Some(t.initial)).then_some(t.initial)
    };
    let (own, theirs) = (fixed(own)?, fixed(theirs)?);
    let size = own.checked_add(theirs)?;
    let shared = TableType {
        element_type: wasm_encoder::RefType::FUNCREF,
        table64: false,
        minimum: size,
        maximum: Some(size),
        shared: false,
    };
    Some((u32::try_from(own).ok()?, shared))
}

/// A component's modules, and its core instances made by instantiation.
struct Found {
    modules: Vec<Shape>,
    /// Each instantiation: the instance's index, the module's, and the
    /// instances it is given, by name.
    instantiations: Vec<(u32, u32, Vec<(String, u32)>)>,
}

impl Found {
    /// What `top` of `component` holds; `None` if modules come from
    /// anything but module sections (whose indices would then differ).
    fn read(component: &[u8], top: &[Section]) -> Result<Option<Found>> {
        let mut found = Found {
            modules: Vec::new(),
            instantiations: Vec::new(),
        };
        let mut instances = 0u32;
        for section in top {
            let content = &component[section.content.clone()];
            match section.id {
                1 => found.modules.push(Shape::read(content)?),
                2 => {
                    for instance in wasmparser::InstanceSectionReader::new(reader(content))? {
                        if let Instance::Instantiate { module_index, args } = instance? {
                            let args = (args.iter())
                                .filter(|a| a.kind == InstantiationArgKind::Instance)
                                .map(|a| (a.name.to_string(), a.index))
                                .collect();
                            found.instantiations.push((instances, module_index, args));
                        }
                        instances += 1;
                    }
                }
                id if added_otherwise(id, content, ComponentExternalKind::Module)? > 0 => {
                    return Ok(None);
                }
                _ => {}
            }
        }
        Ok(Some(found))
    }

    /// The one instance of `module`, if it is instantiated once.
    fn instance_of(&self, module: u32) -> Option<u32> {
        one((self.instantiations.iter())
            .filter(|(_, m, _)| *m == module)
            .map(|(i, _, _)| *i))
    }

    /// The instance `module`'s instantiation is given as `name`.
    fn given(&self, module: u32, name: &str) -> Option<u32> {
        (self.instantiations.iter())
            .filter(|(_, m, _)| *m == module)
            .flat_map(|(_, _, args)| args)
            .find(|(n, _)| n == name)
            .map(|(_, i)| *i)
    }
}

/// What a module has, as far as telling the three apart needs.
#[derive(Default)]
struct Shape {
    imports: u32,
    imported_table: Option<String>,
    tables: Vec<wasmparser::TableType>,
    has_memory: bool,
    /// It exports its table 0 as [`TABLE`].
    exports_table: bool,
    /// It exports a table, under any name.
    exports_a_table: bool,
    /// Every function only passes its parameters on through its table, at
    /// a constant index.
    shim_calls: bool,
    no_code_or_data: bool,
}

impl Shape {
    fn read(module: &[u8]) -> Result<Shape> {
        let mut shape = Shape {
            shim_calls: true,
            no_code_or_data: true,
            ..Shape::default()
        };
        let mut functions = 0;
        for payload in Parser::new(0).parse_all(module) {
            match payload? {
                Payload::ImportSection(imports) => {
                    for import in imports.into_imports() {
                        let import = import?;
                        shape.imports += 1;
                        if matches!(import.ty, TypeRef::Table(_)) && import.name == TABLE {
                            shape.imported_table = Some(import.module.to_string());
                        }
                    }
                }
                Payload::TableSection(tables) => {
                    for table in tables {
                        shape.tables.push(table?.ty);
                    }
                }
                Payload::MemorySection(memories) => shape.has_memory |= memories.count() > 0,
                Payload::ExportSection(exports) => {
                    for export in exports {
                        let export = export?;
                        shape.exports_a_table |= export.kind == ExternalKind::Table;
                        shape.exports_table |= export.kind == ExternalKind::Table
                            && export.name == TABLE
                            && export.index == 0;
                    }
                }
                Payload::GlobalSection(_) | Payload::DataSection(_) => {
                    shape.no_code_or_data = false;
                }
                Payload::CodeSectionEntry(body) => {
                    functions += 1;
                    shape.no_code_or_data = false;
                    // A module with one function that is not a shim's is
                    // none: the rest need not be read.
                    shape.shim_calls = shape.shim_calls && only_calls_through_table(&body)?;
                }
                _ => {}
            }
        }
        shape.shim_calls &= functions > 0 && shape.tables.len() == 1;
        Ok(shape)
    }
}

/// Whether `body` is `local.get`s, one `i32.const`, a `call_indirect`
/// through table 0, and its end.
fn only_calls_through_table(body: &wasmparser::FunctionBody<'_>) -> Result<bool> {
    if body.get_locals_reader()?.get_count() != 0 {
        return Ok(false);
    }
    let mut ops = body.get_operators_reader()?;
    let mut shape = Vec::new();
    while !ops.eof() {
        shape.push(match ops.read()? {
            Operator::LocalGet { .. } => 'l',
            Operator::I32Const { .. } => 'c',
            Operator::CallIndirect { table_index: 0, .. } => 'i',
            Operator::End => 'e',
            _ => return Ok(false),
        });
    }
    let shape: String = shape.into_iter().collect();
    Ok(shape.trim_start_matches('l') == "cie")
}

/// The module `content` importing `shared` from [`SHARED`] in place of
/// the one table it defines: its sections copied as they are, but for its
/// imports and its table section. Its table's index stays 0: it imports
/// no other.
fn importing_table(content: &[u8], shared: TableType) -> Result<Vec<u8>> {
    let mut out = content[..8].to_vec();
    let mut imported = false;
    for section in sections(content, 8)? {
        let bytes = &content[section.content.clone()];
        match section.id {
            2 => {
                let mut imports = ImportSection::new();
                let section = wasmparser::ImportSectionReader::new(reader(bytes))?;
                for import in section.into_imports() {
                    let import = import?;
                    let ty = wasm_encoder::reencode::RoundtripReencoder
                        .entity_type(import.ty)
                        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                    imports.import(import.module, import.name, ty);
                }
                imports.import(SHARED, TABLE, EntityType::Table(shared));
                out.push(SectionId::Import as u8);
                imports.encode(&mut out);
                imported = true;
            }
            4 => {}
            _ => out.extend_from_slice(&content[section.whole.clone()]),
        }
    }
    anyhow::ensure!(imported, "the adapter's module imports nothing");
    Ok(out)
}

/// The shim and the fixup re-encoded for the shared table: its type, and
/// every index into it (the shim's `i32.const`s, the fixup's element
/// offset) moved up past the adapter module's entries.
struct Shift {
    by: u32,
    table: TableType,
}

impl Shift {
    fn module(&mut self, content: &[u8]) -> Result<Vec<u8>> {
        let mut module = wasm_encoder::Module::new();
        self.parse_core_module(&mut module, Parser::new(0), content)
            .map_err(|e| anyhow::anyhow!("{e:?}"))
            .context("failed to move the shim's table")?;
        Ok(module.finish())
    }
}

impl Reencode for Shift {
    type Error = std::convert::Infallible;

    fn table_type(
        &mut self,
        _: wasmparser::TableType,
    ) -> Result<TableType, ReencodeError<Self::Error>> {
        Ok(self.table)
    }

    fn instruction<'a>(
        &mut self,
        op: Operator<'a>,
    ) -> Result<wasm_encoder::Instruction<'a>, ReencodeError<Self::Error>> {
        match op {
            Operator::I32Const { value } => Ok(wasm_encoder::Instruction::I32Const(
                value.wrapping_add(self.by as i32),
            )),
            op => wasm_encoder::reencode::utils::instruction(self, op),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The modules of the component `bytes`, as [`Shape`] reads them.
    fn modules(bytes: &[u8]) -> Vec<Shape> {
        (sections(bytes, 8).unwrap().iter())
            .filter(|s| s.id == 1)
            .map(|s| Shape::read(&bytes[s.content.clone()]).unwrap())
            .collect()
    }

    /// An adapter that passes the host's environment through lowers it
    /// through a shim: its module imports the shim's table, sized for
    /// both, and defines none; the fixup fills the shim's part.
    #[test]
    fn the_adapter_module_and_its_shim_share_one_table() {
        let mut virt = crate::WasiVirt::new();
        virt.allow_all();
        virt.env().overrides(&[("A", "1")]);
        let adapter = virt.finish().unwrap().bytes;
        wasmparser::Validator::new().validate_all(&adapter).unwrap();
        let modules = modules(&adapter);
        let defining: Vec<&Shape> = modules.iter().filter(|m| !m.tables.is_empty()).collect();
        assert_eq!(defining.len(), 1, "one module defines a table");
        let shared = defining[0].tables[0];
        let importing = |from: &str| {
            modules
                .iter()
                .filter(|m| m.imported_table.as_deref() == Some(from))
                .count()
        };
        assert_eq!(importing(SHARED), 1, "the adapter's module imports it");
        assert_eq!(importing("shim"), 1, "the fixup imports it");
        assert!(shared.initial > 1 && shared.maximum == Some(shared.initial));
    }
}
