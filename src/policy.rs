//! The virtualization policy: what the output may ask of its host, and what is
//! baked in.
//!
//! These types are the library's configuration, the schema of a `--policy`
//! TOML file, and the `[policy]` table of every test case. A subsystem that is
//! absent (`None`) is *not virtualized*: the user component's imports of it go
//! straight to the host. A WASI interface that no subsystem governs
//! (`wasi:logging/logging`) is denied whatever the subsystems say, unless
//! [`ImportsPolicy::allow`] names it.

pub mod instant;
pub mod network;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use wasi_virt_layout::{HostFilterMode, Stream};

pub use wasi_virt_layout::StdioMode;

/// A complete virtualization policy.
///
/// ```toml
/// [env]
/// host = { allow = ["LANG"] }
/// overrides = { MODE = "production" }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Policy {
    /// `wasi:cli/environment`: variables, arguments and the initial cwd.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<EnvPolicy>,
    /// `wasi:cli/{stdin,stdout,stderr}` and the `terminal-*` interfaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdio: Option<StdioPolicy>,
    /// `wasi:clocks/{monotonic-clock,wall-clock}`: the host's, denied, or
    /// a virtual clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clocks: Option<ClocksPolicy>,
    /// `wasi:random/{random,insecure,insecure-seed}`: the host's, denied,
    /// or a seeded generator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random: Option<RandomPolicy>,
    /// `wasi:cli/exit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<Access>,
    /// `wasi:sockets/*`: denied, every operation fails with `access-denied`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sockets: Option<Access>,
    /// `wasi:filesystem/{types,preopens}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fs: Option<FsPolicy>,
    /// `wasi:http/{types,outgoing-handler}`: denied, `handle` returns
    /// `HTTP-request-denied`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<Access>,
    /// `wasi:config/store` (the `0.2.0-rc.1` draft): properties, and which
    /// host properties are visible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ConfigPolicy>,
    /// Network grants: outbound connects, datagrams and HTTP requests,
    /// inbound binds, and name lookups, each checked by the adapter. Rules
    /// for TCP, UDP or lookups virtualize `wasi:sockets` (sockets must not be
    /// `allow`, which grants everything); `http://` and `https://` rules
    /// virtualize `wasi:http` likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<crate::policy::network::NetworkPolicy>,
    /// Trace every virtualized call to the host's stderr (keeps the host
    /// `wasi:cli/stderr` import for that).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub debug: bool,
    /// Imports outside WASI's subsystems (`ocre:gpio/pins`,
    /// `wasi:logging/logging`): which are replaced by traps, and which WASI
    /// interfaces that no subsystem governs are let through.
    #[serde(default, skip_serializing_if = "ImportsPolicy::is_empty")]
    pub imports: ImportsPolicy,
    /// The permissions the output's imports must all fall under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<PermissionsPolicy>,
    /// Serve the command over HTTP, one run per request (`--serve-http`):
    /// the output exports `wasi:http/incoming-handler` instead of
    /// `wasi:cli/run`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serve_http: Option<ServeHttp>,
}

/// A command served per request, as CGI and WAGI serve one: the request's
/// path and the words of a search query are its arguments, its body is
/// stdin, its headers and the rest are CGI variables, and stdout is the
/// response.
///
/// ```toml
/// [serve-http]
/// stderr = "stdout"
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ServeHttp {
    /// Where stderr goes: `stdout` writes it into the response with
    /// stdout, interleaved; `stderr` (the default) leaves it to the stdio
    /// policy.
    #[serde(default)]
    pub stderr: ServeStderr,
}

/// [`ServeHttp::stderr`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServeStderr {
    /// As the stdio policy says.
    #[default]
    Stderr,
    /// Into the response, with stdout.
    Stdout,
}

/// Imports that no subsystem governs. A WASI interface among them
/// (`wasi:logging/logging`, `wasi:keyvalue/store`, `wasi:clocks/timezone`)
/// is answered by traps unless `allow` names it; any other passes to the
/// host unless `deny` names it.
///
/// ```toml
/// [imports]
/// deny = ["ocre:gpio/*", "my:log/sink"]
/// allow = ["wasi:keyvalue/*", "wasi:logging/logging"]
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ImportsPolicy {
    /// Interfaces the component imports that are answered by traps and
    /// removed from the output: `namespace:package/interface` (any
    /// version, or `@VERSION` for one), or `namespace:package/*` for all of
    /// a package's. Each must match an import of the component; WASI's
    /// subsystems are governed by their own settings, not here.
    #[serde(default)]
    pub deny: Vec<String>,
    /// WASI interfaces that no subsystem governs, let through to the host
    /// (otherwise they are answered by traps and removed): patterns as for
    /// `deny`, each matching an import of the component. An interface a
    /// subsystem governs is let through by that subsystem's setting, not
    /// here.
    #[serde(default)]
    pub allow: Vec<String>,
}

impl ImportsPolicy {
    fn is_empty(&self) -> bool {
        self.deny.is_empty() && self.allow.is_empty()
    }
}

/// Declared permissions.
///
/// ```toml
/// [permissions]
/// declared = ["stdio", "networking", "ocre:gpio/*"]
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PermissionsPolicy {
    /// The permissions granted: `environment`, `stdio`, `filesystem`,
    /// `networking`, `clocks`, `random`, `exit`, `config`, or a non-WASI
    /// interface (`ocre:gpio/pins`) or package (`ocre:gpio/*`). After
    /// virtualizing, every import of the output must fall under one
    /// (`wasi:io` always does), or nothing is written.
    #[serde(default)]
    pub declared: Vec<String>,
    /// Skip the check (the report says it was skipped).
    #[serde(default)]
    pub skip_validation: bool,
}

/// How the filesystem is virtualized.
///
/// ```toml
/// [fs]
/// host-preopens = false
/// preopens."/app" = { virtualize = "./static" }
/// preopens."/etc" = { dir = { "motd" = { source = "hello\n" } } }
/// preopens."/data" = { runtime-dir = "/var/data" }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FsPolicy {
    /// Whether the host's preopens pass through (default). Without them the
    /// component sees only the embedded preopens.
    #[serde(default = "yes")]
    pub host_preopens: bool,
    /// Embedded, read-only preopens: guest path to contents.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub preopens: IndexMap<String, FsEntry>,
}

/// One entry of an embedded filesystem.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum FsEntry {
    /// A directory with these entries.
    Dir(IndexMap<String, FsEntry>),
    /// A file with this text.
    Source(String),
    /// The host file or directory at this path, read (recursively) when
    /// virtualizing and embedded.
    Virtualize(std::path::PathBuf),
    /// The host directory at this path, at run time: the host must preopen
    /// it, or a directory above it. Only as a preopen.
    RuntimeDir(std::path::PathBuf),
    /// The host file at this path, opened read-only at run time through the
    /// host preopen that holds it. Only inside a directory.
    RuntimeFile(std::path::PathBuf),
    /// An empty, writable directory held in the component instance's memory
    /// (`--tmpfs`). Only as a preopen.
    Tmpfs(Tmpfs),
    /// The host directory `dir`, embedded as `virtualize` does, with writes
    /// going to an in-memory layer above it (`--overlay`). Only as a preopen.
    Overlay(Overlay),
}

/// The default size limit of a tmpfs or an overlay's writable layer.
pub const DEFAULT_MEMORY_LIMIT: u64 = 64 << 20;

/// A writable in-memory directory.
///
/// ```toml
/// preopens."/tmp" = { tmpfs = { size = "16MiB" } }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Tmpfs {
    /// The most its files and metadata may take (default 64 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<ByteSize>,
}

/// An embedded directory with a writable in-memory layer above it.
///
/// ```toml
/// preopens."/app" = { overlay = { dir = "./app", size = "8MiB" } }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Overlay {
    /// The host directory embedded below the layer.
    pub dir: std::path::PathBuf,
    /// The most the layer's files and metadata may take (default 64 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<ByteSize>,
}

/// A size in bytes, written `4096`, `64KiB`, `16MiB`, `1GiB` (or `KB`,
/// `MB`, `GB` for powers of ten).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ByteSize(pub u64);

impl std::str::FromStr for ByteSize {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> anyhow::Result<Self> {
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (digits, unit) = text.split_at(split);
        let unit_bytes: u64 = match unit.trim() {
            "" | "B" => 1,
            "KiB" | "K" => 1 << 10,
            "MiB" | "M" => 1 << 20,
            "GiB" | "G" => 1 << 30,
            "KB" => 1_000,
            "MB" => 1_000_000,
            "GB" => 1_000_000_000,
            other => anyhow::bail!(
                "`{text}`: unknown unit `{other}`; expected B, KiB, MiB, GiB, KB, MB or GB"
            ),
        };
        let n: u64 = digits
            .parse()
            .map_err(|_| anyhow::anyhow!("`{text}` is not a size such as `64MiB`"))?;
        let bytes = n
            .checked_mul(unit_bytes)
            .ok_or_else(|| anyhow::anyhow!("`{text}` is too large"))?;
        anyhow::ensure!(bytes > 0, "`{text}`: a size must be more than 0 bytes");
        Ok(ByteSize(bytes))
    }
}

impl TryFrom<String> for ByteSize {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        text.parse().map_err(|e: anyhow::Error| format!("{e:#}"))
    }
}

impl From<ByteSize> for String {
    fn from(size: ByteSize) -> String {
        size.to_string()
    }
}

impl std::fmt::Display for ByteSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0;
        for (unit, bytes) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
            if n.is_multiple_of(bytes) {
                return write!(f, "{}{unit}", n / bytes);
            }
        }
        write!(f, "{n}")
    }
}

fn yes() -> bool {
    true
}

impl Default for FsPolicy {
    fn default() -> Self {
        FsPolicy {
            host_preopens: true,
            preopens: IndexMap::new(),
        }
    }
}

impl FsPolicy {
    /// Every host preopen passes through.
    pub fn allow_host_preopens(&mut self) -> &mut Self {
        self.host_preopens = true;
        self
    }

    /// No host preopen is visible, and the host's filesystem is not imported.
    pub fn deny_host_preopens(&mut self) -> &mut Self {
        self.host_preopens = false;
        self
    }

    /// Embeds `entry` as the preopen `guest`.
    pub fn preopen(&mut self, guest: &str, entry: FsEntry) -> &mut Self {
        self.preopens.insert(guest.to_string(), entry);
        self
    }

    /// Shows the host directory `host_path` as the preopen `guest`, at run
    /// time: the host must preopen `host_path` (or a directory above it).
    pub fn host_preopen(
        &mut self,
        guest: &str,
        host_path: impl Into<std::path::PathBuf>,
    ) -> &mut Self {
        self.preopen(guest, FsEntry::RuntimeDir(host_path.into()))
    }

    /// An empty writable in-memory directory as the preopen `guest`, of at
    /// most `size` bytes (default 64 MiB).
    pub fn tmpfs(&mut self, guest: &str, size: Option<u64>) -> &mut Self {
        let size = size.map(ByteSize);
        self.preopen(guest, FsEntry::Tmpfs(Tmpfs { size }))
    }

    /// The host directory `host_dir`, embedded, as the preopen `guest`, with
    /// a writable in-memory layer of at most `size` bytes above it.
    pub fn overlay(
        &mut self,
        guest: &str,
        host_dir: impl Into<std::path::PathBuf>,
        size: Option<u64>,
    ) -> &mut Self {
        let (dir, size) = (host_dir.into(), size.map(ByteSize));
        self.preopen(guest, FsEntry::Overlay(Overlay { dir, size }))
    }

    /// Embeds the host directory `host_dir`, recursively, as the preopen
    /// `guest`.
    pub fn virtual_preopen(
        &mut self,
        guest: &str,
        host_dir: impl Into<std::path::PathBuf>,
    ) -> &mut Self {
        self.preopen(guest, FsEntry::Virtualize(host_dir.into()))
    }
}

/// How `wasi:config/store` is virtualized.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ConfigPolicy {
    /// Which host properties the component sees. Default: all of them. With
    /// `none`, asking for a property the policy does not set is an error.
    #[serde(default)]
    pub host: HostFilter,
    /// Properties the component sees whatever the host has.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub properties: IndexMap<String, String>,
}

/// Allow or deny a subsystem that has no finer settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// Calls pass through to the host.
    Allow,
    /// The host imports are removed; calls fail with the interface's own
    /// error where it has one, and trap otherwise.
    Deny,
}

/// `From<bool>` for settings whose `Allow` and `Deny` variants mean what
/// they say: `true` allows.
macro_rules! from_bool {
    ($($ty:ident),*) => {$(
        impl From<bool> for $ty {
            fn from(allow: bool) -> Self {
                if allow {
                    $ty::Allow
                } else {
                    $ty::Deny
                }
            }
        }
    )*};
}

from_bool!(Access, ClocksPolicy, RandomPolicy);

/// The clocks.
///
/// ```toml
/// clocks = "allow"                                 # or "deny"
/// clocks = { virtual = "2024-01-01T00:00:00Z" }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClocksPolicy {
    /// The host's clocks.
    Allow,
    /// Calls trap.
    Deny,
    /// A virtual clock: the wall clock starts at this RFC 3339 instant, the
    /// monotonic clock at 0. Each `now` advances both by 1 µs; waiting on a
    /// clock pollable (`sleep`) advances them to its deadline at once.
    Virtual(String),
}

/// Randomness.
///
/// ```toml
/// random = "allow"                                 # or "deny"
/// random = { seed = 42 }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RandomPolicy {
    /// The host's randomness.
    Allow,
    /// Calls trap.
    Deny,
    /// A ChaCha20 generator with this seed serves all three interfaces: the
    /// same seed gives the same bytes in every run. Never for secrets.
    Seed(u64),
}

/// Standard input.
///
/// ```toml
/// stdin = "ignore"                                 # or "allow", "deny"
/// stdin = { content = "one line\n" }
/// stdin = { file = "request.json" }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StdinPolicy {
    /// Baked in: reads return this text, then end of stream.
    Content(String),
    /// Baked in from this file, read when virtualizing.
    File(std::path::PathBuf),
    /// The host's stdin, denied, or ignored.
    #[serde(untagged)]
    Mode(StdioMode),
}

impl Default for StdinPolicy {
    fn default() -> Self {
        StdinPolicy::Mode(StdioMode::Allow)
    }
}

impl From<StdioMode> for StdinPolicy {
    fn from(mode: StdioMode) -> Self {
        StdinPolicy::Mode(mode)
    }
}

impl StdinPolicy {
    /// The mode: a baked stdin never reads the host's, so it is `ignore`
    /// with content.
    pub fn mode(&self) -> StdioMode {
        match self {
            StdinPolicy::Mode(mode) => *mode,
            StdinPolicy::Content(_) | StdinPolicy::File(_) => StdioMode::Ignore,
        }
    }
}

impl std::fmt::Display for StdinPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StdinPolicy::Mode(mode) => write!(f, "{mode}"),
            StdinPolicy::Content(text) => write!(f, "baked ({} bytes)", text.len()),
            StdinPolicy::File(path) => write!(f, "baked from {}", path.display()),
        }
    }
}

/// What each standard stream does.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StdioPolicy {
    /// Standard input.
    #[serde(default)]
    pub stdin: StdinPolicy,
    /// Standard output.
    #[serde(default)]
    pub stdout: StdioMode,
    /// Standard error.
    #[serde(default)]
    pub stderr: StdioMode,
}

impl StdioPolicy {
    /// All three streams in one mode.
    pub fn all(mode: StdioMode) -> Self {
        StdioPolicy {
            stdin: mode.into(),
            stdout: mode,
            stderr: mode,
        }
    }

    /// Reads return `text`, then end of stream; the host's stdin is never
    /// read.
    pub fn stdin_content(&mut self, text: &str) -> &mut Self {
        self.stdin = StdinPolicy::Content(text.to_string());
        self
    }

    /// The mode of one stream.
    pub fn mode(&self, stream: Stream) -> StdioMode {
        match stream {
            Stream::Stdin => self.stdin.mode(),
            Stream::Stdout => self.stdout,
            Stream::Stderr => self.stderr,
        }
    }

    /// Sets the mode of one stream.
    pub fn set(&mut self, stream: Stream, mode: StdioMode) {
        match stream {
            Stream::Stdin => self.stdin = mode.into(),
            Stream::Stdout => self.stdout = mode,
            Stream::Stderr => self.stderr = mode,
        }
    }
}

/// How `wasi:cli/environment` is virtualized.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct EnvPolicy {
    /// Which host variables the component sees. Default: all of them.
    #[serde(default)]
    pub host: HostFilter,
    /// Variables the component sees whatever the host has; they replace host
    /// variables of the same name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub overrides: IndexMap<String, String>,
    /// `get-arguments`. Default: from the host, unless `host` is `none`, in
    /// which case the component is sealed from the host's
    /// `wasi:cli/environment` entirely and sees no arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Args>,
    /// `initial-cwd`. Default: as for `args`, with no cwd when sealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<Cwd>,
}

/// Which host values pass through, by name: environment variables for
/// [`EnvPolicy`], properties for [`ConfigPolicy`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum HostFilter {
    /// None: only the values the policy sets are visible.
    None,
    /// Every host value.
    #[default]
    All,
    /// Only these host values.
    Allow(Vec<String>),
    /// Every host value but these.
    Deny(Vec<String>),
}

impl HostFilter {
    /// The layout's tag for this filter.
    pub fn mode(&self) -> HostFilterMode {
        HostFilterMode::from(self)
    }

    /// The names the filter lists.
    pub fn names(&self) -> &[String] {
        match self {
            HostFilter::None | HostFilter::All => &[],
            HostFilter::Allow(names) | HostFilter::Deny(names) => names,
        }
    }
}

impl From<&HostFilter> for HostFilterMode {
    fn from(filter: &HostFilter) -> Self {
        match filter {
            HostFilter::None => HostFilterMode::None,
            HostFilter::All => HostFilterMode::All,
            HostFilter::Allow(_) => HostFilterMode::Allow,
            HostFilter::Deny(_) => HostFilterMode::Deny,
        }
    }
}

impl std::fmt::Display for HostFilter {
    /// `none`, `all`, `only A,B` or `all but A,B`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostFilter::None => f.write_str("none"),
            HostFilter::All => f.write_str("all"),
            HostFilter::Allow(n) => write!(f, "only {}", n.join(",")),
            HostFilter::Deny(n) => write!(f, "all but {}", n.join(",")),
        }
    }
}

/// Where `get-arguments` comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Args {
    /// The host's arguments.
    Host,
    /// Exactly these arguments (the first is conventionally the program name).
    Virtual(Vec<String>),
}

/// Where `initial-cwd` comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Cwd {
    /// The host's initial cwd.
    Host,
    /// No cwd.
    None,
    /// This path.
    Virtual(String),
}

impl EnvPolicy {
    /// Whether the host's `wasi:cli/environment` is never consulted, so the
    /// output does not import it at all.
    pub fn sealed(&self) -> bool {
        self.host == HostFilter::None
            && !matches!(self.args(), Args::Host)
            && !matches!(self.cwd(), Cwd::Host)
    }

    /// `args`, with its default applied.
    pub fn args(&self) -> Args {
        self.args.clone().unwrap_or(match self.host {
            HostFilter::None => Args::Virtual(Vec::new()),
            _ => Args::Host,
        })
    }

    /// `cwd`, with its default applied.
    pub fn cwd(&self) -> Cwd {
        self.cwd.clone().unwrap_or(match self.host {
            HostFilter::None => Cwd::None,
            _ => Cwd::Host,
        })
    }
}

impl Policy {
    /// Takes from `other` what is not a subsystem's setting: its network
    /// rules, `debug` if on, its serving, its denied and allowed imports,
    /// and its declared permissions. [`Policy::overlay`] takes the
    /// subsystems' settings too.
    pub(crate) fn overlay_beyond_subsystems(&mut self, other: &Policy) {
        if let Some(network) = &other.network {
            self.network().extend(network);
        }
        self.debug |= other.debug;
        if other.serve_http.is_some() {
            self.serve_http = other.serve_http.clone();
        }
        self.imports.deny.extend(other.imports.deny.iter().cloned());
        self.imports
            .allow
            .extend(other.imports.allow.iter().cloned());
        if let Some(p) = &other.permissions {
            let mine = self.permissions.get_or_insert_with(Default::default);
            mine.declared.extend(p.declared.iter().cloned());
            mine.skip_validation |= p.skip_validation;
        }
    }

    /// Whether a command served per request writes its stderr into the
    /// response (`--stderr=stdout`).
    pub fn stderr_into_response(&self) -> bool {
        self.serve_http
            .as_ref()
            .is_some_and(|s| s.stderr == ServeStderr::Stdout)
    }

    /// The network grants, created empty if the policy has none.
    pub fn network(&mut self) -> &mut crate::policy::network::NetworkPolicy {
        self.network.get_or_insert_with(Default::default)
    }

    /// Reads a policy from TOML text, and checks it (see
    /// [`Policy::validate`]).
    pub fn from_toml(text: &str) -> anyhow::Result<Policy> {
        let policy: Policy = toml::from_str(text)?;
        policy.validate()?;
        Ok(policy)
    }

    /// Checks what the policy's types cannot: each environment variable
    /// and config property name it sets or filters (see [`check_name`]).
    /// Every source of a policy passes here: a policy file when it is
    /// read, the CLI's flags as they are parsed, and the library's builder
    /// in `finish()`.
    pub fn validate(&self) -> anyhow::Result<()> {
        use anyhow::Context;
        if let Some(env) = &self.env {
            check_names(NameKind::Variable, env.overrides.keys())
                .context("in the environment's `overrides`")?;
            check_names(NameKind::Variable, env.host.names())
                .context("in the environment's `host` filter")?;
        }
        if let Some(config) = &self.config {
            check_names(NameKind::Property, config.properties.keys())
                .context("in the config store's `properties`")?;
            check_names(NameKind::Property, config.host.names())
                .context("in the config store's `host` filter")?;
        }
        Ok(())
    }
}

/// What a name names, for [`check_name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    /// An environment variable.
    Variable,
    /// A `wasi:config/store` property.
    Property,
}

impl std::fmt::Display for NameKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NameKind::Variable => "variable",
            NameKind::Property => "property",
        })
    }
}

/// Checks a variable or property name: not empty, and holding neither `=`
/// (which ends a name in `NAME=VALUE`, so `A=B` would read as `A`) nor a
/// NUL byte (which ends a C string). The CLI, a policy file and the
/// library all check names here, with the same error.
pub fn check_name(kind: NameKind, name: &str) -> anyhow::Result<()> {
    if name.is_empty() {
        anyhow::bail!("a {kind} name cannot be empty");
    }
    if name.contains('=') {
        anyhow::bail!("`{name}` is not a {kind} name: it holds `=`");
    }
    if name.contains('\0') {
        anyhow::bail!("{name:?} is not a {kind} name: it holds a NUL byte");
    }
    Ok(())
}

fn check_names<'a>(
    kind: NameKind,
    names: impl IntoIterator<Item = &'a String>,
) -> anyhow::Result<()> {
    names
        .into_iter()
        .try_for_each(|name| check_name(kind, name))
}

impl EnvPolicy {
    /// Exactly these arguments (the first is conventionally the program
    /// name); the host's are never asked for.
    pub fn virtual_args(&mut self, args: &[&str]) -> &mut Self {
        self.args = Some(Args::Virtual(args.iter().map(|s| s.to_string()).collect()));
        self
    }

    /// This initial cwd; the host's is never asked for.
    pub fn virtual_cwd(&mut self, cwd: &str) -> &mut Self {
        self.cwd = Some(Cwd::Virtual(cwd.to_string()));
        self
    }

    /// Sets variables the component sees whatever the host has.
    pub fn overrides(&mut self, vars: &[(&str, &str)]) -> &mut Self {
        for (k, v) in vars {
            self.overrides.insert(k.to_string(), v.to_string());
        }
        self
    }

    /// Only these host variables pass through.
    pub fn allow(&mut self, names: &[&str]) -> &mut Self {
        self.host = HostFilter::Allow(names.iter().map(|s| s.to_string()).collect());
        self
    }

    /// Every host variable but these passes through.
    pub fn deny(&mut self, names: &[&str]) -> &mut Self {
        self.host = HostFilter::Deny(names.iter().map(|s| s.to_string()).collect());
        self
    }

    /// Every host variable passes through.
    pub fn allow_all(&mut self) -> &mut Self {
        self.host = HostFilter::All;
        self
    }

    /// No host variable passes through; with the default `args` and `cwd`,
    /// the output no longer imports `wasi:cli/environment` at all.
    pub fn deny_all(&mut self) -> &mut Self {
        self.host = HostFilter::None;
        self
    }
}

/// A subsystem's setting, as the registry (`src/subsystem/registry.rs`) handles it.
pub trait Setting: Clone + 'static {
    /// Everything passes through to the host.
    fn allowing() -> Self;
    /// Nothing reaches the host.
    fn denying() -> Self;
    /// Whether the subsystem's single allow bit, if it has one, is set.
    fn allows(&self) -> bool;
    /// The setting in words, for the summary.
    fn describe(&self) -> String;
    /// What content (variables, files, properties) it gives the component,
    /// in words, if any.
    fn content(&self) -> Option<&'static str> {
        None
    }
}

/// `allowing`, `denying` and `allows` of a setting whose `Allow` and `Deny`
/// variants mean what they say.
macro_rules! allow_or_deny {
    ($ty:ident) => {
        fn allowing() -> Self {
            $ty::Allow
        }

        fn denying() -> Self {
            $ty::Deny
        }

        fn allows(&self) -> bool {
            *self == $ty::Allow
        }
    };
}

impl Setting for Access {
    allow_or_deny!(Access);

    fn describe(&self) -> String {
        match self {
            Access::Allow => "allow".to_string(),
            Access::Deny => "deny".to_string(),
        }
    }
}

impl Setting for EnvPolicy {
    fn allowing() -> Self {
        EnvPolicy::default()
    }

    /// Sealed: no host variable, no arguments, no cwd.
    fn denying() -> Self {
        EnvPolicy {
            host: HostFilter::None,
            ..EnvPolicy::default()
        }
    }

    fn allows(&self) -> bool {
        !self.sealed()
    }

    fn describe(&self) -> String {
        let args = match self.args() {
            Args::Host => "host".to_string(),
            Args::Virtual(a) => format!("{} virtual", a.len()),
        };
        self.describe_with_arguments(&args)
    }

    fn content(&self) -> Option<&'static str> {
        let has = !self.overrides.is_empty()
            || matches!(self.args, Some(Args::Virtual(_)))
            || matches!(self.cwd, Some(Cwd::Virtual(_)));
        has.then_some("environment variables, arguments or a cwd")
    }
}

impl EnvPolicy {
    /// The setting in words, with its arguments described as `arguments`.
    pub(crate) fn describe_with_arguments(&self, arguments: &str) -> String {
        let cwd = match self.cwd() {
            Cwd::Host => "host".to_string(),
            Cwd::None => "none".to_string(),
            Cwd::Virtual(p) => p,
        };
        format!(
            "host variables {}; {} set; arguments {arguments}; cwd {cwd}",
            self.host,
            self.overrides.len()
        )
    }
}

impl Setting for StdioPolicy {
    fn allowing() -> Self {
        StdioPolicy::all(StdioMode::Allow)
    }

    fn denying() -> Self {
        StdioPolicy::all(StdioMode::Deny)
    }

    fn allows(&self) -> bool {
        Stream::ALL
            .iter()
            .any(|s| self.mode(*s) == StdioMode::Allow)
    }

    fn describe(&self) -> String {
        format!(
            "stdin {}, stdout {}, stderr {}",
            self.stdin, self.stdout, self.stderr
        )
    }

    fn content(&self) -> Option<&'static str> {
        (!matches!(self.stdin, StdinPolicy::Mode(_))).then_some("a baked stdin")
    }
}

impl Setting for ClocksPolicy {
    allow_or_deny!(ClocksPolicy);

    fn describe(&self) -> String {
        match self {
            ClocksPolicy::Allow => "allow".to_string(),
            ClocksPolicy::Deny => "deny".to_string(),
            ClocksPolicy::Virtual(start) => format!("virtual, from {start}"),
        }
    }

    fn content(&self) -> Option<&'static str> {
        matches!(self, ClocksPolicy::Virtual(_)).then_some("a virtual clock")
    }
}

impl Setting for RandomPolicy {
    allow_or_deny!(RandomPolicy);

    fn describe(&self) -> String {
        match self {
            RandomPolicy::Allow => "allow".to_string(),
            RandomPolicy::Deny => "deny".to_string(),
            RandomPolicy::Seed(seed) => format!("seeded ({seed}; not for secrets)"),
        }
    }

    fn content(&self) -> Option<&'static str> {
        matches!(self, RandomPolicy::Seed(_)).then_some("a random seed")
    }
}

impl Setting for FsPolicy {
    fn allowing() -> Self {
        FsPolicy::default()
    }

    fn denying() -> Self {
        FsPolicy {
            host_preopens: false,
            preopens: IndexMap::new(),
        }
    }

    /// The host's preopens pass.
    fn allows(&self) -> bool {
        self.host_preopens
    }

    fn describe(&self) -> String {
        let mut line = if self.host_preopens {
            "host preopens".to_string()
        } else {
            "no host preopens".to_string()
        };
        for (guest, entry) in &self.preopens {
            match entry {
                FsEntry::RuntimeDir(h) => {
                    line.push_str(&format!("; {guest} = host {}", h.display()))
                }
                FsEntry::Tmpfs(t) => line.push_str(&format!(
                    "; {guest} tmpfs ({})",
                    t.size.unwrap_or(ByteSize(DEFAULT_MEMORY_LIMIT))
                )),
                FsEntry::Overlay(o) => line.push_str(&format!(
                    "; {guest} overlay on {} ({})",
                    o.dir.display(),
                    o.size.unwrap_or(ByteSize(DEFAULT_MEMORY_LIMIT))
                )),
                _ => line.push_str(&format!("; {guest} embedded")),
            }
        }
        line
    }

    fn content(&self) -> Option<&'static str> {
        (!self.preopens.is_empty()).then_some("embedded files or preopens")
    }
}

impl Setting for ConfigPolicy {
    fn allowing() -> Self {
        ConfigPolicy::default()
    }

    fn denying() -> Self {
        ConfigPolicy {
            host: HostFilter::None,
            ..ConfigPolicy::default()
        }
    }

    /// Some host property is visible, so the host's store is asked.
    fn allows(&self) -> bool {
        self.host != HostFilter::None
    }

    fn describe(&self) -> String {
        format!(
            "host properties {}; {} set",
            self.host,
            self.properties.len()
        )
    }

    fn content(&self) -> Option<&'static str> {
        (!self.properties.is_empty()).then_some("config properties")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_forms() {
        let p = Policy::from_toml(
            r#"
            [env]
            host = { deny = ["SECRET"] }
            overrides = { A = "1", B = "2" }
            args = { virtual = ["prog", "x"] }
            cwd = "none"
            "#,
        )
        .unwrap();
        let env = p.env.unwrap();
        assert_eq!(env.host, HostFilter::Deny(vec!["SECRET".into()]));
        assert_eq!(env.overrides.keys().collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!(env.args(), Args::Virtual(vec!["prog".into(), "x".into()]));
        assert_eq!(env.cwd(), Cwd::None);

        let p = Policy::from_toml("[env]\nhost = \"none\"\n").unwrap();
        assert!(p.env.unwrap().sealed());
        let p = Policy::from_toml("[env]\n").unwrap();
        assert_eq!(p.env.unwrap().host, HostFilter::All);
    }

    #[test]
    fn subsystem_forms() {
        let p = Policy::from_toml(
            "clocks = \"allow\"\nrandom = \"deny\"\ndebug = true\n[stdio]\nstdout = \"ignore\"\n",
        )
        .unwrap();
        assert_eq!(p.clocks, Some(ClocksPolicy::Allow));
        assert_eq!(p.random, Some(RandomPolicy::Deny));
        assert_eq!(p.exit, None);
        assert!(p.debug);
        let stdio = p.stdio.unwrap();
        assert_eq!(
            (stdio.stdin, stdio.stdout),
            (StdinPolicy::Mode(StdioMode::Allow), StdioMode::Ignore)
        );
        assert!(Policy::from_toml("clocks = \"maybe\"\n").is_err());
    }

    #[test]
    fn sealed_but_runnable_forms() {
        let p = Policy::from_toml(
            "clocks = { virtual = \"2024-01-01T00:00:00Z\" }\nrandom = { seed = 42 }\n\
             [stdio]\nstdin = { content = \"hi\\n\" }\n",
        )
        .unwrap();
        assert_eq!(
            p.clocks,
            Some(ClocksPolicy::Virtual("2024-01-01T00:00:00Z".into()))
        );
        assert_eq!(p.random, Some(RandomPolicy::Seed(42)));
        assert_eq!(p.stdio.unwrap().stdin, StdinPolicy::Content("hi\n".into()));
        let p = Policy::from_toml("[stdio]\nstdin = { file = \"in.txt\" }\n").unwrap();
        assert_eq!(p.stdio.unwrap().stdin, StdinPolicy::File("in.txt".into()));
        let p = Policy::from_toml("[stdio]\nstdin = \"deny\"\n").unwrap();
        assert_eq!(p.stdio.unwrap().stdin, StdinPolicy::Mode(StdioMode::Deny));
        assert!(Policy::from_toml("[stdio]\nstdin = \"maybe\"\n").is_err());
        assert!(Policy::from_toml("random = { seed = \"x\" }\n").is_err());
    }

    #[test]
    fn names_are_checked_from_every_source() {
        for (toml, error) in [
            (
                "[env]\noverrides = { \"\" = \"x\" }",
                "a variable name cannot be empty",
            ),
            (
                "[env]\noverrides = { \"A=B\" = \"x\" }",
                "`A=B` is not a variable name",
            ),
            (
                "[env]\noverrides = { \"A\\u0000\" = \"x\" }",
                "it holds a NUL byte",
            ),
            (
                "[env]\nhost = { allow = [\"\"] }",
                "a variable name cannot be empty",
            ),
            (
                "[env]\nhost = { deny = [\"X=1\"] }",
                "`X=1` is not a variable name",
            ),
            (
                "[config]\nproperties = { \"\" = \"x\" }",
                "a property name cannot be empty",
            ),
            (
                "[config]\nhost = { allow = [\"a=b\"] }",
                "`a=b` is not a property name",
            ),
        ] {
            let err = format!("{:#}", Policy::from_toml(toml).unwrap_err());
            assert!(err.contains(error), "{toml}: {err}");
        }
        let mut built = Policy::default();
        built
            .env
            .get_or_insert_with(Default::default)
            .overrides(&[("A=B", "x")]);
        let err = format!("{:#}", built.validate().unwrap_err());
        assert!(err.contains("`A=B` is not a variable name"), "{err}");
        let mut virt = crate::WasiVirt::new();
        virt.env().overrides(&[("A=B", "x")]);
        let err = format!("{:#}", virt.finish().err().expect("refused"));
        assert!(err.contains("`A=B` is not a variable name"), "{err}");
        assert!(Policy::from_toml("[env]\noverrides = { A = \"=x=\" }").is_ok());
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = Policy::from_toml("[env]\nhosts = \"all\"\n").unwrap_err();
        assert!(err.to_string().contains("unknown field `hosts`"), "{err}");
        assert!(Policy::from_toml("[envv]\n").is_err());
    }
}
