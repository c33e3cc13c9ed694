//! The config store's policy (`wasi:config/store`): its properties.

use super::host_filter::HostFilter;
use super::setting::Setting;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// How `wasi:config/store` is virtualized.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ConfigPolicy {
    /// Which host properties the component sees. Default: all of them. With
    /// `none`, asking for a property the policy does not set is an error.
    #[serde(default)]
    pub host: HostFilter,
    /// Properties the component sees whatever the host has.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub properties: IndexMap<String, String>,
}

impl Setting for ConfigPolicy {
    fn allowing() -> Self {
        ConfigPolicy::default()
    }

    fn denying() -> Self {
        ConfigPolicy {
            host: HostFilter::None,
            ..ConfigPolicy::default()
        }
    }

    /// Some host property is visible, so the host's store is asked.
    fn allows(&self) -> bool {
        self.host != HostFilter::None
    }

    fn describe(&self) -> String {
        format!(
            "host properties {}; {} set",
            self.host,
            self.properties.len()
        )
    }

    fn content(&self) -> Option<&'static str> {
        (!self.properties.is_empty()).then_some("config properties")
    }
}
