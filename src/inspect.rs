//! Reading what a component or a core module imports (by the permission
//! each import needs, from the catalogs in `catalog.rs`), checking it
//! against declared permissions (`check.rs`, `permission_check.rs`), and
//! refusing what cannot be virtualized.

pub mod catalog;
pub mod check;
pub mod permission_check;
pub mod reach;

use crate::inspect::catalog::{Catalog, Need};
use crate::subsystem::permissions::Permission;
use crate::subsystem::registry::{unvirtualized_version, WASI_PERMISSIONS};
use anyhow::{bail, Context, Result};
use std::fmt;
use wasmparser::component_types::ComponentEntityType;
use wasmparser::{Encoding, Parser, Payload, TypeRef, Validator};

/// Whether `bytes` start like the WebAssembly text format: after white
/// space and `;;` comments, a `(`.
fn looks_like_text(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    loop {
        rest = rest.trim_ascii_start();
        match rest.strip_prefix(b";;") {
            Some(comment) => {
                let end = comment
                    .iter()
                    .position(|b| *b == b'\n')
                    .unwrap_or(comment.len());
                rest = &comment[end..];
            }
            None => return rest.starts_with(b"("),
        }
    }
}

/// Checks that `bytes` is a valid WebAssembly component, with a message that
/// says what it is instead.
pub fn validate_component(bytes: &[u8]) -> Result<()> {
    check_component_header(bytes)?;
    validate_bodies(bytes)
}

/// Validates `bytes` whole, core function bodies included: the part of
/// [`validate_component`] that [`input_kind_but_bodies`] leaves out.
pub fn validate_bodies(bytes: &[u8]) -> Result<()> {
    Validator::new()
        .validate_all(bytes)
        .context("the component failed to validate")?;
    Ok(())
}

/// That `bytes` start as a component does, or what they are instead.
pub fn check_component_header(bytes: &[u8]) -> Result<()> {
    if !bytes.starts_with(b"\0asm") {
        if looks_like_text(bytes) {
            bail!(
                "this is WebAssembly text (WAT), not a binary; assemble it first, for example \
                 with `wasm-tools parse app.wat -o app.wasm`"
            );
        }
        bail!("not a WebAssembly binary (no `\\0asm` header)");
    }
    match Parser::new(0).parse_all(bytes).next() {
        Some(Ok(Payload::Version {
            encoding: Encoding::Component,
            ..
        })) => {}
        Some(Ok(Payload::Version {
            encoding: Encoding::Module,
            ..
        })) => bail!(
            "this is a core WebAssembly module, not a component; build for `wasm32-wasip2` \
             or wrap it with `wasm-tools component new`"
        ),
        Some(Err(e)) => return Err(e).context("not a valid WebAssembly binary"),
        _ => bail!("not a valid WebAssembly binary"),
    }
    Ok(())
}

/// Validates `bytes` but for their core functions' bodies, answering the
/// types: for bytes whose every core module was validated whole before (a
/// component read in, or composed from such), at a fraction of the cost.
pub fn validate_without_bodies(bytes: &[u8]) -> Result<wasmparser::types::Types> {
    let mut validator = Validator::new();
    let mut types = None;
    for payload in Parser::new(0).parse_all(bytes) {
        // A `ValidPayload::Func` is a body to validate: dropped unchecked.
        if let wasmparser::ValidPayload::End(t) = validator.payload(&payload?)? {
            types = Some(t);
        }
    }
    types.context("the binary ended early")
}

/// A component's top-level sections, in order: each one's id, the offset
/// of its contents in `bytes` and the contents, read without entering any.
pub fn top_level_sections(bytes: &[u8]) -> Result<Vec<(u8, u64, &[u8])>> {
    check_component_header(bytes)?;
    let mut reader = wasmparser::BinaryReader::new(&bytes[8..], 8);
    let mut sections = Vec::new();
    while !reader.eof() {
        let id = reader.read_u8()?;
        let len = reader.read_var_u32()? as usize;
        let offset = reader.original_position() as u64;
        sections.push((id, offset, reader.read_bytes(len)?));
    }
    Ok(sections)
}

/// The types of a component's top-level imports: validated from the
/// sections before its first item that is not a type, an import or an
/// alias (where a component encoded by wit-component or wasm-compose
/// declares them all), the rest unread; if an import comes later, from the
/// whole component but its function bodies.
fn import_types(bytes: &[u8]) -> Result<wasmparser::types::Types> {
    const DECLARATIONS: [u8; 4] = [3, 6, 7, 10]; // core type, alias, type, import
    let sections = top_level_sections(bytes)?;
    let prefix = sections
        .iter()
        .position(|(id, ..)| !DECLARATIONS.contains(id) && *id != 0)
        .unwrap_or(sections.len());
    if sections[prefix..].iter().any(|(id, ..)| *id == 10) {
        return validate_without_bodies(bytes);
    }
    let mut declarations = wasm_encoder::Component::new();
    for (id, _, data) in sections[..prefix].iter().filter(|(id, ..)| *id != 0) {
        declarations.section(&wasm_encoder::RawSection { id: *id, data });
    }
    validate_without_bodies(&declarations.finish())
}

/// The names of a component's top-level imports, in order.
pub fn component_imports(bytes: &[u8]) -> Result<Vec<String>> {
    top_level_names(bytes, true)
}

/// The names of a component's top-level exports, in order.
pub fn component_exports(bytes: &[u8]) -> Result<Vec<String>> {
    top_level_names(bytes, false)
}

fn top_level_names(bytes: &[u8], imports: bool) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (id, offset, data) in top_level_sections(bytes)? {
        let reader = wasmparser::BinaryReader::new(data, offset);
        if id == 10 && imports {
            for import in wasmparser::ComponentImportSectionReader::new(reader)? {
                out.push(import?.name.full_name().into_owned());
            }
        } else if id == 11 && !imports {
            for export in wasmparser::ComponentExportSectionReader::new(reader)? {
                out.push(export?.name.full_name().into_owned());
            }
        }
    }
    Ok(out)
}

/// What kind of WebAssembly a file is, for inspection and virtualization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputKind {
    /// A component.
    Component,
    /// A core module built for `wasm32-wasip1`: it imports
    /// `wasi_snapshot_preview1`, or nothing.
    Wasip1Module,
    /// Any other core module (one importing from `env`): inspected and
    /// checked, never virtualized.
    CoreModule,
}

/// As [`input_kind`], validating a component all but its core function
/// bodies, which the caller validates with [`validate_bodies`] (on another
/// thread, while the work that needs only the structure goes on).
pub fn input_kind_but_bodies(bytes: &[u8]) -> Result<InputKind> {
    if is_core_module(bytes) {
        check_wasip1(bytes)?;
        return Ok(InputKind::Wasip1Module);
    }
    check_component_header(bytes)?;
    validate_without_bodies(bytes).context("the component failed to validate")?;
    Ok(InputKind::Component)
}

/// Whether `bytes` are a core module (rather than a component); an error
/// for what is neither.
pub fn input_kind(bytes: &[u8]) -> Result<InputKind> {
    if is_core_module(bytes) {
        check_wasip1(bytes)?;
        return Ok(InputKind::Wasip1Module);
    }
    validate_component(bytes)?;
    Ok(InputKind::Component)
}

fn is_core_module(bytes: &[u8]) -> bool {
    matches!(
        Parser::new(0).parse_all(bytes).next(),
        Some(Ok(Payload::Version {
            encoding: Encoding::Module,
            ..
        }))
    )
}

/// The module that a `wasm32-wasip1` program imports WASI from.
pub const PREVIEW1: &str = "wasi_snapshot_preview1";

/// A core module is accepted when it validates and imports only from
/// `wasi_snapshot_preview1`: at least one function, or it is a command
/// (exports `_start`).
fn check_wasip1(bytes: &[u8]) -> Result<()> {
    validate_module(bytes)?;
    match not_wasip1(bytes)? {
        Some(why) => Err(anyhow::anyhow!(why)),
        None => Ok(()),
    }
}

fn validate_module(bytes: &[u8]) -> Result<()> {
    Validator::new()
        .validate_all(bytes)
        .context("the core module failed to validate")?;
    Ok(())
}

/// Why the core module `bytes` is no `wasm32-wasip1` program, or `None`
/// when it is one.
fn not_wasip1(bytes: &[u8]) -> Result<Option<String>> {
    let (mut wasi, mut start) = (false, false);
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::ImportSection(s) => {
                for import in s.into_imports() {
                    let import = import?;
                    if import.module != PREVIEW1 {
                        return Ok(Some(foreign_import(&import)));
                    }
                    wasi = true;
                }
            }
            Payload::ExportSection(s) => {
                for export in s {
                    start |= export?.name == "_start";
                }
            }
            _ => {}
        }
    }
    if !wasi && !start {
        return Ok(Some(format!(
            "this is a core WebAssembly module that neither imports `{PREVIEW1}` nor exports \
             `_start`, so it is no `wasm32-wasip1` program; build for `wasm32-wasip2` or wrap \
             it with `wasm-tools component new`"
        )));
    }
    Ok(None)
}

/// Why a core module importing `import` (not from `wasi_snapshot_preview1`)
/// cannot be virtualized: a component's imports are typed, and a core
/// import outside WASI has no type in the component model, so no component
/// can be made of the module without a WIT world that says what each such
/// import is.
fn foreign_import(import: &wasmparser::Import) -> String {
    format!(
        "this core module imports `{}` from `{}`, so it is not a `wasm32-wasip1` program \
         (those import only from `{PREVIEW1}`) and cannot be virtualized: a component's imports \
         have component-model types, and a core module's imports outside WASI have none, so no \
         component can be made of it without knowing their interfaces. To see whether it calls \
         only what given permissions cover, run `wasi-virt check FILE --permissions ...`; to \
         make it a component, describe those imports in a WIT world and run \
         `wasm-tools component new` (or build it for `wasm32-wasip2`)",
        import.name, import.module
    )
}

/// What `bytes` are, for inspection and checking: any valid core module
/// is accepted (a [`InputKind::CoreModule`] when it is no `wasm32-wasip1`
/// program), or a valid component.
pub fn inspected_kind(bytes: &[u8]) -> Result<InputKind> {
    if !is_core_module(bytes) {
        validate_component(bytes)?;
        return Ok(InputKind::Component);
    }
    validate_module(bytes)?;
    Ok(match not_wasip1(bytes)? {
        None => InputKind::Wasip1Module,
        Some(_) => InputKind::CoreModule,
    })
}

/// Every import of a component or a core module, grouped by the
/// permission it needs, with the functions imported and whether the code
/// can reach each (`wasi-virt inspect`). Its JSON form is documented in
/// docs/permissions.md ("Reports as JSON").
#[derive(Clone, Debug, serde::Serialize)]
pub struct Inspection {
    /// `wasi-virt-inspect/1`.
    pub schema: &'static str,
    /// What the input is.
    pub kind: InputKind,
    /// Whether reachability is exact; when not, functions passed where the
    /// analysis cannot look (a nested component, an imported module) count
    /// as reachable.
    pub exact: bool,
    /// The permissions the imports need: WASI's in their fixed order
    /// ([`WASI_PERMISSIONS`]), then the others by name.
    pub permissions: Vec<PermissionUse>,
    /// Imports that need no permission: `wasi:io`, which carries the
    /// others' streams, imports of types alone, with no function (and
    /// `sched_yield` of a wasip1 module).
    pub carriers: Vec<InterfaceUse>,
    /// The WASI interfaces among the imports that no subsystem governs
    /// (`wasi:logging/logging`): virtualizing answers them with traps and
    /// removes them, unless `--allow-import` lets them through.
    pub ungoverned: Vec<String>,
    /// The imports of a core module that no catalog covers, by module
    /// (`env`), each with its functions; left out of the JSON when there
    /// are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<InterfaceUse>,
}

/// The imports under one permission.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PermissionUse {
    /// `stdio`, `networking`, ..., or an interface's unversioned name.
    pub permission: String,
    /// The imported interfaces (for a wasip1 module, `wasi_snapshot_preview1`).
    pub interfaces: Vec<InterfaceUse>,
}

/// One imported interface.
#[derive(Clone, Debug, serde::Serialize)]
pub struct InterfaceUse {
    /// The import's name, with its version.
    pub name: String,
    /// Its functions, in the order of the import's type.
    pub functions: Vec<FunctionUse>,
}

/// One imported function.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FunctionUse {
    /// `get-environment`, `[method]output-stream.write`, `fd_write`.
    pub name: String,
    /// Whether the component's code can call it.
    pub reachable: bool,
}

/// Inspects a component or a core module: what it imports, grouped by the
/// permission each import needs in the built-in catalog (a core module's
/// imports from modules other than `wasi_snapshot_preview1` are then all
/// [`Inspection::unknown`]; see [`inspect_with`]).
///
/// ```no_run
/// let inspection = wasi_virt::inspect(&std::fs::read("app.wasm")?)?;
/// for p in &inspection.permissions {
///     println!("{}: {} interfaces", p.permission, p.interfaces.len());
/// }
/// print!("{inspection}"); // the table `wasi-virt inspect` prints
/// # anyhow::Ok(())
/// ```
pub fn inspect(bytes: &[u8]) -> Result<Inspection> {
    inspect_with(bytes, &Catalog::builtin())
}

/// As [`inspect`], with the permissions of `catalog`, for any core module
/// as well: an import no catalog covers is listed under
/// [`Inspection::unknown`].
pub fn inspect_with(bytes: &[u8], catalog: &Catalog) -> Result<Inspection> {
    let kind = inspected_kind(bytes)?;
    let (functions, reach) = match kind {
        InputKind::Component => (
            component_import_functions(bytes)?,
            crate::inspect::reach::component(bytes)?,
        ),
        InputKind::Wasip1Module | InputKind::CoreModule => (
            module_import_functions(bytes)?,
            crate::inspect::reach::module(bytes)?,
        ),
    };
    let reached = |import: &str, func: &str| {
        reach.reached.contains(&(import.to_string(), None))
            || reach
                .reached
                .contains(&(import.to_string(), Some(func.to_string())))
    };
    let mut inspection = Inspection {
        schema: "wasi-virt-inspect/1",
        kind,
        exact: reach.exact,
        permissions: Vec::new(),
        carriers: Vec::new(),
        ungoverned: functions
            .iter()
            .map(|(import, _)| import.clone())
            .filter(|import| crate::subsystem::registry::is_ungoverned_wasi(import))
            .collect(),
        unknown: Vec::new(),
    };
    let mut by_permission = std::collections::BTreeMap::new();
    for (import, funcs) in functions {
        let need = |func: &str| match kind {
            InputKind::Component => catalog.of_interface(&import),
            _ => catalog.of_core(&import, func),
        };
        for (need, functions) in by_need(&import, funcs, &need, &reached) {
            let interface = InterfaceUse {
                name: import.clone(),
                functions,
            };
            match need {
                Need::Nothing => inspection.carriers.push(interface),
                Need::Unknown => inspection.unknown.push(interface),
                Need::Permission(p) => by_permission
                    .entry(permission_order(&p))
                    .or_insert_with(Vec::new)
                    .push(interface),
            }
        }
    }
    inspection.permissions = by_permission
        .into_iter()
        .map(|((_, permission), interfaces)| PermissionUse {
            permission,
            interfaces,
        })
        .collect();
    Ok(inspection)
}

/// Where permission `p` is listed: WASI's in their fixed order, then the
/// others by name.
fn permission_order(p: &Permission) -> (usize, String) {
    let order = WASI_PERMISSIONS
        .iter()
        .position(|w| *w == p.name())
        .unwrap_or(WASI_PERMISSIONS.len());
    (order, p.name().to_string())
}

/// The functions `funcs` of `import` grouped by what each needs, with
/// whether `reached` says its code reaches each. A core module's functions
/// each have a permission; a component's import has one for all its
/// functions. An import without functions is one group of none, needing
/// nothing.
fn by_need(
    import: &str,
    funcs: Vec<String>,
    need: &dyn Fn(&str) -> Need,
    reached: &dyn Fn(&str, &str) -> bool,
) -> Vec<(Need, Vec<FunctionUse>)> {
    let mut groups: Vec<(Need, Vec<FunctionUse>)> = Vec::new();
    for func in funcs {
        let wanted = need(&func);
        let used = FunctionUse {
            reachable: reached(import, &func),
            name: func,
        };
        match groups.iter_mut().find(|(n, _)| *n == wanted) {
            Some((_, list)) => list.push(used),
            None => groups.push((wanted, vec![used])),
        }
    }
    if groups.is_empty() {
        groups.push((Need::Nothing, Vec::new()));
    }
    groups
}

/// Each top-level import of a component with the functions it brings: an
/// instance's exported functions, or the import itself if it is a function.
pub fn component_import_functions(bytes: &[u8]) -> Result<Vec<(String, Vec<String>)>> {
    import_names(bytes, true)
}

/// Each top-level import of a component with the names its type gives:
/// functions and types alike, for an instance.
pub fn component_import_items(bytes: &[u8]) -> Result<Vec<(String, Vec<String>)>> {
    import_names(bytes, false)
}

fn import_names(bytes: &[u8], functions_only: bool) -> Result<Vec<(String, Vec<String>)>> {
    let types = import_types(bytes).context("the component failed to validate")?;
    let types = types.as_ref();
    let mut out = Vec::new();
    for name in component_imports(bytes)? {
        let names = match types.component_item_for_import(&name).map(|i| &i.ty) {
            Some(ComponentEntityType::Instance(id)) => types[*id]
                .exports
                .iter()
                .filter(|(_, item)| {
                    !functions_only || matches!(item.ty, ComponentEntityType::Func(_))
                })
                .map(|(n, _)| n.clone())
                .collect(),
            Some(ComponentEntityType::Func(_)) => vec![name.clone()],
            _ => Vec::new(),
        };
        out.push((name, names));
    }
    Ok(out)
}

/// A core module's imported functions, by import module.
fn module_import_functions(bytes: &[u8]) -> Result<Vec<(String, Vec<String>)>> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        if let Payload::ImportSection(s) = payload? {
            for import in s.into_imports() {
                let import = import?;
                if !matches!(import.ty, TypeRef::Func(_) | TypeRef::FuncExact(_)) {
                    continue;
                }
                match out.iter_mut().find(|(m, _)| m == import.module) {
                    Some((_, funcs)) => funcs.push(import.name.to_string()),
                    None => out.push((import.module.to_string(), vec![import.name.to_string()])),
                }
            }
        }
    }
    Ok(out)
}

/// The table of `rows` (each a permission and an interface), under its
/// header, the columns as wide as their longest cell.
fn write_table(f: &mut fmt::Formatter<'_>, rows: &[(&str, &InterfaceUse)]) -> fmt::Result {
    let pw = rows.iter().map(|(p, _)| p.len()).max().unwrap_or(0).max(10);
    let iw = rows
        .iter()
        .map(|(_, i)| i.name.len())
        .max()
        .unwrap_or(0)
        .max(9);
    writeln!(
        f,
        "{:pw$}  {:iw$}  {:7}  FUNCTIONS",
        "PERMISSION", "INTERFACE", "REACHED"
    )?;
    for (permission, interface) in rows {
        let (used, unused): (Vec<&FunctionUse>, Vec<&FunctionUse>) =
            interface.functions.iter().partition(|f| f.reachable);
        let list = |fs: &[&FunctionUse]| {
            fs.iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let count = format!("{}/{}", used.len(), interface.functions.len());
        writeln!(
            f,
            "{permission:pw$}  {:iw$}  {count:7}  {}",
            interface.name,
            if used.is_empty() {
                "-".to_string()
            } else {
                list(&used)
            }
        )?;
        if !unused.is_empty() {
            writeln!(
                f,
                "{:pw$}  {:iw$}  {:7}  unused: {}",
                "",
                "",
                "",
                list(&unused)
            )?;
        }
    }
    Ok(())
}

impl fmt::Display for Inspection {
    /// A table: a line per interface with its permission, how many of its
    /// functions are reachable, and their names; the unreachable ones on a
    /// line of their own below.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            InputKind::Component => "component",
            InputKind::Wasip1Module => "wasm32-wasip1 core module",
            InputKind::CoreModule => "core module",
        };
        let names: Vec<&str> = self
            .permissions
            .iter()
            .map(|p| p.permission.as_str())
            .collect();
        writeln!(
            f,
            "{what}; permissions needed ({}): {}",
            names.len(),
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        )?;
        let rows: Vec<(&str, &InterfaceUse)> = self
            .permissions
            .iter()
            .flat_map(|p| p.interfaces.iter().map(move |i| (p.permission.as_str(), i)))
            .chain(self.carriers.iter().map(|i| ("-", i)))
            .chain(self.unknown.iter().map(|i| (catalog::UNKNOWN, i)))
            .collect();
        if rows.is_empty() {
            return writeln!(f, "imports: none");
        }
        write_table(f, &rows)?;
        let (unvirtualized, ungoverned): (Vec<&String>, Vec<&String>) = self
            .ungoverned
            .iter()
            .partition(|i| unvirtualized_version(i).is_some());
        if !ungoverned.is_empty() {
            writeln!(
                f,
                "denied when virtualized, unless --allow-import lets them through (WASI that no \
                 subsystem governs): {}",
                join(&ungoverned)
            )?;
        }
        if !unvirtualized.is_empty() {
            writeln!(
                f,
                "refused when virtualized until --allow-import or --deny-import names them (a \
                 WASI version wasi-virt does not virtualize yet): {}",
                join(&unvirtualized)
            )?;
        }
        if !self.unknown.is_empty() {
            writeln!(
                f,
                "{}: imports that no catalog covers; name them in a permission of a catalog \
                 file (--catalog FILE, see docs/catalogs.md)",
                catalog::UNKNOWN
            )?;
        }
        if !self.exact {
            writeln!(
                f,
                "note: part of the code could not be analysed (a nested component or an imported \
                 module); what is passed to it counts as reached"
            )?;
        }
        Ok(())
    }
}

/// `names`, separated by commas.
fn join(names: &[&String]) -> String {
    names
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_types_read_from_the_declarations_or_else_the_whole() {
        let declared_first = wat::parse_str(
            r#"(component
                (type $t (instance (export "get" (func (result u32)))))
                (import "wasi:cli/environment@0.2.0" (instance (type $t)))
                (import "f" (func))
                (core module $m)
            )"#,
        )
        .unwrap();
        // An import after a definition: the declarations alone do not say
        // every import's type.
        let declared_later = wat::parse_str(
            r#"(component
                (import "f" (func))
                (core module $m)
                (import "wasi:cli/environment@0.2.0"
                    (instance (export "get" (func (result u32)))))
            )"#,
        )
        .unwrap();
        let env = (
            "wasi:cli/environment@0.2.0".to_string(),
            vec!["get".to_string()],
        );
        let f = ("f".to_string(), vec!["f".to_string()]);
        assert_eq!(
            component_import_functions(&declared_first).unwrap(),
            [env.clone(), f.clone()]
        );
        assert_eq!(
            component_import_functions(&declared_later).unwrap(),
            [f, env]
        );
    }
}
