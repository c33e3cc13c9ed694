//! The virtualization policy: what the output may ask of its host, and what is
//! baked in.
//!
//! These types are the library's configuration, the schema of a `--policy`
//! TOML file, and the `[policy]` table of every test case. A subsystem that is
//! absent (`None`) is *not virtualized*: the user component's imports of it go
//! straight to the host. A WASI interface that no subsystem governs
//! (`wasi:logging/logging`) is denied whatever the subsystems say, unless
//! [`ImportsPolicy::allow`] names it.

pub mod config_store;
pub mod env;
pub mod fs;
pub mod host_filter;
pub mod instant;
pub mod network;
pub mod setting;
pub mod stdio;

pub use config_store::ConfigPolicy;
pub use env::{Args, Cwd, EnvPolicy};
pub use fs::{ByteSize, FsEntry, FsPolicy, Overlay, Tmpfs, DEFAULT_MEMORY_LIMIT};
pub use host_filter::{check_name, HostFilter, NameKind};
pub use setting::Setting;
pub use stdio::{StdinPolicy, StdioPolicy};
pub use wasi_virt_layout::StdioMode;

use host_filter::check_names;
use serde::{Deserialize, Serialize};
use setting::allow_or_deny;

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
    /// What to do when the component's code can reach functions the policy
    /// answers with traps (`--deny-reachable`): list them in the report
    /// (`warn`, the default), or refuse (`error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deny_reachable: Option<DenyReachable>,
}

/// [`Policy::deny_reachable`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DenyReachable {
    /// List them in the summary and the report.
    #[default]
    Warn,
    /// Refuse, naming every function and the flag that would serve it.
    Error,
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
/// catalogs = ["catalogs/atym.toml"]
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
    /// Permission catalogs (docs/catalogs.md) added to the built-in one,
    /// read from the working directory: the permissions they define may
    /// be declared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub catalogs: Vec<std::path::PathBuf>,
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
        if other.deny_reachable.is_some() {
            self.deny_reachable = other.deny_reachable;
        }
        self.imports.deny.extend(other.imports.deny.iter().cloned());
        self.imports
            .allow
            .extend(other.imports.allow.iter().cloned());
        if let Some(p) = &other.permissions {
            let mine = self.permissions.get_or_insert_with(Default::default);
            mine.declared.extend(p.declared.iter().cloned());
            mine.skip_validation |= p.skip_validation;
            mine.catalogs.extend(p.catalogs.iter().cloned());
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
    ///
    /// ```
    /// use wasi_virt::{Access, Policy};
    ///
    /// let policy = Policy::from_toml("exit = \"deny\"\n[env]\nhost = \"none\"\n")?;
    /// assert_eq!(policy.exit, Some(Access::Deny));
    /// assert!(policy.env.unwrap().sealed());
    /// assert!(Policy::from_toml("[env]\noverrides = { \"A=B\" = \"x\" }\n").is_err());
    /// # anyhow::Ok(())
    /// ```
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

impl Setting for Access {
    allow_or_deny!(Access);

    fn describe(&self) -> String {
        match self {
            Access::Allow => "allow".to_string(),
            Access::Deny => "deny".to_string(),
        }
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
