//! Instance shims' imports renamed to the shortest names.
//!
//! wit-component exports each interface through a nested component of its
//! own (a shim): it imports the interface's functions and types under
//! names of its own making (`import-func-get-environment`,
//! `import-type-descriptor`), exports each again under its WIT name, and is
//! instantiated with the outer component's items as arguments of those
//! names. Nothing but that instantiation sees the imports' names, so they
//! become the shortest kebab names (`a`, ..., `z`, `a0`, ...), in the shim
//! and in its instantiation alike: about 8 KB of a deny-all adapter of
//! every WASI 0.2 interface.
//!
//! The shims cannot go altogether: an instance made directly of the outer
//! items does not name the resources its methods take, which the
//! component model requires. Nor can a shim export the copy of a value
//! type it imported instead of the copy it spells out again to export:
//! an exported instance must name every type its exports refer to, and
//! only the shim's own exports are named (both were tried).
//!
//! A nested component is renamed only if it is such a shim (types, imports
//! and exports alone, its imports plain names) and nothing but an
//! instantiation uses it.

use super::{added_otherwise, handed_on, nth_name, reader, sections, write_section, Section};
use anyhow::{Context, Result};
use std::collections::HashMap;
use wasm_encoder::reencode::{ReencodeComponent, RoundtripReencoder};
use wasm_encoder::{ComponentImportSection, ComponentInstanceSection, ComponentSectionId, Encode};
use wasmparser::{ComponentExternalKind, ComponentInstance};

/// `component`, whose top-level sections are `top`, with its shims'
/// imports renamed; `None` if it has no shim to rename.
pub fn rename_imports(component: &[u8], top: &[Section]) -> Result<Option<Vec<u8>>> {
    let mut spaces = Components::default();
    for section in top {
        spaces.read(&component[section.content.clone()], section.id)?;
    }
    if spaces.renamed.iter().all(Option::is_none) {
        return Ok(None);
    }
    let mut out = component[..8].to_vec();
    let mut nested = 0;
    for section in top {
        let content = &component[section.content.clone()];
        match section.id {
            4 => {
                match spaces.renamed_at_section(nested) {
                    Some(names) => write_section(&mut out, 4, &renamed_shim(content, names)?),
                    None => out.extend_from_slice(&component[section.whole.clone()]),
                }
                nested += 1;
            }
            5 => {
                out.push(ComponentSectionId::Instance as u8);
                spaces.instances(content)?.encode(&mut out);
            }
            _ => out.extend_from_slice(&component[section.whole.clone()]),
        }
    }
    Ok(Some(out))
}

/// The component's components, as far as renaming needs them.
#[derive(Default)]
struct Components {
    /// For each component in its index space, the new names of its imports
    /// by their old, if it is a shim renamed.
    renamed: Vec<Option<HashMap<String, String>>>,
    /// The index in that space of each nested component section.
    sections: Vec<usize>,
}

impl Components {
    /// Takes note of what the section `id` with contents `content` adds to
    /// the component space, or of a component it uses otherwise than by
    /// instantiating it.
    fn read(&mut self, content: &[u8], id: u8) -> Result<()> {
        match id {
            4 => {
                self.sections.push(self.renamed.len());
                self.renamed.push(shim_names(content)?);
            }
            id => {
                let component = ComponentExternalKind::Component;
                // A component handed on keeps its import names: they can
                // be seen where it goes.
                for index in handed_on(id, content, component)? {
                    if let Some(names) = self.renamed.get_mut(index as usize) {
                        *names = None;
                    }
                }
                let added = added_otherwise(id, content, component)?;
                self.renamed.extend((0..added).map(|_| None));
            }
        }
        Ok(())
    }

    fn renamed_at_section(&self, nested: usize) -> Option<&HashMap<String, String>> {
        self.renamed[self.sections[nested]].as_ref()
    }

    /// The instance section `content`, each instantiation of a renamed shim
    /// giving its arguments by their new names.
    fn instances(&self, content: &[u8]) -> Result<ComponentInstanceSection> {
        let mut section = ComponentInstanceSection::new();
        for instance in wasmparser::ComponentInstanceSectionReader::new(reader(content))? {
            match instance? {
                ComponentInstance::Instantiate {
                    component_index,
                    args,
                } => {
                    let names = self
                        .renamed
                        .get(component_index as usize)
                        .and_then(Option::as_ref);
                    let renamed = |name: &'_ str| -> String {
                        names
                            .and_then(|n| n.get(name))
                            .map_or(name, String::as_str)
                            .to_string()
                    };
                    let args: Vec<(String, _, u32)> = args
                        .iter()
                        .map(|a| (renamed(a.name), a.kind.into(), a.index))
                        .collect();
                    section.instantiate(component_index, args);
                }
                ComponentInstance::FromExports(exports) => {
                    section.export_items(
                        exports
                            .iter()
                            .map(|e| (e.name.name, e.kind.into(), e.index)),
                    );
                }
            }
        }
        Ok(section)
    }
}

/// The new name of each import of the nested component `bytes`, if it is
/// a shim: only custom, type, import and export sections, its imports
/// plain names.
fn shim_names(bytes: &[u8]) -> Result<Option<HashMap<String, String>>> {
    let mut names = HashMap::new();
    for section in sections(bytes, 8)? {
        let content = &bytes[section.content.clone()];
        match section.id {
            0 | 7 | 11 => {}
            10 => {
                for import in wasmparser::ComponentImportSectionReader::new(reader(content))? {
                    let name = import?.name;
                    let plain = name.implements.is_none()
                        && name.version_suffix.is_none()
                        && name.external_id.is_none();
                    if !plain {
                        return Ok(None);
                    }
                    let short = kebab_name(names.len());
                    names.insert(name.name.to_string(), short);
                }
            }
            _ => return Ok(None),
        }
    }
    Ok(Some(names))
}

/// The shim `bytes` with its imports renamed by `names`.
fn renamed_shim(bytes: &[u8], names: &HashMap<String, String>) -> Result<Vec<u8>> {
    let mut out = bytes[..8].to_vec();
    for section in sections(bytes, 8)? {
        let content = &bytes[section.content.clone()];
        if section.id != 10 {
            out.extend_from_slice(&bytes[section.whole.clone()]);
            continue;
        }
        let mut imports = ComponentImportSection::new();
        for import in wasmparser::ComponentImportSectionReader::new(reader(content))? {
            let import = import?;
            let ty = RoundtripReencoder
                .component_type_ref(import.ty)
                .map_err(|e| anyhow::anyhow!("{e:?}"))
                .context("failed to copy a shim's import")?;
            imports.import(names[import.name.name].as_str(), ty);
        }
        out.push(ComponentSectionId::Import as u8);
        imports.encode(&mut out);
    }
    Ok(out)
}

/// The `i`th shortest kebab name: a letter, then letters and digits.
fn kebab_name(i: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    nth_name(i, LETTERS, b"abcdefghijklmnopqrstuvwxyz0123456789")
}

#[cfg(test)]
mod tests {
    use super::kebab_name;

    /// A component with one shim, instantiated, whose instance it exports;
    /// and, if `exported`, the shim exported too.
    fn with_shim(exported: bool) -> Vec<u8> {
        let export = if exported {
            r#"(export "shim" (component $shim))"#
        } else {
            ""
        };
        wat::parse_str(format!(
            r#"(component
                (type $r (resource (rep i32)))
                (core module $m (func (export "f") (param i32)))
                (core instance $i (instantiate $m))
                (type $ft (func (param "self" (borrow $r))))
                (func $f (type $ft) (canon lift (core func $i "f")))
                (component $shim
                    (import "import-type-thing" (type $t (sub resource)))
                    (type $b (borrow $t))
                    (import "import-method-thing-poke" (func $p (param "self" $b)))
                    (export $e "thing" (type $t))
                    (type $eb (borrow $e))
                    (export "[method]thing.poke" (func $p) (func (param "self" $eb))))
                (instance $s (instantiate $shim
                    (with "import-type-thing" (type $r))
                    (with "import-method-thing-poke" (func $f))))
                (export "a:b/c" (instance $s))
                {export})"#
        ))
        .unwrap()
    }

    fn import_names(bytes: &[u8]) -> Vec<String> {
        let mut names = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(bytes) {
            if let wasmparser::Payload::ComponentImportSection(s) = payload.unwrap() {
                names.extend(s.into_iter().map(|i| i.unwrap().name.name.to_string()));
            }
        }
        names
    }

    #[test]
    fn a_shim_and_its_instantiation_take_short_names_and_stay_valid() {
        let slimmed = super::super::slim(&with_shim(false)).unwrap();
        wasmparser::Validator::new().validate_all(&slimmed).unwrap();
        assert_eq!(import_names(&slimmed), ["a", "b"]);
    }

    #[test]
    fn a_shim_handed_on_keeps_its_names() {
        let slimmed = super::super::slim(&with_shim(true)).unwrap();
        wasmparser::Validator::new().validate_all(&slimmed).unwrap();
        assert_eq!(
            import_names(&slimmed),
            ["import-type-thing", "import-method-thing-poke"]
        );
    }

    #[test]
    fn kebab_names_are_distinct_valid_and_short() {
        let names: Vec<String> = (0..5000).map(kebab_name).collect();
        assert_eq!(names[..3], ["a", "b", "c"]);
        assert_eq!(names[26], "aa");
        assert!(names.iter().all(|n| n.as_bytes()[0].is_ascii_lowercase()));
        assert!(names.iter().all(|n| n
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())));
        let distinct: std::collections::HashSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), names.len());
        assert!(names[..26 * 37].iter().all(|n| n.len() <= 2));
    }
}
