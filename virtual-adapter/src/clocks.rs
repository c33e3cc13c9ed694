//! `wasi:clocks/{monotonic-clock,wall-clock}`: the host's clocks, a virtual
//! clock, or a trap when clocks are denied (neither interface has an error
//! channel).
//!
//! The virtual clock: the monotonic clock starts at 0 and the wall clock at
//! the configured instant; they move together. Each `now` (of either clock)
//! returns the current time and then advances it by [`STEP`], so that two
//! reads always differ; waiting on a clock pollable (`block`, or a `poll`
//! in which nothing else is ready) advances the time to its deadline at
//! once. Nothing depends on the host's time, so runs repeat exactly.

use crate::exports::wasi::clocks::monotonic_clock::{self, Duration, Instant, Pollable};
use crate::exports::wasi::clocks::wall_clock::{self, Datetime};
use crate::io::VPollable;
use crate::state::config;
use crate::time::{tick, STEP};
use crate::wasi::clocks as host;
use crate::{denied, Adapter};
use wasi_virt_layout::{allow, Call, VirtualClock};

/// Where a clock call is answered from.
enum Mode {
    Host,
    Virtual(VirtualClock),
}

fn mode(call: Call) -> Mode {
    trace!(call);
    let config = config();
    if config.allows(allow::CLOCKS) {
        return Mode::Host;
    }
    match config.clock {
        Some(clock) => Mode::Virtual(clock),
        None => denied(call),
    }
}

impl monotonic_clock::Guest for Adapter {
    fn now() -> Instant {
        match mode(Call::MonotonicNow) {
            Mode::Host => host::monotonic_clock::now(),
            Mode::Virtual(_) => tick(),
        }
    }

    fn resolution() -> Duration {
        match mode(Call::MonotonicResolution) {
            Mode::Host => host::monotonic_clock::resolution(),
            Mode::Virtual(_) => STEP,
        }
    }

    fn subscribe_instant(when: Instant) -> Pollable {
        match mode(Call::SubscribeInstant) {
            Mode::Host => VPollable::host(host::monotonic_clock::subscribe_instant(when)),
            Mode::Virtual(_) => VPollable::timer(when),
        }
    }

    fn subscribe_duration(when: Duration) -> Pollable {
        match mode(Call::SubscribeDuration) {
            Mode::Host => VPollable::host(host::monotonic_clock::subscribe_duration(when)),
            Mode::Virtual(_) => VPollable::timer(crate::time::now().saturating_add(when)),
        }
    }
}

/// Returns once the monotonic clock reaches `deadline`, for WASI 0.3's
/// `wait-until` (`p3.rs`): on the host's clock by blocking on its
/// pollable, on the virtual clock by moving the time to the deadline at
/// once, as waiting on a 0.2 timer does.
pub fn wait_until(deadline: Instant) {
    match mode(Call::WaitUntil) {
        Mode::Host => host::monotonic_clock::subscribe_instant(deadline).block(),
        Mode::Virtual(_) => crate::time::advance_to(deadline),
    }
}

/// Returns once `how_long` has passed on the monotonic clock, for WASI
/// 0.3's async `wait-for`, as [`wait_until`] does.
pub fn wait_for(how_long: Duration) {
    match mode(Call::WaitFor) {
        Mode::Host => host::monotonic_clock::subscribe_duration(how_long).block(),
        Mode::Virtual(_) => crate::time::advance_to(crate::time::now().saturating_add(how_long)),
    }
}

/// The host's datetime as the adapter's.
pub fn datetime(d: host::wall_clock::Datetime) -> Datetime {
    Datetime {
        seconds: d.seconds,
        nanoseconds: d.nanoseconds,
    }
}

/// The virtual wall clock `elapsed` nanoseconds after its start.
fn virtual_datetime(start: VirtualClock, elapsed: u64) -> Datetime {
    let nanos = start.nanoseconds as u64 + elapsed % 1_000_000_000;
    Datetime {
        seconds: start.seconds + elapsed / 1_000_000_000 + nanos / 1_000_000_000,
        nanoseconds: (nanos % 1_000_000_000) as u32,
    }
}

impl wall_clock::Guest for Adapter {
    fn now() -> Datetime {
        match mode(Call::WallNow) {
            Mode::Host => datetime(host::wall_clock::now()),
            Mode::Virtual(start) => virtual_datetime(start, tick()),
        }
    }

    fn resolution() -> Datetime {
        match mode(Call::WallResolution) {
            Mode::Host => datetime(host::wall_clock::resolution()),
            Mode::Virtual(_) => Datetime {
                seconds: 0,
                nanoseconds: STEP as u32,
            },
        }
    }
}

/// The time an in-memory file's change is stamped with: the host's wall
/// clock while clocks are allowed, the virtual one while it is configured,
/// and otherwise a count that starts at the epoch and moves 1 µs per change,
/// so that times still move and never ask the host.
pub fn file_time() -> Datetime {
    let config = config();
    if config.allows(allow::CLOCKS) {
        return datetime(host::wall_clock::now());
    }
    let start = config.clock.unwrap_or(VirtualClock {
        seconds: 0,
        nanoseconds: 0,
    });
    virtual_datetime(start, tick())
}
