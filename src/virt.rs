//! The `WasiVirt` builder and `finish()`, the whole pipeline.

use crate::compose::{compose, Served};
use crate::fs::{Segment, Tree};
use crate::inspect::{check_component_header, validate_bodies};
use crate::inspect::{component_exports, component_imports, input_kind_but_bodies, InputKind};
use crate::inspect::{component_import_functions, component_import_items};
use crate::names::{InterfaceName, INCOMING_HANDLER, RUN};
use crate::permissions::{Declared, Permission};
use crate::plug::{Provider, DENIED};
use crate::policy::{
    Access, ClocksPolicy, ConfigPolicy, EnvPolicy, FsPolicy, Policy, RandomPolicy, ServeHttp,
    StdinPolicy, StdioPolicy,
};
use crate::report::{Output, Report};
use crate::rewrite::{rewrite, Plan, Rewritten};
use crate::serve::Serving;
use crate::splice;
use crate::subsystem::{self, HostImports, HostNeeds, HTTP_TYPES, PREOPENS, REGISTRY};
use crate::wit::{self, rename_version, BUILT_WASI_VERSION};
use anyhow::{bail, Context, Result};
use semver::Version;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use wit_parser::Resolve;

/// The context of every error in the component given.
const LOADED: &str = "failed to load the component to virtualize";

/// The prebuilt adapter core module, rebuilt by `build-adapter.sh`.
const ADAPTER: &[u8] = include_bytes!("../lib/virtual_adapter.wasm");

/// Builds a virtualized component, or a standalone virtual adapter.
///
/// ```no_run
/// use wasi_virt::WasiVirt;
///
/// let mut virt = WasiVirt::new();
/// virt.env().deny_all().overrides(&[("MODE", "production")]);
/// virt.compose_path("app.wasm");
/// let out = virt.finish()?;
/// std::fs::write("app.virt.wasm", &out.bytes)?;
/// # anyhow::Ok(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct WasiVirt {
    policy: Policy,
    component: Option<ComponentSource>,
    plugs: Vec<ComponentSource>,
    wasi_version: Option<Version>,
}

#[derive(Clone, Debug)]
enum ComponentSource {
    Bytes(Vec<u8>),
    Path(PathBuf),
}

impl ComponentSource {
    /// Its bytes; `what` names it in the error (`component`, `provider`).
    fn read(&self, what: &str) -> Result<Vec<u8>> {
        match self {
            ComponentSource::Bytes(b) => Ok(b.clone()),
            ComponentSource::Path(p) => {
                std::fs::read(p).with_context(|| format!("failed to read {what} `{}`", p.display()))
            }
        }
    }

    /// What it is called in messages: its file name, or `provider N`.
    fn label(&self) -> String {
        match self {
            ComponentSource::Bytes(_) => "the provider given as bytes".into(),
            ComponentSource::Path(p) => p.display().to_string(),
        }
    }
}

/// What `finish()` produced.
#[derive(Clone, Debug)]
pub struct VirtResult {
    /// The virtualized component, or the standalone adapter.
    pub bytes: Vec<u8>,
    /// What was done, and what the output still asks of its host.
    pub report: Report,
}

impl WasiVirt {
    /// An empty policy: nothing virtualized, and nothing denied but the
    /// WASI interfaces that no subsystem governs, which every policy denies
    /// unless [`allow_import`](Self::allow_import) names them.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts from a complete policy, for example one read from TOML.
    pub fn from_policy(policy: Policy) -> Self {
        WasiVirt {
            policy,
            ..Self::default()
        }
    }

    /// The policy as configured so far.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Virtualizes `wasi:cli/environment`, and returns its policy to
    /// configure. By default every host variable passes through.
    pub fn env(&mut self) -> &mut EnvPolicy {
        self.policy.env.get_or_insert_with(EnvPolicy::default)
    }

    /// The network grants (`--allow-outbound`, `--allow-inbound`,
    /// `--allow-resolve`); see [`crate::NetworkPolicy`].
    pub fn network(&mut self) -> &mut crate::NetworkPolicy {
        self.policy.network()
    }

    /// Virtualizes every subsystem and passes each through to the host.
    pub fn allow_all(&mut self) -> &mut Self {
        self.policy = Policy {
            debug: self.policy.debug,
            ..Policy::allow_all()
        };
        self
    }

    /// Virtualizes every subsystem and denies each: a composed component
    /// then imports nothing of WASI.
    pub fn deny_all(&mut self) -> &mut Self {
        self.policy = Policy {
            debug: self.policy.debug,
            ..Policy::deny_all()
        };
        self
    }

    /// Virtualizes the standard streams, and returns their policy to
    /// configure. By default each is the host's.
    pub fn stdio(&mut self) -> &mut StdioPolicy {
        self.policy.stdio.get_or_insert_with(StdioPolicy::default)
    }

    /// Virtualizes the clocks: the host's if `allow`, else calls trap.
    pub fn clocks(&mut self, allow: bool) -> &mut Self {
        self.policy.clocks = Some(ClocksPolicy::from(allow));
        self
    }

    /// Virtualizes the clocks as a virtual clock whose wall clock starts at
    /// `start`, an RFC 3339 instant (`2024-01-01T00:00:00Z`); see
    /// [`ClocksPolicy::Virtual`]. A bad instant fails `finish()`.
    pub fn virtual_clock(&mut self, start: &str) -> &mut Self {
        self.policy.clocks = Some(ClocksPolicy::Virtual(start.to_string()));
        self
    }

    /// Virtualizes randomness: the host's if `allow`, else calls trap.
    pub fn random(&mut self, allow: bool) -> &mut Self {
        self.policy.random = Some(RandomPolicy::from(allow));
        self
    }

    /// Virtualizes randomness as a generator seeded with `seed`: the same
    /// seed gives the same bytes in every run. Never for secrets.
    pub fn random_seed(&mut self, seed: u64) -> &mut Self {
        self.policy.random = Some(RandomPolicy::Seed(seed));
        self
    }

    /// Virtualizes `wasi:cli/exit`: the host's if `allow`, else it traps.
    pub fn exit(&mut self, allow: bool) -> &mut Self {
        self.policy.exit = Some(Access::from(allow));
        self
    }

    /// Virtualizes sockets: the host's if `allow`, else every operation
    /// fails with `access-denied`.
    pub fn sockets(&mut self, allow: bool) -> &mut Self {
        self.policy.sockets = Some(Access::from(allow));
        self
    }

    /// Virtualizes the filesystem, and returns its policy to configure. By
    /// default the host's preopens pass through.
    pub fn fs(&mut self) -> &mut FsPolicy {
        self.policy.fs.get_or_insert_with(FsPolicy::default)
    }

    /// Virtualizes outgoing HTTP: the host's if `allow`, else `handle`
    /// returns `HTTP-request-denied`.
    pub fn http(&mut self, allow: bool) -> &mut Self {
        self.policy.http = Some(Access::from(allow));
        self
    }

    /// Virtualizes `wasi:config/store`, and returns its policy to configure.
    /// By default every host property is visible.
    pub fn config(&mut self) -> &mut ConfigPolicy {
        self.policy.config.get_or_insert_with(ConfigPolicy::default)
    }

    /// Serves the command over HTTP, one run per request: the output
    /// exports `wasi:http/incoming-handler` instead of `wasi:cli/run`; see
    /// [`ServeHttp`].
    pub fn serve_http(&mut self) -> &mut ServeHttp {
        self.policy
            .serve_http
            .get_or_insert_with(ServeHttp::default)
    }

    /// Traces every virtualized call to the host's stderr.
    pub fn debug(&mut self, on: bool) -> &mut Self {
        self.policy.debug = on;
        self
    }

    /// Composes the virtualization into this component.
    pub fn compose(&mut self, component: impl Into<Vec<u8>>) -> &mut Self {
        self.component = Some(ComponentSource::Bytes(component.into()));
        self
    }

    /// Composes the virtualization into the component at `path`, read by
    /// `finish()`.
    pub fn compose_path(&mut self, path: impl Into<PathBuf>) -> &mut Self {
        self.component = Some(ComponentSource::Path(path.into()));
        self
    }

    /// Composes `provider`, a component that exports some of the
    /// component's imports (a device or service interface the host would
    /// otherwise grant), in front of the component. What the provider
    /// imports is virtualized like the component's own imports.
    pub fn plug(&mut self, provider: impl Into<Vec<u8>>) -> &mut Self {
        self.plugs.push(ComponentSource::Bytes(provider.into()));
        self
    }

    /// As [`plug`](Self::plug), reading the provider from `path`.
    pub fn plug_path(&mut self, path: impl Into<PathBuf>) -> &mut Self {
        self.plugs.push(ComponentSource::Path(path.into()));
        self
    }

    /// Answers the component's imports that `pattern` matches
    /// (`ocre:gpio/pins`, `ocre:gpio/*`) with traps, so that the output
    /// no longer imports them. For interfaces outside WASI's subsystems.
    pub fn deny_import(&mut self, pattern: &str) -> &mut Self {
        self.policy.imports.deny.push(pattern.to_string());
        self
    }

    /// Lets the component's imports that `pattern` matches through to the
    /// host: WASI interfaces that no subsystem governs
    /// (`wasi:logging/logging`, `wasi:keyvalue/*`), which are otherwise
    /// answered by traps, whatever the policy, so that the output imports
    /// nothing of WASI that the policy did not let through.
    pub fn allow_import(&mut self, pattern: &str) -> &mut Self {
        self.policy.imports.allow.push(pattern.to_string());
        self
    }

    /// Declares the permissions the output's imports must fall under
    /// (`stdio`, `networking`, `ocre:gpio/*`, ...): `finish()` fails,
    /// listing each import outside them, instead of writing the output.
    pub fn permissions(&mut self, declared: &[&str]) -> &mut Self {
        let p = self.policy.permissions.get_or_insert_with(Default::default);
        p.declared.extend(declared.iter().map(|d| d.to_string()));
        self
    }

    /// The WASI 0.2.x version the adapter's names use. Defaults to the
    /// version the composed component imports, or 0.2.12 for a standalone
    /// adapter. A standalone adapter must match the component it will be
    /// composed with by `wasm-tools compose`, which compares names exactly.
    pub fn wasi_version(&mut self, version: Version) -> &mut Self {
        self.wasi_version = Some(version);
        self
    }

    /// Specializes the adapter, and composes it if a component was given.
    ///
    /// The pipeline: read the component, choose the WASI version, choose the
    /// interfaces the adapter exports, check that every setting can reach the
    /// component, specialize the adapter, compose.
    pub fn finish(&self) -> Result<VirtResult> {
        let prepared = self.prepare()?;
        let mut bytes = Vec::with_capacity(prepared.report.size as usize);
        splice::write(&prepared.bytes, &prepared.files, &mut bytes)?;
        Ok(VirtResult {
            bytes,
            report: prepared.report,
        })
    }

    /// As [`finish`](Self::finish), writing the output to `out`: the
    /// embedded files are copied from the host straight into `out`, never
    /// held in memory, so this is the way to write large mounts. Nothing is
    /// written unless everything before the writing succeeded.
    pub fn finish_to(&self, out: &mut dyn Write) -> Result<Report> {
        let prepared = self.prepare()?;
        splice::write(&prepared.bytes, &prepared.files, out)?;
        Ok(prepared.report)
    }

    /// Everything but writing: the output with its file segments still
    /// empty, the files that go in them, and the report.
    fn prepare(&self) -> Result<Prepared> {
        self.policy.validate()?;
        let declared = match &self.policy.permissions {
            Some(p) => p
                .declared
                .iter()
                .map(|d| Permission::parse_declared(d))
                .collect::<Result<Vec<_>>>()
                .context("failed to read the declared permissions")?,
            None => Vec::new(),
        };
        let given = self.read_given()?;
        // A component's function bodies are validated on a second thread
        // while the output is prepared from its structure (validated on
        // reading); an invalid body is the error reported, whatever else
        // failed meanwhile.
        let (bodies, prepared) = std::thread::scope(|s| {
            let bodies = given
                .as_deref()
                .filter(|bytes| check_component_header(bytes).is_ok())
                .map(|bytes| s.spawn(move || validate_bodies(bytes)));
            let prepared = self.read_component(given.as_deref()).and_then(|component| {
                let input = component
                    .as_ref()
                    .map(|c| (c.input, c.plugged.clone(), c.ungoverned.clone()));
                Ok((input, self.prepare_output(component)?))
            });
            (bodies.map(|b| b.join()), prepared)
        });
        if let Some(checked) = bodies {
            checked
                .unwrap_or_else(|_| Err(anyhow::anyhow!("the validator panicked")))
                .context(LOADED)?;
        }
        let (input, mut prepared) = prepared?;
        if let Some((input, plugged, ungoverned)) = input {
            prepared.report.input = Some(input);
            prepared.report.plugged = plugged;
            prepared.report.allowed_imports = ungoverned.allowed;
            prepared.report.denied_by_default = ungoverned.by_default;
        }
        if let Some(permissions) = &self.policy.permissions {
            prepared.report.permissions = Some(crate::report::PermissionCheck {
                declared: permissions.declared.clone(),
                checked: !permissions.skip_validation,
            });
            if !permissions.skip_validation {
                check_permissions(&declared, &prepared.bytes)?;
            }
        }
        Ok(prepared)
    }

    fn prepare_output(&self, component: Option<Component>) -> Result<Prepared> {
        if self.policy.serve_http.is_some() {
            return self.served_command()?.prepare_serving(component);
        }
        self.prepare_serving(component)
    }

    fn prepare_serving(&self, component: Option<Component>) -> Result<Prepared> {
        let version = self.choose_version(component.as_ref())?;
        let mut resolve = wit::load(&version)?;
        let used = component.as_ref().map(|c| &c.used);
        let exports = subsystem::select(&self.policy, used, &resolve, &version)?;
        let serving = match &component {
            Some(component) => {
                self.check_content_reaches(&exports)?;
                self.serving(component, &exports)?
            }
            None => None,
        };
        if exports.is_empty() && serving.is_none() {
            return self.unchanged(component, version);
        }
        let (adapter, files) = self.specialize(
            &mut resolve,
            &version,
            &exports,
            component.as_ref(),
            serving,
        )?;
        let (bytes, output) = match component {
            Some(component) => {
                let served = serving
                    .map(|serving| -> Result<Served> {
                        Ok(Served {
                            serving,
                            front: crate::serve::front(&resolve, serving, &version)?,
                            mailbox: crate::serve::mailbox(&resolve, &version)?,
                        })
                    })
                    .transpose()?;
                (
                    compose(&adapter, &component.bytes, served.as_ref())?,
                    Output::Composed,
                )
            }
            None => (
                crate::compose::host_side_names(&adapter, &version)?,
                Output::Standalone,
            ),
        };
        let runs_per_request = serving == Some(Serving::Run);
        let mut prepared =
            self.result(bytes, files, output, version, &exports, runs_per_request)?;
        prepared.report.serving = serving.map(|s| match s {
            Serving::Handler => crate::report::Serving::Handler,
            Serving::Run => crate::report::Serving::Command {
                stderr_too: self.policy.stderr_into_response(),
            },
        });
        Ok(prepared)
    }

    /// This builder as `--serve-http` runs it: the command's environment,
    /// stdio and exit always come from the adapter, which hands it its
    /// request through them.
    fn served_command(&self) -> Result<WasiVirt> {
        if self.component.is_none() {
            bail!(
                "--serve-http turns a command into a served component, and a standalone \
                 adapter has none; give the component to serve"
            );
        }
        // The component was read already (`prepare`): only the policy and
        // the version are needed again, not a copy of its bytes.
        let mut served = WasiVirt {
            policy: self.policy.clone(),
            component: None,
            plugs: Vec::new(),
            wasi_version: self.wasi_version.clone(),
        };
        let policy = &mut served.policy;
        if let Some(StdioPolicy {
            stdin: StdinPolicy::Content(_) | StdinPolicy::File(_),
            ..
        }) = &policy.stdio
        {
            bail!(
                "--serve-http gives the command its request body as stdin, so stdin cannot be \
                 baked in too; remove --stdin-file (or the policy's stdin content)"
            );
        }
        policy.env.get_or_insert_with(EnvPolicy::default);
        policy.stdio.get_or_insert_with(StdioPolicy::default);
        policy.exit.get_or_insert(Access::Allow);
        Ok(served)
    }

    /// How the output serves HTTP, if it does: a command under
    /// `--serve-http`; a component exporting `wasi:http/incoming-handler`
    /// when the adapter stands in for its `wasi:http/types` (otherwise it
    /// keeps the host's, and needs no front).
    fn serving(
        &self,
        component: &Component,
        exports: &BTreeSet<&'static str>,
    ) -> Result<Option<Serving>> {
        let names = component_exports(&component.bytes)?;
        let exported = |wanted: &str| {
            names
                .iter()
                .any(|e| InterfaceName::parse(e).is_some_and(|n| n.unversioned == wanted))
        };
        let handler = exported(INCOMING_HANDLER);
        if self.policy.serve_http.is_some() {
            if handler {
                bail!(
                    "--serve-http serves a command per request, but the component exports \
                     `{INCOMING_HANDLER}` and serves HTTP itself; remove --serve-http"
                );
            }
            if !exported(RUN) {
                bail!(
                    "--serve-http serves a command, a component exporting `{RUN}`, but this \
                     component does not export it"
                );
            }
            return Ok(Some(Serving::Run));
        }
        Ok((handler && exports.contains(HTTP_TYPES)).then_some(Serving::Handler))
    }

    /// The bytes of the component to virtualize, if one was given.
    fn read_given(&self) -> Result<Option<Vec<u8>>> {
        self.component
            .as_ref()
            .map(|source| source.read("component"))
            .transpose()
    }

    /// The component to virtualize, from the bytes given: all but its core
    /// function bodies validated (see `prepare`).
    fn read_component(&self, given: Option<&[u8]>) -> Result<Option<Component>> {
        let Some(given) = given else {
            let what = [
                (!self.plugs.is_empty(), "providers to plug in"),
                (!self.policy.imports.deny.is_empty(), "imports to deny"),
                (!self.policy.imports.allow.is_empty(), "imports to allow"),
            ];
            if let Some((_, what)) = what.iter().find(|(set, _)| *set) {
                bail!("the policy has {what}, which need a component; give the component to virtualize");
            }
            return Ok(None);
        };
        let input = input_kind_but_bodies(given).context(LOADED)?;
        let mut bytes = given.to_vec();
        if input == InputKind::Wasip1Module {
            bytes = crate::wasip1::componentize(&bytes).context(LOADED)?;
        }
        let plugs = self
            .plugs
            .iter()
            .map(|plug| {
                Ok(Provider {
                    label: plug.label(),
                    bytes: plug.read("provider")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let ungoverned = crate::plug::decide(&bytes, &self.policy.imports, &plugs)?;
        let mut providers = Vec::new();
        if !ungoverned.denied.is_empty() {
            providers.push(Provider {
                label: DENIED.to_string(),
                bytes: crate::plug::trap_component(&bytes, &ungoverned.denied)?,
            });
        }
        providers.extend(plugs);
        let mut plugged = Vec::new();
        if !providers.is_empty() {
            (bytes, plugged) = crate::plug::plug(&bytes, &providers)?;
        }
        let imports = component_imports(&bytes)?;
        let used = imports
            .iter()
            .filter_map(|i| InterfaceName::parse(i))
            .map(|n| n.unversioned)
            .collect();
        let mut imported: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (import, items) in component_import_items(&bytes)? {
            if let Some(name) = InterfaceName::parse(&import) {
                imported.entry(name.unversioned).or_default().extend(items);
            }
        }
        Ok(Some(Component {
            bytes,
            imports,
            used,
            imported,
            input,
            plugged,
            ungoverned,
        }))
    }

    /// The adapter's WASI version: as asked, else the newest 0.2.x the
    /// component imports, else the version the WIT was written at.
    fn choose_version(&self, component: Option<&Component>) -> Result<Version> {
        let detected = component
            .into_iter()
            .flat_map(|c| &c.imports)
            .filter_map(|i| InterfaceName::parse(i)?.wasi_0_2_version().cloned())
            .max();
        let version = match (&self.wasi_version, detected) {
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

    /// A setting with content (variables, files, properties) must reach the
    /// component: a setting that cannot apply is an error, never a no-op.
    fn check_content_reaches(&self, exports: &BTreeSet<&'static str>) -> Result<()> {
        for row in REGISTRY {
            let Some(what) = row.content(&self.policy) else {
                continue;
            };
            if !row.content_via.iter().any(|via| exports.contains(via)) {
                bail!(
                    "the policy sets {what}, but the component does not import `{}`; remove that setting",
                    row.content_via.join("` or `")
                );
            }
        }
        Ok(())
    }

    /// The output when nothing is virtualized: the component as it was, or
    /// with only providers or traps (`--plug`, denied imports) in front.
    fn unchanged(&self, component: Option<Component>, version: Version) -> Result<Prepared> {
        match component {
            Some(component) => self.result(
                component.bytes,
                Vec::new(),
                match component.plugged.is_empty() {
                    true => Output::Unchanged,
                    false => Output::Composed,
                },
                version,
                &BTreeSet::new(),
                false,
            ),
            None => bail!("the policy virtualizes nothing, so there is no adapter to write"),
        }
    }

    fn result(
        &self,
        bytes: Vec<u8>,
        files: Vec<Segment>,
        output: Output,
        wasi_version: Version,
        exports: &BTreeSet<&'static str>,
        runs_per_request: bool,
    ) -> Result<Prepared> {
        let imports = component_imports(&bytes)?;
        let mut report = Report::new(
            &self.policy,
            output,
            wasi_version,
            exports,
            imports,
            runs_per_request,
        );
        report.size = splice::written_len(&bytes, &files)?;
        Ok(Prepared {
            bytes,
            files,
            report,
        })
    }

    /// Writes the policy into the adapter and encodes it as a component that
    /// exports `exports` (unversioned names), for `component` (`None` for a
    /// standalone adapter).
    fn specialize(
        &self,
        resolve: &mut Resolve,
        version: &Version,
        exports: &BTreeSet<&'static str>,
        component: Option<&Component>,
        serving: Option<Serving>,
    ) -> Result<(Vec<u8>, Vec<Segment>)> {
        let used = component.map(|c| &c.used);
        let bridged: BTreeSet<&'static str>;
        let exports = match serving {
            Some(serving) => {
                bridged = exports.iter().copied().chain([serving.bridge()]).collect();
                &bridged
            }
            None => exports,
        };
        let mut tree = self.embedded_tree(exports)?;
        let config = crate::spec::encode(&self.policy, &tree)?;
        let needs = HostNeeds {
            exports,
            imported: used,
            host_fs: tree.needs_host_fs(),
            rules: crate::subsystem::rule_needs(&self.policy),
            serving,
        };
        let host = HostImports::new(&self.policy, needs, resolve, version);
        if let Some(component) = component {
            export_only_what_is_imported(resolve, exports, version, component, &host);
        }
        let keep_export = |name: &str| exported_function(resolve, exports, version, name);
        let deny_import = |module: &str, func: &str| !host.keeps(module, func);
        let rename = |name: &str| rename_version(name, version);
        let impossible =
            crate::spec::impossible_resources(&config, serving == Some(Serving::Handler))?;
        let stub_export = |name: &str| {
            crate::spec::export_resource(name).is_some_and(|r| impossible.contains(&r))
        };
        let plan = Plan {
            keep_export: &keep_export,
            deny_import: &deny_import,
            stub_export: &stub_export,
            rename: &rename,
            config: &config,
            files: tree.segments.len() as u32,
            debug: self.policy.debug,
            net: crate::spec::has_rules(&self.policy),
            memfs: !tree.memory.is_empty(),
            seeded: matches!(self.policy.random, Some(RandomPolicy::Seed(_))),
            http_send: crate::spec::http_passes(&config)?,
            serve: serving == Some(Serving::Run),
        };
        let rewritten =
            rewrite(ADAPTER, &plan).context("failed to specialize the virtual adapter")?;
        // A composed output is validated whole once composed; a standalone
        // adapter is the output, validated here.
        let validate = used.is_none();
        let adapter = encode_adapter(resolve, rewritten, exports, version, validate)?;
        Ok((adapter, std::mem::take(&mut tree.segments)))
    }

    fn embedded_tree(&self, exports: &BTreeSet<&'static str>) -> Result<Tree> {
        match &self.policy.fs {
            Some(fs) if exports.contains(PREOPENS) => crate::fs::build(fs),
            _ => Ok(Tree::default()),
        }
    }
}

/// An output before it is written: its file segments are empty, and `files`
/// fills them (`src/splice.rs`).
struct Prepared {
    bytes: Vec<u8>,
    files: Vec<Segment>,
    report: Report,
}

/// A component to virtualize, and what it imports.
struct Component {
    /// What was given: a component, or a wasip1 module made one.
    input: InputKind,
    /// Imports satisfied by providers (`--plug`) or traps (`--deny-import`,
    /// by [`DENIED`]), and by which.
    plugged: crate::plug::Plugged,
    /// What became of the imports that no subsystem governs.
    ungoverned: crate::plug::Ungoverned,
    bytes: Vec<u8>,
    /// Its top-level imports.
    imports: Vec<String>,
    /// The interfaces among them, without versions.
    used: BTreeSet<String>,
    /// The functions and types it imports of each of them.
    imported: BTreeMap<String, BTreeSet<String>>,
}

/// Fails, listing each import of `output` that `declared` permissions do
/// not cover, with its functions and the permission it needs. An import of
/// types alone (`wasi:clocks/monotonic-clock` for the `duration` of a
/// passed-through `wasi:sockets/tcp`) needs none: nothing in it can be
/// called.
fn check_permissions(declared: &[Declared], output: &[u8]) -> Result<()> {
    let mut offending = Vec::new();
    for (import, functions) in component_import_functions(output)? {
        let Some(needed) = Permission::of_interface(&import) else {
            continue;
        };
        if !functions.is_empty() && !declared.iter().any(|d| d.covers(&needed)) {
            offending.push(format!(
                "  {import} needs `{needed}`: {}",
                functions.join(", ")
            ));
        }
    }
    if offending.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = declared.iter().map(ToString::to_string).collect();
    bail!(
        "the output imports {} interface{} outside the declared permissions ({}); declare what \
         they need, deny them, or pass --skip-validation; nothing was written:\n{}",
        offending.len(),
        if offending.len() == 1 { "" } else { "s" },
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        },
        offending.join("\n")
    )
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
    component: &Component,
    host: &HostImports<'_>,
) {
    let nothing = BTreeSet::new();
    let imported = |iface: &str| {
        let unversioned = InterfaceName::parse(iface).map(|n| n.unversioned);
        unversioned
            .and_then(|u| component.imported.get(&u))
            .unwrap_or(&nothing)
    };
    let names: Vec<String> = exports
        .iter()
        .map(|iface| subsystem::versioned(iface, version))
        .collect();
    for name in &names {
        wit::retain_functions(resolve, name, &|func| {
            imported(name).contains(func) || host.keeps(name, func)
        });
    }
    wit::retain_needed_types(resolve, &names, &|name, ty| imported(name).contains(ty));
}

/// Whether the adapter's function export `name` (as built) stays: it belongs
/// to an exported interface, and exists at `version`.
fn exported_function(
    resolve: &Resolve,
    exports: &BTreeSet<&'static str>,
    version: &Version,
    name: &str,
) -> bool {
    let name = name.strip_prefix("cabi_post_").unwrap_or(name);
    let Some((iface, func)) = name.split_once('#') else {
        return false;
    };
    let iface_at = rename_version(iface, version);
    InterfaceName::parse(iface).is_some_and(|n| exports.contains(n.unversioned.as_str()))
        && match func.strip_prefix("[dtor]") {
            Some(resource) => wit::has_type(resolve, &iface_at, resource),
            None => wit::has_function(resolve, &iface_at, func),
        }
}

/// Encodes the rewritten module as a component exporting `exports`.
fn encode_adapter(
    resolve: &mut Resolve,
    rewritten: Rewritten,
    exports: &BTreeSet<&'static str>,
    version: &Version,
    validate: bool,
) -> Result<Vec<u8>> {
    let imports: BTreeSet<String> = rewritten
        .imports
        .iter()
        .map(|(m, _)| m.clone())
        .filter(|m| !m.starts_with("[export]"))
        .collect();
    let exports: BTreeSet<String> = exports
        .iter()
        .map(|i| subsystem::versioned(i, version))
        .collect();
    wit::own_plain_types(resolve, &imports);
    let world = wit::add_world(resolve, &imports, &exports)?;
    let component = wit::componentize(rewritten.module, resolve, world, validate)
        .context("failed to encode the specialized adapter as a component")?;
    without_debug_names(&component)
}

/// `component` without its top-level `component-name` section: debug names
/// for the adapter's instances and functions, a fifth of a deny-all
/// adapter, which nothing needs to run it.
fn without_debug_names(component: &[u8]) -> Result<Vec<u8>> {
    let mut reader = wasmparser::BinaryReader::new(component, 0);
    let mut out = reader.read_bytes(8)?.to_vec();
    while !reader.eof() {
        let start = reader.original_position();
        let id = reader.read_u8()?;
        let size = reader.read_var_u32()? as usize;
        let content = reader.read_bytes(size)?;
        let names =
            id == 0 && wasmparser::BinaryReader::new(content, 0).read_string()? == "component-name";
        if !names {
            out.extend_from_slice(&component[start as usize..reader.original_position() as usize]);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapters_carry_no_debug_names() {
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
        assert!(!names.iter().any(|n| n == "component-name"), "{names:?}");
        assert_eq!(without_debug_names(&out.bytes).unwrap(), out.bytes);
    }

    #[test]
    fn an_import_of_types_alone_needs_no_permission() {
        let output = wat::parse_str(
            r#"(component
                (import "wasi:clocks/monotonic-clock@0.2.6"
                    (instance (type $d u64) (export "duration" (type (eq $d)))))
                (import "wasi:cli/exit@0.2.6"
                    (instance (export "exit" (func)))))"#,
        )
        .unwrap();
        let exit = Permission::parse_declared("exit").unwrap();
        check_permissions(&[exit], &output).unwrap();
        let refused = check_permissions(&[], &output).unwrap_err().to_string();
        assert!(
            refused.contains("wasi:cli/exit@0.2.6 needs `exit`"),
            "{refused}"
        );
        assert!(!refused.contains("monotonic-clock"), "{refused}");
    }

    #[test]
    fn a_wasi_0_3_interface_outside_the_registry_is_denied() {
        let component = wat::parse_str(
            r#"(component
                (import "wasi:clocks/system-clock@0.3.0"
                    (instance (export "now" (func async (result u64))))))"#,
        )
        .unwrap();
        let mut virt = WasiVirt::new();
        virt.compose(component);
        let out = virt.finish().unwrap();
        assert!(out.report.imports.is_empty(), "{:?}", out.report.imports);
        assert_eq!(
            out.report.denied_by_default,
            ["wasi:clocks/system-clock@0.3.0"]
        );
    }

    #[test]
    fn ungoverned_wasi_imports_are_denied_unless_allowed() {
        let component = wat::parse_str(
            r#"(component
                (import "wasi:logging/logging@0.1.0-draft"
                    (instance (export "log" (func (param "message" string)))))
                (import "ocre:gpio/pins@0.1.0"
                    (instance (export "set" (func (param "pin" u32))))))"#,
        )
        .unwrap();
        let mut virt = WasiVirt::new();
        virt.compose(component.clone());
        let out = virt.finish().unwrap();
        assert_eq!(out.report.imports, ["ocre:gpio/pins@0.1.0"]);
        let logging = "wasi:logging/logging@0.1.0-draft";
        assert_eq!(out.report.denied_by_default, [logging]);
        assert_eq!(
            out.report.plugged,
            [(logging.to_string(), DENIED.to_string())]
        );
        assert_eq!(out.report.output, Output::Composed);

        virt.allow_import("wasi:logging/*");
        let out = virt.finish().unwrap();
        assert_eq!(out.report.allowed_imports, [logging]);
        assert!(out.report.denied_by_default.is_empty());
        assert!(out.report.imports.iter().any(|i| i == logging));
        assert_eq!(out.report.output, Output::Unchanged);

        let provider = crate::plug::trap_component(&component, &[logging.to_string()]).unwrap();
        let mut plugged = WasiVirt::new();
        plugged.compose(component.clone()).plug(provider);
        let out = plugged.finish().unwrap();
        assert!(out.report.denied_by_default.is_empty());
        let by = "the provider given as bytes".to_string();
        assert_eq!(out.report.plugged, [(logging.to_string(), by)]);

        virt.allow_import("ocre:gpio/pins");
        let refused = virt.finish().unwrap_err().to_string();
        assert!(refused.contains("names no WASI interface"), "{refused}");
    }

    #[test]
    fn a_component_with_nothing_to_virtualize_is_reported_unchanged() {
        let empty = wasm_encoder::Component::new().finish();
        let mut virt = WasiVirt::new();
        virt.deny_all().compose(empty.clone());
        let out = virt.finish().unwrap();
        assert_eq!(out.bytes, empty);
        assert_eq!(out.report.output, Output::Unchanged);
        assert_eq!(out.report.output.to_string(), "component, unchanged");
        let summary = out.report.to_string();
        assert!(summary.starts_with("virtualized: nothing"), "{summary}");
        assert!(!summary.contains("debug:"), "{summary}");
    }
}
