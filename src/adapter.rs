//! The adapter, specialized for one policy: the policy encoded as the
//! configuration the adapter reads, the mount tree embedded with it, the
//! rewrite of the prebuilt core module, its world and component encoding,
//! and the files spliced into the written output.

pub mod config;
pub mod fixed;
pub mod mount_tree;
pub mod rewrite;
pub mod specialize;
pub mod splice;
pub mod world;
