//! Renaming a component's top-level imports and exports.

use anyhow::{Context, Result};
use wasm_encoder::reencode::{Reencode, ReencodeComponent};

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

fn renamed(
    component: &[u8],
    rename: &dyn Fn(&str) -> Option<String>,
    exports: bool,
) -> Result<Vec<u8>> {
    let mut out = wasm_encoder::Component::new();
    Renamer {
        depth: 0,
        rename,
        exports,
    }
    .parse_component(&mut out, wasmparser::Parser::new(0), component)
    .context("failed to rename the component's imports")?;
    Ok(out.finish())
}

struct Renamer<'a> {
    depth: usize,
    rename: &'a dyn Fn(&str) -> Option<String>,
    /// Exports are renamed too.
    exports: bool,
}

impl Renamer<'_> {
    fn name(&self, name: &str) -> String {
        match self.depth {
            0 => (self.rename)(name).unwrap_or_else(|| name.to_string()),
            _ => name.to_string(),
        }
    }
}

impl Reencode for Renamer<'_> {
    type Error = std::convert::Infallible;
}

impl ReencodeComponent for Renamer<'_> {
    fn push_depth(&mut self) {
        self.depth += 1;
    }

    fn pop_depth(&mut self) {
        self.depth -= 1;
    }

    fn parse_component_import_section(
        &mut self,
        imports: &mut wasm_encoder::ComponentImportSection,
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
        exports: &mut wasm_encoder::ComponentExportSection,
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
