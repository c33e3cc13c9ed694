//! The environment's policy (`wasi:cli/environment`): variables,
//! arguments and the initial cwd.

use super::host_filter::HostFilter;
use super::setting::Setting;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

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
