//! `wasi:clocks/{monotonic-clock,wall-clock}`: the host's clocks, or a trap
//! when clocks are denied (neither interface has an error channel).

use crate::exports::wasi::clocks::monotonic_clock::{self, Duration, Instant, Pollable};
use crate::exports::wasi::clocks::wall_clock::{self, Datetime};
use crate::io::VPollable;
use crate::state::config;
use crate::wasi::clocks as host;
use crate::{denied, Adapter};
use wasi_virt_layout::allow;

fn check(call: &str) {
    trace!("{call}");
    if !config().allows(allow::CLOCKS) {
        denied(call);
    }
}

impl monotonic_clock::Guest for Adapter {
    fn now() -> Instant {
        check("wasi:clocks/monotonic-clock.now");
        host::monotonic_clock::now()
    }

    fn resolution() -> Duration {
        check("wasi:clocks/monotonic-clock.resolution");
        host::monotonic_clock::resolution()
    }

    fn subscribe_instant(when: Instant) -> Pollable {
        check("wasi:clocks/monotonic-clock.subscribe-instant");
        VPollable::host(host::monotonic_clock::subscribe_instant(when))
    }

    fn subscribe_duration(when: Duration) -> Pollable {
        check("wasi:clocks/monotonic-clock.subscribe-duration");
        VPollable::host(host::monotonic_clock::subscribe_duration(when))
    }
}

/// The host's datetime as the adapter's.
pub fn datetime(d: host::wall_clock::Datetime) -> Datetime {
    Datetime {
        seconds: d.seconds,
        nanoseconds: d.nanoseconds,
    }
}

impl wall_clock::Guest for Adapter {
    fn now() -> Datetime {
        check("wasi:clocks/wall-clock.now");
        datetime(host::wall_clock::now())
    }

    fn resolution() -> Datetime {
        check("wasi:clocks/wall-clock.resolution");
        datetime(host::wall_clock::resolution())
    }
}
