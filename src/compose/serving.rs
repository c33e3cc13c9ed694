//! Which outputs serve HTTP, and how: a component that exports
//! `wasi:http/incoming-handler` behind a front, or a command run once per
//! request (`--serve-http`), whose policy the request then completes.

use super::serve::Serving;
use crate::inspect::component_exports;
use crate::names::{InterfaceName, INCOMING_HANDLER, RUN};
use crate::policy::{Access, EnvPolicy, Policy, StdinPolicy, StdioPolicy};
use crate::subsystem::interfaces::{HTTP_TYPES, WASI_0_3};
use crate::subsystem::registry::governing;
use anyhow::{bail, Result};
use std::collections::BTreeSet;

/// The policy of a command served per request (`--serve-http`): its
/// environment, stdio and exit always come from the adapter, which hands
/// it its request through them. `has_component` is whether there is a
/// command to serve: a standalone adapter has none.
pub fn served_policy(policy: &Policy, has_component: bool) -> Result<Policy> {
    if !has_component {
        bail!(
            "--serve-http turns a command into a served component, and a standalone \
             adapter has none; give the component to serve"
        );
    }
    let mut policy = policy.clone();
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
    Ok(policy)
}

/// How the output serves HTTP, if it does: a command under
/// `--serve-http`; a component exporting `wasi:http/incoming-handler`
/// when the adapter stands in for its `wasi:http/types` (`exports`, the
/// adapter's; otherwise it keeps the host's, and needs no front).
pub fn serving(
    policy: &Policy,
    component: &[u8],
    exports: &BTreeSet<&'static str>,
) -> Result<Option<Serving>> {
    let names = component_exports(component)?;
    let exported = |wanted: &str| {
        names
            .iter()
            .any(|e| InterfaceName::parse(e).is_some_and(|n| n.unversioned == wanted))
    };
    let handler = exported(INCOMING_HANDLER);
    check_handler_at_0_3(policy, &names)?;
    if policy.serve_http.is_some() {
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

/// A component serving HTTP at WASI 0.3 (exporting `wasi:http/handler`)
/// takes its request and makes its response with the host's own 0.3 HTTP
/// types: where the adapter serves them instead (HTTP denied), the host
/// could not call it. Serving at 0.3 behind a front is not virtualized yet.
fn check_handler_at_0_3(policy: &Policy, exports: &[String]) -> Result<()> {
    let handler = exports.iter().find(|e| {
        InterfaceName::parse(e).is_some_and(|n| {
            n.unversioned == "wasi:http/handler"
                && n.version
                    .is_some_and(|v| v.major == 0 && v.minor == WASI_0_3.minor)
        })
    });
    let Some(handler) = handler else {
        return Ok(());
    };
    let types = format!("{HTTP_TYPES}@{WASI_0_3}");
    let slot = governing(&types).and_then(|row| row.slot);
    if slot.is_none_or(|s| !s.configured(policy) || s.passes_through(policy)) {
        return Ok(());
    }
    bail!(
        "the component exports `{handler}`, an HTTP service at WASI 0.3, which wasi-virt \
         does not serve yet: its requests and responses are the host's 0.3 HTTP types, \
         which this policy does not leave to the host; allow HTTP whole (--allow-http) to \
         run it on the host's own 0.3 HTTP, or serve it through WASI 0.2's \
         `{INCOMING_HANDLER}`"
    )
}
