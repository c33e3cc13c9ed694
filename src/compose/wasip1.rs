//! `wasm32-wasip1` core modules, made components with wasmtime's preview1
//! adapter (from the `wasi-preview1-component-adapter-provider` crate, at
//! the wasmtime version the tests run), so that they can be virtualized like
//! any component.

use crate::inspect::PREVIEW1;
use anyhow::{Context, Result};
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wasmparser::{ExternalKind, Parser, Payload};

/// Makes a component of a `wasm32-wasip1` module: a command (it exports
/// `_start`) with the command adapter, which exports `wasi:cli/run`; a
/// library with the reactor adapter.
pub fn componentize(module: &[u8]) -> Result<Vec<u8>> {
    let adapter = if exports_start(module)? {
        WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER
    } else {
        WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER
    };
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(module)
        .context("failed to read the wasip1 module")?
        .adapter(PREVIEW1, adapter)
        .context("failed to load the preview1 adapter")?
        .encode()
        .context("failed to make a component of the wasip1 module with the preview1 adapter")
}

fn exports_start(module: &[u8]) -> Result<bool> {
    for payload in Parser::new(0).parse_all(module) {
        if let Payload::ExportSection(s) = payload? {
            for export in s {
                let export = export?;
                if export.name == "_start" && export.kind == ExternalKind::Func {
                    return Ok(true);
                }
            }
        }
    }
    Ok(false)
}
