//! The `WasiVirt` builder and `finish()`, the whole pipeline.

use crate::compose::compose;
use crate::inspect::{component_exports, component_imports, validate_component};
use crate::names::InterfaceName;
use crate::policy::{
    Access, Args, ConfigPolicy, Cwd, EnvPolicy, FsPolicy, HostEnv, Policy, StdioMode, StdioPolicy,
};
use crate::rewrite::{rewrite, Plan};
use crate::subsystem::{self, subsystem_of, Subsystem};
use crate::wit::{self, rename_version, BUILT_WASI_VERSION};
use anyhow::{bail, Context, Result};
use semver::Version;
use std::collections::BTreeSet;
use std::path::PathBuf;
use wasi_virt_layout::{
    allow, ConfigSpec, EnvSpec, HostEnvMode, Source, StdioMode as LayoutStdio, StoreSpec,
    FLAG_DEBUG,
};
use wit_component::{ComponentEncoder, StringEncoding};

/// The prebuilt adapter core module, rebuilt by `build-adapter.sh`.
const ADAPTER: &[u8] = include_bytes!("../lib/virtual_adapter.wasm");

const ENVIRONMENT: &str = "wasi:cli/environment";

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
    wasi_version: Option<Version>,
}

#[derive(Clone, Debug)]
enum ComponentSource {
    Bytes(Vec<u8>),
    Path(PathBuf),
}

/// What `finish()` produced.
#[derive(Clone, Debug)]
pub struct VirtResult {
    /// The virtualized component, or the standalone adapter.
    pub bytes: Vec<u8>,
    /// What was done, and what the output still asks of its host.
    pub report: Report,
}

/// A summary of one virtualization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Whether a component was composed (otherwise the adapter is standalone).
    pub composed: bool,
    /// The WASI version the adapter's names use.
    pub wasi_version: Version,
    /// The interfaces the adapter provides (versioned names).
    pub virtualized: Vec<String>,
    /// Every top-level import of the output.
    pub imports: Vec<String>,
}

impl WasiVirt {
    /// An empty policy: nothing virtualized, nothing denied.
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
        self.policy.clocks = Some(Access::from(allow));
        self
    }

    /// Virtualizes randomness: the host's if `allow`, else calls trap.
    pub fn random(&mut self, allow: bool) -> &mut Self {
        self.policy.random = Some(Access::from(allow));
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

    /// The WASI 0.2.x version the adapter's names use. Defaults to the
    /// version the composed component imports, or 0.2.12 for a standalone
    /// adapter. A standalone adapter must match the component it will be
    /// composed with by `wasm-tools compose`, which compares names exactly.
    pub fn wasi_version(&mut self, version: Version) -> &mut Self {
        self.wasi_version = Some(version);
        self
    }

    /// Specializes the adapter, and composes it if a component was given.
    pub fn finish(&self) -> Result<VirtResult> {
        let component = match &self.component {
            None => None,
            Some(ComponentSource::Bytes(b)) => Some(b.clone()),
            Some(ComponentSource::Path(p)) => Some(
                std::fs::read(p)
                    .with_context(|| format!("failed to read component `{}`", p.display()))?,
            ),
        };
        let user_imports = match &component {
            Some(bytes) => {
                validate_component(bytes).context("failed to load the component to virtualize")?;
                Some(component_imports(bytes)?)
            }
            None => None,
        };
        let version = self.choose_version(user_imports.as_deref())?;
        let mut resolve = wit::load(&version)?;
        // The interfaces the component imports, without versions.
        let used: Option<BTreeSet<String>> = user_imports.as_ref().map(|imports| {
            imports
                .iter()
                .filter_map(|i| InterfaceName::parse(i))
                .map(|n| n.unversioned)
                .collect()
        });
        let exports = subsystem::select(&self.policy, used.as_ref(), &resolve, &version)?;

        // A component serving HTTP gets requests typed by the host's
        // `wasi:http/types`; the adapter cannot stand in for those yet.
        if let Some(bytes) = &component {
            if exports.contains("wasi:http/types") {
                let serves = component_exports(bytes)?.iter().any(|e| {
                    InterfaceName::parse(e)
                        .is_some_and(|n| n.unversioned == "wasi:http/incoming-handler")
                });
                if serves {
                    bail!(
                        "the component exports `wasi:http/incoming-handler`, and wasi-virt cannot \
                         yet virtualize `wasi:http/types` for a component that serves HTTP; leave \
                         http, stdio, clocks and sockets to the host (do not configure them)"
                    );
                }
            }
        }

        // Settings with content must reach the component.
        if let Some(env) = &self.policy.env {
            let has_content = !env.overrides.is_empty()
                || matches!(env.args, Some(Args::Virtual(_)))
                || matches!(env.cwd, Some(Cwd::Virtual(_)));
            if user_imports.is_some() && has_content && !exports.contains(ENVIRONMENT) {
                bail!(
                    "the policy sets environment variables, arguments or a cwd, but the \
                     component does not import `{ENVIRONMENT}`; remove those settings"
                );
            }
        }
        if let Some(fs) = &self.policy.fs {
            if user_imports.is_some()
                && !fs.preopens.is_empty()
                && !exports.contains("wasi:filesystem/preopens")
            {
                bail!(
                    "the policy embeds files, but the component does not import \
                     `wasi:filesystem/preopens`; remove the mounts"
                );
            }
        }
        if let Some(store) = &self.policy.config {
            if user_imports.is_some()
                && !store.properties.is_empty()
                && !exports.contains("wasi:config/store")
            {
                bail!(
                    "the policy sets config properties, but the component does not import \
                     `wasi:config/store`; remove them"
                );
            }
        }
        if exports.is_empty() {
            match component {
                Some(bytes) => {
                    let imports = component_imports(&bytes)?;
                    return Ok(VirtResult {
                        bytes,
                        report: Report {
                            composed: false,
                            wasi_version: version,
                            virtualized: Vec::new(),
                            imports,
                        },
                    });
                }
                None => bail!("the policy virtualizes nothing, so there is no adapter to write"),
            }
        }

        let tree = match &self.policy.fs {
            Some(fs) if exports.contains("wasi:filesystem/preopens") => crate::fs::build(fs)?,
            _ => crate::fs::Tree::default(),
        };
        let adapter = self.specialize(&mut resolve, &version, &exports, used.as_ref(), tree)?;
        let virtualized: Vec<String> = exports
            .iter()
            .map(|i| subsystem::versioned(i, &version))
            .collect();
        let (bytes, composed) = match component {
            Some(component) => {
                let bytes = compose(&adapter, &component)?;
                (bytes, true)
            }
            None => (adapter, false),
        };
        let imports = component_imports(&bytes)?;
        Ok(VirtResult {
            bytes,
            report: Report {
                composed,
                wasi_version: version,
                virtualized,
                imports,
            },
        })
    }

    /// The adapter's WASI version: as asked, else the newest 0.2.x the
    /// component imports, else the version the WIT was written at.
    fn choose_version(&self, user_imports: Option<&[String]>) -> Result<Version> {
        let detected = user_imports
            .into_iter()
            .flatten()
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

    /// Writes the policy into the adapter and encodes it as a component that
    /// exports `exports` (unversioned names), for a component that imports
    /// `used` (unversioned; `None` for a standalone adapter).
    fn specialize(
        &self,
        resolve: &mut wit_parser::Resolve,
        version: &Version,
        exports: &BTreeSet<&'static str>,
        used: Option<&BTreeSet<String>>,
        tree: crate::fs::Tree,
    ) -> Result<Vec<u8>> {
        // An interface exported only because another uses its types (the
        // clocks, for `duration` and `datetime`) is never called: its host
        // functions are cut off like denied ones.
        let called = |iface: &str| used.is_none_or(|u| u.contains(iface));
        let policy = &self.policy;
        let env = policy.env.clone().unwrap_or_default();
        let args = env.args();
        let cwd = env.cwd();
        let (host, host_names) = host_filter(&env.host);
        let store = policy.config.clone().unwrap_or_default();
        let (store_host, store_names) = host_filter(&store.host);
        let stdio = policy.stdio.unwrap_or_default();
        let modes = [stdio.stdin, stdio.stdout, stdio.stderr];
        let allowed = |access: Option<Access>| access.unwrap_or(Access::Allow) == Access::Allow;
        let mut allow_bits = 0;
        for (access, bit) in [
            (policy.clocks, allow::CLOCKS),
            (policy.random, allow::RANDOM),
            (policy.exit, allow::EXIT),
            (policy.sockets, allow::SOCKETS),
            (policy.http, allow::HTTP),
        ] {
            if allowed(access) {
                allow_bits |= bit;
            }
        }
        let host_preopens = policy.fs.as_ref().is_none_or(|fs| fs.host_preopens);
        if host_preopens {
            allow_bits |= allow::HOST_PREOPENS;
        }
        // Remapped host directories need the host's filesystem too.
        let host_fs = host_preopens || !tree.remaps.is_empty() || tree.has_runtime_files();
        let spec = ConfigSpec {
            fs: tree.spec(),
            flags: if policy.debug { FLAG_DEBUG } else { 0 },
            env: EnvSpec {
                host,
                host_names: host_names.iter().map(String::as_str).collect(),
                overrides: env
                    .overrides
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect(),
                args: match &args {
                    Args::Host => Source::Host,
                    Args::Virtual(list) => {
                        Source::Virtual(list.iter().map(String::as_str).collect())
                    }
                },
                cwd: match &cwd {
                    Cwd::Host => Source::Host,
                    Cwd::None => Source::Virtual(None),
                    Cwd::Virtual(path) => Source::Virtual(Some(path.as_str())),
                },
            },
            stdio: modes.map(|m| match m {
                StdioMode::Allow => LayoutStdio::Allow,
                StdioMode::Deny => LayoutStdio::Deny,
                StdioMode::Ignore => LayoutStdio::Ignore,
            }),
            allow: allow_bits,
            store: StoreSpec {
                host: store_host,
                host_names: store_names.iter().map(String::as_str).collect(),
                properties: store
                    .properties
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect(),
            },
        };
        let config = wasi_virt_layout::encode(&spec);

        // Host functions the policy never calls are cut off, not just unused:
        // they become local traps, and their imports disappear.
        let stream_passes =
            |i: usize, iface: &str| exports.contains(iface) && modes[i] == StdioMode::Allow;
        let host_streams = stream_passes(0, "wasi:cli/stdin")
            || stream_passes(1, "wasi:cli/stdout")
            || stream_passes(2, "wasi:cli/stderr")
            || policy.debug;
        let host_pollables = host_streams
            || (exports.contains("wasi:clocks/monotonic-clock") && allowed(policy.clocks));
        let deny_import = |module: &str, name: &str| {
            let Some(iface) = InterfaceName::parse(module) else {
                return false;
            };
            let allow = match (iface.unversioned.as_str(), name) {
                (ENVIRONMENT, "get-environment") => host != HostEnvMode::None,
                (ENVIRONMENT, "get-arguments") => args == Args::Host,
                (ENVIRONMENT, "initial-cwd") => cwd == Cwd::Host,
                ("wasi:cli/stdin" | "wasi:cli/terminal-stdin" | "wasi:cli/terminal-input", _) => {
                    modes[0] == StdioMode::Allow
                }
                ("wasi:cli/stdout" | "wasi:cli/terminal-stdout", _) => modes[1] == StdioMode::Allow,
                ("wasi:cli/stderr", _) => modes[2] == StdioMode::Allow || policy.debug,
                ("wasi:cli/terminal-stderr", _) => modes[2] == StdioMode::Allow,
                ("wasi:cli/terminal-output", _) => {
                    modes[1] == StdioMode::Allow || modes[2] == StdioMode::Allow
                }
                ("wasi:io/streams" | "wasi:io/error", _) => host_streams,
                ("wasi:io/poll", _) => host_pollables,
                ("wasi:config/store", _) => store_host != HostEnvMode::None,
                (other, _) => match subsystem_of(other) {
                    Some(Subsystem::Clocks) => allowed(policy.clocks) && called(other),
                    Some(Subsystem::Random) => allowed(policy.random),
                    Some(Subsystem::Exit) => allowed(policy.exit),
                    Some(Subsystem::Sockets) => allowed(policy.sockets),
                    Some(Subsystem::Http) => allowed(policy.http),
                    Some(Subsystem::Fs) => host_fs,
                    _ => true,
                },
            };
            !allow
        };
        // Keep the exports of exported interfaces that exist at `version`.
        let keep_export = |name: &str| {
            let name = name.strip_prefix("cabi_post_").unwrap_or(name);
            let Some((iface, func)) = name.split_once('#') else {
                return false;
            };
            InterfaceName::parse(iface).is_some_and(|n| exports.contains(n.unversioned.as_str()))
                && (func.starts_with("[dtor]")
                    || wit::has_function(resolve, &rename_version(iface, version), func))
        };
        let rename = |name: &str| rename_version(name, version);
        let rewritten = rewrite(
            ADAPTER,
            &Plan {
                keep_export: &keep_export,
                deny_import: &deny_import,
                rename: &rename,
                config: &config,
                passive: &tree.segments,
                debug: policy.debug,
            },
        )
        .context("failed to specialize the virtual adapter")?;
        // Embedded files can be large: keep one copy alive at a time.
        drop(tree);

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
        let world = wit::add_world(resolve, &imports, &exports)?;
        let mut module = rewritten.module;
        wit_component::embed_component_metadata(
            &mut module,
            resolve,
            world,
            StringEncoding::UTF8,
            false,
        )?;
        let mut encoder = ComponentEncoder::default();
        encoder.validate(true).module(&module)?;
        drop(module);
        encoder
            .encode()
            .context("failed to encode the specialized adapter as a component")
    }
}

/// The layout's form of a host filter.
fn host_filter(host: &HostEnv) -> (HostEnvMode, &[String]) {
    match host {
        HostEnv::None => (HostEnvMode::None, &[]),
        HostEnv::All => (HostEnvMode::All, &[]),
        HostEnv::Allow(names) => (HostEnvMode::Allow, names),
        HostEnv::Deny(names) => (HostEnvMode::Deny, names),
    }
}

impl EnvPolicy {
    /// Sets variables the component sees whatever the host has.
    pub fn overrides(&mut self, vars: &[(&str, &str)]) -> &mut Self {
        for (k, v) in vars {
            self.overrides.insert(k.to_string(), v.to_string());
        }
        self
    }

    /// Only these host variables pass through.
    pub fn allow(&mut self, names: &[&str]) -> &mut Self {
        self.host = HostEnv::Allow(names.iter().map(|s| s.to_string()).collect());
        self
    }

    /// Every host variable but these passes through.
    pub fn deny(&mut self, names: &[&str]) -> &mut Self {
        self.host = HostEnv::Deny(names.iter().map(|s| s.to_string()).collect());
        self
    }

    /// Every host variable passes through.
    pub fn allow_all(&mut self) -> &mut Self {
        self.host = HostEnv::All;
        self
    }

    /// No host variable passes through; with the default `args` and `cwd`,
    /// the output no longer imports `wasi:cli/environment` at all.
    pub fn deny_all(&mut self) -> &mut Self {
        self.host = HostEnv::None;
        self
    }
}
