//! Composes the specialized adapter in front of a user component, in memory.
//!
//! wasm-compose matches definitions to imports by exact name, and a user
//! component may import any WASI 0.2.x. So every connection is made
//! explicitly in a composition graph, which checks types (subtyping), not
//! names.
//!
//! The graph also treats resources imported under the same name by two
//! components as one resource. The adapter imports `wasi:io/poll` from the
//! host to pass calls through, and exports its own `wasi:io/poll` to the
//! component; were the component's import still named `wasi:io/poll`, its
//! `pollable` would be taken for the host's and the connection refused. So
//! the component's imports that the adapter satisfies are first given
//! private names: once connected, they are internal to the output.
//!
//! The common shape (an adapter importing nothing, satisfying every import
//! of the component) is written without the graph, as the graph writes it
//! (`src/compose/direct.rs`).

mod direct;
pub mod plug;
pub mod rename;
pub mod serve;
pub mod serving;
pub mod wasip1;

use crate::inspect::{component_exports, component_imports};
use crate::names::InterfaceName;
use crate::subsystem::interfaces::GUARDS;
use crate::subsystem::registry::unvirtualized_version;
use anyhow::{Context, Result};
pub use rename::compact;
use rename::{rename_imports, rename_top_level};
use semver::Version;
use serve::{
    Serving, INNER_HANDLER, INNER_HANDLER_BRIDGE, INNER_RUN, INNER_TYPES, MAILBOX, RUN_BRIDGE,
};
use std::collections::BTreeMap;
use wasm_compose::graph::{CompositionGraph, EncodeOptions, ExportIndex, ImportIndex, InstanceId};
use wasmparser::Validator;
use wit_parser::Resolve;

/// Prepended to the component's imports that the adapter satisfies.
const PRIVATE_PREFIX: &str = "virtualized-";

/// The front and mailbox of a served output (`src/compose/serve.rs`).
pub struct Served {
    pub serving: Serving,
    pub front: Vec<u8>,
    pub mailbox: Vec<u8>,
}

impl Served {
    /// The front and mailbox for `serving`, typed by `resolve` at
    /// `version`.
    pub fn build(resolve: &Resolve, serving: Serving, version: &Version) -> Result<Served> {
        Ok(Served {
            serving,
            front: serve::front(resolve, serving, version)?,
            mailbox: serve::mailbox(resolve, version)?,
        })
    }
}

/// Instantiates `adapter`, feeds each of its exports to the user component's
/// import of the same interface (whatever its version), and exports what the
/// user component exports; or, `served`, what the front exports.
pub fn compose(adapter: &[u8], component: &[u8], served: Option<&Served>) -> Result<Vec<u8>> {
    // wasm-compose asserts, rather than reports, some shapes it cannot
    // encode; a caller gets an error, not a crash.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let component = private_imports(adapter, component)?;
        if served.is_none() {
            if let Some(composed) = direct::compose(adapter, &component)? {
                return Ok(composed);
            }
        }
        compose_graph(adapter, component, served)
    }))
    .unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("unknown");
        Err(anyhow::anyhow!(
            "failed to compose the adapter with the component: wasm-compose failed \
                 internally ({why}); this is a bug, please report it with the component"
        ))
    })
}

/// Whether the adapter's export `export` satisfies the component's import
/// of `wanted`: the same interface at a compatible version, or, for a WASI
/// 0.3 interface the adapter serves with the host's own types, its guard
/// ([`GUARDS`]: the HTTP client under outbound rules, renamed preopens).
fn serves(export: &str, wanted: &InterfaceName) -> bool {
    let at_0_3 = (wanted.version.as_ref()).is_some_and(|v| v.major == 0 && v.minor == 3);
    let guard = GUARDS
        .iter()
        .any(|(face, guard)| export == *guard && wanted.unversioned == *face && at_0_3);
    wanted.is_compatible(export) || guard
}

/// `component` with each import of an interface that `adapter` exports
/// given a private name ([`PRIVATE_PREFIX`]; see the module's comment).
fn private_imports(adapter: &[u8], component: &[u8]) -> Result<Vec<u8>> {
    let provided = component_exports(adapter)
        .context("failed to load the specialized adapter for composition")?;
    // Not an interface at a version the adapter does not serve (WASI 0.3,
    // let through to the host by `--allow-import`), nor one it serves at
    // another version only (a WASI 0.3 stream left to the host beside the
    // 0.2 one the adapter exports).
    let private = |name: &str| {
        let wanted = InterfaceName::parse(name)?;
        (unvirtualized_version(name).is_none() && provided.iter().any(|p| serves(p, &wanted)))
            .then(|| format!("{PRIVATE_PREFIX}{name}"))
    };
    rename_top_level(component, &private)
}

/// Composes with wasm-compose's graph: `component`'s imports already
/// renamed ([`private_imports`]).
fn compose_graph(adapter: &[u8], component: Vec<u8>, served: Option<&Served>) -> Result<Vec<u8>> {
    let mut graph = CompositionGraph::new();
    // Types are compared across components, so both must come from one
    // validator.
    let mut validator = Validator::new();
    let adapter_c =
        wasm_compose::graph::Component::from_bytes(&mut validator, "wasi-virt", adapter)
            .context("failed to load the specialized adapter for composition")?;
    let user_c = wasm_compose::graph::Component::from_bytes(&mut validator, "component", component)
        .context("failed to load the component for composition")?;

    let mut plugs = Vec::new();
    for (import_index, name, _) in user_c.imports() {
        let Some(original) = name.strip_prefix(PRIVATE_PREFIX) else {
            continue;
        };
        let wanted = InterfaceName::parse(original).expect("renamed because it parsed");
        let found = adapter_c
            .exports()
            .find(|(_, export, _, _)| serves(export, &wanted));
        if let Some((export_index, ..)) = found {
            plugs.push((export_index, import_index, original.to_string()));
        }
    }

    let served = served
        .map(|s| ServedParts::load(&mut validator, s, &adapter_c, &user_c))
        .transpose()?;
    let a = graph.add_component(adapter_c)?;
    let u = graph.add_component(user_c)?;
    let a = graph.instantiate(a)?;
    let u = graph.instantiate(u)?;
    for (export_index, import_index, name) in plugs {
        graph
            .connect(a, Some(export_index), u, import_index)
            .with_context(|| format!("failed to satisfy the component's import `{name}`"))?;
    }
    let export = match served {
        Some(parts) => parts.wire(&mut graph, a, u)?,
        None => u,
    };
    let composed = graph
        .encode(EncodeOptions {
            define_components: true,
            export: Some(export),
            validate: false,
        })
        .context("failed to encode the composed component")?;
    // Every core module in it is one of the two components' own, byte for
    // byte, whose bodies `Component::from_bytes` validated; the composition
    // adds only instances, aliases and types, which are checked here.
    // (Validating the bodies again was a fifth of a whole CLI run.)
    crate::inspect::validate_without_bodies(&composed)
        .context("wasm-compose produced an invalid component")?;
    Ok(composed)
}

/// The front and mailbox loaded, with the connections they need.
struct ServedParts<'a> {
    front: wasm_compose::graph::Component<'a>,
    mailbox: wasm_compose::graph::Component<'a>,
    /// `(source, export of the source, import of the target, target)`.
    links: Vec<(Node, ExportIndex, ImportIndex, Node, String)>,
}

#[derive(Clone, Copy, Debug)]
enum Node {
    Adapter,
    Component,
    Front,
    Mailbox,
}

/// The connections a served output needs, each `(source, its export,
/// target, its import, what it is called in errors)`.
fn served_links(serving: Serving) -> Vec<(Node, &'static str, Node, &'static str, &'static str)> {
    use crate::names::{INCOMING_HANDLER, RUN};
    use crate::subsystem::interfaces::HTTP_TYPES;
    let bridge = serving.bridge();
    let mut links = vec![
        (Node::Mailbox, MAILBOX, Node::Adapter, MAILBOX, MAILBOX),
        (Node::Mailbox, MAILBOX, Node::Front, MAILBOX, MAILBOX),
    ];
    match serving {
        Serving::Handler => links.extend([
            (
                Node::Adapter,
                HTTP_TYPES,
                Node::Front,
                INNER_TYPES,
                INNER_TYPES,
            ),
            (
                Node::Adapter,
                bridge,
                Node::Front,
                INNER_HANDLER_BRIDGE,
                bridge,
            ),
            (
                Node::Component,
                INCOMING_HANDLER,
                Node::Front,
                INNER_HANDLER,
                INCOMING_HANDLER,
            ),
        ]),
        Serving::Run => links.extend([
            (Node::Adapter, bridge, Node::Front, RUN_BRIDGE, bridge),
            (Node::Component, RUN, Node::Front, INNER_RUN, RUN),
        ]),
    }
    links
}

/// The index of `c`'s export `wanted` (an unversioned interface matches it
/// at any version); `what` names `c` in the error.
fn export_of(
    c: &wasm_compose::graph::Component<'_>,
    wanted: &str,
    what: &str,
) -> Result<ExportIndex> {
    c.exports()
        .find(|(_, name, ..)| {
            *name == wanted
                || InterfaceName::parse(wanted)
                    .is_some_and(|w| w.version.is_none() && w.is_same_interface(name))
        })
        .map(|(index, ..)| index)
        .with_context(|| format!("internal error: {what} exports no `{wanted}`"))
}

/// The index of `c`'s import `wanted`; `what` names `c` in the error.
fn import_of(
    c: &wasm_compose::graph::Component<'_>,
    wanted: &str,
    what: &str,
) -> Result<ImportIndex> {
    c.import_by_name(wanted)
        .map(|(index, _)| index)
        .with_context(|| format!("internal error: {what} imports no `{wanted}`"))
}

impl<'a> ServedParts<'a> {
    /// Loads the front and the mailbox of `served` with `validator`, and
    /// finds the exports and imports that connect them to the `adapter` and
    /// the `component`.
    fn load(
        validator: &mut Validator,
        served: &'a Served,
        adapter: &wasm_compose::graph::Component<'_>,
        component: &wasm_compose::graph::Component<'_>,
    ) -> Result<Self> {
        let front = wasm_compose::graph::Component::from_bytes(
            &mut *validator,
            "wasi-virt-front",
            served.front.as_slice(),
        )
        .context("failed to load the served output's front")?;
        let mailbox = wasm_compose::graph::Component::from_bytes(
            &mut *validator,
            "wasi-virt-mailbox",
            served.mailbox.as_slice(),
        )
        .context("failed to load the served output's mailbox")?;
        let node = |node| match node {
            Node::Adapter => (adapter, "the adapter"),
            Node::Component => (component, "the component"),
            Node::Front => (&front, "the front"),
            Node::Mailbox => (&mailbox, "the mailbox"),
        };
        let links = served_links(served.serving)
            .into_iter()
            .map(|(from, export, to, import, name)| {
                let (source, source_is) = node(from);
                let (target, target_is) = node(to);
                let export = export_of(source, export, source_is)?;
                let import = import_of(target, import, target_is)?;
                Ok((from, export, import, to, name.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ServedParts {
            front,
            mailbox,
            links,
        })
    }

    /// Adds the front and the mailbox to `graph` beside the adapter `a` and
    /// the component `u`, connects them, and returns the front, whose
    /// exports are the output's.
    fn wire(
        self,
        graph: &mut CompositionGraph<'a>,
        a: InstanceId,
        u: InstanceId,
    ) -> Result<InstanceId> {
        let f = graph.add_component(self.front)?;
        let m = graph.add_component(self.mailbox)?;
        let f = graph.instantiate(f)?;
        let m = graph.instantiate(m)?;
        let instance = |node| match node {
            Node::Adapter => a,
            Node::Component => u,
            Node::Front => f,
            Node::Mailbox => m,
        };
        for (from, export, import, to, name) in self.links {
            graph
                .connect(instance(from), Some(export), instance(to), import)
                .with_context(|| format!("failed to connect `{name}` in the served output"))?;
        }
        Ok(f)
    }
}

/// The WASI version under which a standalone adapter at `version` imports
/// the host's interfaces that it also exports: 0.2.0, which every WASI 0.2
/// host serves, or 0.2.1 for an adapter at 0.2.0. Every stable WASI item
/// that such an import can carry exists in 0.2.0 (`wit/deps`: the only later
/// `@since` items are a type alias in `wasi:http/types` and `wasi:cli/exit`'s
/// `exit-with-code`, and the adapter never both imports and exports `exit`).
pub fn host_side_version(version: &Version) -> Version {
    match *version == Version::new(0, 2, 0) {
        true => Version::new(0, 2, 1),
        false => Version::new(0, 2, 0),
    }
}

/// Renames a standalone adapter's WASI 0.2 host imports that share a name
/// with one of its exports to [`host_side_version`] (drafts such as
/// `wasi:config`, versioned on their own and without resources, keep
/// theirs), so that none of the adapter's imports shares a name with an
/// import of the component that the adapter serves. Other tools'
/// composition graphs take same-named resource imports of two components
/// for one resource: the component's `wasi:io/poll` import, named as the
/// adapter's import of the host's, would be refused the adapter's own
/// `pollable`. Exports keep their names: the component finds them by name.
pub fn host_side_names(adapter: &[u8], version: &Version) -> Result<Vec<u8>> {
    let exports = component_exports(adapter)?;
    let host = host_side_version(version);
    let renamed: BTreeMap<String, String> = component_imports(adapter)?
        .into_iter()
        .filter(|import| exports.contains(import))
        .filter_map(|import| {
            let name = InterfaceName::parse(&import)?;
            name.wasi_0_2_version()?;
            Some((import, format!("{}@{host}", name.unversioned)))
        })
        .collect();
    if renamed.is_empty() {
        return Ok(adapter.to_vec());
    }
    rename_imports(adapter, &|name: &str| renamed.get(name).cloned())
}
