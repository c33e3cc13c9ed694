//! The WASI 0.2 WIT packages in `wit/`, and the specialized adapter world built
//! from them for each output.
//!
//! One WIT tree (WASI 0.2.12) serves every 0.2.x version: WASI 0.2 releases
//! only add items, so a package renamed to an older patch version still
//! describes a superset of what a component of that version imports, and the
//! component model's subtyping accepts it.

use anyhow::{bail, Context, Result};
use semver::Version;
use std::collections::BTreeSet;
use wit_parser::{InterfaceId, LiveTypes, PackageName, Resolve, SourceMap, TypeOwner, WorldId};

/// The WASI version of the packages in `wit/`, and of the adapter's names as
/// built.
pub const BUILT_WASI_VERSION: Version = Version::new(0, 2, 12);

/// The WIT packages, one entry per package: `(files)`.
const PACKAGES: &[&[(&str, &str)]] = &[
    &[("deps/io.wit", include_str!("../wit/deps/io.wit"))],
    &[("deps/clocks.wit", include_str!("../wit/deps/clocks.wit"))],
    &[("deps/random.wit", include_str!("../wit/deps/random.wit"))],
    &[(
        "deps/filesystem.wit",
        include_str!("../wit/deps/filesystem.wit"),
    )],
    &[("deps/sockets.wit", include_str!("../wit/deps/sockets.wit"))],
    &[("deps/cli.wit", include_str!("../wit/deps/cli.wit"))],
    &[("deps/http.wit", include_str!("../wit/deps/http.wit"))],
    &[("deps/serve.wit", include_str!("../wit/deps/serve.wit"))],
    &[
        (
            "deps/config/world.wit",
            include_str!("../wit/deps/config/world.wit"),
        ),
        (
            "deps/config/store.wit",
            include_str!("../wit/deps/config/store.wit"),
        ),
    ],
];

/// Every WIT file compiled into the library, for the test that checks none in
/// `wit/` was forgotten.
#[cfg(test)]
fn embedded_files() -> impl Iterator<Item = &'static str> {
    PACKAGES
        .iter()
        .flat_map(|p| p.iter().map(|(path, _)| *path))
}

/// Rewrites `name` (an import module, an export, or WIT text) from the built
/// WASI version to `version`.
pub fn rename_version(text: &str, version: &Version) -> String {
    if *version == BUILT_WASI_VERSION {
        return text.to_string();
    }
    text.replace(&format!("@{BUILT_WASI_VERSION}"), &format!("@{version}"))
}

/// WIT text renamed to `version`, with what was released later
/// (`@since(version = X)`, X newer) made to look as it did at `version`:
///
/// - a function is gated behind a feature that is never enabled, so it is
///   left out (the adapter then drops its export, and the host import it
///   would need: `wasi:cli/exit.exit-with-code` is 0.2.12);
/// - a type is kept, marked as released at `version`: later types are only
///   aliases that other items refer to (`wasi:http`'s 0.2.1 `field-name`),
///   and wit-parser refuses a gate newer than its package.
fn wit_at_version(text: &str, version: &Version) -> String {
    const SINCE: &str = "@since(version = ";
    let text = rename_version(text, version);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find(SINCE) {
        out.push_str(&rest[..at]);
        let after = &rest[at + SINCE.len()..];
        let Some(close) = after.find(')') else {
            out.push_str(&rest[at..]);
            return out;
        };
        let item = after[close + 1..].trim_start().lines().next().unwrap_or("");
        let is_function = item.contains(": func(")
            || item.contains(": static func(")
            || item.starts_with("constructor(");
        match after[..close].trim().parse::<Version>() {
            Ok(since) if since > *version && is_function => {
                out.push_str("@unstable(feature = wasi-virt-not-yet-released)");
            }
            Ok(since) if since > *version => out.push_str(&format!("{SINCE}{version})")),
            _ => out.push_str(&rest[at..at + SINCE.len() + close + 1]),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Every WASI package, named at `version`.
pub fn load(version: &Version) -> Result<Resolve> {
    let mut resolve = Resolve::default();
    let mut groups = Vec::new();
    for files in PACKAGES {
        let mut map = SourceMap::default();
        for (path, text) in files.iter() {
            map.push(path.as_ref(), wit_at_version(text, version));
        }
        let group = map
            .parse()
            .map_err(|(_, e)| anyhow::Error::new(e))
            .with_context(|| format!("failed to parse the embedded WIT `{}`", files[0].0))?;
        groups.push(group);
    }
    // `push_groups` orders packages by their dependencies; the last one
    // pushed stands in as the "main" package.
    let main = groups.pop().expect("packages are embedded");
    resolve
        .push_groups(main, groups)
        .context("failed to resolve the embedded WIT")?;
    Ok(resolve)
}

/// The interface `name` (`wasi:cli/environment@0.2.6`) in `resolve`.
///
/// Looked up through the package's name, without formatting the name of
/// every interface: this runs for each of the adapter's exports.
pub fn interface(resolve: &Resolve, name: &str) -> Option<InterfaceId> {
    let (path, version) = match name.split_once('@') {
        Some((path, v)) => (path, Some(v.parse().ok()?)),
        None => (name, None),
    };
    let (package, interface) = path.split_once('/')?;
    let (namespace, package) = package.split_once(':')?;
    let package = PackageName {
        namespace: namespace.to_string(),
        name: package.to_string(),
        version,
    };
    let id = resolve.package_names.get(&package)?;
    resolve.packages[*id].interfaces.get(interface).copied()
}

/// The interfaces `name` uses types from.
pub fn dependencies(resolve: &Resolve, name: &str) -> Vec<String> {
    interface(resolve, name)
        .map(|id| {
            resolve
                .interface_direct_deps(id)
                .filter_map(|dep| resolve.id_of(dep))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether interface `name` has function `func` (`get-environment`,
/// `[method]output-stream.write`) at the version `resolve` was loaded at.
pub fn has_function(resolve: &Resolve, name: &str, func: &str) -> bool {
    interface(resolve, name).is_some_and(|id| resolve.interfaces[id].functions.contains_key(func))
}

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

/// Whether interface `name` (a full name) declares type `ty`.
pub fn has_type(resolve: &Resolve, name: &str, ty: &str) -> bool {
    interface(resolve, name).is_some_and(|id| resolve.interfaces[id].types.contains_key(ty))
}

/// Encodes the core `module` as a component of `world`: its WIT embedded,
/// then wit-component's encoding, validated if `validate`.
pub fn componentize(
    mut module: Vec<u8>,
    resolve: &Resolve,
    world: WorldId,
    validate: bool,
) -> Result<Vec<u8>> {
    wit_component::embed_component_metadata(
        &mut module,
        resolve,
        world,
        wit_component::StringEncoding::UTF8,
        false,
    )?;
    let mut encoder = wit_component::ComponentEncoder::default();
    encoder.validate(validate).module(&module)?;
    drop(module);
    encoder.encode()
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
/// DESIGN.md hazard 1: a world may import and export the same interface only
/// if every exported interface resolves its dependencies consistently. The
/// exports must therefore be closed under `use`; that is checked here, and a
/// violation is a bug in the caller's choice of interfaces.
pub fn add_world(
    resolve: &mut Resolve,
    imports: &BTreeSet<String>,
    exports: &BTreeSet<String>,
) -> Result<WorldId> {
    for name in exports {
        for dep in dependencies(resolve, name) {
            if !exports.contains(&dep) {
                bail!("internal error: exported `{name}` uses `{dep}`, which is not exported");
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
    fn every_wit_file_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("wit");
        let mut on_disk = BTreeSet::new();
        let mut stack = vec![root.join("deps")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path.strip_prefix(&root).unwrap();
                    on_disk.insert(rel.to_str().unwrap().replace('\\', "/"));
                }
            }
        }
        let embedded: BTreeSet<String> = embedded_files().map(String::from).collect();
        assert_eq!(on_disk, embedded);
    }

    fn names(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
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
    fn interfaces_are_found_by_name() {
        let resolve = load(&Version::new(0, 2, 6)).unwrap();
        for (id, _) in resolve.interfaces.iter() {
            if let Some(name) = resolve.id_of(id) {
                assert_eq!(interface(&resolve, &name), Some(id), "{name}");
            }
        }
        assert_eq!(interface(&resolve, "wasi:cli/environment@0.2.12"), None);
        assert_eq!(interface(&resolve, "wasi:cli/nope@0.2.6"), None);
        assert_eq!(interface(&resolve, "not a name"), None);
    }

    #[test]
    fn functions_newer_than_the_version_are_left_out() {
        let old = load(&Version::new(0, 2, 6)).unwrap();
        assert!(has_function(&old, "wasi:cli/exit@0.2.6", "exit"));
        assert!(!has_function(&old, "wasi:cli/exit@0.2.6", "exit-with-code"));
        let new = load(&BUILT_WASI_VERSION).unwrap();
        assert!(has_function(&new, "wasi:cli/exit@0.2.12", "exit-with-code"));
        assert!(has_function(
            &new,
            "wasi:io/streams@0.2.12",
            "[method]output-stream.write"
        ));
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
        // Hazard 1, the accepted shape: streams exported with its deps,
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
}
