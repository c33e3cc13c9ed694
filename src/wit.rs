//! The WASI 0.2 WIT packages in `wit/`: loaded at a WASI version, their
//! interfaces looked up by name, the version an output uses chosen, and a
//! core module encoded as a component of one of their worlds. The adapter's
//! own world for one output is built from them in `src/adapter/world.rs`.
//!
//! One WIT tree (WASI 0.2.12) serves every 0.2.x version: WASI 0.2 releases
//! only add items, so a package renamed to an older patch version still
//! describes a superset of what a component of that version imports, and the
//! component model's subtyping accepts it.

// Its writer serves build.rs and the tests.
#[cfg_attr(not(test), allow(dead_code))]
mod pack;
#[cfg(test)]
mod packages;
pub mod slim;

use crate::names::InterfaceName;
use anyhow::{bail, Context, Result};
use semver::Version;
use wit_parser::{InterfaceId, PackageName, Resolve, Stability, WorldId, WorldItem};

/// The WASI version of the packages in `wit/`, and of the adapter's names as
/// built.
pub const BUILT_WASI_VERSION: Version = Version::new(0, 2, 12);

/// The packages in `wit/`, resolved at build time (`build.rs`).
const PACKED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/wit.pack"));

/// Rewrites `name` (an import module or an export of the adapter's core
/// module, `wasi:cli/exit@0.2.12#exit`) from the built WASI version to
/// `version`.
pub fn rename_version(name: &str, version: &Version) -> String {
    if *version == BUILT_WASI_VERSION {
        return name.to_string();
    }
    name.replace(&format!("@{BUILT_WASI_VERSION}"), &format!("@{version}"))
}

/// Every WASI package, named at `version`: as resolved at build time, at the
/// built version, then each package of that version renamed to `version`
/// ([`rename_packages`]).
///
/// The packages are unpacked once a process ([`unpacked`]); each call
/// renames a copy.
pub fn load(version: &Version) -> Result<Resolve> {
    let mut resolve = match unpacked() {
        Ok(resolve) => resolve.clone(),
        Err(e) => bail!("{e}"),
    };
    if *version != BUILT_WASI_VERSION {
        rename_packages(&mut resolve, version);
    }
    Ok(resolve)
}

/// Starts unpacking the packages beside the main path, first of the work
/// there (`src/background.rs`), so that [`load`] finds them unpacked: a CLI
/// run reads and checks the component meanwhile, which needs no WIT. Where
/// no thread can be started (wasm32-wasip2), [`load`] unpacks them when
/// first called.
pub fn unpack_ahead() {
    if UNPACKED.get().is_none() {
        // Not joined: a run that fails before it needs the WIT does not
        // wait.
        drop(crate::background::Pending::start(|| {
            let _ = unpacked();
        }));
    }
}

/// The packages as unpacked, or why they could not be (as text: the error
/// is kept for every later call).
static UNPACKED: std::sync::OnceLock<Result<Resolve, String>> = std::sync::OnceLock::new();

/// The packages unpacked, once; a second caller waits for the first.
fn unpacked() -> &'static Result<Resolve, String> {
    UNPACKED.get_or_init(|| unpack().map_err(|e| format!("{e:#}")))
}

/// The embedded packages, at the built version: read from their packed
/// form (`src/wit/pack.rs`).
fn unpack() -> Result<Resolve> {
    pack::read(PACKED).map_err(|e| {
        anyhow::anyhow!("internal error: {e}; the WIT packed by build.rs is unreadable")
    })
}

/// Renames every package of the built version to `version`, and makes
/// what was released later look as it did at `version` ([`hide_later`]).
fn rename_packages(resolve: &mut Resolve, version: &Version) {
    for (_, package) in resolve.packages.iter_mut() {
        if package.name.version == Some(BUILT_WASI_VERSION) {
            package.name.version = Some(version.clone());
        }
    }
    resolve.package_names = resolve
        .packages
        .iter()
        .map(|(id, p)| (p.name.clone(), id))
        .collect();
    hide_later(resolve, version);
}

/// Makes what was released after `version` (`@since(version = X)`, X
/// newer) look as it did at `version`:
///
/// - a function is left out (the adapter then drops its export, and the
///   host import it would need: `wasi:cli/exit.exit-with-code` is 0.2.12);
/// - any other item is kept, marked as released at `version`: later types
///   are only aliases that other items refer to (`wasi:http`'s 0.2.1
///   `field-name`), and wit-parser refuses a gate newer than its package
///   when the adapter's world is encoded and read back.
///
/// Only the packages renamed from the built version hold such items: the
/// others (`wasi:config`'s draft) were released before any 0.2 version.
fn hide_later(resolve: &mut Resolve, version: &Version) {
    let released = |s: &Stability| !matches!(s, Stability::Stable { since, .. } if since > version);
    let at_version = |s: &mut Stability| {
        if let Stability::Stable { since, .. } = s {
            if *since > *version {
                *since = version.clone();
            }
        }
    };
    for (_, iface) in resolve.interfaces.iter_mut() {
        iface.functions.retain(|_, f| released(&f.stability));
        at_version(&mut iface.stability);
    }
    for (_, ty) in resolve.types.iter_mut() {
        at_version(&mut ty.stability);
    }
    for (_, world) in resolve.worlds.iter_mut() {
        at_version(&mut world.stability);
        for include in &mut world.includes {
            at_version(&mut include.stability);
        }
        for items in [&mut world.imports, &mut world.exports] {
            items.retain(|_, item| match item {
                WorldItem::Function(f) => released(&f.stability),
                _ => true,
            });
            for item in items.values_mut() {
                if let WorldItem::Interface { stability, .. } = item {
                    at_version(stability);
                }
            }
        }
    }
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

/// Whether interface `name` (a full name) declares type `ty`.
pub fn has_type(resolve: &Resolve, name: &str, ty: &str) -> bool {
    interface(resolve, name).is_some_and(|id| resolve.interfaces[id].types.contains_key(ty))
}

/// Encodes the core `module` as a component of `world`: its WIT embedded,
/// then wit-component's encoding, slimmed ([`slim`]) and validated if
/// `validate`.
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
    encoder.module(&module)?;
    drop(module);
    let component = slim::slim(&encoder.encode()?)?;
    if validate {
        wasmparser::Validator::new()
            .validate_all(&component)
            .context("the encoded component failed to validate")?;
    }
    Ok(component)
}

/// The adapter's WASI version: `asked`, else the newest 0.2.x among
/// `imports` (a component's top-level imports), else the version the WIT
/// was written at. Only 0.2 releases up to that one are supported.
pub fn choose_version(asked: Option<&Version>, imports: &[String]) -> Result<Version> {
    let detected = imports
        .iter()
        .filter_map(|i| InterfaceName::parse(i)?.wasi_0_2_version().cloned())
        .max();
    let version = match (asked, detected) {
        (Some(v), _) => v.clone(),
        (None, Some(v)) => v,
        (None, None) => BUILT_WASI_VERSION,
    };
    if version.major != 0 || version.minor != 2 || !version.pre.is_empty() {
        bail!("WASI version `{version}` is not a 0.2.x release; wasi-virt supports 0.2.0 to {BUILT_WASI_VERSION}");
    }
    if version > BUILT_WASI_VERSION {
        bail!(
            "WASI version `{version}` is newer than {BUILT_WASI_VERSION}, the newest this \
             wasi-virt knows; pass `--wasi-version {BUILT_WASI_VERSION}` or upgrade wasi-virt"
        );
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_wit_file_is_packed() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("wit");
        let mut on_disk = BTreeSet::new();
        let mut stack = vec![root.join("deps"), root.join("p3/deps")];
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
        let embedded: BTreeSet<String> = packages::PACKAGES
            .iter()
            .flat_map(|files| files.iter().map(|f| f.to_string()))
            .collect();
        assert_eq!(on_disk, embedded);
    }

    /// The packed WIT is what wit-parser resolves from `wit/` now: every
    /// item as its serde form shows it (docs and spans are not packed),
    /// the package names and the features.
    #[test]
    fn the_packed_wit_is_the_wit_resolved() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("wit");
        let read = |path: &str| std::fs::read_to_string(root.join(path)).map_err(|e| e.to_string());
        let resolved = packages::resolve(read).unwrap();
        let packed = unpack().unwrap();
        let json = |r: &Resolve| serde_json::to_string_pretty(r).unwrap();
        assert_eq!(json(&packed), json(&resolved));
        // Ids of two resolves differ by their arenas: compared by index.
        let names = |r: &Resolve| -> Vec<(String, usize)> {
            let names = r.package_names.iter();
            names.map(|(n, id)| (n.to_string(), id.index())).collect()
        };
        assert_eq!(names(&packed), names(&resolved));
        assert!(packed.features.iter().eq(resolved.features.iter()));
        assert_eq!(packed.all_features, resolved.all_features);
        // Packing again gives the same bytes.
        assert_eq!(pack::write(&packed), PACKED);
    }

    #[test]
    fn packed_wit_cut_short_or_changed_is_refused() {
        for len in [0, 1, PACKED.len() / 2, PACKED.len() - 1] {
            assert!(pack::read(&PACKED[..len]).is_err(), "cut at {len}");
        }
        let mut longer = PACKED.to_vec();
        longer.push(0);
        assert!(pack::read(&longer).is_err());
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
    fn packages_are_renamed_with_nothing_released_later() {
        let v = Version::new(0, 2, 0);
        let resolve = load(&v).unwrap();
        let names: BTreeSet<String> = resolve
            .package_names
            .keys()
            .map(|n| n.to_string())
            .collect();
        assert!(names.contains("wasi:cli@0.2.0"), "{names:?}");
        assert!(names.contains("wasi:config@0.2.0-rc.1"), "{names:?}");
        assert!(!names.iter().any(|n| n.ends_with("@0.2.12")), "{names:?}");
        for (id, p) in resolve.packages.iter() {
            assert_eq!(resolve.package_names.get(&p.name), Some(&id));
        }
        let later = |s: &Stability| matches!(s, Stability::Stable { since, .. } if *since > v);
        for (_, ty) in resolve.types.iter() {
            assert!(!later(&ty.stability), "{:?}", ty.name);
        }
        for (_, iface) in resolve.interfaces.iter() {
            assert!(!later(&iface.stability), "{:?}", iface.name);
            for f in iface.functions.values() {
                assert!(!later(&f.stability), "{}", f.name);
            }
        }
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
}
