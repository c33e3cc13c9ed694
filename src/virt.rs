//! The `WasiVirt` builder and `finish()`, the whole pipeline.

use crate::adapter::mount_tree::Segment;
use crate::adapter::specialize::{specialize, Imported, Target};
use crate::adapter::splice;
use crate::background::Pending;
use crate::compose::plug::{self, Plugged, Provider, Ungoverned};
use crate::compose::serve::Serving;
use crate::compose::serving::{served_policy, serving};
use crate::compose::{compose, host_side_names, wasip1, Served};
use crate::inspect::permission_check::{self, check_permissions};
use crate::inspect::{
    check_component_header, component_imports, input_kind_but_bodies, validate_bodies, InputKind,
};
use crate::policy::{
    Access, ClocksPolicy, ConfigPolicy, DenyReachable, EnvPolicy, FsPolicy, Policy, RandomPolicy,
    ServeHttp, StdioPolicy,
};
use crate::report::{in_world_order, Output, PermissionCheck, Report};
use crate::subsystem::interfaces::WASI_0_3;
use crate::subsystem::select::{check_content_reaches, select, Selection};
use crate::wit;
use anyhow::{bail, Context, Result};
use semver::Version;
use std::io::Write;
use std::path::PathBuf;
use wit_parser::Resolve;

/// The context of every error in the component given.
const LOADED: &str = "failed to load the component to virtualize";

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
    /// Specialize the adapter's code even where fixed answers would do
    /// ([`fixed_answers`](Self::fixed_answers)).
    adapter_code: bool,
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

    /// Whether a composed output may leave the adapter's code out when,
    /// under the policy, every function it would export answers the same
    /// way at every call (a trap, an interface's own error, the policy's
    /// variables): it then carries those answers alone, a few instructions
    /// each (on by default; the report's `fixed_answers` says when it did).
    /// Off, the adapter's code is specialized as under any other policy;
    /// the output behaves the same, only larger.
    pub fn fixed_answers(&mut self, on: bool) -> &mut Self {
        self.adapter_code = !on;
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

    /// What to do when the component's code can reach functions the policy
    /// answers with traps: list them in the report
    /// ([`DenyReachable::Warn`], the default), or refuse
    /// ([`DenyReachable::Error`]).
    pub fn deny_reachable(&mut self, what: DenyReachable) -> &mut Self {
        self.policy.deny_reachable = Some(what);
        self
    }

    /// Specializes the adapter, and composes it if a component was given.
    ///
    /// The pipeline: read the component, choose the WASI version, choose the
    /// interfaces the adapter exports, check that every setting can reach the
    /// component, specialize the adapter, compose, check the declared
    /// permissions, and write the embedded files into the output.
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
        // The WIT is unpacked on a second core while the component is read.
        wit::unpack_ahead();
        self.policy.validate()?;
        let declared = permission_check::declared(&self.policy)?;
        let given = self.read_given()?;
        let (input, mut prepared) = self.prepare_while_validating(given.as_deref())?;
        if let Some((input, plugged, ungoverned, reachable)) = input {
            prepared.report.reachable_traps = crate::report::traps::reachable_traps(
                &self.policy,
                &reachable,
                &plugged,
                &ungoverned.by_default,
            );
            prepared.report.input = Some(input);
            prepared.report.plugged = plugged;
            prepared.report.allowed_imports = ungoverned.allowed;
            prepared.report.denied_by_default = ungoverned.by_default;
        }
        self.check_reachable_traps(&prepared.report)?;
        if let Some(permissions) = &self.policy.permissions {
            prepared.report.permissions = Some(PermissionCheck {
                declared: permissions.declared.clone(),
                checked: !permissions.skip_validation,
            });
            if !permissions.skip_validation {
                check_permissions(&declared, &prepared.bytes)?;
            }
        }
        Ok(prepared)
    }

    /// Under `--deny-reachable=error`, an error naming every function the
    /// code can reach that the policy answers with a trap.
    fn check_reachable_traps(&self, report: &Report) -> Result<()> {
        if self.policy.deny_reachable != Some(DenyReachable::Error)
            || report.reachable_traps.is_empty()
        {
            return Ok(());
        }
        let mut message = String::from(
            "the component's code can call functions that the policy answers with traps \
             (--deny-reachable=error); allow or serve them:",
        );
        for traps in &report.reachable_traps {
            message.push_str(&format!("\n  {traps}"));
        }
        bail!(message)
    }

    /// The output prepared from the component's structure (validated on
    /// reading), while its function bodies are validated beside it
    /// (`src/background.rs`); an invalid body is the error reported,
    /// whatever else failed meanwhile. Returns what the input was and what stands in front of
    /// its imports, with the output.
    fn prepare_while_validating(
        &self,
        given: Option<&[u8]>,
    ) -> Result<(Option<InFront>, Prepared)> {
        let bodies = given
            .filter(|bytes| check_component_header(bytes).is_ok())
            .map(|bytes| beside(bytes, validate_bodies));
        let prepared = self.read_component(given).and_then(|mut component| {
            let found = component.as_mut().map(|c| {
                let reachable = std::mem::replace(&mut c.reachable, Pending::done(Ok(Vec::new())));
                (c.input, c.plugged.clone(), c.ungoverned.clone(), reachable)
            });
            let output = self.prepare_output(component);
            // Its error first: it was met first.
            let input = found
                .map(|(i, p, u, r)| r.join().map(|r| (i, p, u, r)))
                .transpose()?;
            Ok((input, output?))
        });
        if let Some(checked) = bodies {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| checked.join()))
                .unwrap_or_else(|_| Err(anyhow::anyhow!("the validator panicked")))
                .context(LOADED)?;
        }
        prepared
    }

    /// The output for `component`, under the policy as `--serve-http`
    /// completes it for a command served per request.
    fn prepare_output(&self, component: Option<Component>) -> Result<Prepared> {
        if self.policy.serve_http.is_none() {
            return self.build_output(component);
        }
        // The component was read already (`prepare`): only the policy and
        // the version are needed again, not a copy of its bytes.
        let served = WasiVirt {
            policy: served_policy(&self.policy, component.is_some())?,
            component: None,
            plugs: Vec::new(),
            wasi_version: self.wasi_version.clone(),
            adapter_code: self.adapter_code,
        };
        served.build_output(component)
    }

    /// Chooses the version and the exports, specializes the adapter, and
    /// composes it in front of `component`.
    fn build_output(&self, component: Option<Component>) -> Result<Prepared> {
        let imports = component.as_ref().map_or(&[][..], |c| &c.imports);
        let wasi_0_3 = self.wasi_version.as_ref() == Some(&WASI_0_3);
        if wasi_0_3 && component.is_some() {
            bail!(
                "`--wasi-version {WASI_0_3}` builds a standalone adapter; with a component, \
                 wasi-virt serves its WASI 0.2 and 0.3 imports both, at the versions it imports \
                 them (leave --wasi-version out)"
            );
        }
        // A standalone WASI 0.3 adapter runs its 0.2 code on the newest 0.2
        // host functions.
        let asked = self.wasi_version.as_ref().filter(|_| !wasi_0_3);
        let version = wit::choose_version(asked, imports)?;
        let mut resolve = wit::load(&version)?;
        let used = component.as_ref().map(|c| &c.imported.used);
        let selection = select(&self.policy, used, &resolve, &version)?;
        let exports = &selection.exports;
        let serving = match &component {
            Some(component) => {
                check_content_reaches(&self.policy, exports)?;
                serving(&self.policy, &component.bytes, exports)?
            }
            None => None,
        };
        if exports.is_empty() && serving.is_none() {
            return self.unchanged(component, version, &selection, &resolve);
        }
        let imported = component.as_ref().map(|c| &c.imported);
        let target = Target {
            component: imported,
            serving,
            wasi_0_3,
            fixed_answers: !self.adapter_code,
        };
        let (adapter, files, fixed) =
            specialize(&self.policy, &mut resolve, &version, exports, target)?;
        let (bytes, output) = match component {
            Some(component) => {
                let served = serving
                    .map(|serving| Served::build(&resolve, serving, &version))
                    .transpose()?;
                let compacted = component.compacted.join()?;
                let composed = compose(&adapter, &compacted, served.as_ref())?;
                (composed, Output::Composed)
            }
            None => (host_side_names(&adapter, &version)?, Output::Standalone),
        };
        let runs_per_request = serving == Some(Serving::Run);
        let shown = if wasi_0_3 { WASI_0_3 } else { version };
        let mut prepared =
            self.result(bytes, files, output, shown, &selection, runs_per_request)?;
        prepared.report.fixed_answers = fixed;
        if selection.leaves_to_host() {
            prepared.report.imports = in_world_order(prepared.report.imports, &resolve);
        }
        prepared.report.serving = serving.map(|s| match s {
            Serving::Handler => crate::report::Serving::Handler,
            Serving::Run => crate::report::Serving::Command {
                stderr_too: self.policy.stderr_into_response(),
            },
        });
        Ok(prepared)
    }

    /// The bytes of the component to virtualize, if one was given.
    fn read_given(&self) -> Result<Option<Vec<u8>>> {
        self.component
            .as_ref()
            .map(|source| source.read("component"))
            .transpose()
    }

    /// The component to virtualize, from the bytes given: all but its core
    /// function bodies validated (see `prepare`); a wasip1 module made a
    /// component, and what stands in front of its imports composed in.
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
            bytes = wasip1::componentize(&bytes).context(LOADED)?;
        }
        let given = bytes.clone();
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
        let (bytes, plugged, ungoverned) = plug::in_front(bytes, &self.policy.imports, plugs)?;
        // Composition needs it before the report does.
        let compacted = beside(&bytes, crate::compose::compact);
        let reachable = beside(&given, crate::report::traps::reachable_functions);
        Ok(Some(Component {
            compacted,
            imports: component_imports(&bytes)?,
            imported: Imported::read(&bytes)?,
            bytes,
            input,
            plugged,
            ungoverned,
            reachable,
        }))
    }

    /// The output when nothing is virtualized: the component as it was, or
    /// with only providers or traps (`--plug`, denied imports) in front.
    /// `selection` says what the policy left to the host.
    fn unchanged(
        &self,
        component: Option<Component>,
        version: Version,
        selection: &Selection,
        resolve: &Resolve,
    ) -> Result<Prepared> {
        let prepared = match component {
            Some(component) => self.result(
                component.bytes,
                Vec::new(),
                match component.plugged.is_empty() {
                    true => Output::Unchanged,
                    false => Output::Composed,
                },
                version,
                selection,
                false,
            ),
            None => bail!("the policy virtualizes nothing, so there is no adapter to write"),
        };
        let mut prepared = prepared?;
        if selection.leaves_to_host() {
            prepared.report.imports = in_world_order(prepared.report.imports, resolve);
        }
        Ok(prepared)
    }

    /// The output `bytes` prepared, with its report.
    fn result(
        &self,
        bytes: Vec<u8>,
        files: Vec<Segment>,
        output: Output,
        wasi_version: Version,
        selection: &Selection,
        runs_per_request: bool,
    ) -> Result<Prepared> {
        let imports = component_imports(&bytes)?;
        let mut report = Report::new(
            &self.policy,
            output,
            wasi_version,
            selection,
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
}

/// An output before it is written: its file segments are empty, and `files`
/// fills them (`src/adapter/splice.rs`).
struct Prepared {
    bytes: Vec<u8>,
    files: Vec<Segment>,
    report: Report,
}

/// Every imported function a component's code can reach: only the report
/// needs it (a sixth of a CLI run's work).
type Reachable = Pending<Result<Vec<(String, String)>>>;

/// `work` on a copy of `component`, beside the main path
/// (`src/background.rs`).
fn beside<T: Send + 'static>(component: &[u8], work: fn(&[u8]) -> Result<T>) -> Pending<Result<T>> {
    let owned = component.to_vec();
    Pending::start(move || work(&owned))
}

/// What the input was, and what stands in front of its imports: the
/// report's, from the component read.
type InFront = (InputKind, Plugged, Ungoverned, Vec<(String, String)>);

/// A component to virtualize, and what it imports.
struct Component {
    /// What was given: a component, or a wasip1 module made one.
    input: InputKind,
    /// Imports satisfied by providers (`--plug`) or traps (`--deny-import`,
    /// by [`DENIED`](crate::compose::plug::DENIED)), and by which.
    plugged: Plugged,
    /// What became of the imports that no subsystem governs.
    ungoverned: Ungoverned,
    /// Every imported function its code can reach (import, function), as
    /// given, before anything was put in front of it.
    reachable: Reachable,
    bytes: Vec<u8>,
    /// The bytes as composition writes them ([`crate::compose::compact`]).
    compacted: Pending<Result<Vec<u8>>>,
    /// Its top-level imports.
    imports: Vec<String>,
    /// The interfaces among them, and what it imports of each.
    imported: Imported,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::plug::DENIED;
    use crate::policy::StdioMode;

    /// A component importing WASI 0.3 that wasi-virt does not virtualize
    /// yet (here its timezone and an imported HTTP handler beside the 0.2
    /// environment that std imports).
    fn mixed_0_3_component() -> Vec<u8> {
        wat::parse_str(
            r#"(component
                (import "wasi:clocks/timezone@0.3.0"
                    (instance (export "to-debug-string" (func async (result string)))))
                (import "wasi:http/handler@0.3.0"
                    (instance (export "f" (func async (result u32)))))
                (import "wasi:cli/environment@0.2.6"
                    (instance (export "get-arguments" (func (result (list string)))))))"#,
        )
        .unwrap()
    }

    /// WASI 0.3 is never decided by default: not passed to the host, not
    /// trapped without a word, not composed against the 0.2 adapter.
    #[test]
    fn wasi_0_3_imports_are_refused_unless_named() {
        let mut virt = WasiVirt::new();
        virt.compose(mixed_0_3_component());
        let err = format!("{:#}", virt.finish().unwrap_err());
        let http = ["wasi:http/handler@0.3.0"];
        for name in http.iter().chain(&["wasi:clocks/timezone@0.3.0"]) {
            assert!(err.contains(&format!("`{name}`")), "{err}");
        }
        assert!(!err.contains("environment@0.2.6"), "{err}");
        assert!(
            err.contains("patterns: 'wasi:clocks/*@0.3.0', 'wasi:http/*@0.3.0'"),
            "{err}"
        );

        // Named, one package through to the host, the rest trapped; the
        // 0.2 environment is still the adapter's, with a baked argument.
        let mut virt = WasiVirt::new();
        virt.compose(mixed_0_3_component())
            .deny_all()
            .allow_import("wasi:http/*@0.3.0")
            .deny_import("wasi:clocks/timezone@0.3.0");
        virt.env().virtual_args(&["app"]);
        let out = virt.finish().unwrap();
        assert_eq!(out.report.imports, http);
        assert_eq!(out.report.allowed_imports, http);
        assert_eq!(
            out.report.plugged,
            [("wasi:clocks/timezone@0.3.0".to_string(), DENIED.to_string())]
        );
        crate::inspect::validate_component(&out.bytes).unwrap();
    }

    /// A component whose stdio is WASI 0.3's.
    fn stdio_0_3_component() -> Vec<u8> {
        wat::parse_str(
            r#"(component
                (import "wasi:cli/types@0.3.0" (instance
                    (type $e (enum "io" "illegal-byte-sequence" "pipe"))
                    (export "error-code" (type (eq $e)))))
                (alias export 0 "error-code" (type $e))
                (type $r (result (error $e)))
                (type $f (future $r))
                (type $s (stream u8))
                (import "wasi:cli/stdin@0.3.0" (instance
                    (export "read-via-stream" (func (result (tuple $s $f))))))
                (import "wasi:cli/stdout@0.3.0" (instance
                    (export "write-via-stream" (func (param "data" $s) (result $f))))))"#,
        )
        .unwrap()
    }

    /// WASI 0.3's stdio follows the stdio policy: denied or ignored, the
    /// adapter answers it and the output imports none of it; allowed, it
    /// is the host's own; a baked stdin cannot reach it.
    #[test]
    fn wasi_0_3_stdio_follows_the_stdio_policy() {
        let virtualize = |stdio: StdioPolicy| {
            let mut virt = WasiVirt::new();
            virt.compose(stdio_0_3_component()).deny_all();
            virt.policy.stdio = Some(stdio);
            virt.finish()
        };
        for mode in [StdioMode::Deny, StdioMode::Ignore] {
            let out = virtualize(StdioPolicy::all(mode)).unwrap();
            assert!(out.report.imports.is_empty(), "{:?}", out.report.imports);
            crate::inspect::validate_component(&out.bytes).unwrap();
        }
        let out = virtualize(StdioPolicy::all(StdioMode::Allow)).unwrap();
        assert_eq!(
            out.report.imports,
            [
                "wasi:cli/types@0.3.0",
                "wasi:cli/stdin@0.3.0",
                "wasi:cli/stdout@0.3.0"
            ]
        );
        // stdin denied, the others allowed: all through the adapter, which
        // passes stdout on to the host's 0.3 stdout (and imports none of
        // stdin).
        let mut mixed = StdioPolicy::all(StdioMode::Allow);
        mixed.stdin = StdioMode::Deny.into();
        let out = virtualize(mixed).unwrap();
        let imports = &out.report.imports;
        assert!(
            imports.contains(&"wasi:cli/stdout@0.3.0".to_string()),
            "{imports:?}"
        );
        assert!(
            !imports.iter().any(|i| i.starts_with("wasi:cli/stdin")),
            "{imports:?}"
        );
        crate::inspect::validate_component(&out.bytes).unwrap();

        let mut baked = StdioPolicy::all(StdioMode::Deny);
        baked.stdin_content("input");
        let err = format!("{:#}", virtualize(baked).unwrap_err());
        assert!(
            err.contains("`wasi:cli/stdin@0.3.0`, which cannot read a baked stdin"),
            "{err}"
        );
    }

    /// A pattern at 0.3 names no governed interface, unless the adapter
    /// serves it at 0.3 too; at 0.2 it still does.
    #[test]
    fn import_patterns_at_an_unvirtualized_version() {
        use crate::compose::plug::{check_pattern, matches};
        check_pattern("wasi:http/handler@0.3.0", "--allow-import").unwrap();
        let served = check_pattern("wasi:http/types@0.3.0", "--allow-import");
        assert!(served.unwrap_err().to_string().contains("--allow-http"));
        let served = check_pattern("wasi:cli/stdout@0.3.0", "--allow-import");
        assert!(served.unwrap_err().to_string().contains("--allow-stdio"));
        let served = check_pattern("wasi:cli/environment@0.3.0", "--allow-import");
        assert!(served.unwrap_err().to_string().contains("--allow-env"));
        check_pattern("wasi:sockets/*@0.3.0", "--deny-import").unwrap();
        let governed = check_pattern("wasi:cli/environment@0.2.6", "--allow-import");
        assert!(governed.unwrap_err().to_string().contains("--allow-env"));
        assert!(check_pattern("wasi:cli/*@x", "--allow-import").is_err());
        assert!(matches("wasi:cli/*@0.3.0", "wasi:cli/stdout@0.3.0"));
        assert!(!matches("wasi:cli/*@0.3.0", "wasi:cli/stdout@0.2.6"));
        assert!(matches("wasi:cli/*", "wasi:cli/stdout@0.3.0"));
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

        let provider =
            crate::compose::plug::trap_component(&component, &[logging.to_string()]).unwrap();
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
