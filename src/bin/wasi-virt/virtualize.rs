//! `wasi-virt [virtualize] [COMPONENT] -o OUT`: virtualize a component, or
//! write the specialized adapter alone. The subcommand is the default: its
//! flags are the top level's too (src/bin/wasi-virt/main.rs).

use crate::atomic_write::{check_output, write_atomically};
use crate::flags::{
    AccessFlags, ConfigFlags, EnvFlags, FsFlags, NetworkFlags, OutputFlags, PermissionFlags,
    StdioFlags,
};
use crate::progress::Progress;
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use wasi_virt::{Policy, WasiVirt};

/// Virtualize WASI for a WebAssembly component.
///
/// Writes the policy into a virtual adapter, removes every host import the
/// policy denies, and composes the adapter in front of COMPONENT. Without
/// COMPONENT, writes the adapter alone, for
/// `wasm-tools compose component.wasm -d virt.wasm` or `wac plug`.
///
/// Encapsulation by default: with no flags, every subsystem is denied. The
/// environment is sealed (only `-e` variables), stdio fails on use, clocks,
/// random and exit trap, sockets fail with `access-denied`, http requests
/// with `HTTP-request-denied`, config properties not given with `-c` are
/// errors, no host directory is preopened, and the output imports none of
/// them from the host. A WASI interface that no subsystem governs
/// (`wasi:logging/logging`, `wasi:keyvalue/store`) is answered with traps
/// and removed too, unless `--allow-import` names it: the output imports
/// nothing of WASI that was not let through.
/// Each `--allow-*` flag lets one subsystem through.
///
/// Virtualizing is the default command: `wasi-virt app.wasm -o out.wasm` is
/// `wasi-virt virtualize app.wasm -o out.wasm` (and a component file named
/// like a command is `./inspect`, or `wasi-virt virtualize inspect`).
/// `wasi-virt inspect FILE` lists what a component asks for, by permission
/// (`wasi-virt inspect --help`); `wasi-virt completions SHELL` and
/// `wasi-virt man` print shell completions and the manual page.
///
/// Examples:
///
///   wasi-virt app.wasm -e MODE=prod --allow-env=LANG,TZ -o app.virt.wasm
///
///   wasi-virt app.wasm --allow-stdio --stdin=ignore --allow-clocks -o app.virt.wasm
///
///   wasi-virt app.wasm --allow-all --allow-random=false -o app.virt.wasm
///
///   wasi-virt --policy policy.toml --wasi-version 0.2.6 -o virt.wasm
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Virtualize {
    /// The component to virtualize. Without it, the adapter is written alone.
    #[arg(value_name = "COMPONENT")]
    component: Option<PathBuf>,

    /// A TOML policy file (the `wasi_virt::Policy` schema). Flags given
    /// as well refine it.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,

    #[command(flatten)]
    output: OutputFlags,
    #[command(flatten)]
    env: EnvFlags,
    #[command(flatten)]
    stdio: StdioFlags,
    #[command(flatten)]
    access: AccessFlags,
    #[command(flatten)]
    network: NetworkFlags,
    #[command(flatten)]
    fs: FsFlags,
    #[command(flatten)]
    config: ConfigFlags,
    #[command(flatten)]
    permissions: PermissionFlags,
}

impl Virtualize {
    pub fn run(&self) -> Result<()> {
        let out = self.output.out();
        check_output(out)?;
        if let Some(report) = &self.output.report {
            check_output(report)?;
        }
        let mut virt = WasiVirt::from_policy(self.policy()?);
        if let Some(path) = &self.component {
            virt.compose_path(path);
        }
        for plug in self.permissions.plugs() {
            virt.plug_path(plug);
        }
        if let Some(v) = &self.output.wasi_version {
            virt.wasi_version(v.clone());
        }
        let progress = Progress::start(self.output.quiet);
        let report = write_atomically(out, |w| virt.finish_to(&mut progress.counting(w)))?;
        progress.finish();
        if let Some(path) = &self.output.report {
            write_atomically(path, |w| {
                serde_json::to_writer_pretty(&mut *w, &report.to_json())?;
                Ok(w.write_all(b"\n")?)
            })?;
        }
        if self.output.quiet {
            return Ok(());
        }
        let summary = format!(
            "wrote {} ({}, {} bytes, WASI {})\n{report}",
            out.display(),
            report.output,
            report.size,
            report.wasi_version
        );
        // The output is written; a reader of the summary that has gone away
        // (`| head`) is no failure.
        crate::print_ignoring_closed(&summary)
    }

    /// Everything denied (or allowed, with `--allow-all`), then the policy
    /// file's settings, then the flags.
    fn policy(&self) -> Result<Policy> {
        let mut policy = if self.access.allow_all {
            Policy::allow_all()
        } else {
            Policy::deny_all()
        };
        if let Some(path) = &self.policy {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("failed to read policy `{}`", path.display()))?;
            let file = Policy::from_toml(&text)
                .with_context(|| format!("failed to parse policy `{}`", path.display()))?;
            policy.overlay(&file);
        }
        self.env.apply(&mut policy)?;
        self.stdio.apply(&mut policy)?;
        self.access.apply(&mut policy)?;
        self.network.apply(&mut policy);
        self.fs.apply(&mut policy)?;
        self.config.apply(&mut policy)?;
        self.permissions.apply(&mut policy);
        self.output.apply(&mut policy)?;
        Ok(policy)
    }
}
