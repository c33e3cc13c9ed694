//! The flags of a virtualization, in groups. Each group applies itself to a
//! [`Policy`]; the order is: everything denied (or allowed, with
//! `--allow-all`), then a policy file, then these flags.

use anyhow::{bail, Context, Result};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::Args;
use std::path::{Path, PathBuf};
use wasi_virt::{
    check_name, Args as ArgsPolicy, ClocksPolicy, Cwd, HostFilter, Inbound, NameKind,
    NetworkPolicy, Outbound, Policy, RandomPolicy, Resolve, StdinPolicy, StdioMode, StdioPolicy,
    Stream, Subsystem,
};

/// `wasi:cli/environment`.
#[derive(Args, Debug)]
#[command(next_help_heading = "Environment")]
pub struct EnvFlags {
    /// Set an environment variable: `-e KEY=VALUE`. Repeatable; replaces a
    /// host variable of the same name.
    #[arg(short, long = "env", value_name = "KEY=VALUE", value_parser = parse_variable)]
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
    #[arg(long, conflicts_with_all = ["arg", "cwd"])]
    allow_args: bool,

    /// Set the arguments: each `--arg` adds one, the first is `argv[0]`
    /// (`--arg app --arg=--verbose`). The host's are never asked for.
    #[arg(long, value_name = "VALUE", allow_hyphen_values = true)]
    arg: Vec<String>,

    /// Set the initial cwd. The host's is never asked for.
    #[arg(long, value_name = "PATH")]
    cwd: Option<String>,
}

impl EnvFlags {
    pub fn apply(&self, policy: &mut Policy) -> Result<()> {
        let env = policy.env.get_or_insert_with(Default::default);
        for (k, v) in &self.env {
            env.overrides.insert(k.clone(), v.clone());
        }
        let names = NameKind::Variable;
        if let Some(host) = host_filter(&self.allow_env, &self.deny_env, "env", names)? {
            env.host = host;
        }
        if self.allow_args {
            env.args = Some(ArgsPolicy::Host);
            env.cwd = Some(Cwd::Host);
        }
        if !self.arg.is_empty() {
            env.args = Some(ArgsPolicy::Virtual(self.arg.clone()));
        }
        if let Some(cwd) = &self.cwd {
            env.cwd = Some(Cwd::Virtual(cwd.clone()));
        }
        Ok(())
    }
}

/// Standard streams.
#[derive(Args, Debug)]
#[command(next_help_heading = "Standard streams")]
pub struct StdioFlags {
    /// Let stdin, stdout and stderr through (`--allow-stdio=false` denies).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    allow_stdio: Option<bool>,

    /// All three standard streams: allow, deny (fail on use) or ignore
    /// (stdin reads end-of-file, writes are discarded).
    #[arg(long, value_name = "MODE", value_parser = stdio_mode())]
    stdio: Option<StdioMode>,

    /// Standard input: allow, deny or ignore.
    #[arg(long, value_name = "MODE", value_parser = stdio_mode())]
    stdin: Option<StdioMode>,

    /// Bake FILE in as stdin: reads return its bytes, then end of stream;
    /// the host's stdin is never read.
    #[arg(long, value_name = "FILE", conflicts_with = "stdin")]
    stdin_file: Option<PathBuf>,

    /// Standard output: allow, deny or ignore.
    #[arg(long, value_name = "MODE", value_parser = stdio_mode())]
    stdout: Option<StdioMode>,

    /// Standard error: allow, deny or ignore; or, with --serve-http,
    /// stdout: into the response, interleaved with stdout.
    #[arg(long, value_name = "MODE", value_parser = stderr_mode)]
    stderr: Option<StderrMode>,

    /// Serve the command over HTTP, one run per request: the output exports
    /// `wasi:http/incoming-handler`; the request path is `argv[0]`, and a
    /// query without `=` gives its `+`-separated words as the other
    /// arguments (RFC 3875); the body is stdin, CGI variables join the
    /// environment, and stdout (with an optional CGI header block) is the
    /// response.
    #[arg(long, help_heading = "Serving HTTP")]
    serve_http: bool,
}

/// `--stderr`: a stream mode, or `stdout` (into the response).
#[derive(Clone, Copy, Debug)]
enum StderrMode {
    Mode(StdioMode),
    Stdout,
}

fn stderr_mode(text: &str) -> Result<StderrMode, String> {
    if text == "stdout" {
        return Ok(StderrMode::Stdout);
    }
    text.parse::<StdioMode>()
        .map(StderrMode::Mode)
        .map_err(|_| {
            let modes: Vec<&str> = StdioMode::ALL.map(StdioMode::name).to_vec();
            format!(
                "expected one of {}, or stdout (with --serve-http)",
                modes.join(", ")
            )
        })
}

fn stdio_mode() -> impl TypedValueParser<Value = StdioMode> {
    PossibleValuesParser::new(StdioMode::ALL.map(StdioMode::name))
        .try_map(|name| name.parse::<StdioMode>())
}

impl StdioFlags {
    pub fn apply(&self, policy: &mut Policy) -> Result<()> {
        let stdio = policy.stdio.get_or_insert_with(StdioPolicy::default);
        let all = self.allow_stdio.map(|allow| {
            if allow {
                StdioMode::Allow
            } else {
                StdioMode::Deny
            }
        });
        for mode in [all, self.stdio].into_iter().flatten() {
            *stdio = StdioPolicy::all(mode);
        }
        let stderr = match self.stderr {
            Some(StderrMode::Mode(mode)) => Some(mode),
            Some(StderrMode::Stdout) | None => None,
        };
        for (stream, mode) in Stream::ALL
            .into_iter()
            .zip([self.stdin, self.stdout, stderr])
        {
            if let Some(mode) = mode {
                stdio.set(stream, mode);
            }
        }
        if let Some(file) = &self.stdin_file {
            std::fs::metadata(file)
                .with_context(|| format!("failed to read stdin file `{}`", file.display()))?;
            stdio.stdin = StdinPolicy::File(file.clone());
        }
        let into_response = matches!(self.stderr, Some(StderrMode::Stdout));
        if into_response && !self.serve_http && policy.serve_http.is_none() {
            bail!("--stderr=stdout writes stderr into an HTTP response, so it needs --serve-http");
        }
        if self.serve_http || into_response {
            policy.serve_http.get_or_insert_with(Default::default);
        }
        // The last word on stderr: `--stderr=MODE` takes it back from a
        // policy file's `stderr = "stdout"`.
        if let (Some(serve), Some(mode)) = (&mut policy.serve_http, self.stderr) {
            serve.stderr = match mode {
                StderrMode::Stdout => wasi_virt::ServeStderr::Stdout,
                StderrMode::Mode(_) => wasi_virt::ServeStderr::Stderr,
            };
        }
        Ok(())
    }
}

/// Subsystems that are allowed or denied as a whole.
#[derive(Args, Debug)]
#[command(next_help_heading = "Access")]
pub struct AccessFlags {
    /// Let every subsystem through to the host (flags after it refine this).
    /// Not the WASI interfaces that no subsystem governs: those pass only
    /// by --allow-import.
    #[arg(long)]
    pub allow_all: bool,

    /// Let the host's monotonic and wall clocks through.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    allow_clocks: Option<bool>,

    /// The clocks: `host` (as --allow-clocks), `deny`, or
    /// `virtual:2024-01-01T00:00:00Z`, a virtual clock whose wall clock starts
    /// at that instant and whose monotonic clock starts at 0; each reading
    /// advances both by 1 µs, and a sleep advances them at once.
    #[arg(long, value_name = "MODE", value_parser = parse_clock, conflicts_with = "allow_clocks")]
    clock: Option<ClocksPolicy>,

    /// Let the host's randomness through.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    allow_random: Option<bool>,

    /// Serve randomness from a ChaCha20 generator seeded with N: the same
    /// seed gives the same bytes in every run. Never for secrets.
    #[arg(long, value_name = "N", conflicts_with = "allow_random")]
    random_seed: Option<u64>,

    /// Let the component exit through the host (denied, exit traps).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    allow_exit: Option<bool>,

    /// Let the host's TCP, UDP and name lookup through (denied, every socket
    /// operation fails with `access-denied`).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    allow_sockets: Option<bool>,

    /// Let outgoing HTTP requests through to the host (denied, they fail
    /// with `HTTP-request-denied`).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    allow_http: Option<bool>,
}

impl AccessFlags {
    pub fn apply(&self, policy: &mut Policy) -> Result<()> {
        for (flag, subsystem) in [
            (self.allow_clocks, Subsystem::Clocks),
            (self.allow_random, Subsystem::Random),
            (self.allow_exit, Subsystem::Exit),
            (self.allow_sockets, Subsystem::Sockets),
            (self.allow_http, Subsystem::Http),
        ] {
            if let Some(allow) = flag {
                policy.set(subsystem, allow);
            }
        }
        if let Some(clock) = &self.clock {
            policy.clocks = Some(clock.clone());
        }
        if let Some(seed) = self.random_seed {
            policy.random = Some(RandomPolicy::Seed(seed));
        }
        Ok(())
    }
}

/// Network grants, each checked by the adapter; each flag's value is a list
/// of rules as `wasi_virt::Outbound`, `Inbound` and `Resolve` parse them.
#[derive(Args, Debug)]
#[command(next_help_heading = "Network")]
pub struct NetworkFlags {
    /// Allow connects, datagrams or HTTP requests matching RULE:
    /// `tcp://HOST:PORTS`, `udp://HOST:PORTS`, `http(s)://HOST[:PORTS]`.
    /// HOST is a name, `*.name`, `*`, an address or a network
    /// (`10.0.0.0/8`, `[fd00::]/8`); PORTS is `80`, `80,443`,
    /// `35000-35999` or `*`. `#ipv4-only`/`#ipv6-only` filter the family;
    /// `name->ADDRESS` and `:PORT->PORT` remap. A name also may be looked
    /// up. Repeatable; commas separate rules where a scheme follows.
    #[arg(long, value_name = "RULE", value_parser = parse_rules::<Outbound>)]
    allow_outbound: Vec<RuleList<Outbound>>,

    /// Allow binds (and TCP listens) matching RULE: `tcp://HOST:PORTS` or
    /// `udp://HOST:PORTS`, HOST being `*`, `localhost`, `lo`, an address or
    /// a network; port 0 is any free port; `:80->8888` binds 8888 on the
    /// host for the component's 80. Repeatable.
    #[arg(long, value_name = "RULE", value_parser = parse_rules::<Inbound>)]
    allow_inbound: Vec<RuleList<Inbound>>,

    /// Allow name lookups matching RULE: a name, `*.name` or `*`, with
    /// `#ipv4-only`/`#ipv6-only`; `name->ADDRESS` answers the lookup without
    /// asking the host. Repeatable; commas separate names.
    #[arg(long, value_name = "RULE", value_parser = parse_rules::<Resolve>)]
    allow_resolve: Vec<RuleList<Resolve>>,
}

/// The rules of one flag value.
#[derive(Clone, Debug)]
pub struct RuleList<T>(Vec<T>);

/// A rule type of one direction, parsed from a flag value.
pub trait ParseList: Sized {
    fn parse_list(text: &str) -> Result<Vec<Self>>;
}

macro_rules! parse_list {
    ($($ty:ident),*) => {$(
        impl ParseList for $ty {
            fn parse_list(text: &str) -> Result<Vec<Self>> {
                $ty::parse_list(text)
            }
        }
    )*};
}

parse_list!(Outbound, Inbound, Resolve);

fn flat<T: Clone>(lists: &[RuleList<T>]) -> Vec<T> {
    lists.iter().flat_map(|l| l.0.iter().cloned()).collect()
}

fn parse_rules<T: ParseList>(text: &str) -> Result<RuleList<T>, String> {
    T::parse_list(text)
        .map(RuleList)
        .map_err(|e| format!("{e:#}"))
}

impl NetworkFlags {
    pub fn apply(&self, policy: &mut Policy) {
        let given = !self.allow_outbound.is_empty()
            || !self.allow_inbound.is_empty()
            || !self.allow_resolve.is_empty();
        if !given {
            return;
        }
        let network = policy.network();
        network.extend(&NetworkPolicy {
            outbound: flat(&self.allow_outbound),
            inbound: flat(&self.allow_inbound),
            resolve: flat(&self.allow_resolve),
        });
    }
}

/// The filesystem.
#[derive(Args, Debug)]
#[command(next_help_heading = "Filesystem")]
pub struct FsFlags {
    /// Let every host preopened directory through (otherwise the component
    /// sees none, and the output does not import the host's filesystem).
    #[arg(long)]
    allow_fs: bool,

    /// Embed the host directory HOSTDIR, recursively and read-only, as the
    /// preopened directory GUEST: `--mount /data=./data`. Repeatable.
    #[arg(long, value_name = "GUEST=HOSTDIR", value_parser = parse_mount)]
    mount: Vec<(String, PathBuf)>,

    /// Show the host directory HOSTPATH as the preopened directory GUEST, at
    /// run time: the host must preopen HOSTPATH (or a directory above it).
    /// Repeatable, and may be mixed with --mount.
    #[arg(long, value_name = "GUEST=HOSTPATH", value_parser = parse_mount)]
    preopen: Vec<(String, PathBuf)>,

    /// An empty writable directory held in the component's memory as the
    /// preopen GUEST, of at most SIZE (default 64MiB; `16MiB`, `512KiB`,
    /// `1GiB`): it lives as long as the instance and never touches the
    /// host. Repeatable.
    #[arg(long, value_name = "GUEST[=SIZE]", value_parser = parse_tmpfs)]
    tmpfs: Vec<(String, Option<u64>)>,

    /// Embed HOSTDIR as --mount does, with writes, creations, renames and
    /// deletions going to an in-memory layer of at most SIZE above it
    /// (default 64MiB). Repeatable.
    #[arg(long, value_name = "GUEST=HOSTDIR[=SIZE]", value_parser = parse_overlay)]
    overlay: Vec<(String, PathBuf, Option<u64>)>,
}

fn parse_size(text: &str) -> Result<u64, String> {
    text.parse::<wasi_virt::ByteSize>()
        .map(|s| s.0)
        .map_err(|e| format!("{e:#}"))
}

fn parse_tmpfs(s: &str) -> Result<(String, Option<u64>), String> {
    match s.split_once('=') {
        None if !s.is_empty() => Ok((s.to_string(), None)),
        Some((guest, size)) if !guest.is_empty() => {
            Ok((guest.to_string(), Some(parse_size(size)?)))
        }
        _ => Err(format!("`{s}` is not GUEST or GUEST=SIZE")),
    }
}

fn parse_overlay(s: &str) -> Result<(String, PathBuf, Option<u64>), String> {
    let mut parts = s.splitn(3, '=');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(guest), Some(dir), size) if !guest.is_empty() && !dir.is_empty() => Ok((
            guest.to_string(),
            PathBuf::from(dir),
            size.map(parse_size).transpose()?,
        )),
        _ => Err(format!("`{s}` is not GUEST=HOSTDIR or GUEST=HOSTDIR=SIZE")),
    }
}

impl FsFlags {
    pub fn apply(&self, policy: &mut Policy) -> Result<()> {
        let fs = policy.fs.get_or_insert_with(Default::default);
        if self.allow_fs {
            fs.allow_host_preopens();
        }
        for (guest, host) in &self.mount {
            if fs.preopens.contains_key(guest) {
                bail!("`{guest}` is mounted twice; give each mount point once");
            }
            let shown = host.display();
            let meta = std::fs::metadata(host)
                .with_context(|| format!("failed to read mount `{guest}={shown}`"))?;
            if !meta.is_dir() {
                bail!("mount `{guest}={shown}`: `{shown}` is a file; --mount takes a directory");
            }
            fs.virtual_preopen(guest, host);
        }
        for (guest, size) in &self.tmpfs {
            if fs.preopens.contains_key(guest) {
                bail!("`{guest}` is given twice; give each preopen once");
            }
            fs.tmpfs(guest, *size);
        }
        for (guest, host, size) in &self.overlay {
            if fs.preopens.contains_key(guest) {
                bail!("`{guest}` is given twice; give each preopen once");
            }
            let shown = host.display();
            let meta = std::fs::metadata(host)
                .with_context(|| format!("failed to read overlay `{guest}={shown}`"))?;
            if !meta.is_dir() {
                bail!(
                    "overlay `{guest}={shown}`: `{shown}` is a file; --overlay takes a directory"
                );
            }
            fs.overlay(guest, host, *size);
        }
        for (guest, host) in &self.preopen {
            if fs.preopens.contains_key(guest) {
                bail!("`{guest}` is given twice; give each preopen once");
            }
            fs.host_preopen(guest, host);
        }
        Ok(())
    }
}

/// `wasi:config/store`.
#[derive(Args, Debug)]
#[command(next_help_heading = "Config store")]
pub struct ConfigFlags {
    /// Set a `wasi:config/store` property: `-c NAME=VALUE`. Repeatable.
    #[arg(short = 'c', long = "config", value_name = "NAME=VALUE", value_parser = parse_property)]
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
}

impl ConfigFlags {
    pub fn apply(&self, policy: &mut Policy) -> Result<()> {
        let store = policy.config.get_or_insert_with(Default::default);
        for (k, v) in &self.config {
            store.properties.insert(k.clone(), v.clone());
        }
        let names = NameKind::Property;
        if let Some(host) = host_filter(&self.allow_config, &None, "config", names)? {
            store.host = host;
        }
        Ok(())
    }
}

/// What is written.
#[derive(Args, Debug)]
#[command(next_help_heading = "Output")]
pub struct OutputFlags {
    /// Where to write the output. Written only on success.
    //
    // Required; an `Option` only because these flags are the top level's
    // too, where a named subcommand leaves them out
    // (src/bin/wasi-virt/main.rs).
    #[arg(short, long, value_name = "OUT", required = true)]
    out: Option<PathBuf>,

    /// Trace every virtualized call, and the reason for every trap, to the
    /// host's stderr (the output then imports `wasi:cli/stderr`).
    #[arg(long)]
    debug: bool,

    /// The WASI 0.2.x version of the adapter's interface names. Default: the
    /// version the component imports, or 0.2.12 for a standalone adapter,
    /// which must match its component exactly for `wasm-tools compose`.
    #[arg(long, value_name = "VERSION")]
    pub wasi_version: Option<semver::Version>,

    /// Also write what the run did as JSON (the `wasi-virt-report/1`
    /// schema): the subsystems virtualized, rules, denied and plugged
    /// imports, the permissions, and the output's imports by permission.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Print nothing on success: no summary (the output, and the report of
    /// `--report`, are written all the same). Errors are still printed.
    #[arg(short, long)]
    pub quiet: bool,
}

impl OutputFlags {
    /// `-o`, which clap requires wherever these flags are parsed.
    pub fn out(&self) -> &Path {
        self.out.as_deref().expect("clap requires --out")
    }

    pub fn apply(&self, policy: &mut Policy) -> Result<()> {
        policy.debug |= self.debug;
        Ok(())
    }
}

/// Imports outside WASI's subsystems, and declared permissions.
#[derive(Args, Debug)]
#[command(next_help_heading = "Permissions and other imports")]
pub struct PermissionFlags {
    /// The permissions the output may need: environment, stdio,
    /// filesystem, networking, clocks, random, exit, config, or a non-WASI
    /// interface (`ocre:gpio/pins`) or package (`ocre:gpio/*`). If the
    /// output imports anything outside them, nothing is written and each
    /// import is listed with the permission it needs. Comma-separated,
    /// repeatable.
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_permission)]
    permissions: Vec<String>,

    /// Add the permissions a catalog file defines (docs/catalogs.md; the
    /// Atym and WasmEdge ones are in `catalogs/`) to the built-in ones, for
    /// `--permissions`. Repeatable.
    #[arg(long, value_name = "FILE")]
    catalog: Vec<PathBuf>,

    /// Do not check the output against the declared permissions (the
    /// summary says the check was skipped).
    #[arg(long)]
    skip_validation: bool,

    /// Answer an import that no subsystem governs with traps and remove it
    /// from the output: `namespace:package/interface[@version]` or
    /// `namespace:package/*`. Repeatable.
    #[arg(long, value_name = "PATTERN")]
    deny_import: Vec<String>,

    /// Let a WASI interface that no subsystem governs through to the host
    /// (`wasi:logging/logging`, `wasi:keyvalue/*`, with or without
    /// `@version`); without it such an import is answered with traps and
    /// removed, whatever else is allowed. Repeatable.
    #[arg(long, value_name = "PATTERN")]
    allow_import: Vec<String>,

    /// Compose PROVIDER, a component exporting some of the component's
    /// imports, in front of it (its own imports are virtualized too).
    /// Repeatable.
    #[arg(long, value_name = "PROVIDER")]
    plug: Vec<PathBuf>,

    /// When the component's code can reach functions the policy answers
    /// with traps (denied clocks, random or exit; imports denied in front
    /// of it): `warn` lists them in the summary and the report (the
    /// default), `error` writes nothing and names each with the flag that
    /// would serve it.
    #[arg(long, value_name = "WHAT", value_parser = ["warn", "error"])]
    deny_reachable: Option<String>,
}

impl PermissionFlags {
    pub fn apply(&self, policy: &mut Policy) {
        policy.imports.deny.extend(self.deny_import.iter().cloned());
        policy
            .imports
            .allow
            .extend(self.allow_import.iter().cloned());
        if !self.permissions.is_empty() || self.skip_validation || !self.catalog.is_empty() {
            let p = policy.permissions.get_or_insert_with(Default::default);
            p.declared.extend(self.permissions.iter().cloned());
            p.catalogs.extend(self.catalog.iter().cloned());
            p.skip_validation |= self.skip_validation;
        }
        match self.deny_reachable.as_deref() {
            Some("error") => policy.deny_reachable = Some(wasi_virt::DenyReachable::Error),
            Some(_) => policy.deny_reachable = Some(wasi_virt::DenyReachable::Warn),
            None => {}
        }
    }

    pub fn plugs(&self) -> &[PathBuf] {
        &self.plug
    }
}

/// A built-in permission, an interface or package, or a name a catalog
/// may define (checked against the catalogs when the run reads them).
fn parse_permission(text: &str) -> Result<String> {
    let text = text.trim();
    let catalog_name = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !catalog_name {
        wasi_virt::Permission::parse_declared(text)?;
    }
    Ok(text.to_string())
}

/// `--allow-X` (all, or only the names listed) and `--deny-X` (all but the
/// names listed) as a host filter; `None` when neither is given.
fn host_filter(
    allow: &Option<Vec<String>>,
    deny: &Option<Vec<String>>,
    what: &str,
    kind: NameKind,
) -> Result<Option<HostFilter>> {
    let checked = |names: &[String], flag: String| -> Result<Vec<String>> {
        for name in names {
            check_name(kind, name).with_context(|| format!("in `{flag}`"))?;
        }
        Ok(names.to_vec())
    };
    Ok(match (allow, deny) {
        (Some(names), _) if names.is_empty() => Some(HostFilter::All),
        (Some(names), _) => Some(HostFilter::Allow(checked(
            names,
            format!("--allow-{what}"),
        )?)),
        (None, Some(names)) => Some(HostFilter::Deny(checked(names, format!("--deny-{what}"))?)),
        (None, None) => None,
    })
}

/// `host`, `deny` or `virtual:INSTANT`.
fn parse_clock(s: &str) -> Result<ClocksPolicy, String> {
    match s {
        "host" => Ok(ClocksPolicy::Allow),
        "deny" => Ok(ClocksPolicy::Deny),
        _ => match s.strip_prefix("virtual:") {
            Some(start) => wasi_virt::parse_instant(start)
                .map(|_| ClocksPolicy::Virtual(start.to_string()))
                .map_err(|e| format!("{e:#}")),
            None => Err(format!(
                "`{s}` is not `host`, `deny` or `virtual:INSTANT` (`virtual:2024-01-01T00:00:00Z`)"
            )),
        },
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

/// `-e NAME=VALUE`.
fn parse_variable(s: &str) -> Result<(String, String), String> {
    parse_key_value(s, NameKind::Variable)
}

/// `-c NAME=VALUE`.
fn parse_property(s: &str) -> Result<(String, String), String> {
    parse_key_value(s, NameKind::Property)
}

/// `NAME=VALUE`, the name checked as a policy file's names are.
fn parse_key_value(s: &str, kind: NameKind) -> Result<(String, String), String> {
    let Some((k, v)) = s.split_once('=') else {
        return Err(format!("`{s}` has no `=`; expected KEY=VALUE"));
    };
    check_name(kind, k).map_err(|e| format!("{e:#}"))?;
    Ok((k.to_string(), v.to_string()))
}
