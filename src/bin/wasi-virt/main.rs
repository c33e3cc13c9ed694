//! The `wasi-virt` command line.

use anyhow::{bail, Context, Result};
use clap::Parser;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use wasi_virt::{
    Access, Args as ArgsPolicy, ConfigPolicy, Cwd, EnvPolicy, FsPolicy, HostEnv, Policy, Report,
    StdioMode, StdioPolicy, WasiVirt,
};

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
/// them from the host.
/// Each `--allow-*` flag lets one subsystem through.
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
#[derive(Parser, Debug)]
#[command(name = "wasi-virt", version, verbatim_doc_comment)]
struct Cli {
    /// The component to virtualize. Without it, the adapter is written alone.
    #[arg(value_name = "COMPONENT")]
    component: Option<PathBuf>,

    /// Where to write the output. Written only on success.
    #[arg(short, long, value_name = "OUT")]
    out: PathBuf,

    /// A TOML policy file (the `wasi_virt::Policy` schema). Flags given
    /// as well refine it.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,

    /// Set an environment variable: `-e KEY=VALUE`. Repeatable; replaces a
    /// host variable of the same name.
    #[arg(short, long = "env", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    env: Vec<(String, String)>,

    /// Let host environment variables through: all of them, or only those
    /// listed (`--allow-env=LANG,TZ`).
    #[arg(
        long,
        value_name = "NAMES",
        num_args = 0..=1,
        require_equals = true,
        value_delimiter = ',',
        conflicts_with = "deny_env"
    )]
    allow_env: Option<Vec<String>>,

    /// Let every host environment variable through except those listed
    /// (`--deny-env=SECRET,TOKEN`).
    #[arg(
        long,
        value_name = "NAMES",
        require_equals = true,
        value_delimiter = ',',
        num_args = 1
    )]
    deny_env: Option<Vec<String>>,

    /// Pass the host's arguments and initial cwd through even when no host
    /// environment variable is allowed. (When some are allowed, they pass
    /// through anyway.)
    #[arg(long)]
    allow_args: bool,

    /// Let every subsystem through to the host (flags after it refine this).
    #[arg(long)]
    allow_all: bool,

    /// Let stdin, stdout and stderr through (`--allow-stdio=false` denies).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    allow_stdio: Option<bool>,

    /// All three standard streams: allow, deny (fail on use) or ignore
    /// (stdin reads end-of-file, writes are discarded).
    #[arg(long, value_name = "MODE")]
    stdio: Option<StdioArg>,

    /// Standard input: allow, deny or ignore.
    #[arg(long, value_name = "MODE")]
    stdin: Option<StdioArg>,

    /// Standard output: allow, deny or ignore.
    #[arg(long, value_name = "MODE")]
    stdout: Option<StdioArg>,

    /// Standard error: allow, deny or ignore.
    #[arg(long, value_name = "MODE")]
    stderr: Option<StdioArg>,

    /// Let the host's monotonic and wall clocks through.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    allow_clocks: Option<bool>,

    /// Let the host's randomness through.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    allow_random: Option<bool>,

    /// Let the component exit through the host (denied, exit traps).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    allow_exit: Option<bool>,

    /// Set a `wasi:config/store` property: `-c NAME=VALUE`. Repeatable.
    #[arg(short = 'c', long = "config", value_name = "NAME=VALUE", value_parser = parse_key_value)]
    config: Vec<(String, String)>,

    /// Let host config properties through: all of them, or only those listed
    /// (`--allow-config=region,zone`). Otherwise a property not set with `-c`
    /// is an error for the component.
    #[arg(
        long,
        value_name = "NAMES",
        num_args = 0..=1,
        require_equals = true,
        value_delimiter = ','
    )]
    allow_config: Option<Vec<String>>,

    /// Let the host's TCP, UDP and name lookup through (denied, every socket
    /// operation fails with `access-denied`).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    allow_sockets: Option<bool>,

    /// Embed the host directory HOSTDIR, recursively and read-only, as the
    /// preopened directory GUEST: `--mount /data=./data`. Repeatable.
    #[arg(long, value_name = "GUEST=HOSTDIR", value_parser = parse_mount)]
    mount: Vec<(String, PathBuf)>,

    /// Show the host directory HOSTPATH as the preopened directory GUEST, at
    /// run time: the host must preopen HOSTPATH (or a directory above it).
    /// Repeatable, and may be mixed with --mount.
    #[arg(long, value_name = "GUEST=HOSTPATH", value_parser = parse_mount)]
    preopen: Vec<(String, PathBuf)>,

    /// Let every host preopened directory through (otherwise the component
    /// sees none, and the output does not import the host's filesystem).
    #[arg(long)]
    allow_fs: bool,

    /// Let outgoing HTTP requests through to the host (denied, they fail
    /// with `HTTP-request-denied`).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    allow_http: Option<bool>,

    /// Trace every virtualized call, and the reason for every trap, to the
    /// host's stderr (the output then imports `wasi:cli/stderr`).
    #[arg(long)]
    debug: bool,

    /// The WASI 0.2.x version of the adapter's interface names. Default: the
    /// version the component imports, or 0.2.12 for a standalone adapter,
    /// which must match its component exactly for `wasm-tools compose`.
    #[arg(long, value_name = "VERSION")]
    wasi_version: Option<semver::Version>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum StdioArg {
    Allow,
    Deny,
    Ignore,
}

impl From<StdioArg> for StdioMode {
    fn from(a: StdioArg) -> Self {
        match a {
            StdioArg::Allow => StdioMode::Allow,
            StdioArg::Deny => StdioMode::Deny,
            StdioArg::Ignore => StdioMode::Ignore,
        }
    }
}

fn parse_mount(s: &str) -> Result<(String, PathBuf), String> {
    match s.split_once('=') {
        Some((guest, host)) if !guest.is_empty() && !host.is_empty() => {
            Ok((guest.to_string(), PathBuf::from(host)))
        }
        _ => Err(format!("`{s}` is not GUEST=HOSTPATH")),
    }
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, _)) if k.is_empty() => Err(format!("`{s}` has an empty name; expected KEY=VALUE")),
        Some((k, v)) => Ok((k.to_string(), v.to_string())),
        None => Err(format!("`{s}` has no `=`; expected KEY=VALUE")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Internal failures come back as errors; the default hook would print a
    // panic message before them.
    std::panic::set_hook(Box::new(|_| {}));
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<()> {
    let policy = build_policy(cli)?;
    let mut virt = WasiVirt::from_policy(policy);
    if let Some(path) = &cli.component {
        virt.compose_path(path);
    }
    if let Some(v) = &cli.wasi_version {
        virt.wasi_version(v.clone());
    }
    let out = virt.finish()?;
    write_atomically(&cli.out, &out.bytes)?;
    print_summary(cli, virt.policy(), &out.report, out.bytes.len());
    Ok(())
}

/// Everything denied (or allowed, with `--allow-all`), then the policy file's
/// settings, then the flags.
fn build_policy(cli: &Cli) -> Result<Policy> {
    let mut policy = if cli.allow_all {
        Policy::allow_all()
    } else {
        Policy::deny_all()
    };
    if let Some(path) = &cli.policy {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read policy `{}`", path.display()))?;
        let file = Policy::from_toml(&text)
            .with_context(|| format!("failed to parse policy `{}`", path.display()))?;
        policy.env = file.env.or(policy.env);
        policy.stdio = file.stdio.or(policy.stdio);
        policy.clocks = file.clocks.or(policy.clocks);
        policy.random = file.random.or(policy.random);
        policy.exit = file.exit.or(policy.exit);
        policy.sockets = file.sockets.or(policy.sockets);
        policy.config = file.config.or(policy.config);
        policy.http = file.http.or(policy.http);
        policy.fs = file.fs.or(policy.fs);
        policy.debug |= file.debug;
    }

    let env = policy.env.get_or_insert_with(EnvPolicy::default);
    for (k, v) in &cli.env {
        env.overrides.insert(k.clone(), v.clone());
    }
    match (&cli.allow_env, &cli.deny_env) {
        (Some(names), _) if names.is_empty() => env.host = HostEnv::All,
        (Some(names), _) => env.host = HostEnv::Allow(check_names(names, "--allow-env")?),
        (None, Some(names)) => env.host = HostEnv::Deny(check_names(names, "--deny-env")?),
        (None, None) => {}
    }
    if cli.allow_args {
        env.args = Some(ArgsPolicy::Host);
        env.cwd = Some(Cwd::Host);
    }

    let stdio = policy.stdio.get_or_insert_with(StdioPolicy::default);
    if let Some(allow) = cli.allow_stdio {
        *stdio = StdioPolicy::all(if allow {
            StdioMode::Allow
        } else {
            StdioMode::Deny
        });
    }
    if let Some(mode) = cli.stdio {
        *stdio = StdioPolicy::all(mode.into());
    }
    for (flag, slot) in [
        (cli.stdin, &mut stdio.stdin),
        (cli.stdout, &mut stdio.stdout),
        (cli.stderr, &mut stdio.stderr),
    ] {
        if let Some(mode) = flag {
            *slot = mode.into();
        }
    }
    for (flag, slot) in [
        (cli.allow_clocks, &mut policy.clocks),
        (cli.allow_random, &mut policy.random),
        (cli.allow_exit, &mut policy.exit),
        (cli.allow_sockets, &mut policy.sockets),
        (cli.allow_http, &mut policy.http),
    ] {
        if let Some(allow) = flag {
            *slot = Some(Access::from(allow));
        }
    }
    let fs = policy.fs.get_or_insert_with(FsPolicy::default);
    if cli.allow_fs {
        fs.allow_host_preopens();
    }
    for (guest, host) in &cli.mount {
        if fs.preopens.contains_key(guest) {
            bail!("`{guest}` is mounted twice; give each mount point once");
        }
        let meta = std::fs::metadata(host)
            .with_context(|| format!("failed to read mount `{guest}={}`", host.display()))?;
        if !meta.is_dir() {
            bail!(
                "mount `{guest}={}`: `{}` is a file; --mount takes a directory",
                host.display(),
                host.display()
            );
        }
        fs.virtual_preopen(guest, host);
    }
    for (guest, host) in &cli.preopen {
        if fs.preopens.contains_key(guest) {
            bail!("`{guest}` is given twice; give each preopen once");
        }
        fs.host_preopen(guest, host);
    }
    let store = policy.config.get_or_insert_with(ConfigPolicy::default);
    for (k, v) in &cli.config {
        store.properties.insert(k.clone(), v.clone());
    }
    match &cli.allow_config {
        Some(names) if names.is_empty() => store.host = HostEnv::All,
        Some(names) => store.host = HostEnv::Allow(check_names(names, "--allow-config")?),
        None => {}
    }
    policy.debug |= cli.debug;
    Ok(policy)
}

fn check_names(names: &[String], flag: &str) -> Result<Vec<String>> {
    for n in names {
        if n.is_empty() || n.contains('=') {
            bail!("`{flag}` takes variable names separated by commas, not `{n}`");
        }
    }
    Ok(names.to_vec())
}

/// Writes `bytes` to a temporary file beside `path`, then renames it, so a
/// failure never leaves a partial output.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("failed to create a file in `{}`", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.flush())
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    // A temporary file is private (0600); the output is an ordinary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("failed to write `{}`", path.display()))?;
    }
    tmp.persist(path)
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    Ok(())
}

/// `none`, `all`, `only A,B` or `all but A,B`.
fn describe(host: &HostEnv) -> String {
    match host {
        HostEnv::None => "none".to_string(),
        HostEnv::All => "all".to_string(),
        HostEnv::Allow(n) => format!("only {}", n.join(",")),
        HostEnv::Deny(n) => format!("all but {}", n.join(",")),
    }
}

fn print_summary(cli: &Cli, policy: &Policy, report: &Report, size: usize) {
    let what = if report.composed {
        "virtualized component"
    } else {
        "standalone virtual adapter"
    };
    println!(
        "wrote {} ({what}, {size} bytes, WASI {})",
        cli.out.display(),
        report.wasi_version
    );
    let has = |prefix: &str| report.virtualized.iter().any(|i| i.starts_with(prefix));
    let mut lines = Vec::new();
    if let (Some(env), true) = (&policy.env, has("wasi:cli/environment@")) {
        let host = describe(&env.host);
        let args = match env.args() {
            ArgsPolicy::Host => "host".to_string(),
            ArgsPolicy::Virtual(a) => format!("{} virtual", a.len()),
        };
        let cwd = match env.cwd() {
            Cwd::Host => "host".to_string(),
            Cwd::None => "none".to_string(),
            Cwd::Virtual(p) => p,
        };
        lines.push(format!(
            "env: host variables {host}; {} set; arguments {args}; cwd {cwd}",
            env.overrides.len()
        ));
    }
    if has("wasi:cli/std") {
        let s = policy.stdio.unwrap_or_default();
        let m = |m: StdioMode| format!("{m:?}").to_lowercase();
        lines.push(format!(
            "stdio: stdin {}, stdout {}, stderr {}",
            m(s.stdin),
            m(s.stdout),
            m(s.stderr)
        ));
    }
    for (name, prefix, access) in [
        ("clocks", "wasi:clocks/", policy.clocks),
        ("random", "wasi:random/", policy.random),
        ("exit", "wasi:cli/exit@", policy.exit),
        ("sockets", "wasi:sockets/", policy.sockets),
        ("http", "wasi:http/", policy.http),
    ] {
        if has(prefix) {
            let state = if access.unwrap_or(Access::Allow) == Access::Allow {
                "allow"
            } else {
                "deny"
            };
            lines.push(format!("{name}: {state}"));
        }
    }
    if let (Some(store), true) = (&policy.config, has("wasi:config/store@")) {
        lines.push(format!(
            "config: host properties {}; {} set",
            describe(&store.host),
            store.properties.len()
        ));
    }
    if let (Some(fs), true) = (&policy.fs, has("wasi:filesystem/")) {
        let host = if fs.host_preopens {
            "host preopens"
        } else {
            "no host preopens"
        };
        let mut line = format!("fs: {host}");
        for (guest, entry) in &fs.preopens {
            match entry {
                wasi_virt::FsEntry::RuntimeDir(h) => {
                    line.push_str(&format!("; {guest} = host {}", h.display()))
                }
                _ => line.push_str(&format!("; {guest} embedded")),
            }
        }
        lines.push(line);
    }
    if has("wasi:io/") {
        lines.push("io: the streams and pollables of the above".to_string());
    }
    if lines.is_empty() {
        println!("virtualized: nothing (the component imports none of what the policy covers)");
    } else {
        println!("virtualized:");
        for line in lines {
            println!("  {line}");
        }
    }
    if policy.debug {
        println!("debug: virtualized calls are traced to the host's stderr");
    }
    let wasi: Vec<&String> = report
        .imports
        .iter()
        .filter(|i| i.starts_with("wasi:"))
        .collect();
    if wasi.is_empty() {
        println!("WASI imports left: none");
    } else {
        println!("WASI imports left ({}):", wasi.len());
        for i in wasi {
            println!("  {i}");
        }
    }
}
