//! Composes the specialized adapter in front of a user component, in memory.
//!
//! wasm-compose matches definitions to imports by exact name, and a user
//! component may import any WASI 0.2.x. So every connection is made
//! explicitly in a composition graph, which checks types (subtyping), not
//! names.
//!
//! The graph also treats resources imported under the same name by two
//! components as one resource. The adapter imports `wasi:io/poll` from the
//! host to pass calls through, and exports its own `wasi:io/poll` to the
//! component; were the component's import still named `wasi:io/poll`, its
//! `pollable` would be taken for the host's and the connection refused. So
//! the component's imports that the adapter satisfies are first given
//! private names: once connected, they are internal to the output.

use crate::names::InterfaceName;
use crate::rename::rename_top_level;
use anyhow::{Context, Result};
use wasm_compose::graph::{CompositionGraph, EncodeOptions};
use wasmparser::Validator;

/// Prepended to the component's imports that the adapter satisfies.
const PRIVATE_PREFIX: &str = "virtualized-";

/// Instantiates `adapter`, feeds each of its exports to the user component's
/// import of the same interface (whatever its version), and exports what the
/// user component exports.
pub fn compose(adapter: &[u8], component: &[u8]) -> Result<Vec<u8>> {
    // wasm-compose asserts, rather than reports, some shapes it cannot
    // encode; a caller gets an error, not a crash.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        compose_graph(adapter, component)
    }))
    .unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("unknown");
        Err(anyhow::anyhow!(
            "failed to compose the adapter with the component: wasm-compose failed \
                 internally ({why}); this is a bug, please report it with the component"
        ))
    })
}

fn compose_graph(adapter: &[u8], component: &[u8]) -> Result<Vec<u8>> {
    let mut graph = CompositionGraph::new();
    // Types are compared across components, so both must come from one
    // validator.
    let mut validator = Validator::new();
    let adapter_c =
        wasm_compose::graph::Component::from_bytes(&mut validator, "wasi-virt", adapter)
            .context("failed to load the specialized adapter for composition")?;
    let provided: Vec<InterfaceName> = adapter_c
        .exports()
        .filter_map(|(_, name, _, _)| InterfaceName::parse(name))
        .collect();
    let private = |name: &str| {
        let n = InterfaceName::parse(name)?;
        provided
            .iter()
            .any(|p| p.unversioned == n.unversioned)
            .then(|| format!("{PRIVATE_PREFIX}{name}"))
    };
    let component = rename_top_level(component, &private)?;
    let user_c = wasm_compose::graph::Component::from_bytes(&mut validator, "component", component)
        .context("failed to load the component for composition")?;

    let mut plugs = Vec::new();
    for (import_index, name, _) in user_c.imports() {
        let Some(original) = name.strip_prefix(PRIVATE_PREFIX) else {
            continue;
        };
        let wanted = InterfaceName::parse(original).expect("renamed because it parsed");
        let found = adapter_c
            .exports()
            .find(|(_, export, _, _)| wanted.is_same_interface(export));
        if let Some((export_index, ..)) = found {
            plugs.push((export_index, import_index, original.to_string()));
        }
    }

    let a = graph.add_component(adapter_c)?;
    let u = graph.add_component(user_c)?;
    let a = graph.instantiate(a)?;
    let u = graph.instantiate(u)?;
    for (export_index, import_index, name) in plugs {
        graph
            .connect(a, Some(export_index), u, import_index)
            .with_context(|| format!("failed to satisfy the component's import `{name}`"))?;
    }
    graph
        .encode(EncodeOptions {
            define_components: true,
            export: Some(u),
            validate: true,
        })
        .context("failed to encode the composed component")
}
