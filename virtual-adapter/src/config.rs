//! `wasi:config/store`: properties from the policy, and a filtered view of the
//! host's. With host properties denied, asking for a property the policy does
//! not set is an error (the interface's `upstream` error), not a silent miss.

use crate::exports::wasi::config::store::{self, Error};
use crate::state::config;
use crate::wasi::config::store as host;
use crate::Adapter;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use wasi_virt_layout::{Call, HostFilterMode};

fn error(e: host::Error) -> Error {
    match e {
        host::Error::Upstream(msg) => Error::Upstream(msg),
        host::Error::Io(msg) => Error::Io(msg),
    }
}

impl store::Guest for Adapter {
    fn get(key: String) -> Result<Option<String>, Error> {
        trace!(Call::StoreGet, key);
        let store = &config().store;
        if let Some(value) = store.properties.get(&key) {
            return Ok(Some(value.to_string()));
        }
        if store.host == HostFilterMode::None {
            trace!(denied: Call::StoreGet, key);
            let (before, after) = wasi_virt_layout::UNSET_PROPERTY;
            let mut message = String::from(before);
            message.push_str(&key);
            message.push_str(after);
            return Err(Error::Upstream(message));
        }
        if !store.host.shows(store.host_names.contains(&key)) {
            return Ok(None);
        }
        host::get(&key).map_err(error)
    }

    fn get_all() -> Result<Vec<(String, String)>, Error> {
        trace!(Call::StoreGetAll);
        let store = &config().store;
        let mut out = Vec::new();
        if store.host != HostFilterMode::None {
            for (key, value) in host::get_all().map_err(error)? {
                if store.host.shows(store.host_names.contains(&key))
                    && store.properties.get(&key).is_none()
                {
                    out.push((key, value));
                }
            }
        }
        out.extend(
            store
                .properties
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        Ok(out)
    }
}
