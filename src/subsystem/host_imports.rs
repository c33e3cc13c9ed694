//! The host functions one adapter keeps importing: each subsystem's host
//! rule, and `wasi:io` carried along by what the others keep.

use super::host_rules::{HostNeeds, HostRule};
use super::interfaces::{HTTP_TYPES, SOCKET_TYPES, STDERR, UDP_CREATE_SOCKET};
use super::registry::{p3_face, row_of};
use super::select::uses;
use crate::names::InterfaceName;
use crate::policy::Policy;
use semver::Version;
use std::collections::BTreeSet;
use wit_parser::Resolve;

/// The host interfaces (unversioned) whose functions the adapter keeps
/// importing, as far as the subsystem decides per interface; `keeps` then
/// decides per function.
pub struct HostImports<'a> {
    policy: &'a Policy,
    needs: HostNeeds<'a>,
    /// The `wasi:io` interfaces kept, from the kept imports of the others.
    carried: BTreeSet<String>,
}

impl<'a> HostImports<'a> {
    /// Works out the carrier from what the other subsystems keep: an
    /// interface the adapter exports (or stderr, which `--debug` writes to)
    /// whose host functions pass brings along the `wasi:io` interfaces it
    /// uses, directly or not.
    pub fn new(
        policy: &'a Policy,
        needs: HostNeeds<'a>,
        resolve: &Resolve,
        version: &Version,
    ) -> Self {
        let mut host = HostImports {
            policy,
            needs,
            carried: BTreeSet::new(),
        };
        let debug = policy.debug.then_some(STDERR);
        let served = host.needs.serves_http.then_some(HTTP_TYPES);
        let used: Vec<&str> = host
            .needs
            .exports
            .iter()
            .copied()
            .chain(debug)
            .chain(served)
            .collect();
        let mut work: Vec<String> = used
            .into_iter()
            .filter(|i| row_of(i).is_some_and(|(r, _)| !matches!(r.host, HostRule::Carrier)))
            .filter(|i| host.keeps_interface(i, ""))
            .map(String::from)
            .collect();
        while let Some(iface) = work.pop() {
            for dep in uses(resolve, &iface, version) {
                let carrier =
                    row_of(&dep).is_some_and(|(r, _)| matches!(r.host, HostRule::Carrier));
                if carrier && host.carried.insert(dep.clone()) {
                    work.push(dep);
                }
            }
        }
        host
    }

    /// Whether the adapter keeps importing host function `func` of `module`
    /// (a versioned interface name).
    pub fn keeps(&self, module: &str, func: &str) -> bool {
        // A WASI 0.3 interface the adapter serves is governed by its WASI
        // 0.2 counterpart's row (`wasi:sockets/types@0.3.0` by sockets').
        // Its TCP and UDP sockets are one interface at 0.3, two at 0.2.
        if let Some(face) = p3_face(module) {
            let counterpart = match face.name {
                SOCKET_TYPES if func.contains("udp-socket") => UDP_CREATE_SOCKET,
                _ => face.counterpart,
            };
            return self.keeps_interface(counterpart, func);
        }
        match InterfaceName::parse(module) {
            Some(name) => self.keeps_interface(&name.unversioned, func),
            None => true,
        }
    }

    fn keeps_interface(&self, iface: &str, func: &str) -> bool {
        let Some((row, _)) = row_of(iface) else {
            return true;
        };
        let allowed = || row.slot.is_none_or(|s| s.allows(self.policy));
        match row.host {
            HostRule::WhenAllowed => allowed(),
            HostRule::Settings(rule) => rule(self.policy, &self.needs, iface, func),
            HostRule::Carrier => self.carried.contains(iface),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subsystem::registry::Subsystem;
    use crate::wit;

    fn v() -> Version {
        wit::BUILT_WASI_VERSION
    }

    #[test]
    fn passed_through_sockets_carry_the_host_streams() {
        let resolve = wit::load(&v()).unwrap();
        let mut policy = Policy::deny_all();
        policy.set(Subsystem::Sockets, true);
        let exports: BTreeSet<&str> = [
            "wasi:sockets/tcp",
            "wasi:sockets/network",
            "wasi:io/streams",
            "wasi:io/poll",
            "wasi:io/error",
        ]
        .into();
        let needs = HostNeeds {
            exports: &exports,
            imported: None,
            host_fs: false,
            rules: None,
            serves_http: false,
            runs_per_request: false,
        };
        let host = HostImports::new(&policy, needs, &resolve, &v());
        assert!(host.keeps("wasi:io/streams@0.2.12", "[method]input-stream.read"));
        assert!(host.keeps("wasi:io/poll@0.2.12", "poll"));
        assert!(!host.keeps("wasi:cli/stdout@0.2.12", "get-stdout"));

        policy.set(Subsystem::Sockets, false);
        let needs = HostNeeds {
            exports: &exports,
            imported: None,
            host_fs: false,
            rules: None,
            serves_http: false,
            runs_per_request: false,
        };
        let host = HostImports::new(&policy, needs, &resolve, &v());
        assert!(!host.keeps("wasi:io/streams@0.2.12", "[method]input-stream.read"));
        assert!(!host.keeps("wasi:sockets/tcp@0.2.12", "[method]tcp-socket.connect"));
    }
}
