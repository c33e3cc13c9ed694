//! The check of an output against declared permissions (`--permissions`):
//! every import that has a function to call must fall under one of them.

use crate::inspect::catalog::{Catalog, Need};
use crate::inspect::component_import_functions;
use crate::policy::Policy;
use crate::subsystem::permissions::Declared;
use anyhow::{bail, Context, Result};

/// The declared permissions, and the catalog that says what they cover.
#[derive(Clone, Debug, Default)]
pub struct Declarations {
    /// The built-in catalog and the policy's `catalogs`.
    pub catalog: Catalog,
    /// The permissions declared.
    pub list: Vec<Declared>,
}

/// The permissions `policy` declares, parsed with the catalogs it names;
/// none if it declares none.
pub fn declared(policy: &Policy) -> Result<Declarations> {
    let Some(permissions) = &policy.permissions else {
        return Ok(Declarations::default());
    };
    let catalog = Catalog::with_files(&permissions.catalogs)?;
    let list = permissions
        .declared
        .iter()
        .map(|d| catalog.parse_declared(d))
        .collect::<Result<Vec<_>>>()
        .context("failed to read the declared permissions")?;
    Ok(Declarations { catalog, list })
}

/// Fails, listing each import of `output` that `declared` permissions do
/// not cover, with its functions and the permission it needs. An import of
/// types alone (`wasi:clocks/monotonic-clock` for the `duration` of a
/// passed-through `wasi:sockets/tcp`) needs none: nothing in it can be
/// called.
pub fn check_permissions(declared: &Declarations, output: &[u8]) -> Result<()> {
    let Declarations {
        catalog,
        list: declared,
    } = declared;
    let mut offending = Vec::new();
    for (import, functions) in component_import_functions(output)? {
        let Need::Permission(needed) = catalog.of_interface(&import) else {
            continue;
        };
        if !functions.is_empty() && !declared.iter().any(|d| d.covers(&needed)) {
            offending.push(format!(
                "  {import} needs `{needed}`: {}",
                functions.join(", ")
            ));
        }
    }
    if offending.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = declared.iter().map(ToString::to_string).collect();
    bail!(
        "the output imports {} interface{} outside the declared permissions ({}); declare what \
         they need, deny them, or pass --skip-validation; nothing was written:\n{}",
        offending.len(),
        if offending.len() == 1 { "" } else { "s" },
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        },
        offending.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subsystem::permissions::Permission;

    #[test]
    fn an_import_of_types_alone_needs_no_permission() {
        let output = wat::parse_str(
            r#"(component
                (import "wasi:clocks/monotonic-clock@0.2.6"
                    (instance (type $d u64) (export "duration" (type (eq $d)))))
                (import "wasi:cli/exit@0.2.6"
                    (instance (export "exit" (func)))))"#,
        )
        .unwrap();
        let exit = Declarations {
            list: vec![Permission::parse_declared("exit").unwrap()],
            ..Declarations::default()
        };
        check_permissions(&exit, &output).unwrap();
        let none = Declarations::default();
        let refused = check_permissions(&none, &output).unwrap_err().to_string();
        assert!(
            refused.contains("wasi:cli/exit@0.2.6 needs `exit`"),
            "{refused}"
        );
        assert!(!refused.contains("monotonic-clock"), "{refused}");
    }

    #[test]
    fn a_policy_catalog_names_what_an_interface_needs() {
        let output = wat::parse_str(
            r#"(component
                (import "ocre:gpio/pins@0.1.0"
                    (instance (export "set" (func (param "pin" u32))))))"#,
        )
        .unwrap();
        let mut catalog = Catalog::builtin();
        catalog
            .add(
                "gpio.toml",
                "[[permission]]\nname = \"gpio\"\ninterfaces = [\"ocre:gpio/*\"]\n",
            )
            .unwrap();
        let gpio = Declarations {
            list: vec![catalog.parse_declared("gpio").unwrap()],
            catalog: catalog.clone(),
        };
        check_permissions(&gpio, &output).unwrap();
        // Without the catalog the import is its own permission, which
        // `gpio` does not name.
        let bare = Declarations {
            list: gpio.list.clone(),
            ..Declarations::default()
        };
        let refused = check_permissions(&bare, &output).unwrap_err().to_string();
        assert!(refused.contains("needs `ocre:gpio/pins`"), "{refused}");
        let text = "[permissions]\ndeclared = [\"gpio\"]\ncatalogs = [\"missing.toml\"]\n";
        let policy = Policy::from_toml(text).unwrap();
        let e = format!("{:#}", declared(&policy).unwrap_err());
        assert!(
            e.starts_with("failed to read the catalog `missing.toml`"),
            "{e}"
        );
    }
}
