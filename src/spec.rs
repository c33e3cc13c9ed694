//! The policy in the layout's terms: the configuration bytes the adapter
//! reads back (`crates/layout`).

use crate::fs::Tree;
use crate::policy::{Args, Cwd, EnvPolicy, HostFilter, Policy};
use crate::subsystem::REGISTRY;
use wasi_virt_layout::{ConfigSpec, EnvSpec, Source, StoreSpec, Stream, FLAG_DEBUG};

/// Encodes the configuration for `policy`, with the embedded `tree`.
pub fn encode(policy: &Policy, tree: &Tree) -> Vec<u8> {
    let env = policy.env.clone().unwrap_or_default();
    let args = env.args();
    let cwd = env.cwd();
    let store = policy.config.clone().unwrap_or_default();
    let stdio = policy.stdio.unwrap_or_default();
    let spec = ConfigSpec {
        flags: if policy.debug { FLAG_DEBUG } else { 0 },
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
    };
    wasi_virt_layout::encode(&spec)
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
