//! Which of the host's environment variables or config properties a
//! component sees, and the names of both.

use serde::{Deserialize, Serialize};
use wasi_virt_layout::HostFilterMode;

/// Which host values pass through, by name: environment variables for
/// [`EnvPolicy`](crate::EnvPolicy), properties for
/// [`ConfigPolicy`](crate::ConfigPolicy).
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

pub fn check_names<'a>(
    kind: NameKind,
    names: impl IntoIterator<Item = &'a String>,
) -> anyhow::Result<()> {
    names
        .into_iter()
        .try_for_each(|name| check_name(kind, name))
}
