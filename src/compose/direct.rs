//! The common composition written without a composition graph: an adapter
//! that imports nothing, in front of a component whose every import it
//! satisfies. The output imports nothing then, so no type has to be copied
//! out of either component, and loading both into wasm-compose (validating
//! their types, a seventh of a CLI run) is not needed: the output is
//! written as wasm-compose writes it (`src/compose.rs`), byte for byte,
//! and validated whole, function bodies aside.
//!
//! Any other shape, or an output that does not validate (an export whose
//! type does not fit the import it is given), is left to the graph, which
//! says what failed.

use super::PRIVATE_PREFIX;
use crate::names::InterfaceName;
use anyhow::{Context, Result};
use std::collections::HashMap;
use wasm_encoder::{ComponentBuilder, ComponentExportKind};
use wasmparser::{Chunk, ComponentTypeRef, Parser, Payload};

/// The output, if the shape is the common one: the adapter instantiated
/// with nothing, the `component` (its imports renamed private) with the
/// adapter's exports, and the component's exports exported.
pub fn compose(adapter: &[u8], component: &[u8]) -> Result<Option<Vec<u8>>> {
    let a = TopLevel::read(adapter)?;
    let c = TopLevel::read(component)?;
    if !a.imports.is_empty() || a.unusual || c.unusual {
        return Ok(None);
    }
    let Some(args) = satisfied(&a, &c) else {
        return Ok(None);
    };
    let mut out = ComponentBuilder::default();
    let adapter_index = out.component_raw(None, adapter);
    let component_index = out.component_raw(None, component);
    let no_args: [(&str, ComponentExportKind, u32); 0] = [];
    let adapter_instance = out.instantiate(None, adapter_index, no_args);
    // One alias per export used, in the order of the imports given it.
    let mut aliased = HashMap::new();
    let mut given = Vec::with_capacity(args.len());
    for (import, kind, export) in args {
        let index = *aliased
            .entry(export)
            .or_insert_with(|| out.alias_export(adapter_instance, a.exports[export].0, kind));
        given.push((import, kind, index));
    }
    let instance = out.instantiate(None, component_index, given);
    for &(name, kind) in &c.exports {
        let index = out.alias_export(instance, name, kind);
        out.export(name, kind, index, None);
    }
    let composed = out.finish();
    Ok(crate::inspect::validate_without_bodies(&composed)
        .is_ok()
        .then_some(composed))
}

/// For each import of `c`, in order, the export of `a` that satisfies it
/// (as the graph chooses: the first export of a compatible interface); none
/// if an import is left to the host.
fn satisfied<'a>(
    a: &TopLevel<'_>,
    c: &TopLevel<'a>,
) -> Option<Vec<(&'a str, ComponentExportKind, usize)>> {
    c.imports
        .iter()
        .map(|&(name, kind)| {
            let wanted = InterfaceName::parse(name.strip_prefix(PRIVATE_PREFIX)?)?;
            let export = a
                .exports
                .iter()
                .position(|(export, _)| super::serves(export, &wanted))?;
            Some((name, kind, export))
        })
        .collect()
}

/// A component's top-level imports and exports, read without validating
/// or entering its nested modules and components.
struct TopLevel<'a> {
    imports: Vec<(&'a str, ComponentExportKind)>,
    exports: Vec<(&'a str, ComponentExportKind)>,
    /// A name with more than its plain form (a version suffix, an
    /// `implements`), which the graph writes differently: left to it.
    unusual: bool,
}

impl<'a> TopLevel<'a> {
    fn read(bytes: &'a [u8]) -> Result<TopLevel<'a>> {
        let mut top = TopLevel {
            imports: Vec::new(),
            exports: Vec::new(),
            unusual: false,
        };
        let mut parser = Parser::new(0);
        let mut offset = 0;
        loop {
            let Chunk::Parsed { payload, consumed } = parser
                .parse(&bytes[offset..], true)
                .context("failed to read a component to compose")?
            else {
                unreachable!("all the bytes are given");
            };
            offset += consumed;
            match payload {
                Payload::ComponentImportSection(section) => {
                    for import in section {
                        let import = import?;
                        top.note(&import.name);
                        top.imports.push((import.name.name, kind_of(import.ty)));
                    }
                }
                Payload::ComponentExportSection(section) => {
                    for export in section {
                        let export = export?;
                        top.note(&export.name);
                        top.exports.push((export.name.name, export.kind.into()));
                    }
                }
                // The parser leaves a nested one's bytes to be skipped.
                Payload::ModuleSection {
                    unchecked_range, ..
                }
                | Payload::ComponentSection {
                    unchecked_range, ..
                } => offset += (unchecked_range.end - unchecked_range.start) as usize,
                Payload::End(_) => return Ok(top),
                _ => {}
            }
        }
    }

    fn note(&mut self, name: &wasmparser::ComponentExternName<'_>) {
        self.unusual |= name.implements.is_some()
            || name.version_suffix.is_some()
            || name.external_id.is_some();
    }
}

/// The kind of item an import of type `ty` is.
fn kind_of(ty: ComponentTypeRef) -> ComponentExportKind {
    match ty {
        ComponentTypeRef::Module(_) => ComponentExportKind::Module,
        ComponentTypeRef::Func(_) => ComponentExportKind::Func,
        ComponentTypeRef::Value(_) => ComponentExportKind::Value,
        ComponentTypeRef::Type(_) => ComponentExportKind::Type,
        ComponentTypeRef::Instance(_) => ComponentExportKind::Instance,
        ComponentTypeRef::Component(_) => ComponentExportKind::Component,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{compose_graph, private_imports};

    /// An adapter that imports nothing and exports `wasi:cli/environment`.
    const ADAPTER: &str = r#"(component
        (core module $m (func (export "f") (result i32) i32.const 1))
        (core instance $i (instantiate $m))
        (func $f (result u32) (canon lift (core func $i "f")))
        (instance $e (export "get" (func $f)))
        (export "wasi:cli/environment@0.2.3" (instance $e))
    )"#;

    /// A component importing `wasi:cli/environment` (at another version)
    /// and `extra` imports, exporting what it imports twice.
    fn component(extra: &str) -> Vec<u8> {
        wat::parse_str(format!(
            r#"(component
                (import "wasi:cli/environment@0.2.0"
                    (instance $env (export "get" (func (result u32)))))
                {extra}
                (alias export $env "get" (func $g))
                (export "run" (func $g))
                (export "again" (func $g))
            )"#
        ))
        .unwrap()
    }

    #[test]
    fn the_output_is_the_graphs_byte_for_byte() {
        let adapter = wat::parse_str(ADAPTER).unwrap();
        let renamed = private_imports(&adapter, &component("")).unwrap();
        let direct = super::compose(&adapter, &renamed).unwrap().unwrap();
        let graph = compose_graph(&adapter, renamed, None).unwrap();
        assert_eq!(direct, graph);
    }

    #[test]
    fn other_shapes_are_left_to_the_graph() {
        let adapter = wat::parse_str(ADAPTER).unwrap();
        let host_import = r#"(import "wasi:random/random@0.2.0" (instance))"#;
        let renamed = private_imports(&adapter, &component(host_import)).unwrap();
        assert!(super::compose(&adapter, &renamed).unwrap().is_none());
        // A type that does not fit: the graph says so.
        let unfit = wat::parse_str(
            r#"(component
                (import "wasi:cli/environment@0.2.0"
                    (instance (export "get" (func (result string)))))
            )"#,
        )
        .unwrap();
        let renamed = private_imports(&adapter, &unfit).unwrap();
        assert!(super::compose(&adapter, &renamed).unwrap().is_none());
        let error = compose_graph(&adapter, renamed, None).unwrap_err();
        assert!(
            format!("{error:#}").contains("failed to satisfy"),
            "{error:#}"
        );
    }
}
