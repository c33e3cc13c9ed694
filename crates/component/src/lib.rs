//! wasi-virt's library as a WebAssembly component: the `virt` interface of
//! `wit/world.wit`, for the npm package (npm/build.sh builds it for
//! `wasm32-wasip2` and seals it with wasi-virt, so that it imports nothing).
//!
//! Each function does what the CLI does with files (src/bin/wasi-virt/),
//! with bytes and text instead: `virtualize` as `wasi-virt COMPONENT
//! --policy FILE --report REPORT -o OUT`, `inspect` as `wasi-virt inspect
//! FILE --json`. Errors are the CLI's `error:` text, the whole cause chain.

use anyhow::{bail, Context, Result};
use exports::wasi_virt::virt::virt::{Guest, Output, Policy as PolicyText};
use std::path::Path;
use wasi_virt::{FsEntry, Policy, WasiVirt};

wit_bindgen::generate!({
    path: "wit",
    world: "library",
});

struct Library;

export!(Library);

impl Guest for Library {
    fn virtualize(component: Vec<u8>, policy: PolicyText) -> Result<Output, String> {
        virtualize(component, &policy).map_err(|e| format!("{e:#}"))
    }

    fn inspect(component: Vec<u8>) -> Result<String, String> {
        inspect(&component).map_err(|e| format!("{e:#}"))
    }
}

/// Virtualizes `component` as the CLI does with `--policy`: every
/// subsystem denied, then what the policy configures.
fn virtualize(component: Vec<u8>, text: &PolicyText) -> Result<Output> {
    let mut policy = Policy::deny_all();
    policy.overlay(&read_policy(text)?);
    let mut virt = WasiVirt::from_policy(policy);
    virt.compose(component);
    let out = virt.finish()?;
    let report = &out.report;
    let mut json = serde_json::to_string_pretty(&report.to_json())?;
    json.push('\n');
    let summary = format!(
        "{} ({} bytes, WASI {})\n{report}",
        report.output, report.size, report.wasi_version
    );
    Ok(Output {
        bytes: out.bytes,
        report: json,
        summary,
    })
}

/// The policy of the TOML or JSON text, checked as a policy file is, and
/// refused if it would read host files.
fn read_policy(text: &PolicyText) -> Result<Policy> {
    let policy = match text {
        PolicyText::Toml(toml) => {
            Policy::from_toml(toml).context("failed to parse the TOML policy")?
        }
        PolicyText::Json(json) => {
            let policy: Policy =
                serde_json::from_str(json).context("failed to parse the JSON policy")?;
            policy
                .validate()
                .context("failed to parse the JSON policy")?;
            policy
        }
    };
    refuse_host_files(&policy)?;
    Ok(policy)
}

/// This component has no filesystem: a mount read when virtualizing, or a
/// catalog file, cannot be read here. Said up front, naming the entry,
/// rather than as a failed read.
fn refuse_host_files(policy: &Policy) -> Result<()> {
    if let Some(catalog) = policy.permissions.iter().flat_map(|p| &p.catalogs).next() {
        bail!(
            "the policy names the catalog file `{}`, but wasi-virt as a library component has \
             no filesystem to read it from; use the wasi-virt CLI",
            catalog.display()
        );
    }
    for (guest, entry) in policy.fs.iter().flat_map(|fs| &fs.preopens) {
        refuse_in(Path::new(guest), entry)?;
    }
    Ok(())
}

/// [`refuse_host_files`] for the entry at `guest` and those below it.
fn refuse_in(guest: &Path, entry: &FsEntry) -> Result<()> {
    let host = match entry {
        FsEntry::Dir(entries) => {
            for (name, entry) in entries {
                refuse_in(&guest.join(name), entry)?;
            }
            return Ok(());
        }
        FsEntry::Virtualize(host) => host,
        FsEntry::Overlay(overlay) => &overlay.dir,
        _ => return Ok(()),
    };
    bail!(
        "`{}` mounts the host path `{}`, but wasi-virt as a library component has no \
         filesystem to read it from; give the files inline (`dir` and `source` entries) or \
         use the wasi-virt CLI",
        guest.display(),
        host.display()
    )
}

/// What `wasi-virt inspect --json` prints, with the built-in catalog.
fn inspect(component: &[u8]) -> Result<String> {
    let inspection = wasi_virt::inspect(component).context("failed to inspect the component")?;
    let mut json = serde_json::to_string_pretty(&inspection)?;
    json.push('\n');
    Ok(json)
}
