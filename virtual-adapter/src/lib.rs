//! The virtual adapter: a component that exports WASI interfaces and answers
//! them according to a configuration that `wasi-virt` writes into its data.
//!
//! It is compiled once, for every policy, and committed to `lib/`. The host
//! library removes what a policy does not need: exports of interfaces that are
//! not virtualized, and imports of host interfaces that the policy denies
//! (those become trapping stubs that no configured path reaches).
//!
//! One file per WIT interface (or small family of them). Besides them:
//! `state.rs` reads the configuration and holds the heap, `time.rs` is the
//! virtual time that the clocks and the pollables share, `debug.rs` is the
//! `--debug` trace, and every `static` the adapter changes is a `Global`
//! (`global.rs`), which lends its value to one closure at a time.
// Only meaningful as wasm; on other targets the crate is empty, so workspace-
// wide commands (`cargo clippy --workspace`) still work.
#![cfg(target_arch = "wasm32")]
#![no_std]

extern crate alloc;

use wasi_virt_layout::Call;

#[macro_use]
mod debug;
#[macro_use]
mod address;
mod clocks;
mod config;
mod environment;
mod exit;
mod filesystem;
mod global;
#[macro_use]
mod http;
mod io;
mod memfs;
mod p3;
mod random;
mod rules;
mod serve;
mod sockets;
mod state;
mod stdio;
mod time;
mod vfs;

wit_bindgen::generate!({
    path: "../wit",
    world: "wasi-virt:adapter/virtual-adapter",
    generate_all,
});

/// The type on which every exported interface is implemented.
struct Adapter;

export!(Adapter);

/// The layout's size-class heap (`crates/layout/src/heap.rs`), taking
/// memory only from the pages left for it at the top of the memory the
/// instance starts with, then from `memory.grow`: the configuration placed
/// below those pages is never handed out.
#[global_allocator]
static ALLOC: state::Allocator = state::Allocator::new();

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// Stops the instance: `why`, with `args`, is shown under `--debug`.
pub(crate) fn trap(why: Call, args: &[debug::Arg<'_>]) -> ! {
    debug::emit(debug::Kind::Trap, why, args);
    core::arch::wasm32::unreachable()
}

/// Traps for a call into a denied subsystem that has no error channel.
pub(crate) fn denied(call: Call) -> ! {
    debug::emit(debug::Kind::Denied, call, &[]);
    core::arch::wasm32::unreachable()
}
