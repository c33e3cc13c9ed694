//! The adapter's world for one output, built from the WIT packages
//! (`src/wit.rs`): the functions and types it exports trimmed to what is
//! used, its imports given their own plain types, and the core module
//! encoded as a component of that world.

use crate::wit::{dependencies, interface};
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use wit_parser::{InterfaceId, LiveTypes, Resolve, TypeOwner, WorldId};

/// Removes from interface `name` (a full name) every function that `keep`
/// refuses. The adapter then exports only the functions left; the others'
/// code goes with their exports.
pub fn retain_functions(resolve: &mut Resolve, name: &str, keep: &dyn Fn(&str) -> bool) {
    if let Some(id) = interface(resolve, name) {
        resolve.interfaces[id]
            .functions
            .retain(|func, _| keep(func));
    }
}

/// Removes from the interfaces `names` (full names) every type that no
/// function left in any interface needs, directly or through another type,
/// unless `keep(interface, type)` asks for it. Interfaces other than
/// `names` are left whole, and so is every type their functions and types
/// need.
pub fn retain_needed_types(
    resolve: &mut Resolve,
    names: &[String],
    keep: &dyn Fn(&str, &str) -> bool,
) {
    let pruned: Vec<(InterfaceId, &String)> = names
        .iter()
        .filter_map(|n| Some((interface(resolve, n)?, n)))
        .collect();
    let mut live = LiveTypes::default();
    for (id, iface) in resolve.interfaces.iter() {
        match pruned.iter().find(|(p, _)| *p == id) {
            None => live.add_interface(resolve, id),
            Some((_, name)) => {
                for func in iface.functions.values() {
                    live.add_func(resolve, func);
                }
                for (ty_name, &ty) in &iface.types {
                    if keep(name, ty_name) {
                        live.add_type_id(resolve, ty);
                    }
                }
            }
        }
    }
    for (id, _) in pruned {
        let mut dropped = Vec::new();
        resolve.interfaces[id].types.retain(|_, ty| {
            let keep = live.contains(*ty);
            if !keep {
                dropped.push(*ty);
            }
            keep
        });
        // A type an interface no longer lists belongs to nothing.
        for ty in dropped {
            resolve.types[ty].owner = TypeOwner::None;
        }
    }
}

/// Gives each interface of `imports` (full names) its own copy of every
/// type it uses from an interface outside `imports`, where that type is
/// plain data (`duration`, a `u64`; `datetime`, a record of two integers):
/// then the adapter imports no interface for its types alone
/// (`wasi:clocks/monotonic-clock` for the `duration` of a passed-through
/// `wasi:sockets/tcp`, with the clocks denied). Types are compared by
/// structure, so the exported side, which shares the interface, still
/// matches what a component imports. Resources and types built of other
/// named types stay shared.
pub fn own_plain_types(resolve: &mut Resolve, imports: &BTreeSet<String>) {
    let imported: BTreeSet<InterfaceId> = imports
        .iter()
        .filter_map(|n| interface(resolve, n))
        .collect();
    for &iface in &imported {
        let types: Vec<wit_parser::TypeId> =
            resolve.interfaces[iface].types.values().copied().collect();
        for id in types {
            let wit_parser::TypeDefKind::Type(wit_parser::Type::Id(used)) = resolve.types[id].kind
            else {
                continue;
            };
            let from = match resolve.types[used].owner {
                TypeOwner::Interface(from) => from,
                _ => continue,
            };
            if imported.contains(&from) {
                continue;
            }
            if let Some(kind) = plain_kind(resolve, used) {
                resolve.types[id].kind = kind;
            }
        }
    }
}

/// The definition of `id`, through aliases, if it names no other type.
fn plain_kind(resolve: &Resolve, mut id: wit_parser::TypeId) -> Option<wit_parser::TypeDefKind> {
    use wit_parser::{Type, TypeDefKind};
    let primitive = |t: &Type| !matches!(t, Type::Id(_));
    loop {
        match &resolve.types[id].kind {
            TypeDefKind::Type(Type::Id(next)) => id = *next,
            TypeDefKind::Type(t) if primitive(t) => return Some(TypeDefKind::Type(*t)),
            TypeDefKind::Record(r) if r.fields.iter().all(|f| primitive(&f.ty)) => {
                return Some(resolve.types[id].kind.clone())
            }
            TypeDefKind::Enum(_) | TypeDefKind::Flags(_) => {
                return Some(resolve.types[id].kind.clone())
            }
            _ => return None,
        }
    }
}

/// Adds the world that exports `exports` and imports `imports` (full
/// interface names) to `resolve`.
///
/// A world may import and export the same interface (the adapter imports
/// `wasi:io/streams` from the host and exports its own to the component)
/// only if each exported interface resolves its dependencies one way: an
/// exported interface that `use`s another takes that one's types from the
/// world's export of it if there is one, else from its import, the host's.
/// Were a dependency not exported, an exported `wasi:cli/stdin` would hand
/// out the host's `input-stream`, a resource the adapter cannot create,
/// beside the adapter's own streams. So the exports must be closed under
/// `use`: that is checked here, and a violation is a bug in the caller's
/// choice of interfaces.
pub fn add_world(
    resolve: &mut Resolve,
    imports: &BTreeSet<String>,
    exports: &BTreeSet<String>,
) -> Result<WorldId> {
    for name in exports {
        for dep in dependencies(resolve, name) {
            // An export may use the host's types (the guarded 0.3 HTTP
            // client's request is the host's).
            if !exports.contains(&dep) && !imports.contains(&dep) {
                bail!(
                    "internal error: exported `{name}` uses `{dep}`, which is neither exported \
                     nor imported"
                );
            }
        }
    }
    let mut text = String::from("package wasi-virt:specialized;\n\nworld adapter {\n");
    for name in imports {
        text.push_str(&format!("  import {name};\n"));
    }
    for name in exports {
        text.push_str(&format!("  export {name};\n"));
    }
    text.push_str("}\n");
    let pkg = resolve
        .push_str("specialized.wit", &text)
        .context("failed to build the adapter's world")?;
    resolve.select_world(&[pkg], Some("adapter"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wit::{load, rename_version, BUILT_WASI_VERSION};
    use semver::Version;

    #[test]
    fn imported_interfaces_own_the_plain_types_of_the_others() {
        let v = BUILT_WASI_VERSION;
        let mut resolve = load(&v).unwrap();
        let tcp = format!("wasi:sockets/tcp@{v}");
        let fs = format!("wasi:filesystem/types@{v}");
        let clock = format!("wasi:clocks/wall-clock@{v}");
        let imports: BTreeSet<String> = [tcp.clone(), fs.clone(), clock.clone()].into();
        own_plain_types(&mut resolve, &imports);
        let deps = |name: &str| dependencies(&resolve, name);
        assert!(
            !deps(&tcp).iter().any(|d| d.starts_with("wasi:clocks/")),
            "{:?}",
            deps(&tcp)
        );
        // Resources stay shared: the streams, the network.
        assert!(deps(&tcp).contains(&format!("wasi:io/streams@{v}")));
        assert!(deps(&tcp).contains(&format!("wasi:sockets/network@{v}")));
        // An imported interface's types stay its own.
        assert!(deps(&fs).contains(&clock), "{:?}", deps(&fs));
    }

    #[test]
    fn worlds_resolve_at_every_version() {
        for v in ["0.2.0", "0.2.3", "0.2.6", "0.2.12"] {
            let v: Version = v.parse().unwrap();
            let set = names(&[&format!("wasi:cli/environment@{v}")]);
            let mut resolve = load(&v).unwrap();
            let world = add_world(&mut resolve, &set, &set).unwrap();
            assert_eq!(resolve.worlds[world].exports.len(), 1);
        }
    }

    #[test]
    fn every_interface_resolves_at_every_version() {
        let all = load(&BUILT_WASI_VERSION).unwrap();
        let every: BTreeSet<String> = all
            .interfaces
            .iter()
            .filter_map(|(id, _)| all.id_of(id))
            .collect();
        assert!(every.len() > 30, "{every:?}");
        for v in ["0.2.0", "0.2.1", "0.2.3", "0.2.6", "0.2.12"] {
            let v: Version = v.parse().unwrap();
            let at_v: BTreeSet<String> = every.iter().map(|n| rename_version(n, &v)).collect();
            let mut resolve = load(&v).unwrap();
            add_world(&mut resolve, &at_v, &BTreeSet::new())
                .unwrap_or_else(|e| panic!("{v}: {e:#}"));
        }
    }

    #[test]
    fn exports_not_closed_under_use_are_refused() {
        let mut resolve = load(&BUILT_WASI_VERSION).unwrap();
        let err = add_world(
            &mut resolve,
            &BTreeSet::new(),
            &names(&["wasi:cli/stdin@0.2.12"]),
        )
        .expect_err("stdin without streams must be refused");
        assert!(
            format!("{err:#}").contains("wasi:io/streams@0.2.12"),
            "{err:#}"
        );
    }

    #[test]
    fn importing_and_exporting_io_resolves() {
        // Imported and exported at once, the accepted shape: streams
        // exported with its dependencies,
        // and the same interfaces imported from the host.
        let io = names(&[
            "wasi:io/error@0.2.12",
            "wasi:io/poll@0.2.12",
            "wasi:io/streams@0.2.12",
            "wasi:cli/stdout@0.2.12",
        ]);
        let mut resolve = load(&BUILT_WASI_VERSION).unwrap();
        add_world(&mut resolve, &io, &io).unwrap();
    }

    fn names(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }
}
