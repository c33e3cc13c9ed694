//! Sequences of filesystem operations on the in-memory store
//! (`crates/layout/src/memfs.rs`, the code `--tmpfs` and `--overlay` run
//! in the adapter) against the model of a POSIX tree in
//! `crates/layout/tests/memfs_model.rs`, on a tmpfs or (one input in four)
//! an overlay of the model's embedded tree: creations, writes, truncations,
//! directories, removals, renames, symlinks and hard links, from
//! descriptors held on nodes that may be removed and whose slots may be
//! reused. Every answer is compared, and the store's invariants and size
//! accounting checked after each step.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;

#[path = "../../crates/layout/tests/memfs_model.rs"]
mod memfs_model;

/// The most operations one input runs.
const STEPS: usize = 64;

/// A number below `n` from the input (0 once it is used up).
fn pick(u: &mut Unstructured<'_>, n: u32) -> u32 {
    u.int_in_range(0..=n - 1).unwrap_or(0)
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let mut pair = match pick(&mut u, 4) {
        0 => memfs_model::Pair::overlay(),
        _ => memfs_model::Pair::new(memfs_model::limit(&mut |n| pick(&mut u, n))),
    };
    for _ in 0..STEPS {
        if u.is_empty() {
            break;
        }
        let op = memfs_model::op(&mut |n| pick(&mut u, n));
        pair.run(&op);
    }
});
