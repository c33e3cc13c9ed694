//! The subsystems: the registry that describes each one once, and what is
//! worked out from it for one output (which interfaces the adapter exports,
//! which host functions it keeps, which permissions an import needs).

pub mod host_imports;
pub mod host_rules;
pub mod interfaces;
pub mod permissions;
pub mod registry;
pub mod select;
pub mod slot;
