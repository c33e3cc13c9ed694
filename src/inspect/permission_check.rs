//! The check of an output against declared permissions (`--permissions`):
//! every import that has a function to call must fall under one of them.

use crate::inspect::component_import_functions;
use crate::policy::Policy;
use crate::subsystem::permissions::{Declared, Permission};
use anyhow::{bail, Context, Result};

/// The permissions `policy` declares, parsed; none if it declares none.
pub fn declared(policy: &Policy) -> Result<Vec<Declared>> {
    let Some(permissions) = &policy.permissions else {
        return Ok(Vec::new());
    };
    permissions
        .declared
        .iter()
        .map(|d| Permission::parse_declared(d))
        .collect::<Result<Vec<_>>>()
        .context("failed to read the declared permissions")
}

/// Fails, listing each import of `output` that `declared` permissions do
/// not cover, with its functions and the permission it needs. An import of
/// types alone (`wasi:clocks/monotonic-clock` for the `duration` of a
/// passed-through `wasi:sockets/tcp`) needs none: nothing in it can be
/// called.
pub fn check_permissions(declared: &[Declared], output: &[u8]) -> Result<()> {
    let mut offending = Vec::new();
    for (import, functions) in component_import_functions(output)? {
        let Some(needed) = Permission::of_interface(&import) else {
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
        let exit = Permission::parse_declared("exit").unwrap();
        check_permissions(&[exit], &output).unwrap();
        let refused = check_permissions(&[], &output).unwrap_err().to_string();
        assert!(
            refused.contains("wasi:cli/exit@0.2.6 needs `exit`"),
            "{refused}"
        );
        assert!(!refused.contains("monotonic-clock"), "{refused}");
    }
}
