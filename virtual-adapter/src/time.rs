//! The virtual time: nanoseconds since the instance started, as the virtual
//! clock (`clocks.rs`) reads it and as waiting on its timers (`io.rs`)
//! moves it. Its own module, so that the clocks and the pollables both use
//! it without using each other.

use crate::global::Global;

/// How far the virtual time moves at each `now`, and its resolution: 1 µs.
pub const STEP: u64 = 1_000;

/// The virtual time, in nanoseconds since the start.
static TIME: Global<u64> = Global::new(0);

/// The current virtual time.
pub fn now() -> u64 {
    TIME.get()
}

/// Moves the virtual time forward to `deadline` (never back).
pub fn advance_to(deadline: u64) {
    TIME.with(|time| *time = (*time).max(deadline));
}

/// The time a `now` reads: the current one, which then moves on by a step.
pub fn tick() -> u64 {
    TIME.with(|time| {
        let t = *time;
        *time = t.saturating_add(STEP);
        t
    })
}
