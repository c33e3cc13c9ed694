//! A component as wit-component writes it (the adapter, a served output's
//! front and mailbox, a trap provider), less what running it does not need.
//!
//! - Its core modules' exports get the shortest distinct names. wit-component
//!   names each after the WIT function it lifts
//!   (`wasi:cli/environment@0.2.6#get-environment`), and only the component's
//!   own aliases read those names, so they are renamed to match. A module is
//!   left as it is where its names can be seen from elsewhere: an instance of
//!   it given to another module's instantiation (which imports by those
//!   names), or the module itself handed to a component or exported.
//! - Debug names (`component-name`) and `producers` sections go, at the top
//!   level and in its core modules. Every other custom section stays (the
//!   rewrite's file marker among them, `src/adapter/splice.rs`).
//!
//! - The nested components through which wit-component exports each
//!   interface (shims) get the shortest import names, in the shim and in
//!   its instantiation alike (`src/wit/slim/shims.rs`).
//!
//! Nested components are otherwise copied as they are: their index spaces
//! are their own.

mod shims;
mod table;

use anyhow::{Context, Result};
use std::collections::HashMap;
use wasm_encoder::{
    Alias, ComponentAliasSection, ComponentSectionId, Encode, ExportSection, SectionId,
};
use wasmparser::{
    BinaryReader, ComponentAlias, ComponentExternalKind, ComponentInstance,
    ComponentOuterAliasKind, ComponentTypeRef, Instance,
};

/// Custom sections that running the adapter does not read.
const DROPPED_CUSTOM: [&str; 2] = ["component-name", "producers"];

/// `component` (as wit-component encoded it) slimmed: see the module's
/// comment.
pub fn slim(component: &[u8]) -> Result<Vec<u8>> {
    let top = sections(component, 8).context("failed to read an encoded component")?;
    let shared = table::share_table(component, &top)?;
    let (component, top) = match &shared {
        Some(shared) => (&shared[..], sections(shared, 8)?),
        None => (component, top),
    };
    match shims::rename_imports(component, &top)? {
        Some(renamed) => {
            let top = sections(&renamed, 8)?;
            rename_and_strip(&renamed, &top)
        }
        None => rename_and_strip(component, &top),
    }
}

/// `component`, whose top-level sections are `sections`, with its core
/// modules' exports renamed and the custom sections nothing reads dropped.
fn rename_and_strip(component: &[u8], sections: &[Section]) -> Result<Vec<u8>> {
    let spaces = Spaces::read(component, sections)?;
    let mut out = component[..8].to_vec();
    let mut module = 0;
    for section in sections {
        let content = &component[section.content.clone()];
        match section.id {
            0 if DROPPED_CUSTOM.contains(&custom_name(content)?) => {}
            1 => {
                let renamed = spaces.renamed.get(&module);
                write_section(&mut out, 1, &slim_module(content, renamed)?);
                module += 1;
            }
            6 => {
                let mut aliases = ComponentAliasSection::new();
                for alias in wasmparser::ComponentAliasSectionReader::new(reader(content))? {
                    aliases.alias(spaces.alias(alias?));
                }
                out.push(ComponentSectionId::Alias as u8);
                aliases.encode(&mut out);
            }
            _ => out.extend_from_slice(&component[section.whole.clone()]),
        }
    }
    Ok(out)
}

/// One section: its id, the byte range of its whole (header included) and
/// of its contents.
struct Section {
    id: u8,
    whole: std::ops::Range<usize>,
    content: std::ops::Range<usize>,
}

/// The sections of the module or component `bytes`, after its header.
fn sections(bytes: &[u8], header: usize) -> Result<Vec<Section>> {
    let mut reader = BinaryReader::new(&bytes[header..], header as u64);
    let mut sections = Vec::new();
    while !reader.eof() {
        let start = reader.original_position() as usize;
        let id = reader.read_u8()?;
        let size = reader.read_var_u32()? as usize;
        let content = reader.original_position() as usize;
        reader.read_bytes(size)?;
        sections.push(Section {
            id,
            whole: start..content + size,
            content: content..content + size,
        });
    }
    Ok(sections)
}

fn reader(content: &[u8]) -> BinaryReader<'_> {
    BinaryReader::new(content, 0)
}

/// The name of the custom section whose contents are `content`.
fn custom_name(content: &[u8]) -> Result<&str> {
    Ok(reader(content).read_string()?)
}

/// Appends a section `id` with contents `content` to `out`.
fn write_section(out: &mut Vec<u8>, id: u8, content: &[u8]) {
    out.push(id);
    content.len().encode(out);
    out.extend_from_slice(content);
}

/// The component's core modules and core instances, as far as renaming
/// needs them.
struct Spaces {
    /// For each core instance, the module it instantiates (by index in the
    /// component's core module space), if it is an instantiation.
    instances: Vec<Option<u32>>,
    /// For each module renamed (by index among the component's module
    /// sections, which come first in its module space when nothing else
    /// adds modules), its exports' new names by their old.
    renamed: HashMap<u32, HashMap<String, String>>,
}

impl Spaces {
    /// What `sections` of `component` say of its modules and instances.
    fn read(component: &[u8], sections: &[Section]) -> Result<Spaces> {
        let mut found = Found::default();
        for section in sections {
            let content = &component[section.content.clone()];
            match section.id {
                1 => found.modules.push(content),
                2 => found.core_instances(content)?,
                id => {
                    let module = ComponentExternalKind::Module;
                    found.seen.extend(handed_on(id, content, module)?);
                    found.other_modules |= added_otherwise(id, content, module)? > 0;
                }
            }
        }
        let mut renamed = HashMap::new();
        if !found.other_modules {
            for (index, module) in (0..).zip(&found.modules) {
                if !found.seen.contains(&index) {
                    renamed.insert(index, short_names(module)?);
                }
            }
        }
        Ok(Spaces {
            instances: found.instances,
            renamed,
        })
    }

    /// `alias` for the slimmed component: a core export alias of a renamed
    /// module's instance names the export by its new name.
    fn alias<'a>(&'a self, alias: ComponentAlias<'a>) -> Alias<'a> {
        match alias {
            ComponentAlias::CoreInstanceExport {
                kind,
                instance_index,
                name,
            } => {
                let module = self
                    .instances
                    .get(instance_index as usize)
                    .copied()
                    .flatten();
                let new = module
                    .and_then(|m| self.renamed.get(&m))
                    .and_then(|names| names.get(name));
                Alias::CoreInstanceExport {
                    instance: instance_index,
                    kind: kind.into(),
                    name: new.map_or(name, String::as_str),
                }
            }
            ComponentAlias::InstanceExport {
                kind,
                instance_index,
                name,
            } => Alias::InstanceExport {
                instance: instance_index,
                kind: kind.into(),
                name,
            },
            ComponentAlias::Outer { kind, count, index } => Alias::Outer {
                kind: kind.into(),
                count,
                index,
            },
        }
    }
}

/// What the component's sections say, read in order.
#[derive(Default)]
struct Found<'a> {
    /// The contents of each module section.
    modules: Vec<&'a [u8]>,
    /// As [`Spaces::instances`].
    instances: Vec<Option<u32>>,
    /// Modules whose export names another part can see.
    seen: Vec<u32>,
    /// Whether a module comes from anything but a module section (an alias
    /// or an import), which would shift the module space.
    other_modules: bool,
}

impl Found<'_> {
    /// A core instance section: each instance, and the modules whose
    /// instances are given to another instantiation.
    fn core_instances(&mut self, content: &[u8]) -> Result<()> {
        for instance in wasmparser::InstanceSectionReader::new(reader(content))? {
            match instance? {
                Instance::Instantiate { module_index, args } => {
                    for arg in args.iter() {
                        let module = self.instances.get(arg.index as usize).copied().flatten();
                        self.seen.extend(module);
                    }
                    self.instances.push(Some(module_index));
                }
                Instance::FromExports(_) => self.instances.push(None),
            }
        }
        Ok(())
    }
}

/// The items of `kind` (modules or components) that the top-level section
/// `id` with contents `content` hands on, by index: given to a component's
/// instantiation, made part of an instance, or exported. Their names can be
/// seen there.
fn handed_on(id: u8, content: &[u8], kind: ComponentExternalKind) -> Result<Vec<u32>> {
    let mut given = Vec::new();
    match id {
        5 => {
            for instance in wasmparser::ComponentInstanceSectionReader::new(reader(content))? {
                match instance? {
                    ComponentInstance::Instantiate { args, .. } => {
                        given.extend(args.iter().map(|a| (a.kind, a.index)));
                    }
                    ComponentInstance::FromExports(exports) => {
                        given.extend(exports.iter().map(|e| (e.kind, e.index)));
                    }
                }
            }
        }
        11 => {
            for export in wasmparser::ComponentExportSectionReader::new(reader(content))? {
                let export = export?;
                given.push((export.kind, export.index));
            }
        }
        _ => {}
    }
    Ok(given
        .into_iter()
        .filter(|(k, _)| *k == kind)
        .map(|(_, i)| i)
        .collect())
}

/// How many items of `kind` (modules or components) the top-level section
/// `id` with contents `content` adds to their index space other than by
/// sections of their own: aliases and imports.
fn added_otherwise(id: u8, content: &[u8], kind: ComponentExternalKind) -> Result<usize> {
    let module = kind == ComponentExternalKind::Module;
    let mut added = 0;
    match id {
        6 => {
            for alias in wasmparser::ComponentAliasSectionReader::new(reader(content))? {
                added += usize::from(match alias? {
                    ComponentAlias::InstanceExport { kind: k, .. } => k == kind,
                    ComponentAlias::Outer { kind: k, .. } => match module {
                        true => k == ComponentOuterAliasKind::CoreModule,
                        false => k == ComponentOuterAliasKind::Component,
                    },
                    ComponentAlias::CoreInstanceExport { .. } => false,
                });
            }
        }
        10 => {
            for import in wasmparser::ComponentImportSectionReader::new(reader(content))? {
                added += usize::from(match import?.ty {
                    ComponentTypeRef::Module(_) => module,
                    ComponentTypeRef::Component(_) => !module,
                    _ => false,
                });
            }
        }
        _ => {}
    }
    Ok(added)
}

/// The new name of each export of `module`: the shortest names, in the
/// order of its exports.
fn short_names(module: &[u8]) -> Result<HashMap<String, String>> {
    let mut names = HashMap::new();
    for section in sections(module, 8)? {
        if section.id != 7 {
            continue;
        }
        let content = &module[section.content.clone()];
        for (i, export) in wasmparser::ExportSectionReader::new(reader(content))?
            .into_iter()
            .enumerate()
        {
            names.insert(export?.name.to_string(), short_name(i));
        }
    }
    Ok(names)
}

/// The `i`th shortest name: "", then every one-character name of
/// [`NAME_CHARS`], then every two-character one, and so on.
fn short_name(i: usize) -> String {
    match i {
        0 => String::new(),
        i => nth_name(i - 1, NAME_CHARS, NAME_CHARS),
    }
}

/// The `i`th name, shortest first, of a character of `first` followed by
/// characters of `rest` (ASCII both): every name of one character, then of
/// two, and so on.
fn nth_name(mut i: usize, first: &[u8], rest: &[u8]) -> String {
    let mut name = vec![first[i % first.len()]];
    i /= first.len();
    while i > 0 {
        i -= 1;
        name.push(rest[i % rest.len()]);
        i /= rest.len();
    }
    String::from_utf8(name).expect("ASCII")
}

const NAME_CHARS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The core module `module` without `producers`, its exports renamed by
/// `renamed` if given.
fn slim_module(module: &[u8], renamed: Option<&HashMap<String, String>>) -> Result<Vec<u8>> {
    let mut out = module[..8].to_vec();
    for section in sections(module, 8)? {
        let content = &module[section.content.clone()];
        match (section.id, renamed) {
            (0, _) if DROPPED_CUSTOM.contains(&custom_name(content)?) => {}
            (7, Some(renamed)) => {
                let mut exports = ExportSection::new();
                for export in wasmparser::ExportSectionReader::new(reader(content))? {
                    let export = export?;
                    exports.export(&renamed[export.name], export.kind.into(), export.index);
                }
                out.push(SectionId::Export as u8);
                exports.encode(&mut out);
            }
            _ => out.extend_from_slice(&module[section.whole.clone()]),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_distinct_and_shortest_first() {
        let names: Vec<String> = (0..4000).map(short_name).collect();
        assert_eq!(names[0], "");
        assert_eq!(names[1], "0");
        assert_eq!(names[62], "Z");
        assert_eq!(names[63], "00");
        assert_eq!(names[62 + 62 * 62 + 1], "000");
        let distinct: std::collections::HashSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), names.len());
        assert!(names.windows(2).all(|w| w[0].len() <= w[1].len()));
    }
}
