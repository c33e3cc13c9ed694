//! The virtual adapter: a component that exports WASI interfaces and answers
//! them according to a configuration that `wasi-virt` writes into its data.
//!
//! It is compiled once, for every policy, and committed to `lib/`. The host
//! library removes what a policy does not need: exports of interfaces that are
//! not virtualized, and imports of host interfaces that the policy denies
//! (those become trapping stubs that no configured path reaches).
// Only meaningful as wasm; on other targets the crate is empty, so workspace-
// wide commands (`cargo clippy --workspace`) still work.
#![cfg(target_arch = "wasm32")]
#![no_std]

extern crate alloc;

mod environment;
mod state;

wit_bindgen::generate!({
    path: "../wit",
    world: "wasi-virt:adapter/virtual-adapter",
    generate_all,
});

/// The type on which every exported interface is implemented.
struct Adapter;

export!(Adapter);

#[global_allocator]
static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
