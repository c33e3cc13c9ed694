//! Permissions: the names under which a component's imports are grouped by
//! `wasi-virt inspect`, and which `--permissions` declares.
//!
//! A permission is a kind of thing a component may touch. Every WASI 0.2
//! interface falls under one (`wasi:cli/stdout` under `stdio`), except the
//! `wasi:io` interfaces, which carry the others' streams and pollables and
//! grant nothing by themselves. Any other interface (`ocre:gpio/pins`, or a
//! WASI proposal such as `wasi:keyvalue/store`) is a permission of its own,
//! named by the interface without its version. An import of types alone,
//! with no function, needs no permission: nothing in it can be called.

use super::registry::{permitting, permitting_preview1, WASI_PERMISSIONS};
use crate::names::InterfaceName;
use anyhow::{bail, Result};
use std::fmt;

/// A permission: one of [`WASI_PERMISSIONS`], or another interface's
/// unversioned name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Permission(String);

impl Permission {
    /// Its name (`stdio`, `ocre:gpio/pins`).
    pub fn name(&self) -> &str {
        &self.0
    }

    /// Whether it is one of WASI's.
    pub fn is_wasi(&self) -> bool {
        WASI_PERMISSIONS.contains(&self.0.as_str())
    }

    /// The permission named `name`, as a catalog file defines it
    /// (`ocre_gpio`).
    pub(crate) fn named(name: &str) -> Permission {
        Permission(name.to_string())
    }

    fn wasi(name: &str) -> Permission {
        debug_assert!(WASI_PERMISSIONS.contains(&name));
        Permission(name.to_string())
    }

    /// The permission an imported interface needs (`wasi:cli/stdout@0.2.6`:
    /// `stdio`), or `None` for a carrier (`wasi:io/*`). A plain name
    /// (`(import "log" (func ...))`) is a permission of its own.
    ///
    /// ```
    /// use wasi_virt::Permission;
    ///
    /// let stdout = Permission::of_interface("wasi:cli/stdout@0.2.6").unwrap();
    /// assert_eq!(stdout.name(), "stdio");
    /// let tcp = Permission::of_interface("wasi:sockets/tcp@0.2.6").unwrap();
    /// assert_eq!(tcp.name(), "networking");
    /// assert!(Permission::of_interface("wasi:io/streams@0.2.6").is_none());
    /// let pins = Permission::of_interface("ocre:gpio/pins@1.0.0").unwrap();
    /// assert_eq!(pins.name(), "ocre:gpio/pins");
    /// ```
    pub fn of_interface(name: &str) -> Option<Permission> {
        let Some(parsed) = InterfaceName::parse(name) else {
            return Some(Permission(name.to_string()));
        };
        match permitting(&parsed.unversioned) {
            Some(row) => row.permits.name.map(Permission::wasi),
            None => Some(Permission(parsed.unversioned)),
        }
    }

    /// The permission a `wasi_snapshot_preview1` function needs, or `None`
    /// for one that touches nothing (`sched_yield`).
    ///
    /// The descriptor functions that apply to any descriptor (`fd_read`,
    /// `fd_write`, `fd_close`, ...) are `stdio`, those that only mean
    /// something for files (`fd_seek`, `path_*`, ...) `filesystem`: each
    /// row of the subsystem registry lists its own.
    pub fn of_preview1(function: &str) -> Option<Permission> {
        match permitting_preview1(function) {
            Some(row) => row.permits.name.map(Permission::wasi),
            None => Some(Permission(format!("wasi_snapshot_preview1/{function}"))),
        }
    }

    /// Parses a declared permission: one of [`WASI_PERMISSIONS`], or an
    /// interface name (`ocre:gpio/pins`, a version is ignored), or every
    /// interface of a package (`ocre:gpio/*`).
    ///
    /// ```
    /// use wasi_virt::Permission;
    ///
    /// let pins = Permission::of_interface("ocre:gpio/pins@1.0.0").unwrap();
    /// assert!(Permission::parse_declared("ocre:gpio/*")?.covers(&pins));
    /// assert!(Permission::parse_declared("networking").is_ok());
    /// assert!(Permission::parse_declared("wasi:cli/stdout").is_err()); // declare `stdio`
    /// # anyhow::Ok(())
    /// ```
    pub fn parse_declared(text: &str) -> Result<Declared> {
        let text = text.trim();
        if WASI_PERMISSIONS.contains(&text) {
            return Ok(Declared::Permission(Permission::wasi(text)));
        }
        if let Some(package) = text.strip_suffix("/*") {
            let probe = InterfaceName::parse(&format!("{package}/x"));
            if probe.is_some_and(|n| n.is_well_formed() && n.version.is_none()) {
                if is_wasi_permission_package(package) {
                    bail!(
                        "`{text}` is a WASI package; declare WASI permissions by name: {}",
                        WASI_PERMISSIONS.join(", ")
                    );
                }
                return Ok(Declared::Package(package.to_string()));
            }
        }
        match InterfaceName::parse(text).filter(InterfaceName::is_well_formed) {
            Some(_) if Permission::of_interface(text).is_none_or(|p| p.is_wasi()) => bail!(
                "`{text}` is a WASI interface; declare the permission it falls under instead \
                 ({}), one of: {}",
                Permission::of_interface(text)
                    .map(|p| p.0)
                    .unwrap_or_else(|| "none: wasi:io is always allowed".into()),
                WASI_PERMISSIONS.join(", ")
            ),
            Some(name) => Ok(Declared::Permission(Permission(name.unversioned))),
            None => bail!(
                "unknown permission `{text}`; expected one of {}, an interface \
                 (`namespace:package/interface`) or a package (`namespace:package/*`)",
                WASI_PERMISSIONS.join(", ")
            ),
        }
    }
}

/// Whether `package` (`wasi:clocks`) holds an interface that falls under one
/// of [`WASI_PERMISSIONS`], or `wasi:io`: declared by those names, never as
/// a package. Other WASI packages (`wasi:keyvalue`), whose interfaces no
/// subsystem governs, are permissions of their own, as non-WASI ones are.
fn is_wasi_permission_package(package: &str) -> bool {
    super::registry::all_interfaces().any(|i| i.rsplit_once('/').is_some_and(|(p, _)| p == package))
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One declared permission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Declared {
    /// A permission by name.
    Permission(Permission),
    /// Every interface of a non-WASI package (`ocre:gpio/*` holds
    /// `ocre:gpio`).
    Package(String),
}

impl Declared {
    /// Whether this declaration covers `permission`.
    pub fn covers(&self, permission: &Permission) -> bool {
        match self {
            Declared::Permission(p) => p == permission,
            Declared::Package(package) => {
                !permission.is_wasi()
                    && permission
                        .0
                        .split_once('/')
                        .is_some_and(|(pkg, _)| pkg == package)
            }
        }
    }
}

impl fmt::Display for Declared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Declared::Permission(p) => p.fmt(f),
            Declared::Package(package) => write!(f, "{package}/*"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(name: &str) -> Option<String> {
        Permission::of_interface(name).map(|p| p.0)
    }

    #[test]
    fn every_wasi_interface_has_its_permission() {
        let table = [
            ("wasi:cli/environment@0.2.6", Some("environment")),
            ("wasi:cli/stdin@0.2.0", Some("stdio")),
            ("wasi:cli/terminal-stdout@0.2.3", Some("stdio")),
            ("wasi:cli/exit@0.2.6", Some("exit")),
            ("wasi:filesystem/preopens@0.2.6", Some("filesystem")),
            ("wasi:sockets/ip-name-lookup@0.2.6", Some("networking")),
            ("wasi:http/outgoing-handler@0.2.6", Some("networking")),
            ("wasi:clocks/wall-clock@0.2.6", Some("clocks")),
            ("wasi:clocks/timezone@0.2.6", Some("clocks")),
            ("wasi:cli/run@0.2.6", Some("wasi:cli/run")),
            (
                "wasi:http/incoming-handler@0.2.6",
                Some("wasi:http/incoming-handler"),
            ),
            ("wasi:random/insecure-seed@0.2.6", Some("random")),
            ("wasi:config/store@0.2.0-rc.1", Some("config")),
            ("wasi:io/streams@0.2.6", None),
            (
                "wasi:keyvalue/store@0.2.0-draft",
                Some("wasi:keyvalue/store"),
            ),
            ("ocre:gpio/pins@1.0.0", Some("ocre:gpio/pins")),
            ("log", Some("log")),
        ];
        for (name, want) in table {
            assert_eq!(of(name).as_deref(), want, "{name}");
        }
    }

    #[test]
    fn every_preview1_function_has_its_permission() {
        let table = [
            ("environ_get", Some("environment")),
            ("args_sizes_get", Some("environment")),
            ("fd_write", Some("stdio")),
            ("fd_renumber", Some("stdio")),
            ("fd_seek", Some("filesystem")),
            ("fd_prestat_get", Some("filesystem")),
            ("path_open", Some("filesystem")),
            ("sock_accept", Some("networking")),
            ("poll_oneoff", Some("clocks")),
            ("random_get", Some("random")),
            ("proc_raise", Some("exit")),
            ("sched_yield", None),
            ("future_fn", Some("wasi_snapshot_preview1/future_fn")),
        ];
        for (function, want) in table {
            let got = Permission::of_preview1(function).map(|p| p.0);
            assert_eq!(got.as_deref(), want, "{function}");
        }
    }

    #[test]
    fn declarations_parse_and_cover() {
        let gpio = Permission::of_interface("ocre:gpio/pins@1.0.0").unwrap();
        let stdio = Permission::of_interface("wasi:cli/stdout@0.2.6").unwrap();
        let package = Permission::parse_declared("ocre:gpio/*").unwrap();
        assert!(package.covers(&gpio));
        assert!(!package.covers(&stdio));
        assert!(Permission::parse_declared("ocre:gpio/pins@2.0.0")
            .unwrap()
            .covers(&gpio));
        assert!(Permission::parse_declared("stdio").unwrap().covers(&stdio));
        let keyvalue = Permission::of_interface("wasi:keyvalue/store@0.2.0-draft").unwrap();
        for declared in ["wasi:keyvalue/store", "wasi:keyvalue/*"] {
            assert!(Permission::parse_declared(declared)
                .unwrap()
                .covers(&keyvalue));
        }
        for bad in [
            "stdout",
            "wasi:cli/*",
            "wasi:clocks/*",
            "wasi:io/*",
            "wasi:io/streams",
            "wasi:cli/stdout",
            "ocre:/*",
            "",
            "a b",
        ] {
            assert!(Permission::parse_declared(bad).is_err(), "{bad}");
        }
    }
}
