//! The policy in the layout's terms: the configuration bytes the adapter
//! reads back (`crates/layout`).

use crate::adapter::mount_tree::Tree;
use crate::policy::{
    Access, Args, ClocksPolicy, Cwd, EnvPolicy, HostFilter, Policy, RandomPolicy, StdinPolicy,
};
use crate::subsystem::registry::{Impossible, REGISTRY};
use anyhow::{bail, Context, Result};
use wasi_virt_layout::{
    ConfigSpec, EnvSpec, Source, StoreSpec, Stream, VirtualClock, CALL_NAMES, FLAG_DEBUG,
    FLAG_NET_HTTP, FLAG_NET_SOCKETS, FLAG_SERVE_RUN, FLAG_STDERR_TO_RESPONSE,
};

/// Encodes the configuration for `policy`, with the embedded `tree`.
pub fn encode(policy: &Policy, tree: &Tree) -> Result<Vec<u8>> {
    let env = policy.env.clone().unwrap_or_default();
    let args = env.args();
    let cwd = env.cwd();
    let store = policy.config.clone().unwrap_or_default();
    let stdio = policy.stdio.clone().unwrap_or_default();
    let stdin = baked_stdin(&stdio.stdin)?;
    let spec = ConfigSpec {
        clock: virtual_clock(policy.clocks.as_ref())?,
        random_seed: match policy.random {
            Some(RandomPolicy::Seed(seed)) => Some(seed),
            _ => None,
        },
        stdin: stdin.as_deref(),
        flags: flags(policy),
        env: env_spec(&env, &args, &cwd),
        stdio: Stream::ALL.map(|s| stdio.mode(s)),
        allow: REGISTRY
            .iter()
            .map(|row| row.allow_bits(policy))
            .fold(0, |a, b| a | b),
        store: StoreSpec {
            host: store.host.mode(),
            host_names: names(&store.host),
            properties: pairs(&store.properties),
        },
        fs: tree.spec(),
        // The trace names the calls from these; without `--debug` nothing
        // is traced, and no output carries them.
        call_names: if policy.debug { CALL_NAMES } else { &[] },
        net: network_rules(policy)?,
    };
    Ok(wasi_virt_layout::encode(&spec))
}

/// The flag bits: `--debug`, and which subsystems network rules govern.
fn flags(policy: &Policy) -> u32 {
    let network = policy.network.as_ref();
    [
        (policy.debug, FLAG_DEBUG),
        (
            network.is_some_and(|n| n.grants_sockets()),
            FLAG_NET_SOCKETS,
        ),
        (network.is_some_and(|n| n.grants_http()), FLAG_NET_HTTP),
        (policy.stderr_into_response(), FLAG_STDERR_TO_RESPONSE),
        (policy.serve_http.is_some(), FLAG_SERVE_RUN),
    ]
    .into_iter()
    .filter_map(|(on, bit)| on.then_some(bit))
    .fold(0, |a, b| a | b)
}

/// Whether the adapter decides calls by network rules (binds its `net`
/// hook).
pub fn has_rules(policy: &Policy) -> bool {
    flags(policy) & (FLAG_NET_SOCKETS | FLAG_NET_HTTP) != 0
}

/// The network rules the adapter enforces. A subsystem allowed as a whole
/// takes no rules: they could only narrow it, and they would be ignored.
fn network_rules(policy: &Policy) -> Result<Vec<wasi_virt_layout::net::RuleSpec<'_>>> {
    let Some(network) = &policy.network else {
        return Ok(Vec::new());
    };
    if policy.sockets == Some(Access::Allow) && network.grants_sockets() {
        bail!(
            "sockets are allowed as a whole (`--allow-sockets`), so the tcp, udp and lookup \
             rules would restrict nothing: drop one or the other"
        );
    }
    if policy.http == Some(Access::Allow) && network.grants_http() {
        bail!(
            "HTTP is allowed as a whole (`--allow-http`), so the http:// and https:// rules \
             would restrict nothing: drop one or the other"
        );
    }
    Ok(network.specs(true, true))
}

/// The start of a virtual clock.
fn virtual_clock(clocks: Option<&ClocksPolicy>) -> Result<Option<VirtualClock>> {
    let Some(ClocksPolicy::Virtual(start)) = clocks else {
        return Ok(None);
    };
    let (seconds, nanoseconds) =
        crate::policy::instant::parse(start).context("failed to set the virtual clock")?;
    Ok(Some(VirtualClock {
        seconds,
        nanoseconds,
    }))
}

/// The bytes of a baked stdin.
fn baked_stdin(stdin: &StdinPolicy) -> Result<Option<Vec<u8>>> {
    Ok(match stdin {
        StdinPolicy::Mode(_) => None,
        StdinPolicy::Content(text) => Some(text.as_bytes().to_vec()),
        StdinPolicy::File(path) => Some(
            std::fs::read(path)
                .with_context(|| format!("failed to read stdin file `{}`", path.display()))?,
        ),
    })
}

fn env_spec<'a>(env: &'a EnvPolicy, args: &'a Args, cwd: &'a Cwd) -> EnvSpec<'a> {
    EnvSpec {
        host: env.host.mode(),
        host_names: names(&env.host),
        overrides: pairs(&env.overrides),
        args: match args {
            Args::Host => Source::Host,
            Args::Virtual(list) => Source::Virtual(list.iter().map(String::as_str).collect()),
        },
        cwd: match cwd {
            Cwd::Host => Source::Host,
            Cwd::None => Source::Virtual(None),
            Cwd::Virtual(path) => Source::Virtual(Some(path.as_str())),
        },
    }
}

fn names(filter: &HostFilter) -> Vec<&str> {
    filter.names().iter().map(String::as_str).collect()
}

fn pairs(map: &indexmap::IndexMap<String, String>) -> Vec<(&str, &str)> {
    map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Whether the configuration `config` (as encoded) lets outgoing HTTP
/// reach the host, wholly or under network rules: the `http-send` hook is
/// bound then, and only then (`src/adapter/rewrite.rs`).
pub fn http_passes(config: &[u8]) -> Result<bool> {
    Ok(decoded(config)?.allows(wasi_virt_layout::allow::HTTP))
}

/// The encoded configuration read back, as the adapter reads it.
fn decoded(config: &[u8]) -> Result<wasi_virt_layout::Config<'_>> {
    wasi_virt_layout::Config::parse(config)
        .map_err(|e| anyhow::anyhow!("the encoded configuration does not decode: {e:?}"))
}

/// The resources (`(unversioned interface, resource)`) that no call can
/// create under the configuration `config` (as encoded), read off the same
/// bytes the adapter reads at run time: each row's [`Impossible`] whose
/// source the configuration leaves out, except what the front of a served
/// handler (`serves_handler`) creates.
pub fn impossible_resources(
    config: &[u8],
    serves_handler: bool,
) -> Result<Vec<(&'static str, &'static str)>> {
    let config = decoded(config)?;
    let front: fn(&Impossible) -> &'static [(&'static str, &'static str)] = match serves_handler {
        true => |_| &[],
        false => |i| i.made_by_front,
    };
    Ok(REGISTRY
        .iter()
        .filter_map(|row| row.impossible.as_ref())
        .filter(|i| !(i.sourced)(&config))
        .flat_map(|i| i.resources.iter().chain(front(i)))
        .copied()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::FsPolicy;

    #[test]
    fn resources_are_impossible_only_without_their_source() {
        let impossible = |policy: &Policy| {
            let tree = match &policy.fs {
                Some(fs) => crate::adapter::mount_tree::build(fs).unwrap(),
                None => Tree::default(),
            };
            impossible_resources(&encode(policy, &tree).unwrap(), false).unwrap()
        };
        let denied = Policy {
            sockets: Some(Access::Deny),
            http: Some(Access::Deny),
            fs: Some(FsPolicy::default().deny_host_preopens().clone()),
            ..Default::default()
        };
        let all = impossible(&denied);
        assert!(all.contains(&("wasi:filesystem/types", "descriptor")));
        assert!(all.contains(&("wasi:sockets/tcp", "tcp-socket")));
        assert!(all.contains(&("wasi:http/types", "incoming-response")));

        let mut with_tmpfs = denied.clone();
        with_tmpfs.fs.as_mut().unwrap().tmpfs("/tmp", None);
        let mut allowed = denied.clone();
        allowed.sockets = Some(Access::Allow);
        allowed.http = Some(Access::Allow);
        allowed.fs = Some(FsPolicy::default());
        for policy in [&with_tmpfs, &allowed] {
            assert!(!impossible(policy).contains(&("wasi:filesystem/types", "descriptor")));
        }
        assert!(!impossible(&allowed).contains(&("wasi:sockets/tcp", "tcp-socket")));
        assert!(!impossible(&allowed).contains(&("wasi:http/types", "incoming-response")));
    }
}
