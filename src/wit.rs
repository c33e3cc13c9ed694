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
use wit_parser::{Resolve, SourceMap, WorldId};

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

/// WIT text renamed to `version`. Items released later (`@since(version = X)`
/// with X newer) are kept and marked as released at `version`: wit-parser
/// refuses a gate newer than its package, and leaving them out breaks types
/// that refer to them (`wasi:http`'s 0.2.1 `field-name`). An extra item is
/// harmless: an instance with more exports is a subtype of one with fewer.
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
        match after[..close].trim().parse::<Version>() {
            Ok(since) if since > *version => {
                out.push_str(&format!("{SINCE}{version})"));
            }
            _ => out.push_str(&rest[at..at + SINCE.len() + close + 1]),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The world of one specialized adapter.
pub struct AdapterWorld {
    /// Every WASI package, renamed to the output's version.
    pub resolve: Resolve,
    /// The specialized world.
    pub world: WorldId,
}

/// Builds the world that exports `exports` and imports `imports`, both full
/// interface names at `version` (`wasi:cli/environment@0.2.6`).
///
/// DESIGN.md hazard 1: a world may import and export the same interface only
/// if every exported interface resolves its dependencies consistently. The
/// exports handed in here must therefore be closed under `use`; that is
/// checked, and a violation is a bug in the caller's choice of subsystems.
pub fn adapter_world(
    version: &Version,
    imports: &BTreeSet<String>,
    exports: &BTreeSet<String>,
) -> Result<AdapterWorld> {
    let mut deps = Vec::new();
    for files in PACKAGES {
        let mut map = SourceMap::default();
        for (path, text) in files.iter() {
            map.push(path.as_ref(), wit_at_version(text, version));
        }
        let group = map
            .parse()
            .map_err(|(_, e)| anyhow::Error::new(e))
            .with_context(|| format!("failed to parse the embedded WIT `{}`", files[0].0))?;
        deps.push(group);
    }

    let mut text = String::from("package wasi-virt:specialized;\n\nworld adapter {\n");
    for name in imports {
        text.push_str(&format!("  import {name};\n"));
    }
    for name in exports {
        text.push_str(&format!("  export {name};\n"));
    }
    text.push_str("}\n");
    let mut map = SourceMap::default();
    map.push("specialized.wit".as_ref(), text);
    let main = map.parse().map_err(|(_, e)| anyhow::Error::new(e))?;

    let mut resolve = Resolve::default();
    let pkg = resolve
        .push_groups(main, deps)
        .context("failed to resolve the adapter's world")?;
    let world = resolve.select_world(&[pkg], Some("adapter"))?;

    // Hazard 1: every interface an export uses must itself be exported.
    for (key, item) in &resolve.worlds[world].exports {
        let wit_parser::WorldItem::Interface { id, .. } = item else {
            continue;
        };
        for dep in resolve.interface_direct_deps(*id) {
            let dep_name = resolve.id_of(dep).expect("WASI interfaces are named");
            if !exports.contains(&dep_name) {
                bail!(
                    "internal error: exported `{}` uses `{dep_name}`, which is not exported",
                    resolve.name_world_key(key)
                );
            }
        }
    }
    Ok(AdapterWorld { resolve, world })
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn worlds_resolve_at_every_version() {
        for v in ["0.2.0", "0.2.3", "0.2.6", "0.2.12"] {
            let v: Version = v.parse().unwrap();
            let iface = format!("wasi:cli/environment@{v}");
            let set: BTreeSet<String> = [iface].into();
            let w = adapter_world(&v, &set, &set).unwrap();
            assert_eq!(w.resolve.worlds[w.world].exports.len(), 1);
        }
    }

    #[test]
    fn every_interface_resolves_at_every_version() {
        let all = adapter_world(&BUILT_WASI_VERSION, &BTreeSet::new(), &BTreeSet::new()).unwrap();
        let every: BTreeSet<String> = all
            .resolve
            .interfaces
            .iter()
            .filter_map(|(id, _)| all.resolve.id_of(id))
            .collect();
        assert!(every.len() > 30, "{every:?}");
        for v in ["0.2.0", "0.2.1", "0.2.3", "0.2.6", "0.2.12"] {
            let v: Version = v.parse().unwrap();
            let at_v: BTreeSet<String> = every.iter().map(|n| rename_version(n, &v)).collect();
            adapter_world(&v, &at_v, &BTreeSet::new()).unwrap_or_else(|e| panic!("{v}: {e:#}"));
        }
    }

    #[test]
    fn items_newer_than_the_version_are_kept_at_it() {
        let text =
            "@since(version = 0.2.0)\n  a: func();\n  @since(version = 0.2.12)\n  b: func();";
        let old = wit_at_version(text, &Version::new(0, 2, 6));
        assert!(old.contains("@since(version = 0.2.0)\n  a"), "{old}");
        assert!(old.contains("@since(version = 0.2.6)\n  b"), "{old}");
        assert_eq!(wit_at_version(text, &BUILT_WASI_VERSION), text);
    }

    #[test]
    fn exports_not_closed_under_use_are_refused() {
        let v = BUILT_WASI_VERSION;
        let exports: BTreeSet<String> = ["wasi:cli/stdin@0.2.12".to_string()].into();
        let err = adapter_world(&v, &BTreeSet::new(), &exports)
            .err()
            .expect("stdin without streams must be refused");
        assert!(
            format!("{err:#}").contains("wasi:io/streams@0.2.12"),
            "{err:#}"
        );
    }
}
