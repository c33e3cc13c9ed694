//! Imports outside WASI's subsystems: answered by traps (`--deny-import`,
//! and every WASI interface that no subsystem governs unless
//! `--allow-import` lets it through), or by components the user supplies
//! (`--plug`), composed in front of the component before the adapter is.

use crate::inspect::{component_exports, component_imports, validate_component};
use crate::names::InterfaceName;
use crate::policy::ImportsPolicy;
use crate::subsystem::registry::{
    all_interfaces, governing, is_ungoverned_wasi, unvirtualized_version,
};
use anyhow::{anyhow, bail, Context, Result};
use wasm_compose::graph::{CompositionGraph, EncodeOptions};
use wasmparser::Validator;
use wit_component::DecodedWasm;

/// A component that satisfies some of the component's imports.
#[derive(Clone, Debug)]
pub struct Provider {
    /// What it is called in messages and the report (`gpio.wasm`).
    pub label: String,
    pub bytes: Vec<u8>,
}

/// What [`plug`] connected: each import satisfied, and by which provider
/// (for a denied import, `denied`).
pub type Plugged = Vec<(String, String)>;

/// The label of the trap component that answers denied imports.
pub const DENIED: &str = "denied";

/// The imports of `component` that `pattern` matches: the full name
/// (`ocre:gpio/pins@0.1.0`), the name without its version
/// (`ocre:gpio/pins`), or a package's interfaces (`ocre:gpio/*`), at one
/// version (`wasi:cli/*@0.3.0`) or at any.
pub fn matches(pattern: &str, import: &str) -> bool {
    let Some(name) = InterfaceName::parse(import) else {
        return false;
    };
    if import == pattern || name.unversioned == pattern {
        return true;
    }
    let (body, version) = split_version(pattern);
    let Some(package) = body.strip_suffix("/*") else {
        return false;
    };
    let at = |v: &str| name.version.as_ref().is_some_and(|n| n.to_string() == v);
    name.unversioned.rsplit_once('/').map(|(p, _)| p) == Some(package) && version.is_none_or(at)
}

/// A pattern and its version: `wasi:cli/*@0.3.0` is `wasi:cli/*` at `0.3.0`.
fn split_version(pattern: &str) -> (&str, Option<&str>) {
    match pattern.split_once('@') {
        Some((body, version)) => (body, Some(version)),
        None => (pattern, None),
    }
}

/// Checks the shape of a pattern given to `flag` (`--deny-import`,
/// `--allow-import`), and that it names no interface a subsystem governs:
/// those are let through or denied by the subsystem's own setting. A
/// pattern at a WASI version that wasi-virt does not virtualize
/// (`wasi:cli/*@0.3.0`) names interfaces that no subsystem governs.
pub fn check_pattern(pattern: &str, flag: &str) -> Result<()> {
    let (body, version) = split_version(pattern);
    let probe = match body.strip_suffix("/*") {
        Some(package) => format!("{package}/x"),
        None => body.to_string(),
    };
    let well_formed = InterfaceName::parse(&probe).is_some_and(|n| n.is_well_formed())
        && version.is_none_or(|v| v.parse::<semver::Version>().is_ok());
    if !well_formed {
        bail!(
            "`{pattern}` is not an interface pattern; expected `namespace:package/interface`, \
             with an optional `@version`, or `namespace:package/*`, also with an optional `@version`"
        );
    }
    if let Some(v) = version {
        if unvirtualized_version(&format!("{probe}@{v}")).is_some() {
            return Ok(());
        }
    }
    let unversioned = match body.strip_suffix("/*") {
        Some(_) => body.to_string(),
        None => InterfaceName::parse(body).map_or_else(String::new, |n| n.unversioned),
    };
    let Some(iface) = all_interfaces().find(|i| matches(&unversioned, i)) else {
        return Ok(());
    };
    let row = governing(iface).expect("a registry interface has its row");
    match (row.flag, flag) {
        (None, _) => bail!(
            "`{pattern}` names `{iface}`, which carries the streams and pollables of the other \
             subsystems and passes exactly when they do; {flag} is for interfaces that no \
             subsystem governs"
        ),
        (Some(allow), "--deny-import") => bail!(
            "`{pattern}` names `{iface}`, which the {} subsystem governs: it is denied unless \
             {allow} lets it through; {flag} is for interfaces that no subsystem governs",
            row.label
        ),
        (Some(allow), _) => bail!(
            "`{pattern}` names `{iface}`, which the {} subsystem governs: let it through with \
             {allow}, not {flag}, which is for interfaces that no subsystem governs",
            row.label
        ),
    }
}

/// What becomes of the component's imports that no subsystem governs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ungoverned {
    /// Answered by traps and removed: those `--deny-import` names, and the
    /// WASI interfaces that no `--allow-import` names.
    pub denied: Vec<String>,
    /// Among `denied`, the WASI interfaces denied because nothing allowed
    /// them.
    pub by_default: Vec<String>,
    /// WASI interfaces let through to the host by `--allow-import`.
    pub allowed: Vec<String>,
}

/// Decides the imports of `component` that no subsystem governs: a WASI
/// interface is denied unless `policy.allow` names it or one of `plugs`
/// provides it, any other passes unless `policy.deny` names it. Each
/// pattern must match an import it can decide.
pub fn decide(component: &[u8], policy: &ImportsPolicy, plugs: &[Provider]) -> Result<Ungoverned> {
    let imports = component_imports(component)?;
    let mut provided = Vec::new();
    for plug in plugs {
        validate_component(&plug.bytes)
            .with_context(|| format!("failed to load `{}`", plug.label))?;
        provided.extend(component_exports(&plug.bytes)?);
    }
    let plugged = |import: &str| {
        InterfaceName::parse(import)
            .is_some_and(|name| provided.iter().any(|e| name.is_compatible(e)))
    };
    let denied = matched(&imports, &policy.deny, "--deny-import", &|i: &str| {
        governing(i).is_none()
    })?;
    let allowed = matched(
        &imports,
        &policy.allow,
        "--allow-import",
        &is_ungoverned_wasi,
    )?;
    if let Some(both) = allowed.iter().find(|i| denied.contains(i)) {
        bail!("`{both}` is both allowed (--allow-import) and denied (--deny-import); choose one");
    }
    let by_default: Vec<String> = imports
        .iter()
        .filter(|i| is_ungoverned_wasi(i) && !allowed.contains(i) && !denied.contains(i))
        .filter(|i| !plugged(i))
        .cloned()
        .collect();
    refuse_unvirtualized(&by_default)?;
    let decided = Ungoverned {
        denied: denied
            .into_iter()
            .chain(by_default.iter().cloned())
            .collect(),
        by_default,
        allowed,
    };
    check_allowed_types(component, &decided)?;
    Ok(decided)
}

/// WASI interfaces at a version that wasi-virt does not virtualize (WASI
/// 0.3) are never answered by default, neither passed to the host nor
/// trapped without a word: naming them is the user's choice to make.
fn refuse_unvirtualized(by_default: &[String]) -> Result<()> {
    let unvirtualized: Vec<(&String, semver::Version)> = by_default
        .iter()
        .filter_map(|i| Some((i, unvirtualized_version(i)?)))
        .collect();
    let Some((_, version)) = unvirtualized.first() else {
        return Ok(());
    };
    let names: Vec<String> = unvirtualized
        .iter()
        .map(|(i, _)| format!("`{i}`"))
        .collect();
    let mut patterns: Vec<String> = Vec::new();
    for (import, version) in &unvirtualized {
        let package = import.split_once('/').map_or(import.as_str(), |(p, _)| p);
        let pattern = format!("'{package}/*@{version}'");
        if !patterns.contains(&pattern) {
            patterns.push(pattern);
        }
    }
    bail!(
        "the component imports WASI interfaces at a version that wasi-virt does not virtualize \
         yet ({version}): {}; none of them is left to the host or answered by traps unless you \
         say so: `--allow-import PATTERN` lets them through to the host, `--deny-import PATTERN` \
         answers them with traps (patterns: {})",
        names.join(", "),
        patterns.join(", ")
    )
}

/// The imports that `patterns` (given to `flag`) match among those that
/// `decidable` admits, each pattern matching at least one.
fn matched(
    imports: &[String],
    patterns: &[String],
    flag: &str,
    decidable: &dyn Fn(&str) -> bool,
) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for pattern in patterns {
        check_pattern(pattern, flag)?;
        let found: Vec<&String> = imports
            .iter()
            .filter(|i| matches(pattern, i) && decidable(i))
            .collect();
        let wasi = pattern.starts_with("wasi:");
        if found.is_empty() && flag == "--allow-import" && !wasi {
            bail!(
                "`{flag} {pattern}` names no WASI interface; an import outside WASI passes to the \
                 host unless --deny-import names it, so there is nothing to allow"
            );
        }
        if found.is_empty() {
            let (what, none) = match flag {
                "--allow-import" => (
                    "no WASI import of the component that no subsystem governs (other imports \
                     pass unless denied)",
                    "none of them",
                ),
                _ => (
                    "no import of the component",
                    "nothing that no subsystem governs",
                ),
            };
            bail!(
                "`{flag} {pattern}` matches {what}; it imports: {}",
                list_or_none(imports.iter().filter(|i| decidable(i)), none)
            );
        }
        for import in found {
            if !out.contains(import) {
                out.push(import.clone());
            }
        }
    }
    Ok(out)
}

/// An allowed import whose types come from a denied one would name the
/// trap component's types in the host's import: refused, naming both.
fn check_allowed_types(component: &[u8], decided: &Ungoverned) -> Result<()> {
    if decided.allowed.is_empty() || decided.denied.is_empty() {
        return Ok(());
    }
    let resolve = match wit_component::decode(component)
        .context("failed to read the component's interface types")?
    {
        DecodedWasm::Component(resolve, _) => resolve,
        DecodedWasm::WitPackage(..) => bail!("a WIT package is not a component"),
    };
    for allowed in &decided.allowed {
        for dep in crate::wit::dependencies(&resolve, allowed) {
            if decided.denied.contains(&dep) {
                bail!(
                    "`{allowed}` is allowed (--allow-import) but uses types of `{dep}`, which is \
                     denied; allow `{dep}` too, or deny both"
                );
            }
        }
    }
    Ok(())
}

fn list_or_none<'a>(names: impl Iterator<Item = &'a String>, none: &str) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    match names.is_empty() {
        true => none.into(),
        false => names.join(", "),
    }
}

/// A component that exports each of `interfaces` (imports of `component`)
/// with every function a trap, built from the component's own types.
pub fn trap_component(component: &[u8], interfaces: &[String]) -> Result<Vec<u8>> {
    let (mut resolve, _) = match wit_component::decode(component)
        .context("failed to read the component's interface types")?
    {
        DecodedWasm::Component(resolve, world) => (resolve, world),
        DecodedWasm::WitPackage(..) => bail!("a WIT package is not a component"),
    };
    let exports: String = interfaces
        .iter()
        .map(|i| format!("  export {i};\n"))
        .collect();
    let text = format!("package wasi-virt:denied;\nworld denied {{\n{exports}}}\n");
    let package = resolve
        .push_str("denied.wit", &text)
        .context("failed to describe the denied imports")?;
    let world = resolve.select_world(&[package], Some("denied"))?;
    let module =
        wit_component::dummy_module(&resolve, world, wit_parser::ManglingAndAbi::Standard32);
    crate::wit::componentize(module, &resolve, world, true)
        .context("failed to build the component that answers denied imports with traps")
}

/// `component` with what stands in front of its imports: traps for the
/// ungoverned WASI imports and the imports `policy` denies, then `plugs`.
/// Returns the composed component, which import each provider (or
/// [`DENIED`]) satisfies, and what became of the ungoverned imports.
pub fn in_front(
    component: Vec<u8>,
    policy: &ImportsPolicy,
    plugs: Vec<Provider>,
) -> Result<(Vec<u8>, Plugged, Ungoverned)> {
    let ungoverned = decide(&component, policy, &plugs)?;
    let mut providers = Vec::new();
    if !ungoverned.denied.is_empty() {
        providers.push(Provider {
            label: DENIED.to_string(),
            bytes: trap_component(&component, &ungoverned.denied)?,
        });
    }
    providers.extend(plugs);
    if providers.is_empty() {
        return Ok((component, Vec::new(), ungoverned));
    }
    let (component, plugged) = plug(&component, &providers)?;
    Ok((component, plugged, ungoverned))
}

/// Composes `providers` in front of `component`: each import of the
/// component that a provider exports (the same interface, any compatible
/// version) is connected to it. The output imports the component's other
/// imports and the providers' own.
pub fn plug(component: &[u8], providers: &[Provider]) -> Result<(Vec<u8>, Plugged)> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        plug_graph(component, providers)
    }))
    .unwrap_or_else(|_| {
        Err(anyhow!(
            "wasm-compose failed internally while plugging the providers in; this is a bug, \
             please report it with the components"
        ))
    })
}

fn plug_graph(component: &[u8], providers: &[Provider]) -> Result<(Vec<u8>, Plugged)> {
    let mut graph = CompositionGraph::new();
    let mut validator = Validator::new();
    let user = wasm_compose::graph::Component::from_bytes(&mut validator, "component", component)
        .context("failed to load the component for composition")?;
    let user_imports: Vec<(wasm_compose::graph::ImportIndex, String)> = user
        .imports()
        .map(|(index, name, _)| (index, name.to_string()))
        .collect();
    let u = graph.add_component(user)?;
    let u = graph.instantiate(u)?;
    let mut plugged: Plugged = Vec::new();
    for (n, provider) in providers.iter().enumerate() {
        validate_component(&provider.bytes)
            .with_context(|| format!("failed to load `{}`", provider.label))?;
        let c = wasm_compose::graph::Component::from_bytes(
            &mut validator,
            format!("provider-{n}"),
            provider.bytes.clone(),
        )
        .with_context(|| format!("failed to load `{}` for composition", provider.label))?;
        let mut connections = Vec::new();
        for (import_index, import) in &user_imports {
            let Some(wanted) = InterfaceName::parse(import) else {
                continue;
            };
            let found = c
                .exports()
                .find(|(_, export, _, _)| wanted.is_compatible(export));
            if let Some((export_index, ..)) = found {
                if let Some((_, other)) = plugged.iter().find(|(i, _)| i == import) {
                    if other == DENIED {
                        bail!(
                            "`{import}` is both denied (--deny-import) and provided by `{}`; \
                             choose one",
                            provider.label
                        );
                    }
                    bail!(
                        "both `{other}` and `{}` provide `{import}`; plug one provider per \
                         interface",
                        provider.label
                    );
                }
                connections.push((export_index, *import_index));
                plugged.push((import.clone(), provider.label.clone()));
            }
        }
        if connections.is_empty() {
            bail!(
                "`{}` provides none of the component's imports (it exports: {})",
                provider.label,
                list_or_none(component_exports(&provider.bytes)?.iter(), "nothing")
            );
        }
        let p = graph.add_component(c)?;
        let p = graph.instantiate(p)?;
        for (export_index, import_index) in connections {
            graph
                .connect(p, Some(export_index), u, import_index)
                .with_context(|| format!("failed to connect `{}`", provider.label))?;
        }
    }
    let bytes = graph
        .encode(EncodeOptions {
            define_components: true,
            export: Some(u),
            validate: true,
        })
        .context("failed to compose the providers with the component")?;
    Ok((bytes, plugged))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allowed_import_may_not_use_the_types_of_a_denied_one() {
        let component = wat::parse_str(
            r#"(component
                (import "wasi:keyvalue/store@0.2.0-draft"
                    (instance $store (export "bucket" (type (sub resource)))))
                (alias export $store "bucket" (type $bucket))
                (import "wasi:keyvalue/atomics@0.2.0-draft" (instance
                    (alias outer 1 $bucket (type $b))
                    (export "bucket" (type $own (eq $b)))
                    (export "increment"
                        (func (param "bucket" (borrow $own)) (result u64))))))"#,
        )
        .unwrap();
        let policy = |allow: &[&str]| ImportsPolicy {
            deny: Vec::new(),
            allow: allow.iter().map(|a| a.to_string()).collect(),
        };
        let refused = decide(&component, &policy(&["wasi:keyvalue/atomics"]), &[])
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("`wasi:keyvalue/atomics@0.2.0-draft` is allowed")
                && refused.contains("`wasi:keyvalue/store@0.2.0-draft`, which is denied"),
            "{refused}"
        );
        let both = decide(&component, &policy(&["wasi:keyvalue/*"]), &[]).unwrap();
        assert_eq!(both.allowed.len(), 2);
        assert!(both.denied.is_empty() && both.by_default.is_empty());
        let none = decide(&component, &policy(&[]), &[]).unwrap();
        assert_eq!(none.denied, none.by_default);
        assert_eq!(none.denied.len(), 2);
    }

    #[test]
    fn patterns_match_whole_names_versions_and_packages() {
        let import = "ocre:gpio/pins@0.1.0";
        for yes in ["ocre:gpio/pins@0.1.0", "ocre:gpio/pins", "ocre:gpio/*"] {
            assert!(matches(yes, import), "{yes}");
        }
        for no in [
            "ocre:gpio/pin",
            "ocre:gpio/pins@0.2.0",
            "ocre:gp/*",
            "ocre:*",
            "pins",
        ] {
            assert!(!matches(no, import), "{no}");
        }
        for flag in ["--deny-import", "--allow-import"] {
            for ok in [
                "ocre:gpio/*",
                "wasi:keyvalue/store",
                "wasi:keyvalue/*",
                "wasi:clocks/timezone@0.2.6",
            ] {
                assert!(check_pattern(ok, flag).is_ok(), "{ok}");
            }
        }
        for bad in [
            "gpio",
            "wasi:cli/stdout",
            "wasi:cli/stdout@0.2.6",
            "wasi:clocks/*",
            "wasi:io/*",
            "ocre:gpio/",
            "*",
            "ocre:/*",
            "a b:c/d",
        ] {
            assert!(check_pattern(bad, "--allow-import").is_err(), "{bad}");
        }
        let governed = check_pattern("wasi:clocks/*", "--allow-import").unwrap_err();
        assert!(
            governed.to_string().contains("--allow-clocks"),
            "{governed}"
        );
    }
}
