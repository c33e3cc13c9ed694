//! Renaming a component's top-level imports and exports.

use crate::inspect::top_level_sections;
use anyhow::{Context, Result};
use wasm_encoder::reencode::{Reencode, ReencodeComponent};
use wasm_encoder::{
    ComponentExportSection, ComponentImportSection, ComponentSectionId, RawSection,
};
use wasmparser::{BinaryReader, SectionLimited};

/// Re-encodes `component` with each top-level import and export name for
/// which `rename` returns `Some` renamed. Nothing else changes: inside a
/// component, items refer to imports by index, not by name.
pub fn rename_top_level(
    component: &[u8],
    rename: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<u8>> {
    renamed(component, rename, true)
}

/// As [`rename_top_level`], for the imports alone: exports keep their names.
pub fn rename_imports(
    component: &[u8],
    rename: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<u8>> {
    renamed(component, rename, false)
}

/// `component` re-encoded whole, as it was but for how its numbers are
/// written: a compiler's padded LEB128s (room for a linker's relocations)
/// take their shortest form, which makes code sections a tenth smaller.
/// Done while the adapter is specialized (`src/virt.rs`), off the path the
/// output waits on.
pub fn compact(component: &[u8]) -> Result<Vec<u8>> {
    let mut out = wasm_encoder::Component::new();
    wasm_encoder::reencode::RoundtripReencoder
        .parse_component(&mut out, wasmparser::Parser::new(0), component)
        .context("failed to re-encode the component")?;
    Ok(out.finish())
}

/// Every top-level section but the imports and exports is copied as it is,
/// byte for byte, nested modules and components unread (re-encoding them
/// was a fifth of a CLI run).
fn renamed(
    component: &[u8],
    rename: &dyn Fn(&str) -> Option<String>,
    exports: bool,
) -> Result<Vec<u8>> {
    let mut renamer = Renamer { rename, exports };
    let mut out = wasm_encoder::Component::new();
    for (id, offset, data) in top_level_sections(component)? {
        renamer
            .section(&mut out, id, data, offset)
            .context("failed to rename the component's imports")?;
    }
    Ok(out.finish())
}

struct Renamer<'a> {
    rename: &'a dyn Fn(&str) -> Option<String>,
    /// Exports are renamed too.
    exports: bool,
}

impl Renamer<'_> {
    /// Adds the section `id` with contents `data` (at `offset` in the
    /// component) to `out`, renamed.
    fn section(
        &mut self,
        out: &mut wasm_encoder::Component,
        id: u8,
        data: &[u8],
        offset: u64,
    ) -> Result<(), wasm_encoder::reencode::Error> {
        let reader = BinaryReader::new(data, offset);
        if id == ComponentSectionId::Import as u8 {
            let mut section = ComponentImportSection::new();
            self.parse_component_import_section(&mut section, SectionLimited::new(reader)?)?;
            out.section(&section);
        } else if id == ComponentSectionId::Export as u8 {
            let mut section = ComponentExportSection::new();
            self.parse_component_export_section(&mut section, SectionLimited::new(reader)?)?;
            out.section(&section);
        } else {
            out.section(&RawSection { id, data });
        }
        Ok(())
    }

    fn name(&self, name: &str) -> String {
        (self.rename)(name).unwrap_or_else(|| name.to_string())
    }
}

impl Reencode for Renamer<'_> {
    type Error = std::convert::Infallible;
}

impl ReencodeComponent for Renamer<'_> {
    fn parse_component_import_section(
        &mut self,
        imports: &mut ComponentImportSection,
        section: wasmparser::ComponentImportSectionReader<'_>,
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        for import in section {
            let import = import?;
            let name = self.name(&import.name.full_name());
            imports.import(name.as_str(), self.component_type_ref(import.ty)?);
        }
        Ok(())
    }

    fn parse_component_export_section(
        &mut self,
        exports: &mut ComponentExportSection,
        section: wasmparser::ComponentExportSectionReader<'_>,
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        for export in section {
            let export = export?;
            let name = match self.exports {
                true => self.name(&export.name.full_name()),
                false => export.name.full_name().into_owned(),
            };
            let ty = export.ty.map(|t| self.component_type_ref(t)).transpose()?;
            exports.export(
                name.as_str(),
                export.kind.into(),
                self.component_external_index(export.kind, export.index),
                ty,
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component importing an instance and a function, with a core
    /// module (its call index written padded, as a linker leaves it) and
    /// an export of each import.
    fn component() -> Vec<u8> {
        let mut bytes = wat::parse_str(
            r#"(component
                (import "wasi:cli/environment@0.2.0"
                    (instance $env (export "get" (func (result u32)))))
                (import "f" (func $f))
                (core module $m
                    (func $a)
                    (func (export "b") call $a))
                (core instance (instantiate $m))
                (alias export $env "get" (func $g))
                (export "run" (func $g))
                (export "f2" (func $f))
            )"#,
        )
        .unwrap();
        // The code section: two bodies, `end` and `call 0; end`. The call's
        // index is written padded to five bytes, so the body, the code
        // section and the module each grow by four bytes (their sizes are
        // one byte each).
        let code = [
            0x0a, 0x09, 0x02, 0x02, 0x00, 0x0b, 0x04, 0x00, 0x10, 0x00, 0x0b,
        ];
        let at = bytes.windows(code.len()).position(|w| w == code).unwrap();
        let (_, module_at, _) = top_level_sections(&bytes)
            .unwrap()
            .into_iter()
            .find(|(id, offset, data)| {
                *id == 1 && (*offset as usize..*offset as usize + data.len()).contains(&at)
            })
            .unwrap();
        bytes[module_at as usize - 1] += 4;
        bytes[at + 1] += 4;
        bytes[at + 6] += 4;
        bytes.splice(at + 9..at + 10, [0x80, 0x80, 0x80, 0x80, 0x00]);
        bytes
    }

    fn names(bytes: &[u8], imports: bool) -> Vec<String> {
        match imports {
            true => crate::inspect::component_imports(bytes).unwrap(),
            false => crate::inspect::component_exports(bytes).unwrap(),
        }
    }

    #[test]
    fn renaming_changes_the_names_alone() {
        let padded = component();
        crate::inspect::validate_component(&padded).unwrap();
        let rename = |name: &str| (name != "f").then(|| format!("private-{name}"));
        let renamed = rename_imports(&padded, &rename).unwrap();
        crate::inspect::validate_component(&renamed).unwrap();
        assert_eq!(
            names(&renamed, true),
            ["private-wasi:cli/environment@0.2.0", "f"]
        );
        assert_eq!(names(&renamed, false), ["run", "f2"]);
        // The core module, padding and all, is copied as it was.
        assert_eq!(renamed.len(), padded.len() + "private-".len());
        let both = rename_top_level(&padded, &rename).unwrap();
        assert_eq!(names(&both, false), ["private-run", "private-f2"]);
    }

    #[test]
    fn compacting_shortens_the_padding_and_keeps_the_rest() {
        let padded = component();
        let compacted = compact(&padded).unwrap();
        crate::inspect::validate_component(&compacted).unwrap();
        assert_eq!(compacted.len(), padded.len() - 4);
        assert_eq!(compact(&compacted).unwrap(), compacted);
        assert_eq!(names(&compacted, true), names(&padded, true));
        assert_eq!(names(&compacted, false), names(&padded, false));
    }
}
