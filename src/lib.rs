//! Virtualize WASI for WebAssembly components.
//!
//! `wasi-virt` specializes a prebuilt *virtual adapter* (a component that
//! exports WASI interfaces) with a [`Policy`], strips every host import the
//! policy denies, and composes the adapter in front of a user component, so
//! that the result asks its host only for what the policy allows.
//!
//! ```no_run
//! use wasi_virt::WasiVirt;
//!
//! let mut virt = WasiVirt::new();
//! virt.env().allow(&["LANG"]).overrides(&[("MODE", "production")]);
//! virt.compose(std::fs::read("app.wasm")?);
//! let out = virt.finish()?;
//! println!("output imports: {:?}", out.report.imports);
//! # anyhow::Ok(())
//! ```
#![deny(missing_docs)]

mod adapter;
mod background;
mod compose;
mod inspect;
mod names;
mod policy;
mod report;
mod subsystem;
mod virt;
mod wit;

pub use compose::host_side_version;
pub use compose::rename::rename_top_level;
pub use inspect::catalog::{Catalog, Need};
pub use inspect::check::{check, CheckReport, Offending};
pub use inspect::{
    component_exports, component_import_functions, component_imports, input_kind, inspect,
    inspect_with, validate_component, FunctionUse, InputKind, Inspection, InterfaceUse,
    PermissionUse,
};
pub use names::InterfaceName;
pub use policy::instant::parse as parse_instant;
pub use policy::network::{Host, Inbound, NetworkPolicy, Outbound, Resolve, Rule};
pub use policy::{
    check_name, Access, Args, ByteSize, ClocksPolicy, ConfigPolicy, Cwd, DenyReachable, EnvPolicy,
    FsEntry, FsPolicy, HostFilter, ImportsPolicy, NameKind, Overlay, PermissionsPolicy, Policy,
    RandomPolicy, ServeHttp, ServeStderr, StdinPolicy, StdioMode, StdioPolicy, Tmpfs,
    DEFAULT_MEMORY_LIMIT,
};
pub use report::{Output, PermissionCheck, ReachableTraps, Report, Serving, SubsystemReport};
pub use subsystem::permissions::{Declared, Permission};
pub use subsystem::registry::{Subsystem, WASI_PERMISSIONS};
pub use virt::{VirtResult, WasiVirt};
pub use wasi_virt_layout::net::{Family, Kind as RuleKind};
pub use wasi_virt_layout::Stream;
pub use wit::BUILT_WASI_VERSION;
