//! `wasi:cli/environment`: variables from overrides and a filtered host view;
//! arguments and the initial cwd from the host or the configuration.

use crate::exports::wasi::cli::environment::Guest;
use crate::state::env;
use crate::wasi::cli::environment as host;
use crate::Adapter;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use wasi_virt_layout::{Call, HostFilterMode, Source};

impl Guest for Adapter {
    fn get_environment() -> Vec<(String, String)> {
        trace!(Call::GetEnvironment);
        let env = env();
        let mut out = Vec::new();
        if env.host != HostFilterMode::None {
            for (name, value) in host::get_environment() {
                if env.host.shows(env.host_names.contains(&name))
                    && env.overrides.get(&name).is_none()
                {
                    out.push((name, value));
                }
            }
        }
        out.extend(
            env.overrides
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        // A command served per request also sees its request's CGI
        // variables, after the policy's, which win over them.
        if let Some(run) = crate::serve::run() {
            for (name, value) in &run.vars {
                if !out.iter().any(|(n, _)| n == name) {
                    out.push((name.clone(), value.clone()));
                }
            }
        }
        out
    }

    fn get_arguments() -> Vec<String> {
        trace!(Call::GetArguments);
        if let Some(run) = crate::serve::run() {
            return run.args.clone();
        }
        match env().args {
            Source::Host => host::get_arguments(),
            Source::Virtual(args) => args.iter().map(String::from).collect(),
        }
    }

    fn initial_cwd() -> Option<String> {
        trace!(Call::InitialCwd);
        match env().cwd {
            Source::Host => host::initial_cwd(),
            Source::Virtual(cwd) => cwd.map(String::from),
        }
    }
}
