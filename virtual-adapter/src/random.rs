//! `wasi:random/{random,insecure,insecure-seed}`: the host's randomness, a
//! generator seeded by the policy (ChaCha20, from `rand_chacha`; the same
//! seed gives the same bytes in every run, so it is no source of secrets),
//! or a trap when random is denied.
//!
//! All three interfaces draw from one seeded generator, in call order.

use crate::exports::wasi::random::{insecure, insecure_seed, random};
use crate::state::config;
use crate::wasi::random as host;
use crate::{denied, Adapter};
use alloc::vec;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use wasi_virt_layout::{allow, Call};

struct Seeded(UnsafeCell<Option<ChaCha20Rng>>);

// SAFETY: the adapter is single-threaded wasm; there is no concurrent access.
unsafe impl Sync for Seeded {}

static SEEDED: Seeded = Seeded(UnsafeCell::new(None));

/// Runs `f` on the seeded generator, creating it at first use.
fn with_seeded<T>(seed: u64, f: impl FnOnce(&mut ChaCha20Rng) -> T) -> T {
    // SAFETY: single-threaded, and `f` cannot reach this function again.
    let slot = unsafe { &mut *SEEDED.0.get() };
    f(slot.get_or_insert_with(|| ChaCha20Rng::seed_from_u64(seed)))
}

/// Where a call is answered from: `None` is the host.
fn seed(call: Call) -> Option<u64> {
    trace!(call);
    let config = config();
    if config.allows(allow::RANDOM) {
        return None;
    }
    match config.random_seed {
        Some(seed) => Some(seed),
        None => denied(call),
    }
}

fn seeded_bytes(seed: u64, len: u64) -> Vec<u8> {
    let mut bytes = vec![0; len as usize];
    with_seeded(seed, |g| g.fill_bytes(&mut bytes));
    bytes
}

fn seeded_u64(seed: u64) -> u64 {
    with_seeded(seed, |g| g.next_u64())
}

impl random::Guest for Adapter {
    fn get_random_bytes(len: u64) -> Vec<u8> {
        match seed(Call::GetRandomBytes) {
            None => host::random::get_random_bytes(len),
            Some(seed) => seeded_bytes(seed, len),
        }
    }

    fn get_random_u64() -> u64 {
        match seed(Call::GetRandomU64) {
            None => host::random::get_random_u64(),
            Some(seed) => seeded_u64(seed),
        }
    }
}

impl insecure::Guest for Adapter {
    fn get_insecure_random_bytes(len: u64) -> Vec<u8> {
        match seed(Call::GetInsecureRandomBytes) {
            None => host::insecure::get_insecure_random_bytes(len),
            Some(seed) => seeded_bytes(seed, len),
        }
    }

    fn get_insecure_random_u64() -> u64 {
        match seed(Call::GetInsecureRandomU64) {
            None => host::insecure::get_insecure_random_u64(),
            Some(seed) => seeded_u64(seed),
        }
    }
}

impl insecure_seed::Guest for Adapter {
    fn insecure_seed() -> (u64, u64) {
        match seed(Call::InsecureSeed) {
            None => host::insecure_seed::insecure_seed(),
            Some(seed) => (seeded_u64(seed), seeded_u64(seed)),
        }
    }
}
