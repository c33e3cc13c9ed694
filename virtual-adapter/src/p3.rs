//! The WASI 0.3 interfaces the adapter exports beside their WASI 0.2
//! counterparts (`wit/p3/faces.wit`): each function answers through its
//! 0.2 counterpart's code, so that a component importing both versions sees
//! one environment, one virtual clock and one seeded generator, under one
//! policy (allowed, the host's WASI 0.2 functions answer; denied, the same
//! traps and empty answers as 0.2).
//!
//! The exceptions: stdio, whose 0.3 functions hand out streams and futures
//! (`p3/stdio.rs`: allowed streams are passed on to the host's own 0.3
//! functions, the others answered at once); sockets, denied or the host's
//! own 0.3 sockets under outbound rules (`p3/sockets.rs`); the HTTP client,
//! served denied (`p3/http.rs`) or under outbound rules through the
//! host's own types (`p3/http_rules.rs`); and the filesystem, served denied
//! (`p3/denied.rs`).
//!
//! Every function is lifted synchronously (`sync: true`), which the
//! component model allows for WASI 0.3's `async` functions too: the
//! adapter answers each within the call. So `monotonic-clock`'s
//! `wait-until` and `wait-for` return once the deadline is reached: at
//! once on the virtual clock, which jumps to it, and after blocking on the
//! host's 0.2 pollable on the host's clock.

mod denied;
mod fs_remap;
mod http;
mod http_rules;
mod sockets;
mod stdio;

use crate::exports::wasi as v2;
use crate::Adapter;
use alloc::string::String;
use alloc::vec::Vec;

mod bindings {
    wit_bindgen::generate!({
        path: "../wit/p3",
        world: "wasi-virt:p3/faces",
        generate_all,
        // Lifted synchronously: the adapter answers each at once.
        sync: true,
        // The host's stdio types and the adapter's are one Rust type each,
        // so that the host's streams and futures are handed on as they are.
        merge_structurally_equal_types: true,
    });

    use crate::Adapter;
    export!(Adapter with_types_in self);
}

use bindings::exports::wasi::cli::{environment, exit};
use bindings::exports::wasi::clocks::{monotonic_clock, system_clock};
use bindings::exports::wasi::random::{insecure, insecure_seed, random};

impl environment::Guest for Adapter {
    fn get_environment() -> Vec<(String, String)> {
        <Adapter as v2::cli::environment::Guest>::get_environment()
    }

    fn get_arguments() -> Vec<String> {
        <Adapter as v2::cli::environment::Guest>::get_arguments()
    }

    fn get_initial_cwd() -> Option<String> {
        <Adapter as v2::cli::environment::Guest>::initial_cwd()
    }
}

impl exit::Guest for Adapter {
    fn exit(status: Result<(), ()>) {
        <Adapter as v2::cli::exit::Guest>::exit(status)
    }

    fn exit_with_code(status_code: u8) {
        <Adapter as v2::cli::exit::Guest>::exit_with_code(status_code)
    }
}

impl monotonic_clock::Guest for Adapter {
    fn now() -> u64 {
        <Adapter as v2::clocks::monotonic_clock::Guest>::now()
    }

    fn get_resolution() -> u64 {
        <Adapter as v2::clocks::monotonic_clock::Guest>::resolution()
    }

    fn wait_until(when: u64) {
        crate::clocks::wait_until(when)
    }

    fn wait_for(how_long: u64) {
        crate::clocks::wait_for(how_long)
    }
}

impl system_clock::Guest for Adapter {
    /// The wall clock's time; 0.3 counts seconds as `s64`, and no WASI
    /// 0.2 clock is before 1970.
    fn now() -> system_clock::Instant {
        let time = <Adapter as v2::clocks::wall_clock::Guest>::now();
        system_clock::Instant {
            seconds: time.seconds as i64,
            nanoseconds: time.nanoseconds,
        }
    }

    /// The wall clock's resolution, as a duration in nanoseconds.
    fn get_resolution() -> u64 {
        let r = <Adapter as v2::clocks::wall_clock::Guest>::resolution();
        r.seconds
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::from(r.nanoseconds))
    }
}

/// 0.3's byte functions may return fewer than `max-len` bytes; these return
/// all of them, as 0.2's did.
impl random::Guest for Adapter {
    fn get_random_bytes(max_len: u64) -> Vec<u8> {
        <Adapter as v2::random::random::Guest>::get_random_bytes(max_len)
    }

    fn get_random_u64() -> u64 {
        <Adapter as v2::random::random::Guest>::get_random_u64()
    }
}

impl insecure::Guest for Adapter {
    fn get_insecure_random_bytes(max_len: u64) -> Vec<u8> {
        <Adapter as v2::random::insecure::Guest>::get_insecure_random_bytes(max_len)
    }

    fn get_insecure_random_u64() -> u64 {
        <Adapter as v2::random::insecure::Guest>::get_insecure_random_u64()
    }
}

impl insecure_seed::Guest for Adapter {
    fn get_insecure_seed() -> (u64, u64) {
        <Adapter as v2::random::insecure_seed::Guest>::insecure_seed()
    }
}
