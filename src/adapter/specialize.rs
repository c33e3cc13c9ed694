//! Specializing the prebuilt adapter for one policy: the policy encoded as
//! its configuration, its host imports and exports cut down to what is
//! kept, its core module rewritten, and the result encoded as a component
//! that exports exactly the chosen interfaces.

use super::config::{encode, has_rules, http_passes, impossible_resources};
use super::fixed::Partial;
use super::mount_tree::{self, Segment, Tree};
use super::rewrite::{rewrite, Plan, Rewritten};
use super::world;
use crate::compose::serve::Serving;
use crate::inspect::{component_exports, component_import_items, component_imports};
use crate::names::InterfaceName;
use crate::policy::{FsEntry, Policy, RandomPolicy, StdinPolicy};
use crate::subsystem::host_imports::HostImports;
use crate::subsystem::host_rules::{rule_needs, HostNeeds};
use crate::subsystem::interfaces::{
    Face, FS_TYPES, GUARDED_CLIENT, GUARDED_PREOPENS, GUARDS, HTTP_CLIENT, HTTP_TYPES,
    OUTGOING_HANDLER, P3_FACES, P3_HOST_SIDE, P3_STREAMS, PREOPENS, STDIN, WASI_0_3,
};
use crate::subsystem::registry::{
    governing, p3_face, row_of, unvirtualized_version, versioned, Row,
};
use crate::subsystem::slot::NETWORK_RULES;
use crate::wit::{self, rename_version};
use anyhow::{bail, Context, Result};
use semver::Version;
use std::collections::{BTreeMap, BTreeSet};
use wit_parser::{InterfaceId, Resolve};

/// The prebuilt adapter core module, rebuilt by `build-adapter.sh`.
const ADAPTER: &[u8] = include_bytes!("../../lib/virtual_adapter.wasm");

/// What a component imports, as specializing the adapter for it needs it.
pub struct Imported {
    /// The interfaces it imports, without versions; for a WASI 0.3
    /// interface the adapter serves, its WASI 0.2 counterpart, whose code
    /// answers it.
    pub used: BTreeSet<String>,
    /// The functions and types it imports of each of them (WASI 0.2).
    pub items: BTreeMap<String, BTreeSet<String>>,
    /// The WASI 0.3 interfaces it imports that the adapter serves (full
    /// names), with the functions and types it imports of each.
    pub faces: BTreeMap<String, BTreeSet<String>>,
    /// Whether it serves HTTP at WASI 0.3 (exports `wasi:http/handler`):
    /// its requests and responses are then the host's own.
    pub serves_http_0_3: bool,
}

impl Imported {
    /// What `component` imports.
    pub fn read(component: &[u8]) -> Result<Imported> {
        // An interface at a version the adapter does not serve (WASI 0.3,
        // let through by `--allow-import`) is not the adapter's to provide.
        let served = |i: &str| unvirtualized_version(i).is_none();
        let mut used = BTreeSet::new();
        for import in component_imports(component)?.iter().filter(|i| served(i)) {
            match p3_face(import) {
                Some(face) if face.types_only => {}
                Some(face) => {
                    used.insert(face.counterpart.to_string());
                }
                None => used.extend(InterfaceName::parse(import).map(|n| n.unversioned)),
            }
        }
        let mut items: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut faces: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (import, names) in component_import_items(component)? {
            if !served(&import) {
                continue;
            }
            if p3_face(&import).is_some() {
                faces.entry(import).or_default().extend(names);
            } else if let Some(name) = InterfaceName::parse(&import) {
                items.entry(name.unversioned).or_default().extend(names);
            }
        }
        let serves_http_0_3 = component_exports(component)?
            .iter()
            .any(|e| is_handler_0_3(e));
        Ok(Imported {
            used,
            items,
            faces,
            serves_http_0_3,
        })
    }

    /// What a standalone WASI 0.3 adapter serves: every WASI 0.3
    /// interface of the adapter, whole, as if a component imported all.
    fn every_face(resolve: &Resolve) -> Imported {
        let faces = P3_FACES
            .iter()
            .map(|face| {
                let name = format!("{}@{WASI_0_3}", face.name);
                let functions = wit::interface(resolve, &name)
                    .map(|id| resolve.interfaces[id].functions.keys().cloned().collect())
                    .unwrap_or_default();
                (name, functions)
            })
            .collect();
        Imported {
            used: BTreeSet::new(),
            items: BTreeMap::new(),
            faces,
            serves_http_0_3: false,
        }
    }

    /// The WASI 0.3 interfaces the adapter exports to the component: those
    /// it imports whose subsystem the adapter virtualizes (`exports` holds
    /// their counterpart), and the types they use. A function the adapter
    /// does not serve at 0.3 is an error.
    fn exported_faces(
        &self,
        resolve: &Resolve,
        exports: &BTreeSet<&'static str>,
        policy: &Policy,
        serving: bool,
    ) -> Result<BTreeSet<String>> {
        let mut faces = BTreeSet::new();
        for (name, items) in &self.faces {
            let face = p3_face(name).expect("only served faces are kept");
            let row = governing(name).expect("a face's counterpart has a row");
            let virtualized = row.interfaces.iter().any(|i| exports.contains(i))
                && (face.types_only || exports.contains(face.counterpart))
                && !(face.to_host)(policy);
            if !virtualized {
                continue;
            }
            if face.denied_only && guarded(face, row, policy, self.serves_http_0_3) {
                // The host's own types, through the adapter's guard.
                let guard = GUARDS.iter().find(|(f, _)| *f == face.name);
                faces.extend(guard.map(|(_, guard)| guard.to_string()));
                continue;
            }
            if face.denied_only && !check_denied_at_0_3(face, row, name, policy)? {
                continue;
            }
            check_served_at_0_3(resolve, name, items)?;
            check_stream_at_0_3(face, name, policy, serving)?;
            faces.insert(name.clone());
            for dep in wit::dependencies(resolve, name) {
                if p3_face(&dep).is_some() {
                    faces.insert(dep);
                }
            }
        }
        Ok(faces)
    }
}

/// Every function the component imports of the WASI 0.3 interface `name`
/// must be one the adapter serves: all of WASI 0.3.0's (`wit/p3/`), so
/// only a component naming a function that 0.3.0 does not define fails,
/// here rather than as a composition error.
fn check_served_at_0_3(resolve: &Resolve, name: &str, items: &BTreeSet<String>) -> Result<()> {
    let Some(id) = wit::interface(resolve, name) else {
        return Ok(());
    };
    let iface = &resolve.interfaces[id];
    let missing = items
        .iter()
        .find(|i| !iface.functions.contains_key(*i) && !iface.types.contains_key(*i));
    match missing {
        None => Ok(()),
        Some(func) => bail!(
            "the component imports `{name}.{func}`, which WASI 0.3.0 does not define (the \
             adapter serves {} of `{name}`); build the component against WASI 0.3.0's WIT",
            iface
                .functions
                .keys()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Whether the adapter serves the WASI 0.3 interface `name` of `row`'s
/// subsystem, which it answers only as denied: yes where the policy denies
/// the subsystem, no where it passes through (the host's own 0.3), and an
/// error for anything between, which needs that subsystem virtualized at
/// 0.3 (mounts, network rules).
fn check_denied_at_0_3(face: &Face, row: &Row, name: &str, policy: &Policy) -> Result<bool> {
    let Some(slot) = row.slot else {
        return Ok(false);
    };
    // Not configured is not virtualized: it passes through.
    if !slot.configured(policy) || slot.passes_through(policy) {
        return Ok(false);
    }
    if !slot.allows(policy) && slot.content(policy).is_none() {
        return Ok(true);
    }
    let inbound = policy
        .network
        .as_ref()
        .is_some_and(|n| !n.inbound.is_empty());
    if face.ruled && slot.content(policy) == Some(NETWORK_RULES) {
        if !inbound {
            return Ok(true);
        }
        bail!(
            "the component imports `{name}`, and wasi-virt serves WASI 0.3's {label} under \
             outbound rules only: a listening socket's stream of accepted sockets cannot be \
             checked at 0.3 yet, so inbound rules (--allow-inbound) are refused; remove them, \
             allow {label} whole ({flag}), or give the component {label} through WASI 0.2",
            label = row.label,
            flag = row.flag.unwrap_or("its --allow flag"),
        )
    }
    let flag = row.flag.unwrap_or("its --allow flag");
    bail!(
        "the component imports `{name}`, and wasi-virt serves WASI 0.3's {label} only denied \
         or passed to the host whole, not as this policy sets it ({}); deny {label}, allow it \
         whole ({flag}), or give the component {label} through WASI 0.2",
        slot.content(policy)
            .map_or_else(|| slot.describe(policy), str::to_string),
        label = row.label,
    )
}

/// Whether the adapter serves `face` with the host's own types and a guard
/// ([`GUARDS`]): WASI 0.3's HTTP client and types under outbound rules,
/// or, for a component serving HTTP at 0.3 (`serves`), denied (a served
/// request is the host's; the guarded client checks each request the host
/// holds, and denied, passes none); the filesystem when the policy only
/// renames host directories (`--preopen`), whose descriptors are the
/// host's.
fn guarded(face: &Face, row: &Row, policy: &Policy, serves: bool) -> bool {
    if face.name == FS_TYPES || face.name == PREOPENS {
        return policy.fs.as_ref().is_some_and(|fs| {
            !fs.host_preopens
                && !fs.preopens.is_empty()
                && (fs.preopens.values()).all(|e| matches!(e, FsEntry::RuntimeDir(_)))
        });
    }
    let http = face.name == HTTP_CLIENT || face.name == HTTP_TYPES;
    let Some(slot) = row.slot.filter(|_| http) else {
        return false;
    };
    let ruled = slot.content(policy) == Some(NETWORK_RULES);
    let denied = slot.configured(policy) && !slot.allows(policy);
    ruled || (serves && denied)
}

/// Whether `export` is WASI 0.3's `wasi:http/handler`: a service at 0.3.
pub fn is_handler_0_3(export: &str) -> bool {
    InterfaceName::parse(export).is_some_and(|n| {
        n.unversioned == "wasi:http/handler"
            && n.version
                .is_some_and(|v| v.major == 0 && v.minor == WASI_0_3.minor)
    })
}

/// A WASI 0.3 stdio stream the adapter must serve can be ignored or
/// denied: a baked stdin cannot reach `read-via-stream`, a synchronous
/// function that would have to hand out a stream the adapter still fills
/// (the component model does not allow it yet), and a command served per
/// request writes its response through WASI 0.2's stdout.
fn check_stream_at_0_3(face: &Face, name: &str, policy: &Policy, serving: bool) -> Result<()> {
    if !P3_STREAMS.contains(&face.name) {
        return Ok(());
    }
    if serving {
        bail!(
            "the component imports `{name}`, and a command served with --serve-http cannot use \
             WASI 0.3's stdio yet (its request and response are WASI 0.2's stdin and stdout); \
             serve a component that reads and writes them through WASI 0.2, as Rust's std does"
        );
    }
    let baked = policy.stdio.as_ref().map(|s| &s.stdin);
    if face.name == STDIN && matches!(baked, Some(StdinPolicy::Content(_) | StdinPolicy::File(_))) {
        bail!(
            "the component imports `{name}`, which cannot read a baked stdin: its \
             `read-via-stream` is a synchronous function, and a synchronous function cannot hand \
             out a stream that the adapter would still have to fill (a limit of the component \
             model); bake stdin only for components that read it through WASI 0.2 (as Rust's \
             std does), or use --stdin=ignore, --stdin=deny or --stdin=allow"
        );
    }
    Ok(())
}

/// What an adapter is specialized for.
pub struct Target<'c> {
    /// The component it is composed with (`None` for a standalone adapter).
    pub component: Option<&'c Imported>,
    /// How the output serves HTTP, if it does.
    pub serving: Option<Serving>,
    /// A standalone adapter for WASI 0.3: it exports the WASI 0.3
    /// interfaces of the subsystems it is given, and none of WASI 0.2.
    pub wasi_0_3: bool,
    /// Whether a composed adapter whose every function has a fixed answer
    /// is written as those answers alone (`src/adapter/fixed.rs`).
    pub fixed_answers: bool,
}

/// The adapter for `policy`, as a component that exports `exports`
/// (unversioned names) at `version`, for `target`; with the files its
/// empty segments are to be filled with (`src/adapter/splice.rs`), and
/// whether it is fixed answers alone.
pub fn specialize(
    policy: &Policy,
    resolve: &mut Resolve,
    version: &Version,
    exports: &BTreeSet<&'static str>,
    target: Target<'_>,
) -> Result<(Vec<u8>, Vec<Segment>, bool)> {
    let (component, serving, wasi_0_3) = (target.component, target.serving, target.wasi_0_3);
    let bridge = serving.map(|serving| serving.bridge());
    let bridged: BTreeSet<&'static str> = exports.iter().copied().chain(bridge).collect();
    let exports = &bridged;
    let mut tree = embedded_tree(policy, exports)?;
    let config = encode(policy, &tree)?;
    let running = running(resolve, exports, component, wasi_0_3);
    let stopped = |i: &str| exports.contains(i) && !running.contains(i);
    let needs = HostNeeds {
        exports: &running,
        imported: component.map(|c| &c.used),
        host_fs: tree.needs_host_fs(),
        rules: rule_needs(policy),
        serves_http: serving.is_some(),
        runs_per_request: serving == Some(Serving::Run),
    };
    let host = HostImports::new(policy, needs, resolve, version);
    let faces = faces(resolve, exports, component, policy, serving, wasi_0_3)?;
    // A standalone WASI 0.3 adapter keeps its 0.2 code (its 0.3 functions
    // run it) but exports none of it.
    let no_exports = BTreeSet::new();
    let exported = if wasi_0_3 { &no_exports } else { exports };
    if let Some(component) = component {
        export_only_what_is_imported(resolve, exports, version, component, &host);
        faces_only_what_is_imported(resolve, &faces, component, &host);
    }
    let exported_functions = ExportedFunctions::new(resolve, exported, &faces, version);
    let keep_export = |name: &str| exported_functions.keeps(name);
    // The host's WASI 0.2 functions of a subsystem whose 0.2 code does not
    // run (drop glue the component can never reach) go too.
    let not_running = |module: &str| {
        let name = InterfaceName::parse(module);
        name.is_some_and(|n| {
            row_of(&n.unversioned).is_some_and(|(row, _)| row.interfaces.iter().any(|i| stopped(i)))
        })
    };
    let deny_import = |module: &str, func: &str| {
        cut_off_at_0_3(resolve, &faces, module, func, &host)
            .unwrap_or_else(|| not_running(module) || !host.keeps(module, func))
    };
    let rename = |name: &str| rename_version(name, version);
    let impossible = impossible_resources(&config, serving == Some(Serving::Handler))?;
    let stub_export = |name: &str| export_resource(name).is_some_and(|r| impossible.contains(&r));
    let plan = Plan {
        keep_export: &keep_export,
        deny_import: &deny_import,
        stub_export: &stub_export,
        rename: &rename,
        config: &config,
        files: tree.segments.len() as u32,
        debug: policy.debug,
        net: has_rules(policy),
        memfs: !tree.memory.is_empty(),
        seeded: matches!(policy.random, Some(RandomPolicy::Seed(_))),
        // Sends WASI 0.2's requests: not for a component whose HTTP is
        // WASI 0.3's alone (the guarded client sends the host's own).
        http_send: http_passes(&config)? && !stopped(OUTGOING_HANDLER),
        serve: serving == Some(Serving::Run),
        answers: None,
    };
    // Composed, with nothing to decide at run time: fixed answers alone.
    let fixed = target.fixed_answers && serving.is_none() && component.is_some();
    let fixed = fixed.then_some(&impossible[..]);
    let (rewritten, is_fixed) = specialized(resolve, (exported, &faces), version, &plan, fixed)?;
    // A composed output is validated whole once composed; a standalone
    // adapter is the output, validated here.
    let validate = component.is_none();
    let adapter = encode_adapter(resolve, rewritten, exported, &faces, version, validate)?;
    Ok((adapter, std::mem::take(&mut tree.segments), is_fixed))
}

/// The adapter's module, and whether it is fixed answers alone: those
/// (`src/adapter/fixed.rs`) when `fixed` allows them (the resources that
/// cannot exist) and every function of the interfaces it exports
/// (`exported` at `version`, and the WASI 0.3 `faces`) has one under
/// `plan`'s configuration; else its code, specialized by `plan`.
fn specialized(
    resolve: &Resolve,
    (exported, faces): (&BTreeSet<&'static str>, &BTreeSet<String>),
    version: &Version,
    plan: &Plan<'_>,
    fixed: Option<&[(&str, &str)]>,
) -> Result<(Rewritten, bool)> {
    let mut interfaces: Vec<(String, InterfaceId)> = exported
        .iter()
        .map(|i| versioned(i, version))
        .filter_map(|name| Some((name.clone(), wit::interface(resolve, &name)?)))
        .collect();
    // A face the WIT lacks has no answers to give: the adapter's code.
    let with_faces = faces.iter().try_for_each(|face| {
        interfaces.push((face.clone(), wit::interface(resolve, face)?));
        Some(())
    });
    let fixed = fixed.filter(|_| with_faces.is_some());
    if let Some(impossible) = fixed {
        if let Some(module) = super::fixed::module(resolve, plan.config, impossible, &interfaces)? {
            return Ok((module, true));
        }
    }
    // Else the functions with an answer that stands alone give it in place
    // of their code.
    let partial = match fixed {
        Some(impossible) => Some(Partial::new(resolve, plan.config, impossible, &interfaces)?),
        None => None,
    };
    let plan = Plan {
        answers: partial.as_ref().filter(|p| !p.is_empty()),
        ..*plan
    };
    let code = rewrite(ADAPTER, &plan).context("failed to specialize the virtual adapter")?;
    Ok((code, false))
}

/// The WASI 0.2 interfaces of `exports` whose code the adapter runs: not
/// those of a subsystem reached through WASI 0.3 faces alone that run none
/// of it (of `component`'s, or, for a standalone WASI 0.3 adapter, of
/// every face).
fn running(
    resolve: &Resolve,
    exports: &BTreeSet<&'static str>,
    component: Option<&Imported>,
    wasi_0_3: bool,
) -> BTreeSet<&'static str> {
    let every_face = wasi_0_3.then(|| Imported::every_face(resolve));
    let reached = component.or(every_face.as_ref());
    (exports.iter().copied())
        .filter(|e| reached.is_none_or(|c| !reached_by_faces_alone(c, e)))
        .collect()
}

/// Leaves in each WASI 0.3 interface the adapter exports (`faces`) the
/// functions `component` imports. A face exported only for its types
/// (`wasi:clocks/types`, which the others use) is left whole; one the
/// adapter also imports from the host keeps the functions it calls there
/// (a UDP socket's local address, which the component may never ask for).
fn faces_only_what_is_imported(
    resolve: &mut Resolve,
    faces: &BTreeSet<String>,
    component: &Imported,
    host: &HostImports<'_>,
) {
    for (face, imported) in component.faces.iter().filter(|(f, _)| faces.contains(*f)) {
        let host_side = p3_face(face).is_some_and(|f| P3_HOST_SIDE.contains(&f.name));
        world::retain_functions(resolve, face, &|func| {
            imported.contains(func) || (host_side && host.keeps(face, func))
        });
    }
}

/// The WASI 0.3 interfaces the adapter exports: those `component` imports
/// that the policy has the adapter serve, or, for a standalone WASI 0.3
/// adapter (`wasi_0_3`), every one it serves.
fn faces(
    resolve: &Resolve,
    exports: &BTreeSet<&'static str>,
    component: Option<&Imported>,
    policy: &Policy,
    serving: Option<Serving>,
    wasi_0_3: bool,
) -> Result<BTreeSet<String>> {
    match (component, wasi_0_3) {
        (Some(component), _) => {
            component.exported_faces(resolve, exports, policy, serving.is_some())
        }
        (None, true) => {
            Imported::every_face(resolve).exported_faces(resolve, exports, policy, false)
        }
        (None, false) => Ok(BTreeSet::new()),
    }
}

/// For an import of the adapter that belongs to a WASI 0.3 interface it
/// serves, whether it is cut off (`None` for any other import):
/// - a built-in of one of its own exports (`[export]wasi:cli/stdin@0.3.0`:
///   a future's or a stream's, a task's return) goes when the function or
///   resource it serves is not exported, though the async runtime's tables
///   still name it;
/// - a host function it passes an allowed stream on to
///   (`wasi:cli/stdout@0.3.0`), and that function's built-ins, go unless
///   the interface is exported and the `host` keeps the function.
fn cut_off_at_0_3(
    resolve: &Resolve,
    faces: &BTreeSet<String>,
    module: &str,
    func: &str,
    host: &HostImports<'_>,
) -> Option<bool> {
    let (face, exported) = match module.strip_prefix("[export]") {
        Some(face) => (face, true),
        None => (module, false),
    };
    p3_face(face)?;
    // The host's HTTP types, which the guarded client's requests are, and
    // its client where HTTP may pass.
    if !exported && faces.contains(GUARDED_CLIENT) && face.starts_with("wasi:http/") {
        return Some(face.starts_with(HTTP_CLIENT) && !host.keeps(module, func));
    }
    if !exported && faces.contains(GUARDED_PREOPENS) && face.starts_with("wasi:filesystem/") {
        return Some(false);
    }
    // The built-in's own prefixes go (`[async-lower][future-write-2]`); a
    // function keeps its own (`[static]request.new`).
    let items = func.match_indices(']').map(|(i, _)| &func[i + 1..]);
    let kept = items.chain([func]).any(|item| match exported {
        true => wit::has_function(resolve, face, item) || wit::has_type(resolve, face, item),
        false => host.keeps(module, item),
    });
    Some(!(faces.contains(face) && kept))
}

/// The mount tree embedded in the adapter: the policy's, if the adapter
/// exports the preopens through which it reaches the component.
fn embedded_tree(policy: &Policy, exports: &BTreeSet<&'static str>) -> Result<Tree> {
    match &policy.fs {
        Some(fs) if exports.contains(PREOPENS) => mount_tree::build(fs),
        _ => Ok(Tree::default()),
    }
}

/// Leaves in each interface the adapter exports to `component` only the
/// functions the component imports, and those the adapter itself imports
/// from the host (an interface's functions are one list for both sides of
/// the adapter's world). The component's import types name exactly what it
/// calls, and an instance with more functions than an import names is
/// still a subtype of it; the others' exports, and the code only they
/// reach, go.
fn export_only_what_is_imported(
    resolve: &mut Resolve,
    exports: &BTreeSet<&'static str>,
    version: &Version,
    component: &Imported,
    host: &HostImports<'_>,
) {
    let nothing = BTreeSet::new();
    let imported = |iface: &str| {
        let unversioned = InterfaceName::parse(iface).map(|n| n.unversioned);
        unversioned
            .and_then(|u| component.items.get(&u))
            .unwrap_or(&nothing)
    };
    let names: Vec<String> = exports
        .iter()
        .map(|iface| versioned(iface, version))
        .collect();
    for name in &names {
        let unversioned = InterfaceName::parse(name).map(|n| n.unversioned);
        let for_faces = unversioned.is_some_and(|u| reached_by_faces_alone(component, &u));
        world::retain_functions(resolve, name, &|func| {
            imported(name).contains(func) || (!for_faces && host.keeps(name, func))
        });
    }
    world::retain_needed_types(resolve, &names, &|name, ty| imported(name).contains(ty));
}

/// Whether the WASI 0.2 interface `iface` is exported only because
/// `component` imports WASI 0.3 interfaces of its subsystem whose code runs
/// none of WASI 0.2's (filesystem, sockets, the HTTP client): then it keeps
/// no function, so its code, and the host's 0.2 functions that code calls,
/// go (the 0.3 sockets under rules call the host's 0.3 ones).
fn reached_by_faces_alone(component: &Imported, iface: &str) -> bool {
    let Some((row, _)) = row_of(iface) else {
        return false;
    };
    let of_row = |name: &str| row_of(name).is_some_and(|(r, _)| r.subsystem == row.subsystem);
    if row
        .interfaces
        .iter()
        .any(|i| component.items.contains_key(*i))
    {
        return false;
    }
    let mut faces = component.faces.keys().filter_map(|f| p3_face(f));
    let mut of_this = faces.by_ref().filter(|f| of_row(f.counterpart)).peekable();
    of_this.peek().is_some() && of_this.all(|f| f.denied_only)
}

/// Which of the adapter's function exports (as built) stay: those of an
/// exported interface (of WASI 0.2, or one of the WASI 0.3 `faces`) that
/// exist at `version`.
struct ExportedFunctions<'a> {
    resolve: &'a Resolve,
    exports: &'a BTreeSet<&'static str>,
    faces: &'a BTreeSet<String>,
    version: &'a Version,
    /// Each interface asked about (as built), and what the output exports
    /// of it: worked out once per interface, not for each of the
    /// hundreds of functions the adapter exports.
    known: std::cell::RefCell<BTreeMap<String, Option<InterfaceId>>>,
}

impl<'a> ExportedFunctions<'a> {
    fn new(
        resolve: &'a Resolve,
        exports: &'a BTreeSet<&'static str>,
        faces: &'a BTreeSet<String>,
        version: &'a Version,
    ) -> Self {
        ExportedFunctions {
            resolve,
            exports,
            faces,
            version,
            known: Default::default(),
        }
    }

    /// Whether the output exports the function that the adapter's export
    /// `name` lifts (or belongs to, [`lifted_function`]).
    fn keeps(&self, name: &str) -> bool {
        let Some((iface, func)) = lifted_function(name).split_once('#') else {
            return false;
        };
        let Some(id) = self.interface(iface) else {
            return false;
        };
        let interface = &self.resolve.interfaces[id];
        match func.strip_prefix("[dtor]") {
            Some(resource) => interface.types.contains_key(resource),
            None => interface.functions.contains_key(func),
        }
    }

    /// Interface `iface` at the output's version, if the output exports it.
    fn interface(&self, iface: &str) -> Option<InterfaceId> {
        if let Some(known) = self.known.borrow().get(iface) {
            return *known;
        }
        let exported = match p3_face(iface) {
            _ if self.faces.contains(iface) => true,
            Some(_) => false,
            None => InterfaceName::parse(iface)
                .is_some_and(|n| self.exports.contains(n.unversioned.as_str())),
        };
        let at = rename_version(iface, self.version);
        let id = exported
            .then(|| wit::interface(self.resolve, &at))
            .flatten();
        self.known.borrow_mut().insert(iface.to_string(), id);
        id
    }
}

/// The function (`interface#name`) that an adapter export lifts, or
/// belongs to: itself, or that of a `cabi_post_` companion, of an async
/// lift (`[async-lift]`, WASI 0.3's async functions) or of its callback
/// (`[callback][async-lift]`), which stay or go together.
fn lifted_function(name: &str) -> &str {
    let name = name.strip_prefix("cabi_post_").unwrap_or(name);
    let name = name.strip_prefix("[callback]").unwrap_or(name);
    name.strip_prefix("[async-lift]").unwrap_or(name)
}

/// The `(unversioned interface, resource)` whose method, static function or
/// destructor an adapter export (or its `cabi_post_` companion) is:
/// `wasi:filesystem/types@0.2.12#[method]descriptor.read` is
/// `("wasi:filesystem/types", "descriptor")`. Constructors and free
/// functions are `None`.
pub fn export_resource(name: &str) -> Option<(&str, &str)> {
    let (interface, func) = lifted_function(name).split_once('#')?;
    let interface = interface.split_once('@').map_or(interface, |(i, _)| i);
    let resource = match func.strip_prefix("[dtor]") {
        Some(resource) => resource,
        None => {
            let rest = func
                .strip_prefix("[method]")
                .or_else(|| func.strip_prefix("[static]"))?;
            rest.split_once('.')?.0
        }
    };
    Some((interface, resource))
}

/// Encodes the rewritten module as a component exporting `exports` (at
/// `version`) and `faces` (WASI 0.3).
fn encode_adapter(
    resolve: &mut Resolve,
    rewritten: Rewritten,
    exports: &BTreeSet<&'static str>,
    faces: &BTreeSet<String>,
    version: &Version,
    validate: bool,
) -> Result<Vec<u8>> {
    let imports: BTreeSet<String> = rewritten
        .imports
        .iter()
        .map(|(m, _)| m.clone())
        // The component model's own built-ins (`$root`, `[export]...`:
        // task.return, waitables, context) are not interfaces.
        .filter(|m| !m.starts_with("[export]") && !m.starts_with('$'))
        .collect();
    let exports: BTreeSet<String> = exports
        .iter()
        .map(|i| versioned(i, version))
        .chain(faces.iter().cloned())
        .collect();
    world::own_plain_types(resolve, &imports);
    let world = world::add_world(resolve, &imports, &exports)?;
    let mut component = wit::componentize(rewritten.module, resolve, world, validate)
        .context("failed to encode the specialized adapter as a component")?;
    // Standalone, a guard goes by the name a component imports it under
    // (composing, `src/compose.rs` connects it by its own).
    if validate && GUARDS.iter().any(|(_, guard)| faces.contains(*guard)) {
        let rename = |name: &str| {
            let (face, _) = GUARDS.iter().find(|(_, guard)| *guard == name)?;
            Some(format!("{face}@{WASI_0_3}"))
        };
        component = crate::compose::rename::rename_top_level(&component, &rename)?;
    }
    Ok(component)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WasiVirt;

    #[test]
    fn adapters_carry_no_debug_names_nor_long_core_names() {
        let mut virt = WasiVirt::new();
        virt.deny_all();
        let out = virt.finish().unwrap();
        let names = wasmparser::Parser::new(0)
            .parse_all(&out.bytes)
            .filter_map(|p| match p.unwrap() {
                wasmparser::Payload::CustomSection(c) => Some(c.name().to_string()),
                _ => None,
            })
            .collect::<Vec<_>>();
        assert!(
            !names
                .iter()
                .any(|n| n == "component-name" || n == "producers"),
            "{names:?}"
        );
        let (mut exports, mut shim_imports) = (Vec::new(), Vec::new());
        for payload in wasmparser::Parser::new(0).parse_all(&out.bytes) {
            match payload.unwrap() {
                wasmparser::Payload::ExportSection(s) => {
                    exports.extend(s.into_iter().map(|e| e.unwrap().name.to_string()));
                }
                wasmparser::Payload::ComponentImportSection(s) => {
                    let names = s.into_iter().map(|i| i.unwrap().name.name.to_string());
                    shim_imports.extend(names.filter(|n| !n.contains(':')));
                }
                _ => {}
            }
        }
        // The shims' imports are renamed (`src/wit/slim/shims.rs`).
        assert!(shim_imports.len() > 20, "{shim_imports:?}");
        assert!(
            shim_imports.iter().all(|n| n.len() <= 2),
            "{shim_imports:?}"
        );
        assert!(exports.len() > 20, "{exports:?}");
        // Only the shim's table keeps its name: the fixup module imports it.
        let long = exports.iter().filter(|name| name.len() > 2);
        assert_eq!(long.collect::<Vec<_>>(), ["$imports"], "{exports:?}");
        assert_eq!(crate::wit::slim::slim(&out.bytes).unwrap(), out.bytes);
    }

    /// A component whose WASI 0.3 monotonic clock is `now` and `extra`.
    fn monotonic_0_3_component(extra: &str) -> Vec<u8> {
        wat::parse_str(format!(
            r#"(component
                (import "wasi:clocks/monotonic-clock@0.3.0"
                    (instance (export "now" (func (result u64))) {extra})))"#
        ))
        .unwrap()
    }

    /// WASI 0.3's clock functions are virtualized, the async `wait-for`
    /// and `wait-until` too (lifted synchronously); a
    /// function that WASI 0.3.0 does not define is refused by name, not
    /// left to the host.
    #[test]
    fn async_waits_of_wasi_0_3_are_served() {
        let virtualize = |extra: &str| {
            let mut virt = WasiVirt::new();
            virt.compose(monotonic_0_3_component(extra))
                .deny_all()
                .virtual_clock("2024-01-01T00:00:00Z");
            virt.finish()
        };
        for extra in [
            "",
            r#"(export "wait-for" (func async (param "how-long" u64)))"#,
            r#"(export "wait-until" (func async (param "when" u64)))
               (export "wait-for" (func async (param "how-long" u64)))"#,
        ] {
            let out = virtualize(extra).unwrap();
            assert!(out.report.imports.is_empty(), "{:?}", out.report.imports);
            crate::inspect::validate_component(&out.bytes).unwrap();
        }
        let err = format!(
            "{:#}",
            virtualize(r#"(export "sleep" (func (param "ns" u64)))"#).unwrap_err()
        );
        assert!(
            err.contains(
                "`wasi:clocks/monotonic-clock@0.3.0.sleep`, which WASI 0.3.0 does not define"
            ),
            "{err}"
        );
    }

    #[test]
    fn export_names_give_their_resource() {
        let at = export_resource;
        let fs = Some(("wasi:filesystem/types", "descriptor"));
        assert_eq!(
            at("wasi:filesystem/types@0.2.12#[method]descriptor.read"),
            fs
        );
        assert_eq!(
            at("cabi_post_wasi:filesystem/types@0.2.12#[method]descriptor.stat"),
            fs
        );
        assert_eq!(at("wasi:filesystem/types@0.2.12#[dtor]descriptor"), fs);
        for lift in ["[async-lift]", "[callback][async-lift]"] {
            let name = format!("{lift}wasi:filesystem/types@0.3.0#[method]descriptor.stat");
            assert_eq!(at(&name), fs, "{name}");
        }
        assert_eq!(
            at("wasi:http/types@0.2.12#[static]incoming-body.finish"),
            Some(("wasi:http/types", "incoming-body"))
        );
        assert_eq!(at("wasi:http/types@0.2.12#[constructor]fields"), None);
        assert_eq!(at("wasi:filesystem/preopens@0.2.12#get-directories"), None);
        assert_eq!(at("cabi_realloc"), None);
    }
}
