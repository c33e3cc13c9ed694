//! [`HostFilterMode`]: which of the host's values a part of the
//! configuration lets through, for environment variables (`env.rs`) and
//! config properties (`store.rs`). One `u32` in the layout.

use crate::wire::{Error, Reader};

/// Which host values (environment variables, config properties) are visible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostFilterMode {
    /// No host value is visible.
    None = 0,
    /// Every host value is visible.
    All = 1,
    /// Only the listed host values are visible.
    Allow = 2,
    /// Every host value except the listed ones is visible.
    Deny = 3,
}

impl HostFilterMode {
    /// Whether the host value `name` is visible, given the list.
    pub fn shows(self, listed: bool) -> bool {
        match self {
            HostFilterMode::None => false,
            HostFilterMode::All => true,
            HostFilterMode::Allow => listed,
            HostFilterMode::Deny => !listed,
        }
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, Error> {
        Ok(match r.u32()? {
            0 => HostFilterMode::None,
            1 => HostFilterMode::All,
            2 => HostFilterMode::Allow,
            3 => HostFilterMode::Deny,
            t => return Err(Error::BadTag(t)),
        })
    }

    #[cfg(feature = "encode")]
    pub(crate) fn write(self, w: &mut crate::wire::Writer) {
        w.u32(self as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_filters() {
        assert!(!HostFilterMode::None.shows(true));
        assert!(HostFilterMode::All.shows(false));
        assert!(HostFilterMode::Allow.shows(true) && !HostFilterMode::Allow.shows(false));
        assert!(!HostFilterMode::Deny.shows(true) && HostFilterMode::Deny.shows(false));
    }
}
