//! `wasi:random/{random,insecure,insecure-seed}`: the host's randomness, or a
//! trap when random is denied.

use crate::exports::wasi::random::{insecure, insecure_seed, random};
use crate::state::config;
use crate::wasi::random as host;
use crate::{denied, Adapter};
use alloc::vec::Vec;
use wasi_virt_layout::allow;

fn check(call: &str) {
    trace!("{call}");
    if !config().allows(allow::RANDOM) {
        denied(call);
    }
}

impl random::Guest for Adapter {
    fn get_random_bytes(len: u64) -> Vec<u8> {
        check("wasi:random/random.get-random-bytes");
        host::random::get_random_bytes(len)
    }

    fn get_random_u64() -> u64 {
        check("wasi:random/random.get-random-u64");
        host::random::get_random_u64()
    }
}

impl insecure::Guest for Adapter {
    fn get_insecure_random_bytes(len: u64) -> Vec<u8> {
        check("wasi:random/insecure.get-insecure-random-bytes");
        host::insecure::get_insecure_random_bytes(len)
    }

    fn get_insecure_random_u64() -> u64 {
        check("wasi:random/insecure.get-insecure-random-u64");
        host::insecure::get_insecure_random_u64()
    }
}

impl insecure_seed::Guest for Adapter {
    fn insecure_seed() -> (u64, u64) {
        check("wasi:random/insecure-seed.insecure-seed");
        host::insecure_seed::insecure_seed()
    }
}
