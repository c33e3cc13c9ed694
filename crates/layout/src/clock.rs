//! The virtual clock's part of the configuration, after the filesystem
//! tree: absent (`0`), or `1`, the seconds (`u64`) and the nanoseconds
//! (`u32`) of the wall clock's start.

use crate::wire::{Error, Reader};

/// A virtual clock: the wall clock starts at this instant, the monotonic
/// clock at 0, and both advance together as the adapter decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VirtualClock {
    /// Seconds since the Unix epoch at the start.
    pub seconds: u64,
    /// Nanoseconds past `seconds`, below 1,000,000,000.
    pub nanoseconds: u32,
}

impl VirtualClock {
    /// The clock, if the clocks are virtual.
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Option<VirtualClock>, Error> {
        r.option(|r| {
            Ok(VirtualClock {
                seconds: r.u64()?,
                nanoseconds: r.u32()?,
            })
        })
    }

    #[cfg(feature = "encode")]
    pub(crate) fn write(clock: Option<VirtualClock>, w: &mut crate::wire::Writer) {
        w.option(clock, |w, clock| {
            w.u64(clock.seconds);
            w.u32(clock.nanoseconds);
        });
    }
}
