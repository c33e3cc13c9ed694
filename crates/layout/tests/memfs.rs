//! The in-memory store (`crates/layout/src/memfs.rs`) against the model of a POSIX tree
//! in `memfs_model`: seeded sequences of creations, writes, truncations,
//! directories, removals, renames, symlinks and hard links, from
//! descriptors held on nodes that may be removed meanwhile, every answer
//! compared and the store's invariants checked after each step
//! (`memfs_model::Pair`). The `memfs` fuzz target runs the same driver on
//! arbitrary sequences.

mod gen;
mod memfs_model;
use gen::Gen;

/// Runs the sequence seed `seed` draws, on a tmpfs or on an overlay of
/// the model's embedded tree.
fn seeded(seed: u64, steps: usize, overlay: bool) {
    let mut gen = Gen(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut pick = |n: u32| gen.below(n as usize) as u32;
    let mut pair = match overlay {
        true => memfs_model::Pair::overlay(),
        false => memfs_model::Pair::new(memfs_model::limit(&mut pick)),
    };
    for _ in 0..steps {
        pair.run(&memfs_model::op(&mut pick));
    }
}

#[test]
fn seeded_sequences_agree_with_the_model() {
    for seed in 0..3000 {
        seeded(seed, 80, false);
    }
}

#[test]
fn long_sequences_agree_with_the_model() {
    for seed in 0..50 {
        seeded(1 << 32 | seed, 1500, false);
    }
}

#[test]
fn overlay_sequences_agree_with_the_model() {
    for seed in 0..1000 {
        seeded(2 << 32 | seed, 80, true);
    }
}
