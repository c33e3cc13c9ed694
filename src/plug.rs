//! Imports outside WASI's subsystems: answered by traps (`--deny-import`),
//! or by components the user supplies (`--plug`), composed in front of the
//! component before the adapter is.

use crate::inspect::{component_exports, component_imports, validate_component};
use crate::names::InterfaceName;
use crate::permissions::Permission;
use anyhow::{anyhow, bail, Context, Result};
use wasm_compose::graph::{CompositionGraph, EncodeOptions};
use wasmparser::Validator;
use wit_component::DecodedWasm;

/// A component that satisfies some of the component's imports.
#[derive(Clone, Debug)]
pub struct Provider {
    /// What it is called in messages and the report (`gpio.wasm`).
    pub label: String,
    pub bytes: Vec<u8>,
}

/// What [`plug`] connected: each import satisfied, and by which provider
/// (for a denied import, `denied`).
pub type Plugged = Vec<(String, String)>;

/// The label of the trap component that answers denied imports.
pub const DENIED: &str = "denied";

/// The imports of `component` that `pattern` matches: the full name
/// (`ocre:gpio/pins@0.1.0`), the name without its version
/// (`ocre:gpio/pins`), or a package's interfaces (`ocre:gpio/*`).
pub fn matches(pattern: &str, import: &str) -> bool {
    let Some(name) = InterfaceName::parse(import) else {
        return false;
    };
    if import == pattern || name.unversioned == pattern {
        return true;
    }
    match pattern.strip_suffix("/*") {
        Some(package) => name.unversioned.rsplit_once('/').map(|(p, _)| p) == Some(package),
        None => false,
    }
}

/// Checks a `--deny-import` pattern's shape.
pub fn check_pattern(pattern: &str) -> Result<()> {
    let probe = match pattern.strip_suffix("/*") {
        Some(package) => format!("{package}/x"),
        None => pattern.to_string(),
    };
    let Some(name) = InterfaceName::parse(&probe).filter(InterfaceName::is_well_formed) else {
        bail!(
            "`{pattern}` is not an interface pattern; expected `namespace:package/interface`, \
             with an optional `@version`, or `namespace:package/*`"
        );
    };
    if governed(&name.to_string()) {
        bail!(
            "`{pattern}` names WASI interfaces that the policy governs; deny them with the \
             policy (they are denied unless an --allow-* flag lets them through)"
        );
    }
    Ok(())
}

/// Whether a subsystem setting, not `--deny-import`, governs `import`:
/// WASI's interfaces with a permission of their own, and `wasi:io`.
fn governed(import: &str) -> bool {
    Permission::of_interface(import).is_none_or(|p| p.is_wasi())
}

/// The imports of `component` that `patterns` deny, each pattern matching
/// at least one.
pub fn denied_imports(component: &[u8], patterns: &[String]) -> Result<Vec<String>> {
    let imports = component_imports(component)?;
    let mut denied = Vec::new();
    for pattern in patterns {
        check_pattern(pattern)?;
        let matched: Vec<&String> = imports
            .iter()
            .filter(|i| matches(pattern, i) && !governed(i))
            .collect();
        if matched.is_empty() {
            bail!(
                "`--deny-import {pattern}` matches no import of the component; it imports: {}",
                list_or_none(imports.iter().filter(|i| !governed(i)))
            );
        }
        for import in matched {
            if !denied.contains(import) {
                denied.push(import.clone());
            }
        }
    }
    Ok(denied)
}

fn list_or_none<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    match names.is_empty() {
        true => "nothing outside WASI".into(),
        false => names.join(", "),
    }
}

/// A component that exports each of `interfaces` (imports of `component`)
/// with every function a trap, built from the component's own types.
pub fn trap_component(component: &[u8], interfaces: &[String]) -> Result<Vec<u8>> {
    let (mut resolve, _) = match wit_component::decode(component)
        .context("failed to read the component's interface types")?
    {
        DecodedWasm::Component(resolve, world) => (resolve, world),
        DecodedWasm::WitPackage(..) => bail!("a WIT package is not a component"),
    };
    let exports: String = interfaces
        .iter()
        .map(|i| format!("  export {i};\n"))
        .collect();
    let text = format!("package wasi-virt:denied;\nworld denied {{\n{exports}}}\n");
    let package = resolve
        .push_str("denied.wit", &text)
        .context("failed to describe the denied imports")?;
    let world = resolve.select_world(&[package], Some("denied"))?;
    let module =
        wit_component::dummy_module(&resolve, world, wit_parser::ManglingAndAbi::Standard32);
    crate::wit::componentize(module, &resolve, world, true)
        .context("failed to build the component that answers denied imports with traps")
}

/// Composes `providers` in front of `component`: each import of the
/// component that a provider exports (the same interface, any compatible
/// version) is connected to it. The output imports the component's other
/// imports and the providers' own.
pub fn plug(component: &[u8], providers: &[Provider]) -> Result<(Vec<u8>, Plugged)> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        plug_graph(component, providers)
    }))
    .unwrap_or_else(|_| {
        Err(anyhow!(
            "wasm-compose failed internally while plugging the providers in; this is a bug, \
             please report it with the components"
        ))
    })
}

fn plug_graph(component: &[u8], providers: &[Provider]) -> Result<(Vec<u8>, Plugged)> {
    let mut graph = CompositionGraph::new();
    let mut validator = Validator::new();
    let user = wasm_compose::graph::Component::from_bytes(&mut validator, "component", component)
        .context("failed to load the component for composition")?;
    let user_imports: Vec<(wasm_compose::graph::ImportIndex, String)> = user
        .imports()
        .map(|(index, name, _)| (index, name.to_string()))
        .collect();
    let u = graph.add_component(user)?;
    let u = graph.instantiate(u)?;
    let mut plugged: Plugged = Vec::new();
    for (n, provider) in providers.iter().enumerate() {
        validate_component(&provider.bytes)
            .with_context(|| format!("failed to load `{}`", provider.label))?;
        let c = wasm_compose::graph::Component::from_bytes(
            &mut validator,
            format!("provider-{n}"),
            provider.bytes.clone(),
        )
        .with_context(|| format!("failed to load `{}` for composition", provider.label))?;
        let mut connections = Vec::new();
        for (import_index, import) in &user_imports {
            let Some(wanted) = InterfaceName::parse(import) else {
                continue;
            };
            let found = c
                .exports()
                .find(|(_, export, _, _)| wanted.is_same_interface(export));
            if let Some((export_index, ..)) = found {
                if let Some((_, other)) = plugged.iter().find(|(i, _)| i == import) {
                    if other == DENIED {
                        bail!(
                            "`{import}` is both denied (--deny-import) and provided by `{}`; \
                             choose one",
                            provider.label
                        );
                    }
                    bail!(
                        "both `{other}` and `{}` provide `{import}`; plug one provider per \
                         interface",
                        provider.label
                    );
                }
                connections.push((export_index, *import_index));
                plugged.push((import.clone(), provider.label.clone()));
            }
        }
        if connections.is_empty() {
            bail!(
                "`{}` provides none of the component's imports (it exports: {})",
                provider.label,
                list_or_none(component_exports(&provider.bytes)?.iter())
            );
        }
        let p = graph.add_component(c)?;
        let p = graph.instantiate(p)?;
        for (export_index, import_index) in connections {
            graph
                .connect(p, Some(export_index), u, import_index)
                .with_context(|| format!("failed to connect `{}`", provider.label))?;
        }
    }
    let bytes = graph
        .encode(EncodeOptions {
            define_components: true,
            export: Some(u),
            validate: true,
        })
        .context("failed to compose the providers with the component")?;
    Ok((bytes, plugged))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_whole_names_versions_and_packages() {
        let import = "ocre:gpio/pins@0.1.0";
        for yes in ["ocre:gpio/pins@0.1.0", "ocre:gpio/pins", "ocre:gpio/*"] {
            assert!(matches(yes, import), "{yes}");
        }
        for no in [
            "ocre:gpio/pin",
            "ocre:gpio/pins@0.2.0",
            "ocre:gp/*",
            "ocre:*",
            "pins",
        ] {
            assert!(!matches(no, import), "{no}");
        }
        assert!(check_pattern("ocre:gpio/*").is_ok());
        assert!(check_pattern("wasi:keyvalue/store").is_ok());
        for bad in [
            "gpio",
            "wasi:cli/stdout",
            "wasi:io/*",
            "ocre:gpio/",
            "*",
            "ocre:/*",
            "a b:c/d",
        ] {
            assert!(check_pattern(bad).is_err(), "{bad}");
        }
    }
}
