//! The embedded, read-only filesystem: path resolution that never leaves
//! the directory it starts from, and file bytes copied out of passive data segments only
//! when read.

use crate::exports::wasi::filesystem::types::{DescriptorType, ErrorCode};
use crate::io::Source;
use crate::state::config;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::Cell;
use wasi_virt_layout::hooks::passive_read;
use wasi_virt_layout::path::{PathError, Walk};
use wasi_virt_layout::{Call, Node, NodeKind};

/// The host path of node `index`, if it is a runtime file.
pub fn runtime_file(index: u32) -> Option<&'static str> {
    match node(index).kind {
        NodeKind::RuntimeFile(path) => Some(path),
        _ => None,
    }
}

/// Node `index`. The tree was validated when the configuration was parsed,
/// and indices only come from it.
pub fn node(index: u32) -> Node<'static> {
    match config().fs.node(index) {
        Some(n) => n,
        None => crate::trap(Call::NodeOutOfRange, &[]),
    }
}

/// The type of node `index`.
pub fn kind(index: u32) -> DescriptorType {
    match node(index).kind {
        NodeKind::Dir { .. } => DescriptorType::Directory,
        NodeKind::File { .. } | NodeKind::RuntimeFile(_) => DescriptorType::RegularFile,
        NodeKind::Link(_) => DescriptorType::SymbolicLink,
    }
}

/// The size of node `index` (0 for directories; a link's, its target's
/// length, as a host's `lstat` gives it).
pub fn size(index: u32) -> u64 {
    match node(index).kind {
        NodeKind::File { len, .. } => u64::from(len),
        NodeKind::Link(target) => target.len() as u64,
        NodeKind::Dir { .. } | NodeKind::RuntimeFile(_) => 0,
    }
}

/// The walk of the embedded tree (`crates/layout/src/path.rs`, shared with
/// the host's fuzzing), over [`node`].
fn walk() -> Walk<impl Fn(u32) -> Node<'static>> {
    Walk { node }
}

/// The `wasi:filesystem` error for a path that does not resolve.
fn error(e: PathError) -> ErrorCode {
    match e {
        PathError::Invalid => ErrorCode::Invalid,
        PathError::NoEntry => ErrorCode::NoEntry,
        PathError::NotPermitted => ErrorCode::NotPermitted,
        PathError::NotDirectory => ErrorCode::NotDirectory,
        PathError::NameTooLong => ErrorCode::NameTooLong,
        PathError::Loop => ErrorCode::Loop,
    }
}

/// Resolves `path` from directory `from`, never leaving it, following a
/// final link only with `follow` ([`Walk::resolve_at`]: component by
/// component, as a host does).
pub fn resolve(from: u32, path: &str, follow: bool) -> Result<u32, ErrorCode> {
    walk().resolve_at(from, path, follow).map_err(error)
}

/// The target of the link `path` names from `from`, as a host's
/// `readlink-at` answers: `invalid` for anything but a link, and
/// `not-permitted` for an absolute target (a host's confinement does not
/// show one).
pub fn readlink(from: u32, path: &str) -> Result<&'static str, ErrorCode> {
    let link = walk().resolve_link(from, path).map_err(error)?;
    match node(link).kind {
        NodeKind::Link(target) if target.starts_with('/') => Err(ErrorCode::NotPermitted),
        NodeKind::Link(target) => Ok(target),
        _ => Err(ErrorCode::Invalid),
    }
}

/// [`resolve`] as `stat-at` and `metadata-hash-at` resolve, following
/// symlinks or not ([`Walk::resolve_for_stat`]).
pub fn resolve_for_stat(from: u32, path: &str, follow: bool) -> Result<u32, ErrorCode> {
    walk().resolve_for_stat(from, path, follow).map_err(error)
}

/// Up to `len` bytes of file `index` from `offset`, and whether it read
/// nothing because the end was reached.
pub fn read(index: u32, len: u64, offset: u64) -> Result<(Vec<u8>, bool), ErrorCode> {
    let NodeKind::File {
        segment,
        offset: start,
        len: size,
    } = node(index).kind
    else {
        // The host's `read` of a directory: not a file descriptor.
        return Err(ErrorCode::BadDescriptor);
    };
    let size = u64::from(size);
    // As the host answers: the end is reported by a read that returns
    // nothing.
    if offset >= size || len == 0 {
        return Ok((Vec::new(), true));
    }
    let n = len.min(size - offset);
    let mut bytes = vec![0u8; n as usize];
    if n > 0 {
        // SAFETY: `bytes` has room for `n` bytes, and the library placed the
        // file at `start..start + size` of `segment`.
        unsafe {
            passive_read(segment, start + offset as u32, n as u32, bytes.as_mut_ptr());
        }
    }
    Ok((bytes, false))
}

/// A stream over a file of the embedded tree.
pub struct FileReader {
    pub node: u32,
    pub position: Cell<u64>,
}

impl Source for FileReader {
    fn read(&self, len: u64) -> Option<Vec<u8>> {
        let at = self.position.get();
        let (bytes, _) = read(self.node, len, at).ok()?;
        if bytes.is_empty() && len > 0 {
            return None;
        }
        self.position.set(at + bytes.len() as u64);
        Some(bytes)
    }
}
