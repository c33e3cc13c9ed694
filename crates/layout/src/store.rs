//! The `wasi:config/store` part of the configuration, after the stdio
//! modes and the allow bits: the host filter and its names, and the
//! policy's properties.

use crate::filter::HostFilterMode;
use crate::wire::{Error, PairList, Reader, StrList};

/// The `upstream` error of a property the policy does not set while host
/// properties are denied: the text before the key and after it.
pub const UNSET_PROPERTY: (&str, &str) = (
    "host configuration is denied by wasi-virt; `",
    "` is not set by the policy",
);

/// The `wasi:config/store` part of the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Store<'a> {
    /// How host properties are filtered.
    pub host: HostFilterMode,
    /// The allow- or deny-list for [`HostFilterMode::Allow`]/[`HostFilterMode::Deny`].
    pub host_names: StrList<'a>,
    /// Properties set by the policy; they replace host properties.
    pub properties: PairList<'a>,
}

impl<'a> Store<'a> {
    pub(crate) fn read(r: &mut Reader<'a>) -> Result<Store<'a>, Error> {
        Ok(Store {
            host: HostFilterMode::read(r)?,
            host_names: r.str_list()?,
            properties: r.pair_list()?,
        })
    }
}

/// The host's side of [`Store`].
#[cfg(feature = "encode")]
#[derive(Clone, Debug)]
pub struct StoreSpec<'s> {
    /// How host properties are filtered.
    pub host: HostFilterMode,
    /// The allow- or deny-list.
    pub host_names: alloc::vec::Vec<&'s str>,
    /// Properties set by the policy.
    pub properties: alloc::vec::Vec<(&'s str, &'s str)>,
}

#[cfg(feature = "encode")]
impl Default for StoreSpec<'_> {
    fn default() -> Self {
        StoreSpec {
            host: HostFilterMode::All,
            host_names: alloc::vec::Vec::new(),
            properties: alloc::vec::Vec::new(),
        }
    }
}

#[cfg(feature = "encode")]
impl StoreSpec<'_> {
    /// Writes what [`Store::read`] reads.
    pub(crate) fn write(&self, w: &mut crate::wire::Writer) {
        self.host.write(w);
        w.str_list(&self.host_names);
        w.pair_list(&self.properties);
    }
}
