//! `wasi-virt check FILE --permissions LIST [--catalog FILE] [--json]
//! [--strict] [--skip-validation]`: whether what a module or a component
//! can reach falls under the declared permissions. Its exit codes are
//! stable: 0 covered, 1 not covered, 2 bad input (docs/catalogs.md).

use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use wasi_virt::{Catalog, Declared, Policy};

/// Check that every imported function a core module or a component can
/// reach falls under the declared permissions, as the built-in catalog and
/// the catalog files given say. For any core module (one that imports the
/// Ocre runtime's functions from `env`, or WasmEdge's `wasmedge_process`) as
/// well as components and wasm32-wasip1 programs; nothing is written.
///
/// Exit codes (stable): 0 when every reachable imported function is
/// covered, 1 when one is not (each is listed with the permission it
/// needs), 2 on bad input (a file that cannot be read or is no valid
/// WebAssembly, a malformed catalog, an unknown permission) or bad usage.
///
/// Example:
///
///   wasi-virt check app.wasm --catalog catalogs/atym.toml --permissions networking,ocre_gpio
///
///   wasi-virt check app.wasm --permissions stdio,clocks --json | jq .offending
#[derive(Args, Debug)]
#[command(
    about = "Check that what a module or component can reach is covered by declared permissions",
    verbatim_doc_comment
)]
pub struct Check {
    /// The core module or component to check.
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// The permissions granted: environment, stdio, filesystem,
    /// networking, clocks, random, exit, config, a permission of a catalog
    /// file, or a non-WASI interface (`ocre:gpio/pins`) or package
    /// (`ocre:gpio/*`). Comma-separated, repeatable; none by default.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    permissions: Vec<String>,

    /// A permission catalog (TOML, see docs/catalogs.md) to add to the
    /// built-in one: permissions for a platform's host functions (`env`
    /// `ocre_gpio_*`). Repeatable.
    #[arg(long, value_name = "FILE")]
    catalog: Vec<PathBuf>,

    /// A TOML policy file whose `[permissions]` (`declared`, `catalogs`,
    /// `skip-validation`) adds to the flags; the rest of it is not used.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,

    /// Count the imported functions the code cannot reach too.
    #[arg(long)]
    strict: bool,

    /// Do not check (exit 0; the output says nothing was checked).
    #[arg(long)]
    skip_validation: bool,

    /// Print JSON (the `wasi-virt-check/1` schema) instead of text, for a
    /// failure too (the `error:` line still goes to stderr).
    #[arg(long)]
    json: bool,
}

impl Check {
    /// Checks; an error is bad input (exit 2), a failed check exit 1.
    pub fn run(&self) -> Result<ExitCode> {
        let (catalog, declared, skip) = self.declarations()?;
        let bytes = std::fs::read(&self.file)
            .with_context(|| format!("failed to read `{}`", self.file.display()))?;
        let inspection = wasi_virt::inspect_with(&bytes, &catalog)
            .with_context(|| format!("failed to check `{}`", self.file.display()))?;
        let report = wasi_virt::check(&inspection, &declared, self.strict, skip);
        if self.json {
            let mut json = serde_json::to_string_pretty(&report)?;
            json.push('\n');
            crate::print_ignoring_closed(&json)?;
        }
        match report.failure() {
            None => {
                if !self.json {
                    crate::print_ignoring_closed(&report.to_string())?;
                }
                Ok(ExitCode::SUCCESS)
            }
            Some(failure) => {
                let e = anyhow::anyhow!(failure);
                eprint!("{}", crate::error_report(&e));
                Ok(ExitCode::from(1))
            }
        }
    }

    /// The catalog, the declared permissions parsed with it, and whether to
    /// skip the check: from the flags and the policy file's
    /// `[permissions]`.
    fn declarations(&self) -> Result<(Catalog, Vec<Declared>, bool)> {
        let mut names = self.permissions.clone();
        let mut files = self.catalog.clone();
        let mut skip = self.skip_validation;
        if let Some(path) = &self.policy {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("failed to read policy `{}`", path.display()))?;
            let policy = Policy::from_toml(&text)
                .with_context(|| format!("failed to parse policy `{}`", path.display()))?;
            if let Some(p) = policy.permissions {
                names.extend(p.declared);
                files.extend(p.catalogs);
                skip |= p.skip_validation;
            }
        }
        let catalog = Catalog::with_files(&files)?;
        let declared = names
            .iter()
            .map(|n| catalog.parse_declared(n))
            .collect::<Result<Vec<_>>>()
            .context("failed to read the declared permissions")?;
        Ok((catalog, declared, skip))
    }
}
