//! `wasi:random/{random,insecure,insecure-seed}`: the host's randomness, a
//! generator seeded by the policy (ChaCha20, from `rand_chacha`; the same
//! seed gives the same bytes in every run, so it is no source of secrets),
//! or a trap when random is denied.
//!
//! All three interfaces draw from one seeded generator, in call order.

use crate::exports::wasi::random::{insecure, insecure_seed, random};
use crate::global::Global;
use crate::state::config;
use crate::wasi::random as host;
use crate::{denied, Adapter};
use alloc::vec;
use alloc::vec::Vec;
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use wasi_virt_layout::hooks;
use wasi_virt_layout::{allow, same_name, Call, SEEDED_BYTES, SEEDED_IMPL, SEEDED_U64};

static SEEDED: Global<Option<ChaCha20Rng>> = Global::new(None);

/// Runs `f` on the seeded generator, creating it at first use.
fn with_seeded<T>(seed: u64, f: impl FnOnce(&mut ChaCha20Rng) -> T) -> T {
    SEEDED.with(|slot| f(slot.get_or_insert_with(|| ChaCha20Rng::seed_from_u64(seed))))
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
    // SAFETY: `bytes` holds `len` bytes.
    unsafe { hooks::seeded(seed, SEEDED_BYTES, bytes.as_mut_ptr(), bytes.len()) };
    bytes
}

fn seeded_u64(seed: u64) -> u64 {
    let mut word = [0; 8];
    // SAFETY: `word` holds 8 bytes.
    unsafe { hooks::seeded(seed, SEEDED_U64, word.as_mut_ptr(), word.len()) };
    u64::from_le_bytes(word)
}

/// The generator behind the `seeded` hook: bound only when the policy seeds
/// randomness, so that no other adapter carries ChaCha20.
///
/// # Safety
/// `dest` points at `len` writable bytes (8 for [`SEEDED_U64`]).
#[no_mangle]
pub unsafe extern "C" fn wasi_virt_seeded(seed: u64, what: u32, dest: *mut u8, len: usize) {
    // SAFETY: as the caller promised.
    let dest = unsafe { core::slice::from_raw_parts_mut(dest, len) };
    with_seeded(seed, |g| match what {
        SEEDED_U64 => dest[..8].copy_from_slice(&g.next_u64().to_le_bytes()),
        _ => g.fill_bytes(dest),
    })
}

const _: () = assert!(same_name(stringify!(wasi_virt_seeded), SEEDED_IMPL));

/// The library aliases the `seeded` import to [`wasi_virt_seeded`]: their
/// types must be the same.
const _: [unsafe extern "C" fn(u64, u32, *mut u8, usize); 2] = [hooks::seeded, wasi_virt_seeded];

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
