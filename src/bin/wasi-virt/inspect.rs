//! `wasi-virt inspect FILE [--json] [--catalog FILE]`: every import of a
//! component or a core module, by permission, with the functions its code
//! can reach.

use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;

/// List what a component (or a core module) asks its host for: every
/// import, grouped by the permission it needs (environment, stdio,
/// filesystem, networking, clocks, random, exit, config, a non-WASI
/// interface's own name, or a permission of a catalog file), with the
/// functions imported and which of them its code can reach. `wasi:io`
/// carries the others and needs no permission of its own, nor does an
/// import of types alone. A core module's import that no catalog covers
/// (`env` `ocre_gpio_init`, without `--catalog`) is listed as `unknown`.
/// WASI interfaces that no subsystem governs (`wasi:logging/logging`) are
/// listed at the end: virtualizing denies them unless `--allow-import`
/// names them.
///
/// Example:
///
///   wasi-virt inspect app.wasm
///
///   wasi-virt inspect app.wasm --json | jq '.permissions[].permission'
///
///   wasi-virt inspect ocre-app.wasm --catalog catalogs/atym.toml
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

    /// A permission catalog (TOML, see docs/catalogs.md) to add to the
    /// built-in one: permissions for a platform's host functions (`env`
    /// `ocre_gpio_*`). Repeatable.
    #[arg(long, value_name = "FILE")]
    catalog: Vec<PathBuf>,
}

impl Inspect {
    pub fn run(&self) -> Result<()> {
        let bytes = std::fs::read(&self.file)
            .with_context(|| format!("failed to read `{}`", self.file.display()))?;
        let catalog = wasi_virt::Catalog::with_files(&self.catalog)?;
        let inspection = wasi_virt::inspect_with(&bytes, &catalog)
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
