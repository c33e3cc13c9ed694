//! The virtualization policy: what the output may ask of its host, and what is
//! baked in.
//!
//! These types are the library's configuration, the schema of a `--policy`
//! TOML file, and the `[policy]` table of every test case. A subsystem that is
//! absent (`None`) is *not virtualized*: the user component's imports of it go
//! straight to the host.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

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
    /// `wasi:clocks/{monotonic-clock,wall-clock}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clocks: Option<Access>,
    /// `wasi:random/{random,insecure,insecure-seed}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random: Option<Access>,
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
    /// Trace every virtualized call to the host's stderr (keeps the host
    /// `wasi:cli/stderr` import for that).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub debug: bool,
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
    pub host: HostEnv,
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

impl From<bool> for Access {
    fn from(allow: bool) -> Self {
        if allow {
            Access::Allow
        } else {
            Access::Deny
        }
    }
}

/// What each standard stream does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StdioPolicy {
    /// Standard input.
    #[serde(default)]
    pub stdin: StdioMode,
    /// Standard output.
    #[serde(default)]
    pub stdout: StdioMode,
    /// Standard error.
    #[serde(default)]
    pub stderr: StdioMode,
}

/// What one standard stream does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StdioMode {
    /// The host's stream.
    #[default]
    Allow,
    /// Every read or write fails with an error; the stream is not a terminal.
    Deny,
    /// Reads see end-of-file; writes succeed and are discarded.
    Ignore,
}

impl StdioPolicy {
    /// All three streams in one mode.
    pub fn all(mode: StdioMode) -> Self {
        StdioPolicy {
            stdin: mode,
            stdout: mode,
            stderr: mode,
        }
    }
}

/// How `wasi:cli/environment` is virtualized.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct EnvPolicy {
    /// Which host variables the component sees. Default: all of them.
    #[serde(default)]
    pub host: HostEnv,
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

/// Which host values (environment variables, config properties) pass
/// through.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum HostEnv {
    /// None: only overrides are visible.
    None,
    /// Every host variable.
    #[default]
    All,
    /// Only these host variables.
    Allow(Vec<String>),
    /// Every host variable but these.
    Deny(Vec<String>),
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
        self.host == HostEnv::None
            && !matches!(self.args(), Args::Host)
            && !matches!(self.cwd(), Cwd::Host)
    }

    /// `args`, with its default applied.
    pub fn args(&self) -> Args {
        self.args.clone().unwrap_or(match self.host {
            HostEnv::None => Args::Virtual(Vec::new()),
            _ => Args::Host,
        })
    }

    /// `cwd`, with its default applied.
    pub fn cwd(&self) -> Cwd {
        self.cwd.clone().unwrap_or(match self.host {
            HostEnv::None => Cwd::None,
            _ => Cwd::Host,
        })
    }
}

impl Policy {
    /// Everything virtualized and passed through to the host.
    pub fn allow_all() -> Policy {
        Policy {
            env: Some(EnvPolicy::default()),
            stdio: Some(StdioPolicy::all(StdioMode::Allow)),
            clocks: Some(Access::Allow),
            random: Some(Access::Allow),
            exit: Some(Access::Allow),
            sockets: Some(Access::Allow),
            fs: Some(FsPolicy::default()),
            http: Some(Access::Allow),
            config: Some(ConfigPolicy::default()),
            debug: false,
        }
    }

    /// Everything virtualized and denied: the environment is sealed, and a
    /// composed component imports nothing of WASI.
    pub fn deny_all() -> Policy {
        Policy {
            env: Some(EnvPolicy {
                host: HostEnv::None,
                ..EnvPolicy::default()
            }),
            stdio: Some(StdioPolicy::all(StdioMode::Deny)),
            clocks: Some(Access::Deny),
            random: Some(Access::Deny),
            exit: Some(Access::Deny),
            sockets: Some(Access::Deny),
            fs: Some(FsPolicy {
                host_preopens: false,
                preopens: IndexMap::new(),
            }),
            http: Some(Access::Deny),
            config: Some(ConfigPolicy {
                host: HostEnv::None,
                ..ConfigPolicy::default()
            }),
            debug: false,
        }
    }

    /// Reads a policy from TOML text.
    pub fn from_toml(text: &str) -> anyhow::Result<Policy> {
        Ok(toml::from_str(text)?)
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
        assert_eq!(env.host, HostEnv::Deny(vec!["SECRET".into()]));
        assert_eq!(env.overrides.keys().collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!(env.args(), Args::Virtual(vec!["prog".into(), "x".into()]));
        assert_eq!(env.cwd(), Cwd::None);

        let p = Policy::from_toml("[env]\nhost = \"none\"\n").unwrap();
        assert!(p.env.unwrap().sealed());
        let p = Policy::from_toml("[env]\n").unwrap();
        assert_eq!(p.env.unwrap().host, HostEnv::All);
    }

    #[test]
    fn subsystem_forms() {
        let p = Policy::from_toml(
            "clocks = \"allow\"\nrandom = \"deny\"\ndebug = true\n[stdio]\nstdout = \"ignore\"\n",
        )
        .unwrap();
        assert_eq!(p.clocks, Some(Access::Allow));
        assert_eq!(p.random, Some(Access::Deny));
        assert_eq!(p.exit, None);
        assert!(p.debug);
        let stdio = p.stdio.unwrap();
        assert_eq!(
            (stdio.stdin, stdio.stdout),
            (StdioMode::Allow, StdioMode::Ignore)
        );
        assert!(Policy::from_toml("clocks = \"maybe\"\n").is_err());
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = Policy::from_toml("[env]\nhosts = \"all\"\n").unwrap_err();
        assert!(err.to_string().contains("unknown field `hosts`"), "{err}");
        assert!(Policy::from_toml("[envv]\n").is_err());
    }
}
