//! Shared by the runtime cases, the CLI tests and the benchmark: building the
//! guest components, and running components in a real host (wasmtime 48 with
//! wasmtime-wasi) that grants only what it is told.
#![allow(dead_code)]

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use wasmtime::component::{Component, Linker, ResourceTable, Val};
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The case files (`*.toml`) of the repository's folder `dir`, in order.
pub fn case_files(dir: &str) -> Vec<PathBuf> {
    let dir = repo().join(dir);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
}

/// Builds every guest in `tests/components` for `wasm32-wasip2` (once per
/// process), adding the target first where it is missing.
pub fn guests_dir() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        build_wasm_workspace(&repo().join("tests/components"))
            .expect("failed to build the guest components")
    })
}

/// The guest `name` of `tests/components` built as a `wasm32-wasip1` core
/// module (once per process per guest), adding the target where missing.
pub fn wasip1_guest(name: &str) -> Vec<u8> {
    static BUILT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let dir = repo().join("tests/components");
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    if !built.iter().any(|b| b == name) {
        cargo_build(&dir, "wasm32-wasip1", &["-p", name]).expect("failed to build a wasip1 guest");
        built.push(name.to_string());
    }
    let file = dir.join(format!("target/wasm32-wasip1/release/{name}.wasm"));
    std::fs::read(&file).unwrap_or_else(|e| panic!("no wasip1 guest `{}`: {e}", file.display()))
}

/// Builds a Rust workspace for `wasm32-wasip2`, returning its release dir.
pub fn build_wasm_workspace(dir: &Path) -> Result<PathBuf> {
    cargo_build(dir, "wasm32-wasip2", &[])?;
    Ok(dir.join("target/wasm32-wasip2/release"))
}

/// `cargo build --release --locked` of the workspace in `dir` for `target`
/// (added first where missing), into `dir/target`, with `extra` arguments.
fn cargo_build(dir: &Path, target: &str, extra: &[&str]) -> Result<()> {
    ensure_target(target)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--locked", "--target", target])
        .args(extra)
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(dir.join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .context("failed to run cargo for the guest components")?;
    if !status.success() {
        bail!("building `{}` for {target} failed", dir.display());
    }
    Ok(())
}

fn ensure_target(target: &str) -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("failed to run `rustup target list --installed`")?;
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == target)
    {
        return Ok(());
    }
    let status = Command::new("rustup")
        .args(["target", "add", target])
        .status()
        .context("failed to run `rustup target add`")?;
    if !status.success() {
        bail!("`rustup target add {target}` failed");
    }
    Ok(())
}

/// The bytes of guest `name` (`env-args`, `lib-export`).
pub fn guest(name: &str) -> Vec<u8> {
    let file = guests_dir().join(format!("{}.wasm", name.replace('-', "_")));
    let file = if file.exists() {
        file
    } else {
        guests_dir().join(format!("{name}.wasm"))
    };
    std::fs::read(&file).unwrap_or_else(|e| panic!("no guest `{}`: {e}", file.display()))
}

/// Renames a component's top-level WASI imports and exports to `version`,
/// as a component built against that WASI release names them. Rust's std
/// imports 0.2.6; WASI 0.2 releases are additive, so the types it uses are
/// the same in every 0.2.x.
pub fn with_wasi_version(component: &[u8], version: &str) -> Result<Vec<u8>> {
    let bytes = wasi_virt::rename_top_level(component, &|name| match name.split_once('@') {
        Some((path, v)) if path.starts_with("wasi:") && v.starts_with("0.2.") => {
            Some(format!("{path}@{version}"))
        }
        _ => None,
    })?;
    wasmparser::Validator::new().validate_all(&bytes)?;
    Ok(bytes)
}

/// The newest WASI 0.2.x a component imports: the version a standalone
/// adapter for it must be written at, since `wasm-tools compose` matches
/// names exactly.
pub fn wasi_version_of(component: &[u8]) -> Result<semver::Version> {
    wasi_virt::component_imports(component)?
        .iter()
        .filter_map(|i| {
            wasi_virt::InterfaceName::parse(i)?
                .wasi_0_2_version()
                .cloned()
        })
        .max()
        .context("the component imports no WASI 0.2 interface")
}

/// What composes a standalone adapter with the component, as a user does.
#[derive(Clone, Copy, Debug)]
pub enum Tool {
    /// `wasm-tools compose component.wasm -d virt.wasm` (wasm-compose's
    /// `ComponentComposer` with a definition).
    WasmToolsCompose,
    /// `wac plug component.wasm --plug virt.wasm` (wac-graph's `plug`).
    WacPlug,
}

impl Tool {
    pub const ALL: [Tool; 2] = [Tool::WasmToolsCompose, Tool::WacPlug];

    pub fn label(self) -> &'static str {
        match self {
            Tool::WasmToolsCompose => "wasm-tools-compose",
            Tool::WacPlug => "wac-plug",
        }
    }

    pub fn compose(self, component: &[u8], adapter: &[u8]) -> Result<Vec<u8>> {
        match self {
            Tool::WasmToolsCompose => wasm_tools_compose(component, adapter),
            Tool::WacPlug => wac_plug(component, adapter),
        }
    }
}

/// What `wasm-tools compose component.wasm -d virt.wasm -o out.wasm` does
/// (wasm-compose's `ComponentComposer` with a definition).
pub fn wasm_tools_compose(component: &[u8], adapter: &[u8]) -> Result<Vec<u8>> {
    let dir = tempfile::tempdir()?;
    let component_path = dir.path().join("component.wasm");
    let adapter_path = dir.path().join("virt.wasm");
    std::fs::write(&component_path, component)?;
    std::fs::write(&adapter_path, adapter)?;
    let config = wasm_compose::config::Config {
        definitions: vec![adapter_path],
        ..Default::default()
    };
    wasm_compose::composer::ComponentComposer::new(&component_path, &config)
        .compose()
        .context("`wasm-tools compose -d` failed")
}

/// What `wac plug component.wasm --plug virt.wasm -o out.wasm` does
/// (wac-graph's `plug`, encoded with the defaults).
pub fn wac_plug(component: &[u8], adapter: &[u8]) -> Result<Vec<u8>> {
    use wac_graph::types::Package;
    let mut graph = wac_graph::CompositionGraph::new();
    let socket = Package::from_bytes("component", None, component.to_vec(), graph.types_mut())
        .context("`wac plug`: failed to load the component")?;
    let socket = graph.register_package(socket)?;
    let plug = Package::from_bytes("virt", None, adapter.to_vec(), graph.types_mut())
        .context("`wac plug`: failed to load the adapter")?;
    let plug = graph.register_package(plug)?;
    wac_graph::plug(&mut graph, vec![plug], socket).context("`wac plug` failed")?;
    graph
        .encode(wac_graph::EncodeOptions::default())
        .context("`wac plug` failed to encode the composition")
}

/// What the host grants, and nothing else: no preopens, no network, no
/// inherited environment.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Host {
    #[serde(default)]
    pub env: indexmap::IndexMap<String, String>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub cwd: Option<String>,
    /// What the component reads on stdin; without it, stdin is empty.
    #[serde(default)]
    pub stdin: Option<String>,
    /// `wasi:config/store` properties.
    #[serde(default)]
    pub config: indexmap::IndexMap<String, String>,
    /// Preopened directories, guest path to host path (relative paths are
    /// relative to the repository), read-only.
    #[serde(default)]
    pub preopens: indexmap::IndexMap<String, String>,
    /// Preopened directories the component may change, as `preopens`.
    #[serde(default)]
    pub writable_preopens: indexmap::IndexMap<String, String>,
    /// Grant outgoing HTTP (`wasi:http`); without it the host does not even
    /// define those interfaces, so a component importing them cannot start.
    #[serde(default)]
    pub http: bool,
    /// Grant TCP, UDP and name lookup (to any address; tests only use
    /// 127.0.0.1).
    #[serde(default)]
    pub network: bool,
    /// Run in [`serving_engine`], as `wasmtime serve` runs components
    /// ([`HttpServer::start`] sets it).
    #[serde(skip)]
    pub serving: bool,
}

impl Host {
    fn engine(&self) -> &'static Engine {
        match self.serving {
            true => serving_engine(),
            false => engine(),
        }
    }
}

struct Ctx {
    wasi: WasiCtx,
    table: ResourceTable,
    config: wasmtime_wasi_config::WasiConfigVariables,
    http: wasmtime_wasi_http::WasiHttpCtx,
}

impl wasmtime_wasi_http::WasiHttpView for Ctx {
    fn http(&mut self) -> wasmtime_wasi_http::WasiHttpCtxView<'_> {
        wasmtime_wasi_http::WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: wasmtime_wasi_http::default_hooks(),
        }
    }
}

impl WasiView for Ctx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The engine every component runs in: wasmtime's defaults, with the
/// component model's async ABI on, which a WASI 0.3 component needs
/// (components without it run as before).
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(&engine_config()).expect("a valid engine configuration"))
}

fn engine_config() -> wasmtime::Config {
    let mut config = wasmtime::Config::new();
    config.wasm_component_model_async(true);
    config
}

/// The engine `wasmtime serve` runs served components in: [`engine`]'s
/// configuration with the pooling instance allocator (its default limits),
/// which `wasmtime serve` turns on where the machine can reserve the
/// address space it needs; where it cannot, [`engine`] itself, as
/// `wasmtime serve` then falls back to allocating each instance on demand.
pub fn serving_engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = engine_config();
        config.allocation_strategy(wasmtime::InstanceAllocationStrategy::pooling());
        Engine::new(&config).unwrap_or_else(|_| engine().clone())
    })
}

/// Whether `component` imports some WASI 0.3 interface: then it runs on
/// a host that serves WASI 0.2 and 0.3 both ([`p3_linker`]), as wasmtime
/// 48 does with `-Sp3 -Wcomponent-model-async`.
pub fn imports_wasi_0_3(component: &Component) -> bool {
    component
        .component_type()
        .imports(engine())
        .any(|(name, _)| name.starts_with("wasi:") && name.contains("@0.3."))
}

pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub end: End,
}

/// How a command ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// `run` returned `ok`.
    Ok,
    /// `run` returned `err`.
    RunError,
    /// `wasi:cli/exit` with this status.
    Exit(i32),
    /// A trap, with wasmtime's message.
    Trap(String),
}

fn store(host: &Host, stdout: &MemoryOutputPipe, stderr: &MemoryOutputPipe) -> Store<Ctx> {
    let mut wasi = WasiCtx::builder();
    for (k, v) in &host.env {
        wasi.env(k, v);
    }
    wasi.args(&host.args);
    if let Some(cwd) = &host.cwd {
        wasi.initial_cwd(cwd);
    }
    wasi.stdout(stdout.clone()).stderr(stderr.clone());
    for (guest, host_path) in &host.preopens {
        wasi.preopened_dir(
            repo().join(host_path),
            guest,
            wasmtime_wasi::FsPerms::ReadOnly,
        )
        .expect("a preopen that exists");
    }
    for (guest, host_path) in &host.writable_preopens {
        wasi.preopened_dir(
            repo().join(host_path),
            guest,
            wasmtime_wasi::FsPerms::ReadWrite,
        )
        .expect("a preopen that exists");
    }
    if host.network {
        wasi.inherit_network()
            .allow_ip_name_lookup(true)
            .allow_tcp(true)
            .allow_udp(true);
    }
    if let Some(input) = &host.stdin {
        wasi.stdin(wasmtime_wasi::p2::pipe::MemoryInputPipe::new(input.clone()));
    }
    Store::new(
        host.engine(),
        Ctx {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            config: host
                .config
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
            http: wasmtime_wasi_http::WasiHttpCtx::new(),
        },
    )
}

fn linker(host: &Host) -> Result<Linker<Ctx>> {
    let mut linker = Linker::new(host.engine());
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    if host.http {
        wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)?;
    }
    add_config(&mut linker)?;
    Ok(linker)
}

/// The linker of a host serving WASI 0.2 and 0.3 (wasmtime-wasi's `p2`
/// linked for async calls, and its `p3`), with what `host` grants.
fn p3_linker(host: &Host) -> Result<Linker<Ctx>> {
    let mut linker = Linker::new(host.engine());
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi::p3::add_to_linker(&mut linker)?;
    if host.http {
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
    }
    add_config(&mut linker)?;
    Ok(linker)
}

/// Links `wasi:config/store`, answered from the host's properties.
fn add_config(linker: &mut Linker<Ctx>) -> Result<()> {
    wasmtime_wasi_config::add_to_linker(linker, |h: &mut Ctx| {
        wasmtime_wasi_config::WasiConfig::from(&h.config)
    })?;
    Ok(())
}

/// How a `run` call ended, from its result.
fn end_of(result: wasmtime::Result<Result<(), ()>>) -> End {
    match result {
        Ok(Ok(())) => End::Ok,
        Ok(Err(())) => End::RunError,
        Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => End::Exit(exit.0),
            None => End::Trap(format!("{e:?}")),
        },
    }
}

/// Runs a command component that imports WASI 0.3 on the host of
/// [`p3_linker`]: through its WASI 0.3 `wasi:cli/run` where it exports one
/// ([`run_p3_async`]), else through its WASI 0.2 one (a component built
/// with wit-bindgen on `wasm32-wasip2` exports std's).
fn run_p3(component: &Component, host: &Host, store: &mut Store<Ctx>) -> Result<End> {
    if exports_run_0_3(component) {
        return run_p3_async(component, host, store);
    }
    let linker = p3_linker(host)?;
    wasmtime_wasi::runtime::in_tokio(async {
        let command = wasmtime_wasi::p2::bindings::Command::instantiate_async(
            &mut *store,
            component,
            &linker,
        )
        .await
        .map_err(anyhow::Error::from)
        .context("failed to instantiate component")?;
        Ok(end_of(command.wasi_cli_run().call_run(&mut *store).await))
    })
}

/// Whether `component` exports WASI 0.3's `wasi:cli/run`.
fn exports_run_0_3(component: &Component) -> bool {
    component
        .component_type()
        .exports(engine())
        .any(|(name, _)| name == "wasi:cli/run@0.3.0")
}

/// Runs a WASI 0.3 command through its async `wasi:cli/run@0.3.0`, as a
/// host serving 0.3 does: concurrently, in wasmtime's event loop.
fn run_p3_async(component: &Component, host: &Host, store: &mut Store<Ctx>) -> Result<End> {
    let linker = p3_linker(host)?;
    wasmtime_wasi::runtime::in_tokio(async {
        let command = wasmtime_wasi::p3::bindings::Command::instantiate_async(
            &mut *store,
            component,
            &linker,
        )
        .await
        .map_err(anyhow::Error::from)
        .context("failed to instantiate component")?;
        let result = store
            .run_concurrent(async move |store| command.wasi_cli_run().call_run(store).await)
            .await
            .and_then(|r| r);
        Ok(end_of(result))
    })
}

/// Compiles and instantiates a component in `host` (its start functions
/// run), without calling anything: whether a host serves every import.
pub fn instantiates(bytes: &[u8], host: &Host) -> Result<()> {
    let component = compile(bytes)?;
    if imports_wasi_0_3(&component) {
        let (stdout, stderr) = (
            MemoryOutputPipe::new(1 << 20),
            MemoryOutputPipe::new(1 << 20),
        );
        let mut store = store(host, &stdout, &stderr);
        let linker = p3_linker(host)?;
        return wasmtime_wasi::runtime::in_tokio(async {
            linker
                .instantiate_async(&mut store, &component)
                .await
                .map(drop)
                .map_err(anyhow::Error::from)
                .context("failed to instantiate component")
        });
    }
    let (stdout, stderr) = (
        MemoryOutputPipe::new(1 << 20),
        MemoryOutputPipe::new(1 << 20),
    );
    let mut store = store(host, &stdout, &stderr);
    linker(host)?
        .instantiate(&mut store, &component)
        .map_err(anyhow::Error::from)
        .context("failed to instantiate component")?;
    Ok(())
}

/// Runs a command component's `wasi:cli/run`. Failing to compile or
/// instantiate is an error; how the run ended is in the output.
pub fn run_command(bytes: &[u8], host: &Host) -> Result<Output> {
    run_compiled(&compile(bytes)?, host)
}

/// Compiles a component for [`run_compiled`].
pub fn compile(bytes: &[u8]) -> Result<Component> {
    Component::new(engine(), bytes)
        .map_err(anyhow::Error::from)
        .context("failed to compile component")
}

/// Instantiates and runs a compiled command component.
pub fn run_compiled(component: &Component, host: &Host) -> Result<Output> {
    let (stdout, stderr) = (
        MemoryOutputPipe::new(64 << 20),
        MemoryOutputPipe::new(1 << 20),
    );
    let mut store = store(host, &stdout, &stderr);
    let end = if imports_wasi_0_3(component) || exports_run_0_3(component) {
        run_p3(component, host, &mut store)?
    } else {
        let command = wasmtime_wasi::p2::bindings::sync::Command::instantiate(
            &mut store,
            component,
            &linker(host)?,
        )
        .map_err(anyhow::Error::from)
        .context("failed to instantiate component")?;
        end_of(command.wasi_cli_run().call_run(&mut store))
    };
    Ok(Output {
        stdout: String::from_utf8_lossy(&stdout.contents()).into_owned(),
        stderr: String::from_utf8_lossy(&stderr.contents()).into_owned(),
        end,
    })
}

/// Runs a compiled command that must succeed; its stdout.
pub fn run_ok_compiled(component: &Component, host: &Host) -> String {
    let out = run_compiled(component, host).expect("instantiate");
    assert_eq!(out.end, End::Ok, "stderr: {}", out.stderr);
    out.stdout
}

/// Runs a command that must succeed.
pub fn run_ok(bytes: &[u8], host: &Host) -> Result<Output> {
    let out = run_command(bytes, host)?;
    if out.end != End::Ok {
        bail!("component ended with {:?}; stderr: {}", out.end, out.stderr);
    }
    Ok(out)
}

/// Calls a top-level exported function of a library component, returning
/// its results rendered as text (`some("x")`, `none`, `["a", "b"]`).
pub fn call_export(bytes: &[u8], host: &Host, func: &str, args: &[String]) -> Result<String> {
    call(bytes, host, func, args, false)
}

/// As [`call_export`], in the host of [`p3_linker`], called as a host
/// serving WASI 0.3 calls: for a component that waits on the component
/// model's streams and futures (WASI 0.3's), which a synchronous call
/// cannot.
pub fn call_export_0_3(bytes: &[u8], host: &Host, func: &str, args: &[String]) -> Result<String> {
    call(bytes, host, func, args, true)
}

fn call(bytes: &[u8], host: &Host, func: &str, args: &[String], p3: bool) -> Result<String> {
    let component = compile(bytes)?;
    let (stdout, stderr) = (
        MemoryOutputPipe::new(1 << 20),
        MemoryOutputPipe::new(1 << 20),
    );
    let mut store = store(host, &stdout, &stderr);
    let params: Vec<Val> = args.iter().map(|a| Val::String(a.clone())).collect();
    let exported = |instance: &wasmtime::component::Instance, store: &mut Store<Ctx>| {
        let f = instance
            .get_func(&mut *store, func)
            .with_context(|| format!("component exports no function `{func}`"))?;
        let results = vec![Val::Bool(false); f.ty(&*store).results().len()];
        anyhow::Ok((f, results))
    };
    let trapped = || format!("calling `{func}` trapped");
    let instantiating = "failed to instantiate component";
    let results = if p3 {
        let linker = p3_linker(host)?;
        wasmtime_wasi::runtime::in_tokio(async {
            let instance = (linker.instantiate_async(&mut store, &component).await)
                .map_err(anyhow::Error::from)
                .context(instantiating)?;
            let (f, mut results) = exported(&instance, &mut store)?;
            (f.call_async(&mut store, &params, &mut results).await)
                .map_err(anyhow::Error::from)
                .with_context(trapped)?;
            anyhow::Ok(results)
        })?
    } else {
        let instance = (linker(host)?.instantiate(&mut store, &component))
            .map_err(anyhow::Error::from)
            .context(instantiating)?;
        let (f, mut results) = exported(&instance, &mut store)?;
        (f.call(&mut store, &params, &mut results))
            .map_err(anyhow::Error::from)
            .with_context(trapped)?;
        results
    };
    Ok(results.iter().map(render).collect::<Vec<_>>().join(", "))
}

fn render(v: &Val) -> String {
    match v {
        Val::String(s) => format!("{s:?}"),
        Val::Option(None) => "none".into(),
        Val::Option(Some(v)) => format!("some({})", render(v)),
        Val::List(items) => format!(
            "[{}]",
            items.iter().map(render).collect::<Vec<_>>().join(", ")
        ),
        other => format!("{other:?}"),
    }
}

/// The unversioned top-level imports of a component, sorted.
pub fn unversioned_imports(bytes: &[u8]) -> Result<Vec<String>> {
    let mut out: Vec<String> = wasi_virt::component_imports(bytes)?
        .into_iter()
        .map(|i| i.split_once('@').map_or(i.clone(), |(p, _)| p.to_string()))
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// Serves connections on `bind` with `handle`, each on a thread of its own,
/// until nobody has connected for 20 seconds.
fn serve(
    bind: &str,
    handle: impl Fn(std::net::TcpStream) + Send + Sync + Clone + 'static,
) -> Result<std::net::SocketAddr> {
    let listener = std::net::TcpListener::bind(bind)?;
    let addr = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    std::thread::spawn(move || {
        let mut deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            match listener.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(false).ok();
                    stream
                        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
                        .ok();
                    let handle = handle.clone();
                    std::thread::spawn(move || handle(stream));
                    deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
            }
        }
    });
    Ok(addr)
}

fn serve_once(
    handle: impl Fn(std::net::TcpStream) + Send + Sync + Clone + 'static,
) -> Result<std::net::SocketAddr> {
    serve("127.0.0.1:0", handle)
}

fn echo_line(stream: std::net::TcpStream) {
    use std::io::{BufRead, BufReader, Write};
    let mut line = String::new();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    if reader.read_line(&mut line).is_ok() {
        let _ = (&stream).write_all(format!("pong: {line}").as_bytes());
    }
}

/// The same TCP echo server, on `[::1]`.
pub fn tcp6_echo_server() -> Result<std::net::SocketAddr> {
    serve("[::1]:0", echo_line)
}

/// A UDP server on 127.0.0.1 that answers each datagram with `pong: ` and
/// the datagram, for 20 seconds after the last one.
pub fn udp_echo_server() -> Result<std::net::SocketAddr> {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    socket.set_read_timeout(Some(std::time::Duration::from_secs(20)))?;
    let addr = socket.local_addr()?;
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            let mut reply = b"pong: ".to_vec();
            reply.extend_from_slice(&buf[..n]);
            let _ = socket.send_to(&reply, from);
        }
    });
    Ok(addr)
}

/// A client: picks a free port on 127.0.0.1 and, for 20 seconds, keeps
/// trying to connect to it; once connected it sends `hello from the host`.
/// The address is the port it connects to (for a component to listen on).
pub fn tcp_client() -> Result<std::net::SocketAddr> {
    use std::io::Write;
    let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            if let Ok(mut stream) = std::net::TcpStream::connect(addr) {
                let _ = stream.write_all(b"hello from the host\n");
                std::thread::sleep(std::time::Duration::from_millis(500));
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    });
    Ok(addr)
}

/// Starts the test server `kind` (`tcp-echo`, `tcp6-echo`, `udp-echo`,
/// `http-echo`, `tcp-client`); its address.
pub fn start_server(kind: &str) -> Result<std::net::SocketAddr> {
    match kind {
        "tcp-echo" => tcp_echo_server(),
        "tcp6-echo" => tcp6_echo_server(),
        "udp-echo" => udp_echo_server(),
        "http-echo" => http_echo_server(),
        "tcp-client" => tcp_client(),
        other => bail!("unknown server `{other}`"),
    }
}

/// A TCP server that reads a line and writes back `pong: <line>`.
pub fn tcp_echo_server() -> Result<std::net::SocketAddr> {
    serve_once(echo_line)
}

/// An HTTP/1.1 server that answers one request: `200`, an `x-server: test`
/// header, and a body echoing the request's method, path, body and
/// `x-client` header.
pub fn http_echo_server() -> Result<std::net::SocketAddr> {
    use std::io::{BufRead, BufReader, Read, Write};
    serve_once(|stream| {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        let _ = reader.read_line(&mut request_line);
        let (mut length, mut client) = (0usize, String::new());
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            let (name, value) = line.split_once(':').unwrap_or((&line, ""));
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "x-client" => client = value.trim().to_string(),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        let _ = reader.read_exact(&mut body);
        let mut parts = request_line.split_whitespace();
        let reply = format!(
            "{} {} {} (x-client: {client})",
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            String::from_utf8_lossy(&body)
        );
        let _ = (&stream).write_all(
            format!(
                "HTTP/1.1 200 OK\r\nx-server: test\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                reply.len()
            )
            .as_bytes(),
        );
    })
}

/// Fixtures too large for the repository, generated once per checkout
/// under `target/test-fixtures`: `big/blob.bin` (8 MiB and 3 bytes of a fixed
/// pattern) and `many/` (10,000 small files in 100 directories).
pub fn generated_fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = repo().join("target/test-fixtures");
        let done = dir.join(".complete");
        if !done.exists() {
            let big = dir.join("big");
            std::fs::create_dir_all(&big).unwrap();
            let blob: Vec<u8> = (0..(8usize << 20) + 3)
                .map(|i| ((i * 31 + i / 7) % 251) as u8)
                .collect();
            std::fs::write(big.join("blob.bin"), blob).unwrap();
            for d in 0..100 {
                let sub = dir.join(format!("many/d{d:02}"));
                std::fs::create_dir_all(&sub).unwrap();
                for f in 0..100 {
                    std::fs::write(sub.join(format!("f{f:03}.txt")), format!("file {d}/{f}\n"))
                        .unwrap();
                }
            }
            std::fs::write(&done, "").unwrap();
        }
        dir
    })
}

/// The median of timing samples (benchmarks).
pub fn median(mut samples: Vec<std::time::Duration>) -> std::time::Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Milliseconds, for printing (benchmarks).
pub fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A component served over HTTP on 127.0.0.1 as `wasmtime serve` serves it:
/// each request a fresh instance of `wasi:http/proxy` (wasmtime-wasi-http's
/// host), in `host` with outgoing HTTP granted; a trap or an error before
/// the response is set is answered `500`. Serves until the process ends.
pub struct HttpServer {
    pub addr: std::net::SocketAddr,
    /// What the instances wrote to stdout and stderr, request by request.
    logs: std::sync::Arc<std::sync::Mutex<String>>,
}

impl HttpServer {
    pub fn start(bytes: &[u8], host: &Host) -> Result<HttpServer> {
        let component = Component::new(serving_engine(), bytes)
            .map_err(anyhow::Error::from)
            .context("failed to compile the component")?;
        let host = Host {
            http: true,
            serving: true,
            ..host.clone()
        };
        if exports_handler_0_3(&component) {
            return start_p3(&component, host);
        }
        let pre = linker(&host)?
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .context("failed to link the served component")?;
        let pre = wasmtime_wasi_http::p2::bindings::sync::ProxyPre::new(pre)
            .map_err(anyhow::Error::from)
            .context("the component is not a wasi:http/proxy")?;
        HttpServer::listen(pre, host, serve_request)
    }

    /// Serves each connection on a thread of its own with `serve`, which
    /// `pre` instantiates the component for.
    fn listen<P: Clone + Send + 'static>(
        pre: P,
        host: Host,
        serve: fn(std::net::TcpStream, &P, &Host, &std::sync::Mutex<String>) -> Result<()>,
    ) -> Result<HttpServer> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let logs = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let served = HttpServer {
            addr,
            logs: logs.clone(),
        };
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (pre, host, logs) = (pre.clone(), host.clone(), logs.clone());
                std::thread::spawn(move || {
                    if let Err(e) = serve(stream, &pre, &host, &logs) {
                        logs.lock()
                            .unwrap()
                            .push_str(&format!("host error: {e:#}\n"));
                    }
                });
            }
        });
        Ok(served)
    }

    /// Everything the instances logged so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }
}

/// The served component the benchmarks measure: `http-server` as it was,
/// the host it runs in then (`/data` a host preopen), and the same
/// virtualized with `/data` embedded and stdout allowed (deny-all
/// otherwise).
pub fn http_server_both_ways() -> (Vec<u8>, Host, Vec<u8>) {
    let server = guest("http-server");
    let mut virt = wasi_virt::WasiVirt::new();
    virt.deny_all();
    virt.stdio().stdout = wasi_virt::StdioMode::Allow;
    virt.fs().virtual_preopen("/data", "tests/fixtures/data");
    virt.compose(server.clone());
    let served = virt.finish().expect("http-server virtualizes").bytes;
    let mut host = Host::default();
    host.preopens
        .insert("/data".into(), "tests/fixtures/data".into());
    (server, host, served)
}

/// Whether `component` serves HTTP at WASI 0.3 (`wasi:http/handler`).
fn exports_handler_0_3(component: &Component) -> bool {
    component
        .component_type()
        .exports(component.engine())
        .any(|(name, _)| name.starts_with("wasi:http/handler@0.3."))
}

/// [`HttpServer::start`] for a WASI 0.3 service: each request a fresh
/// instance's `wasi:http/handler@0.3.0`, called as wasmtime's own 0.3 host
/// calls it (in its event loop), on a host serving WASI 0.2 and 0.3.
fn start_p3(component: &Component, host: Host) -> Result<HttpServer> {
    let pre = p3_linker(&host)?
        .instantiate_pre(component)
        .map_err(anyhow::Error::from)
        .context("failed to link the served component")?;
    let pre = wasmtime_wasi_http::p3::bindings::ServicePre::new(pre)
        .map_err(anyhow::Error::from)
        .context("the component is not a wasi:http/service")?;
    HttpServer::listen(pre, host, serve_request_p3)
}

/// [`serve_request`] for a WASI 0.3 service: the response is collected
/// whole, then written with its length (an error code or a trap as `500`
/// with `x-harness: no-response`).
fn serve_request_p3(
    mut stream: std::net::TcpStream,
    pre: &wasmtime_wasi_http::p3::bindings::ServicePre<Ctx>,
    host: &Host,
    logs: &std::sync::Mutex<String>,
) -> Result<()> {
    use http_body_util::BodyExt;
    use std::io::Write;
    let request = read_request(&stream)?
        .map(|body| body.map_err(|_| -> std::convert::Infallible { unreachable!("a full body") }));
    let (stdout, stderr) = (
        MemoryOutputPipe::new(1 << 20),
        MemoryOutputPipe::new(1 << 20),
    );
    let mut store = store(host, &stdout, &stderr);
    type Answered = Result<(http::response::Parts, bytes::Bytes), String>;
    let answered: wasmtime::Result<Answered> = wasmtime_wasi::runtime::in_tokio(async {
        let service = pre.instantiate_async(&mut store).await?;
        let (request, io) = wasmtime_wasi_http::p3::Request::from_http(
            wasmtime_wasi_http::default_hooks(),
            request,
        );
        store
            .run_concurrent(async |store| -> wasmtime::Result<Answered> {
                let response = match service.handle(store, request).await? {
                    Ok(response) => response,
                    Err(code) => return Ok(Err(format!("{code:?}"))),
                };
                let response = store.with(|s| response.into_http(s, async { Ok(()) }))?;
                let (parts, body) = response.into_parts();
                let body = match body.collect().await {
                    Ok(body) => body,
                    Err(e) => return Ok(Err(format!("body: {e:?}"))),
                };
                let _ = io.await;
                Ok(Ok((parts, body.to_bytes())))
            })
            .await?
    });
    let mut log = String::from_utf8_lossy(&stdout.contents()).into_owned();
    log.push_str(&String::from_utf8_lossy(&stderr.contents()));
    match answered {
        Ok(Ok((parts, body))) => {
            let mut head = format!("HTTP/1.1 {}\r\n", parts.status);
            for (name, value) in &parts.headers {
                let value = String::from_utf8_lossy(value.as_bytes());
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str(&format!(
                "content-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            ));
            stream.write_all(head.as_bytes())?;
            stream.write_all(&body)?;
        }
        Ok(Err(_)) | Err(_) => {
            if let Err(e) = &answered {
                let first = format!("{e:?}").lines().next().unwrap_or("").to_string();
                log.push_str(&format!("trapped: {first}\n"));
            }
            stream.write_all(
                b"HTTP/1.1 500 Internal Server Error\r\nx-harness: no-response\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            )?;
        }
    }
    logs.lock().unwrap().push_str(&log);
    Ok(())
}

/// The request a served instance receives.
type IncomingRequest = http::Request<
    http_body_util::combinators::BoxBody<
        bytes::Bytes,
        wasmtime_wasi_http::p2::bindings::http::types::ErrorCode,
    >,
>;

/// What a served instance sets as its response: one, or an error code.
type Answer = Result<
    http::Response<wasmtime_wasi_http::p2::body::HyperOutgoingBody>,
    wasmtime_wasi_http::p2::bindings::http::types::ErrorCode,
>;

/// Reads one HTTP/1.1 request from `stream`, has a fresh instance answer
/// it, and writes the response back, its body chunked as it comes.
fn serve_request(
    stream: std::net::TcpStream,
    pre: &wasmtime_wasi_http::p2::bindings::sync::ProxyPre<Ctx>,
    host: &Host,
    logs: &std::sync::Mutex<String>,
) -> Result<()> {
    let request = read_request(&stream)?;
    let (stdout, stderr) = (
        MemoryOutputPipe::new(1 << 20),
        MemoryOutputPipe::new(1 << 20),
    );
    let (guest, answer) = start_instance(pre, store(host, &stdout, &stderr), request)?;
    let mut stream = stream;
    write_answer(&mut stream, answer)?;
    let ended = guest
        .join()
        .map_err(|_| anyhow::anyhow!("the guest thread panicked"))?;
    let mut logs = logs.lock().unwrap();
    logs.push_str(&String::from_utf8_lossy(&stdout.contents()));
    logs.push_str(&String::from_utf8_lossy(&stderr.contents()));
    if let Err(e) = ended {
        let first = e.lines().next().unwrap_or("").to_string();
        logs.push_str(&format!("trapped: {first}\n"));
    }
    // Closing the connection ends the response: the log is complete by
    // the time the client has read it.
    drop(stream);
    Ok(())
}

/// Reads the request line, the headers (but `connection`) and a body of
/// `content-length` bytes.
fn read_request(stream: &std::net::TcpStream) -> Result<IncomingRequest> {
    use http_body_util::BodyExt;
    use std::io::{BufRead, BufReader, Read};
    let addr = stream.local_addr()?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or("GET"), parts.next().unwrap_or("/"));
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{target}"));
    let mut length = 0;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
        let (name, value) = header.split_once(':').context("a header without `:`")?;
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse()?;
        }
        if !name.eq_ignore_ascii_case("connection") {
            request = request.header(name, value);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let body = http_body_util::Full::new(bytes::Bytes::from(body))
        .map_err(
            |never| -> wasmtime_wasi_http::p2::bindings::http::types::ErrorCode { match never {} },
        )
        .boxed();
    Ok(request.body(body)?)
}

/// Instantiates the served component in `store` and calls its handler
/// with `request` on a thread of its own; the thread's end (a trap's
/// message), and where its response arrives.
fn start_instance(
    pre: &wasmtime_wasi_http::p2::bindings::sync::ProxyPre<Ctx>,
    mut store: Store<Ctx>,
    request: IncomingRequest,
) -> Result<(
    std::thread::JoinHandle<Result<(), String>>,
    tokio::sync::oneshot::Receiver<Answer>,
)> {
    use wasmtime_wasi_http::WasiHttpView;
    let proxy = pre
        .instantiate(&mut store)
        .map_err(anyhow::Error::from)
        .context("failed to instantiate the served component")?;
    let request = store
        .data_mut()
        .http()
        .new_incoming_request(
            wasmtime_wasi_http::p2::bindings::http::types::Scheme::Http,
            request,
        )
        .map_err(anyhow::Error::from)?;
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let out = store
        .data_mut()
        .http()
        .new_response_outparam(sender)
        .map_err(anyhow::Error::from)?;
    let guest = std::thread::spawn(move || {
        proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut store, request, out)
            .map_err(|e| format!("{e:?}"))
    });
    Ok((guest, receiver))
}

/// Writes the instance's response to `writer` as it comes (an answer
/// that never came as `500` with `x-harness: no-response`).
fn write_answer(
    writer: &mut std::net::TcpStream,
    answer: tokio::sync::oneshot::Receiver<Answer>,
) -> Result<()> {
    use http_body_util::BodyExt;
    use std::io::Write;
    let response = match answer.blocking_recv() {
        Ok(Ok(response)) => response,
        // An error code, a trap, or returning without a response.
        Ok(Err(_)) | Err(_) => {
            writer.write_all(
                b"HTTP/1.1 500 Internal Server Error\r\nx-harness: no-response\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            )?;
            return Ok(());
        }
    };
    let (parts, mut body) = response.into_parts();
    let mut head = format!("HTTP/1.1 {}\r\n", parts.status);
    for (name, value) in &parts.headers {
        head.push_str(&format!(
            "{name}: {}\r\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    head.push_str("transfer-encoding: chunked\r\nconnection: close\r\n\r\n");
    writer.write_all(head.as_bytes())?;
    let streamed = wasmtime_wasi::runtime::in_tokio(async {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| anyhow::anyhow!("body error: {e:?}"))?;
            if let Ok(data) = frame.into_data() {
                if !data.is_empty() {
                    writer.write_all(format!("{:x}\r\n", data.len()).as_bytes())?;
                    writer.write_all(&data)?;
                    writer.write_all(b"\r\n")?;
                }
            }
        }
        anyhow::Ok(())
    });
    // A body that failed midway ends without its last chunk, as a
    // connection cut short.
    if streamed.is_ok() {
        writer.write_all(b"0\r\n\r\n")?;
    }
    Ok(())
}

/// A response read by [`http_request`].
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    /// Names in lower case, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one HTTP/1.1 request to `addr` over a new connection and reads
/// the whole response (a chunked body decoded).
pub fn http_request(
    addr: std::net::SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<HttpResponse> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60)))?;
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of the response head")?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .context("no status line")?
        .parse()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut rest = &raw[end + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v == "chunked");
    let body = if chunked {
        let mut body = Vec::new();
        loop {
            let line_end = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .context("a chunk without its size line")?;
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..line_end])?.trim(), 16)?;
            rest = &rest[line_end + 2..];
            if size == 0 {
                break;
            }
            ensure_len(rest, size + 2)?;
            body.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
        body
    } else {
        rest.to_vec()
    };
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn ensure_len(bytes: &[u8], len: usize) -> Result<()> {
    if bytes.len() < len {
        bail!("the response ends inside a chunk");
    }
    Ok(())
}

/// The `wasm32-wasip1` guest `name` made a command component with the
/// preview1 adapter and nothing else, as a host runs a wasip1 program
/// (`src/compose/wasip1.rs` does the same before virtualizing).
pub fn wasip1_command(name: &str) -> Result<Vec<u8>> {
    use wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER;
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(&wasip1_guest(name))?
        .adapter(
            "wasi_snapshot_preview1",
            WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
        )?
        .encode()
        .context("failed to make a component of the wasip1 guest")
}

/// Copies the tree `from` into the existing directory `to`.
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    for entry in walkdir::WalkDir::new(from).min_depth(1) {
        let entry = entry?;
        let target = to.join(entry.path().strip_prefix(from)?);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target)?;
        } else if entry.file_type().is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// How the host preopens `/t` for a filesystem script, if it does.
#[derive(Clone, Copy)]
pub enum Preopen<'a> {
    None,
    Writable(&'a Path),
    ReadOnly(&'a Path),
}

/// Runs a filesystem script guest (`fs-script`, `fs-p1`: `FS_SCRIPT`
/// against the preopen `FS_ROOT`, here `/t`) and returns what it printed;
/// it must end well.
pub fn run_fs_script(component: &Component, script: &str, preopen: Preopen<'_>) -> Result<String> {
    let mut host = Host::default();
    host.env.insert("FS_SCRIPT".into(), script.into());
    host.env.insert("FS_ROOT".into(), "/t".into());
    match preopen {
        Preopen::None => {}
        Preopen::Writable(dir) => {
            host.writable_preopens
                .insert("/t".into(), dir.display().to_string());
        }
        Preopen::ReadOnly(dir) => {
            host.preopens.insert("/t".into(), dir.display().to_string());
        }
    }
    let out = run_compiled(component, &host)?;
    anyhow::ensure!(
        out.end == End::Ok,
        "ended with {:?}\n{}{}",
        out.end,
        out.stdout,
        out.stderr
    );
    Ok(out.stdout)
}

/// The differential check of a filesystem script: `script` runs in
/// `host` on a fresh host directory preopened read-write (empty, or a copy
/// of `lower`) and in `memory` with no preopen from the host; the two must
/// print the same. `SHOW` in the environment prints both.
pub fn fs_differential(
    host: &Component,
    memory: &Component,
    lower: Option<&Path>,
    script: &str,
) -> Result<()> {
    let dir = tempfile::tempdir()?;
    if let Some(lower) = lower {
        copy_tree(lower, dir.path())?;
    }
    let want = run_fs_script(host, script, Preopen::Writable(dir.path()))?;
    let got = run_fs_script(memory, script, Preopen::None)?;
    if std::env::var_os("SHOW").is_some() {
        eprintln!("--- host\n{want}--- adapter\n{got}");
    }
    same_lines(&got, &want)
}

/// Equal, or an error naming every line that differs, then both whole.
pub fn same_lines(got: &str, want: &str) -> Result<()> {
    if got == want {
        return Ok(());
    }
    let (got_lines, want_lines): (Vec<_>, Vec<_>) = (got.lines().collect(), want.lines().collect());
    let mut report = String::new();
    for i in 0..got_lines.len().max(want_lines.len()) {
        let (g, w) = (got_lines.get(i), want_lines.get(i));
        if g != w {
            report.push_str(&format!(
                "  adapter {}\n  host    {}\n",
                g.unwrap_or(&"(nothing)"),
                w.unwrap_or(&"(nothing)")
            ));
        }
    }
    anyhow::bail!("lines that differ:\n{report}--- adapter\n{got}--- host\n{want}")
}
