//! Permission catalogs: which permission each import needs.
//!
//! The built-in catalog is the subsystem registry's: each row names the
//! permission its WASI interfaces fall under and its `wasi_snapshot_preview1`
//! functions (`Permission::of_interface`, `Permission::of_preview1`). A
//! catalog file (`--catalog FILE`, `[permissions] catalogs`) adds
//! permissions for what the registry does not know, the host functions of a
//! platform (`env` / `ocre_gpio_*`):
//!
//! ```toml
//! [[permission]]
//! name = "ocre_gpio"
//! description = "GPIO pins"
//! core = [{ module = "env", functions = ["ocre_gpio_*"] }]
//! interfaces = ["ocre:gpio/*"]
//! ```
//!
//! A function pattern is a name, or a prefix followed by `*`; an interface
//! pattern is `namespace:package/interface` or `namespace:package/*`, matched
//! without the import's version. What a file names takes precedence over the
//! built-in catalog (Atym's `networking` holds `clock_time_get`, which the
//! registry gives to `clocks`), and may name a WASI permission to add to it.
//! Between the files added, a permission defined twice, and two permissions
//! whose patterns can match one import, are errors naming both places.

use crate::inspect::PREVIEW1;
use crate::names::InterfaceName;
use crate::subsystem::permissions::{Declared, Permission};
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

/// The permission an import needs, as a catalog answers.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Need {
    /// This one.
    Permission(Permission),
    /// None: it carries others' handles or touches nothing (`wasi:io`,
    /// `sched_yield`).
    Nothing,
    /// No catalog covers it (a core import from a module other than
    /// `wasi_snapshot_preview1` that no catalog file names).
    Unknown,
}

/// The built-in catalog and the files added to it.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    permissions: Vec<Entry>,
}

/// One permission of a catalog file.
#[derive(Clone, Debug)]
struct Entry {
    name: String,
    /// Where it is defined: `file` line `n`.
    at: String,
    /// `(module, function pattern, where)`.
    core: Vec<(String, String, String)>,
    /// `(interface pattern, where)`.
    interfaces: Vec<(String, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    #[serde(default)]
    permission: Vec<PermissionForm>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PermissionForm {
    name: Spanned<String>,
    #[serde(default)]
    #[allow(dead_code)] // for the reader of the file
    description: Option<String>,
    #[serde(default)]
    core: Vec<CoreForm>,
    #[serde(default)]
    interfaces: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CoreForm {
    module: Spanned<String>,
    functions: Vec<Spanned<String>>,
}

/// The name a permission may not take: what `inspect` calls an import no
/// catalog covers.
pub const UNKNOWN: &str = "unknown";

impl Catalog {
    /// The built-in catalog alone.
    pub fn builtin() -> Catalog {
        Catalog::default()
    }

    /// The built-in catalog and each of `files`, read in order.
    pub fn with_files<P: AsRef<Path>>(files: &[P]) -> Result<Catalog> {
        let mut catalog = Catalog::builtin();
        for file in files {
            catalog.add_file(file.as_ref())?;
        }
        Ok(catalog)
    }

    /// Reads the catalog file `path` and adds it.
    pub fn add_file(&mut self, path: &Path) -> Result<()> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read the catalog `{}`", path.display()))?;
        self.add(&path.display().to_string(), &text)
    }

    /// Adds the catalog `text`, read from `file` (named in errors).
    ///
    /// ```
    /// use wasi_virt::{Catalog, Need};
    ///
    /// let mut catalog = Catalog::builtin();
    /// catalog.add(
    ///     "gpio.toml",
    ///     "[[permission]]\nname = \"ocre_gpio\"\n\
    ///      core = [{ module = \"env\", functions = [\"ocre_gpio_*\"] }]\n",
    /// )?;
    /// let Need::Permission(p) = catalog.of_core("env", "ocre_gpio_init") else { panic!() };
    /// assert_eq!(p.name(), "ocre_gpio");
    /// assert_eq!(catalog.of_core("env", "other"), Need::Unknown);
    /// // The same name again is an error naming both places.
    /// let twice = catalog.add("again.toml", "[[permission]]\nname = \"ocre_gpio\"\n");
    /// assert!(twice.unwrap_err().to_string().starts_with("`again.toml` line 2"));
    /// # anyhow::Ok(())
    /// ```
    pub fn add(&mut self, file: &str, text: &str) -> Result<()> {
        let form: FileForm =
            toml::from_str(text).with_context(|| format!("the catalog `{file}` is malformed"))?;
        let at = |span: std::ops::Range<usize>| format!("`{file}` line {}", line_of(text, span));
        for p in form.permission {
            let entry = entry_of(p, &at)?;
            self.check_new(&entry)?;
            self.permissions.push(entry);
        }
        Ok(())
    }

    /// Fails when `entry` repeats a permission, or covers an import another
    /// permission covers.
    fn check_new(&self, entry: &Entry) -> Result<()> {
        for other in &self.permissions {
            if other.name == entry.name {
                bail!(
                    "{}: the permission `{}` is defined twice (first at {}); define each once",
                    entry.at,
                    entry.name,
                    other.at
                );
            }
            for (module, pattern, at) in &entry.core {
                let clash = other
                    .core
                    .iter()
                    .find(|(m, p, _)| m == module && overlap(p, pattern));
                if let Some((_, p, a)) = clash {
                    bail!(
                        "{at}: `{module}` `{pattern}` of permission `{}` can match the same \
                         import as `{p}` of permission `{}` ({a}); an import must fall under \
                         one permission",
                        entry.name,
                        other.name
                    );
                }
            }
            for (pattern, at) in &entry.interfaces {
                if let Some((p, a)) = other.interfaces.iter().find(|(p, _)| overlap(p, pattern)) {
                    bail!(
                        "{at}: `{pattern}` of permission `{}` can match the same import as \
                         `{p}` of permission `{}` ({a}); an import must fall under one permission",
                        entry.name,
                        other.name
                    );
                }
            }
        }
        Ok(())
    }

    /// The permission the core import `module`.`function` needs.
    pub fn of_core(&self, module: &str, function: &str) -> Need {
        let added = self.permissions.iter().find(|e| {
            e.core
                .iter()
                .any(|(m, p, _)| m == module && matches(p, function))
        });
        if let Some(e) = added {
            return Need::Permission(Permission::named(&e.name));
        }
        if module != PREVIEW1 {
            return Need::Unknown;
        }
        Permission::of_preview1(function).map_or(Need::Nothing, Need::Permission)
    }

    /// The permission the component import `interface` needs.
    pub fn of_interface(&self, interface: &str) -> Need {
        let unversioned = InterfaceName::parse(interface)
            .map(|n| n.unversioned)
            .unwrap_or_else(|| interface.to_string());
        let added = self
            .permissions
            .iter()
            .find(|e| e.interfaces.iter().any(|(p, _)| matches(p, &unversioned)));
        if let Some(e) = added {
            return Need::Permission(Permission::named(&e.name));
        }
        Permission::of_interface(interface).map_or(Need::Nothing, Need::Permission)
    }

    /// Parses a declared permission: one a catalog file defines, else as
    /// [`Permission::parse_declared`].
    pub fn parse_declared(&self, text: &str) -> Result<Declared> {
        let text = text.trim();
        if self.permissions.iter().any(|e| e.name == text) {
            return Ok(Declared::Permission(Permission::named(text)));
        }
        Permission::parse_declared(text).map_err(|e| {
            if self.permissions.is_empty() {
                return e;
            }
            let names: Vec<&str> = self.permissions.iter().map(|e| e.name.as_str()).collect();
            anyhow::anyhow!(
                "{e}; or one of the catalog files' permissions: {}",
                names.join(", ")
            )
        })
    }
}

/// The entry for `p`, its patterns checked.
fn entry_of(p: PermissionForm, at: &dyn Fn(std::ops::Range<usize>) -> String) -> Result<Entry> {
    let name = p.name.get_ref().trim().to_string();
    let name_at = at(p.name.span());
    let well_formed = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(c));
    if !well_formed || name == UNKNOWN {
        bail!(
            "{name_at}: `{name}` cannot name a permission; use letters, digits and `_-.:/`, \
             and not `{UNKNOWN}`"
        );
    }
    let mut entry = Entry {
        name,
        at: name_at,
        core: Vec::new(),
        interfaces: Vec::new(),
    };
    for core in p.core {
        for f in core.functions {
            let where_ = at(f.span());
            check_function_pattern(f.get_ref(), &where_)?;
            entry
                .core
                .push((core.module.get_ref().clone(), f.into_inner(), where_));
        }
        if core.module.get_ref().is_empty() {
            bail!("{}: a module name cannot be empty", at(core.module.span()));
        }
    }
    for i in p.interfaces {
        let where_ = at(i.span());
        check_interface_pattern(i.get_ref(), &where_)?;
        entry.interfaces.push((i.into_inner(), where_));
    }
    Ok(entry)
}

fn check_function_pattern(pattern: &str, at: &str) -> Result<()> {
    let body = pattern.strip_suffix('*').unwrap_or(pattern);
    if (body.is_empty() && !pattern.ends_with('*')) || body.contains('*') {
        bail!(
            "{at}: `{pattern}` is no function pattern; write a name, or a prefix followed by `*` \
             (`ocre_gpio_*`)"
        );
    }
    Ok(())
}

fn check_interface_pattern(pattern: &str, at: &str) -> Result<()> {
    let probe = match pattern.strip_suffix("/*") {
        Some(package) => format!("{package}/x"),
        None => pattern.to_string(),
    };
    let ok = InterfaceName::parse(&probe)
        .is_some_and(|n| n.is_well_formed() && n.version.is_none() && !probe.contains('*'));
    if !ok {
        bail!(
            "{at}: `{pattern}` is no interface pattern; write `namespace:package/interface` or \
             `namespace:package/*`, without a version"
        );
    }
    Ok(())
}

/// Whether `pattern` (a name, or a prefix and `*`) matches `name`; an
/// interface pattern `ocre:gpio/*` is the prefix `ocre:gpio/`.
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// Whether two patterns can match one name.
fn overlap(a: &str, b: &str) -> bool {
    match (a.strip_suffix('*'), b.strip_suffix('*')) {
        (None, None) => a == b,
        (Some(pa), None) => b.starts_with(pa),
        (None, Some(pb)) => a.starts_with(pb),
        (Some(pa), Some(pb)) => pa.starts_with(pb) || pb.starts_with(pa),
    }
}

/// The line (from 1) at which `span` starts in `text`.
fn line_of(text: &str, span: std::ops::Range<usize>) -> usize {
    text[..span.start.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests;
