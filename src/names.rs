//! WASI interface names and versions as they appear in component imports.

use semver::Version;
use std::fmt;

/// `wasi:http/incoming-handler`, which a component that serves HTTP exports.
pub const INCOMING_HANDLER: &str = "wasi:http/incoming-handler";

/// `wasi:cli/run`, which a command exports.
pub const RUN: &str = "wasi:cli/run";

/// A parsed `namespace:package/interface@version` name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct InterfaceName {
    /// `wasi:cli/environment`.
    pub unversioned: String,
    /// `0.2.6`, if the name has a version.
    pub version: Option<Version>,
}

impl InterfaceName {
    /// Parses an import or export name; `None` for plain names (`run`).
    ///
    /// ```
    /// use wasi_virt::InterfaceName;
    ///
    /// let name = InterfaceName::parse("wasi:cli/stdout@0.2.6").unwrap();
    /// assert_eq!(name.unversioned, "wasi:cli/stdout");
    /// assert_eq!(name.version, Some(semver::Version::new(0, 2, 6)));
    /// assert!(InterfaceName::parse("run").is_none());
    /// ```
    pub fn parse(name: &str) -> Option<InterfaceName> {
        let (path, version) = match name.split_once('@') {
            Some((path, v)) => (path, Some(v.parse().ok()?)),
            None => (name, None),
        };
        let (_, iface) = path.split_once(':')?.1.split_once('/')?;
        if iface.is_empty() {
            return None;
        }
        Some(InterfaceName {
            unversioned: path.to_string(),
            version,
        })
    }

    /// Whether this is a WASI 0.2.x interface (not a draft such as
    /// `wasi:config@0.2.0-rc.1`, whose version is its own).
    pub fn wasi_0_2_version(&self) -> Option<&Version> {
        let v = self.version.as_ref()?;
        (self.namespace() == "wasi" && v.major == 0 && v.minor == 2 && v.pre.is_empty())
            .then_some(v)
    }

    /// Whether the namespace, package and interface are each a non-empty
    /// run of letters, digits and `-` (`ocre:gpio/pins`, not `ocre:/*`).
    pub fn is_well_formed(&self) -> bool {
        let word =
            |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        let Some((namespace, rest)) = self.unversioned.split_once(':') else {
            return false;
        };
        let Some((package, interface)) = rest.split_once('/') else {
            return false;
        };
        word(namespace) && word(package) && word(interface)
    }

    /// Whether `name` (an import or export name) is this interface at any
    /// version.
    pub fn is_same_interface(&self, name: &str) -> bool {
        InterfaceName::parse(name).is_some_and(|n| n.unversioned == self.unversioned)
    }

    /// Whether `name` is this interface at a version that can stand for
    /// this one (the component model's semver rule: the same major, or for
    /// 0.x the same minor, or for 0.0.x the same patch; a pre-release only
    /// for itself; a name without a version for any). `wasi:cli/stdout@0.2.3`
    /// can stand for `@0.2.6`; `@0.3.0` cannot.
    pub fn is_compatible(&self, name: &str) -> bool {
        let Some(other) = InterfaceName::parse(name) else {
            return false;
        };
        let same = |a: &Version, b: &Version| {
            if !a.pre.is_empty() || !b.pre.is_empty() {
                a == b
            } else if a.major != 0 {
                a.major == b.major
            } else if a.minor != 0 {
                a.minor == b.minor
            } else {
                a.patch == b.patch
            }
        };
        other.unversioned == self.unversioned
            && match (&self.version, &other.version) {
                (Some(a), Some(b)) => same(a, b),
                _ => true,
            }
    }

    /// `wasi` of `wasi:cli/environment`.
    pub fn namespace(&self) -> &str {
        self.unversioned.split(':').next().unwrap_or_default()
    }

    /// The name at `version`.
    pub fn at(&self, version: &Version) -> String {
        format!("{}@{version}", self.unversioned)
    }
}

impl fmt::Display for InterfaceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{}@{v}", self.unversioned),
            None => f.write_str(&self.unversioned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names() {
        let n = InterfaceName::parse("wasi:cli/environment@0.2.6").unwrap();
        assert_eq!(n.unversioned, "wasi:cli/environment");
        assert_eq!(n.wasi_0_2_version(), Some(&Version::new(0, 2, 6)));
        assert_eq!(n.at(&Version::new(0, 2, 0)), "wasi:cli/environment@0.2.0");

        let c = InterfaceName::parse("wasi:config/store@0.2.0-rc.1").unwrap();
        assert_eq!(c.wasi_0_2_version(), None);
        assert_eq!(InterfaceName::parse("run"), None);
        assert_eq!(InterfaceName::parse("wasi:cli/x@notaversion"), None);
        let local = InterfaceName::parse("my:pkg/iface").unwrap();
        assert_eq!(local.version, None);
    }
}
