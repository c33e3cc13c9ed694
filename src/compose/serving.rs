//! Which outputs serve HTTP, and how: a component that exports
//! `wasi:http/incoming-handler` behind a front, or a command run once per
//! request (`--serve-http`), whose policy the request then completes.

use super::serve::Serving;
use crate::inspect::component_exports;
use crate::names::{InterfaceName, INCOMING_HANDLER, RUN};
use crate::policy::{Access, EnvPolicy, Policy, StdinPolicy, StdioPolicy};
use crate::subsystem::interfaces::HTTP_TYPES;
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
