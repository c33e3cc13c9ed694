//! `wasi-virt inspect FILE [--json]`: every import of a component or a
//! `wasm32-wasip1` module, by permission, with the functions its code can
//! reach.

use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;

/// List what a component (or a `wasm32-wasip1` core module) asks its host
/// for: every import, grouped by the permission it needs (environment,
/// stdio, filesystem, networking, clocks, random, exit, config, or a
/// non-WASI interface's own name), with the functions imported and which of
/// them its code can reach. `wasi:io` carries the others and needs no
/// permission of its own, nor does an import of types alone. WASI
/// interfaces that no subsystem governs (`wasi:logging/logging`) are listed
/// at the end: virtualizing denies them unless `--allow-import` names them.
///
/// Example:
///
///   wasi-virt inspect app.wasm
///
///   wasi-virt inspect app.wasm --json | jq '.permissions[].permission'
#[derive(Args, Debug)]
#[command(
    // The short about, for the list of subcommands and `-h`.
    about = "List what a component asks its host for, by permission",
    verbatim_doc_comment
)]
pub struct Inspect {
    /// The component or core module to inspect.
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// Print JSON (the `wasi-virt-inspect/1` schema) instead of a table.
    #[arg(long)]
    json: bool,
}

impl Inspect {
    pub fn run(&self) -> Result<()> {
        let bytes = std::fs::read(&self.file)
            .with_context(|| format!("failed to read `{}`", self.file.display()))?;
        let inspection = wasi_virt::inspect(&bytes)
            .with_context(|| format!("failed to inspect `{}`", self.file.display()))?;
        let text = if self.json {
            let mut json = serde_json::to_string_pretty(&inspection)?;
            json.push('\n');
            json
        } else {
            inspection.to_string()
        };
        crate::print_ignoring_closed(&text)
    }
}
