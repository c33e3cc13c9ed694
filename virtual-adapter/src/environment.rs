//! `wasi:cli/environment`: variables from overrides and a filtered host view;
//! arguments and the initial cwd from the host or the configuration.

use crate::exports::wasi::cli::environment::Guest;
use crate::state::env;
use crate::wasi::cli::environment as host;
use crate::Adapter;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use wasi_virt_layout::{Call, HostFilterMode, Source, SERVE_ARGS, SERVE_VARS};

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
        if crate::state::serving() {
            // SAFETY: the hook is bound under `--serve-http`; for
            // `SERVE_VARS` it adds to the variables it is handed.
            unsafe { wasi_virt_layout::hooks::serve(SERVE_VARS, &mut out as *mut _ as *mut u8) };
        }
        out
    }

    fn get_arguments() -> Vec<String> {
        trace!(Call::GetArguments);
        if crate::state::serving() {
            return crate::serve::ask(SERVE_ARGS);
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
