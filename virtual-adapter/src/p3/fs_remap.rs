//! WASI 0.3's preopens when the policy only renames host directories
//! (`--preopen GUEST=HOSTPATH`, `wit/p3/deps/p3-fs.wit`): the component's
//! descriptors are the host's own (it imports `wasi:filesystem/types@0.3.0`
//! from the host), and its preopens are the adapter's. Each is the host
//! preopen the policy names, with its rights, shown under its guest name;
//! nothing else of the host's is. The host confines every descriptor to
//! its directory (`..` and symbolic links cannot leave it).
//!
//! At 0.3 the named directory must be a host preopen itself, not one inside
//! a preopen (as WASI 0.2 allows): `get-directories` is a synchronous
//! function, and opening a directory is an `async` one of the host's, which
//! a synchronous task may not wait for (wasmtime traps: "cannot block a
//! synchronous task before returning"). A directory the host does not
//! preopen traps at start-up, with the reason under `--debug`.

mod bindings {
    wit_bindgen::generate!({
        path: "../wit/p3",
        world: "wasi-virt:p3-fs/remap",
        generate_all,
        // Lifted and lowered synchronously: opening a directory blocks
        // until the host has opened it.
        sync: true,
    });

    use crate::Adapter;
    export!(Adapter with_types_in self);
}

use crate::debug::AsArg as _;
use crate::state::config;
use crate::Adapter;
use alloc::string::String;
use alloc::vec::Vec;
use bindings::exports::wasi_virt::p3_fs::preopens::Guest;
use bindings::wasi::filesystem::preopens as host;
use bindings::wasi::filesystem::types::Descriptor;
use wasi_virt_layout::Call;

impl Guest for Adapter {
    fn get_directories() -> Vec<(Descriptor, String)> {
        trace!(Call::GetDirectories);
        let mut host: Vec<Option<(Descriptor, String)>> =
            host::get_directories().into_iter().map(Some).collect();
        let mut out = Vec::new();
        for (guest, wanted) in config().fs.remaps.iter() {
            let wanted = wanted.trim_end_matches('/');
            let same = |(_, name): &(Descriptor, String)| name.trim_end_matches('/') == wanted;
            if let Some((d, _)) = host
                .iter_mut()
                .find(|p| p.as_ref().is_some_and(same))
                .and_then(Option::take)
            {
                out.push((d, String::from(guest)));
                continue;
            }
            let holds = |(_, name): &(Descriptor, String)| {
                let name = name.trim_end_matches('/');
                name.is_empty()
                    || wanted
                        .strip_prefix(name)
                        .is_some_and(|r| r.starts_with('/'))
            };
            let call = match host.iter().flatten().any(holds) {
                true => Call::RemapInsidePreopen,
                false => Call::RemapOutsidePreopens,
            };
            crate::trap(call, &[wanted.as_arg(), guest.as_arg()]);
        }
        out
    }
}
