//! Runs a command component in wasmtime with this process's environment,
//! arguments and stdio, as an unrestricted host would:
//!
//!     cargo run -p run-component -- app.wasm [ARGS...]
//!
//! Used by `./example.sh` to show what a virtualized component can still see.
use anyhow::{bail, Context, Result};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::bindings::sync::Command;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        bail!("usage: run-component COMPONENT.wasm [ARGS...]");
    };
    let engine = Engine::default();
    let component = Component::from_file(&engine, path)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("failed to load `{path}`"))?;
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(anyhow::Error::from)?;
    let wasi = WasiCtx::builder()
        .inherit_env()
        .args(&args)
        .inherit_stdio()
        .build();
    let mut store = Store::new(
        &engine,
        Host {
            wasi,
            table: ResourceTable::new(),
        },
    );
    let command =
        Command::instantiate(&mut store, &component, &linker).map_err(anyhow::Error::from)?;
    match command.wasi_cli_run().call_run(&mut store) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(())) => bail!("the component's run returned an error"),
        Err(e) => Err(anyhow::Error::from(e).context("the component trapped")),
    }
}
