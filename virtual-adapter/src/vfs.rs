//! The embedded, read-only filesystem: path resolution that never leaves a
//! preopen's root, and file bytes copied out of passive data segments only
//! when read.

use crate::exports::wasi::filesystem::types::{DescriptorType, ErrorCode};
use crate::io::Source;
use crate::state::config;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::Cell;
use wasi_virt_layout::hooks::passive_read;
use wasi_virt_layout::{Call, Node, NodeKind, NAME_MAX};

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
    }
}

/// The size of node `index` (0 for directories).
pub fn size(index: u32) -> u64 {
    match node(index).kind {
        NodeKind::File { len, .. } => u64::from(len),
        NodeKind::Dir { .. } | NodeKind::RuntimeFile(_) => 0,
    }
}

/// The child of directory `dir` called `name`.
fn child(dir: u32, name: &str) -> Result<u32, ErrorCode> {
    let NodeKind::Dir { first, count } = node(dir).kind else {
        return Err(ErrorCode::NotDirectory);
    };
    // Children are sorted by name.
    let (mut lo, mut hi) = (first, first + count);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match node(mid).name.cmp(name) {
            core::cmp::Ordering::Equal => return Ok(mid),
            core::cmp::Ordering::Less => lo = mid + 1,
            core::cmp::Ordering::Greater => hi = mid,
        }
    }
    Err(ErrorCode::NoEntry)
}

/// The checks a host makes of a whole path before walking it, in its
/// order: a NUL is `invalid`, an empty path `no-entry`, an absolute path
/// `not-permitted`. Shared with the in-memory filesystems (`memfs.rs`).
pub fn check_path(path: &str) -> Result<(), ErrorCode> {
    if path.contains('\0') {
        return Err(ErrorCode::Invalid);
    }
    if path.is_empty() {
        return Err(ErrorCode::NoEntry);
    }
    if path.starts_with('/') {
        return Err(ErrorCode::NotPermitted);
    }
    Ok(())
}

/// Resolves `path` from a directory, given as the chain of directories from
/// its preopen's root down to it; returns the chain to the result.
///
/// As a host does, component by component: every component is looked up
/// in a directory (`a.txt/..` and `a.txt/.` are `not-directory`), empty
/// components are skipped, `..` never climbs above the root
/// (`not-permitted`), a component longer than 255 bytes is `name-too-long`
/// when the walk reaches it, and a trailing slash asks for a directory.
/// There are no symlinks in the embedded tree.
pub fn resolve(from: &[u32], path: &str) -> Result<Vec<u32>, ErrorCode> {
    check_path(path)?;
    let mut chain = from.to_vec();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        let here = *chain.last().expect("never empty");
        if kind(here) != DescriptorType::Directory {
            return Err(ErrorCode::NotDirectory);
        }
        match part {
            "." => {}
            ".." => {
                if chain.len() == 1 {
                    return Err(ErrorCode::NotPermitted);
                }
                chain.pop();
            }
            name if name.len() > NAME_MAX => return Err(ErrorCode::NameTooLong),
            name => chain.push(child(here, name)?),
        }
    }
    let reached = *chain.last().expect("never empty");
    if path.ends_with('/') && kind(reached) != DescriptorType::Directory {
        return Err(ErrorCode::NotDirectory);
    }
    Ok(chain)
}

/// A host's `stat-at` of a file named with trailing `/` or `/.` (and only
/// a file in the directory itself, one component) finds the file where a
/// walk says `not-directory`: the name to retry with, if `path` is such a
/// name. Shared with the in-memory filesystems (`memfs.rs`).
pub fn stat_retry(path: &str) -> Option<&str> {
    let mut base = path;
    while let Some(b) = base.strip_suffix('/').or_else(|| base.strip_suffix("/.")) {
        base = b;
    }
    (!base.is_empty() && !base.contains('/') && base != path).then_some(base)
}

/// [`resolve`] as `stat-at` resolves ([`stat_retry`]).
pub fn resolve_for_stat(from: &[u32], path: &str) -> Result<Vec<u32>, ErrorCode> {
    match resolve(from, path) {
        Err(ErrorCode::NotDirectory) => match stat_retry(path) {
            Some(base) => resolve(from, base),
            None => Err(ErrorCode::NotDirectory),
        },
        other => other,
    }
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
