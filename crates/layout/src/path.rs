//! Paths in the embedded tree, resolved as a host resolves them in a
//! preopen. The adapter walks its tree with this (`virtual-adapter/src/vfs.rs`),
//! and the host compiles the same code for fuzzing (`fuzz/fuzz_targets/paths.rs`).

use crate::{Node, NodeKind, NAME_MAX};
use alloc::vec::Vec;

/// Why a path does not resolve, in the terms of `wasi:filesystem`'s
/// `error-code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
    /// `invalid`: the path holds a NUL.
    Invalid,
    /// `no-entry`: a component names nothing, or the path is empty.
    NoEntry,
    /// `not-permitted`: the path is absolute, or `..` climbs above the root.
    NotPermitted,
    /// `not-directory`: a component other than the last names a file, or a
    /// trailing slash follows a file.
    NotDirectory,
    /// `name-too-long`: a component longer than [`NAME_MAX`] bytes.
    NameTooLong,
}

/// The checks a host makes of a whole path before walking it, in its
/// order: a NUL is `invalid`, an empty path `no-entry`, an absolute path
/// `not-permitted`.
pub fn check(path: &str) -> Result<(), PathError> {
    if path.contains('\0') {
        return Err(PathError::Invalid);
    }
    if path.is_empty() {
        return Err(PathError::NoEntry);
    }
    if path.starts_with('/') {
        return Err(PathError::NotPermitted);
    }
    Ok(())
}

/// A host's `stat-at` of a file named with a trailing `/` or `/.` (and only
/// a file in the directory itself, one component) finds the file where a
/// walk says `not-directory`: the name to retry with, if `path` is such a
/// name.
pub fn stat_retry(path: &str) -> Option<&str> {
    let mut base = path;
    while let Some(b) = base.strip_suffix('/').or_else(|| base.strip_suffix("/.")) {
        base = b;
    }
    (!base.is_empty() && !base.contains('/') && base != path).then_some(base)
}

/// Whether a node is a directory.
pub fn is_dir(node: &Node) -> bool {
    matches!(node.kind, NodeKind::Dir { .. })
}

/// The embedded tree as a walk sees it: node `i` by `node(i)`, which may
/// trap (the adapter) or panic (a test) on an index the tree does not hold;
/// a validated tree (`Config::parse`) holds every index it names.
pub struct Walk<F> {
    /// Node `i`.
    pub node: F,
}

impl<'a, F: Fn(u32) -> Node<'a>> Walk<F> {
    /// The child of directory `dir` called `name`: `not-directory` if `dir`
    /// is a file, `no-entry` if it has no such child.
    pub fn child(&self, dir: u32, name: &str) -> Result<u32, PathError> {
        let NodeKind::Dir { first, count } = (self.node)(dir).kind else {
            return Err(PathError::NotDirectory);
        };
        // Children are sorted by name.
        let (mut lo, mut hi) = (first, first + count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match (self.node)(mid).name.cmp(name) {
                core::cmp::Ordering::Equal => return Ok(mid),
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
            }
        }
        Err(PathError::NoEntry)
    }

    /// Resolves `path` from a directory, given as the chain of directories
    /// from its preopen's root down to it (never empty); returns the chain
    /// to the result.
    ///
    /// As a host does, component by component: every component is looked
    /// up in a directory (`a.txt/..` and `a.txt/.` are `not-directory`),
    /// empty components are skipped, `..` never climbs above the root
    /// (`not-permitted`), a component longer than [`NAME_MAX`] bytes is
    /// `name-too-long` when the walk reaches it, and a trailing slash asks
    /// for a directory. There are no symlinks in the embedded tree.
    pub fn resolve(&self, from: &[u32], path: &str) -> Result<Vec<u32>, PathError> {
        check(path)?;
        let mut chain = from.to_vec();
        // `from` is never empty; were it, the path would name nothing.
        let mut here = *chain.last().ok_or(PathError::NoEntry)?;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            if !is_dir(&(self.node)(here)) {
                return Err(PathError::NotDirectory);
            }
            match part {
                "." => continue,
                ".." if chain.len() == 1 => return Err(PathError::NotPermitted),
                ".." => {
                    chain.pop();
                }
                name if name.len() > NAME_MAX => return Err(PathError::NameTooLong),
                name => chain.push(self.child(here, name)?),
            }
            here = chain.last().copied().unwrap_or(here);
        }
        if path.ends_with('/') && !is_dir(&(self.node)(here)) {
            return Err(PathError::NotDirectory);
        }
        Ok(chain)
    }

    /// [`resolve`](Self::resolve) as `stat-at` resolves ([`stat_retry`]).
    pub fn resolve_for_stat(&self, from: &[u32], path: &str) -> Result<Vec<u32>, PathError> {
        match self.resolve(from, path) {
            Err(PathError::NotDirectory) => match stat_retry(path) {
                Some(base) => self.resolve(from, base),
                None => Err(PathError::NotDirectory),
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `/`: `a.txt`, `d/` holding `e`.
    fn tree() -> [Node<'static>; 4] {
        let file = NodeKind::File {
            segment: 0,
            offset: 0,
            len: 0,
        };
        [
            Node {
                name: "",
                kind: NodeKind::Dir { first: 1, count: 2 },
            },
            Node {
                name: "a.txt",
                kind: file,
            },
            Node {
                name: "d",
                kind: NodeKind::Dir { first: 3, count: 1 },
            },
            Node {
                name: "e",
                kind: file,
            },
        ]
    }

    #[test]
    fn walks_component_by_component() {
        let nodes = tree();
        let walk = Walk {
            node: |i: u32| nodes[i as usize],
        };
        let at = |from: &[u32], path| walk.resolve(from, path);
        assert_eq!(at(&[0], "d//e"), Ok(alloc::vec![0, 2, 3]));
        assert_eq!(at(&[0, 2], "../a.txt"), Ok(alloc::vec![0, 1]));
        assert_eq!(at(&[0], "./d/."), Ok(alloc::vec![0, 2]));
        assert_eq!(at(&[0], "a.txt/.."), Err(PathError::NotDirectory));
        assert_eq!(at(&[0], "a.txt/"), Err(PathError::NotDirectory));
        assert_eq!(at(&[0], "d/../.."), Err(PathError::NotPermitted));
        assert_eq!(at(&[0], "/d"), Err(PathError::NotPermitted));
        assert_eq!(at(&[0], ""), Err(PathError::NoEntry));
        assert_eq!(at(&[0], "d/f"), Err(PathError::NoEntry));
        assert_eq!(at(&[0], "d\0"), Err(PathError::Invalid));
        let long = "x".repeat(NAME_MAX + 1);
        assert_eq!(at(&[0], &long), Err(PathError::NameTooLong));
        // The walk reaches `a.txt` before the long name: not-directory.
        assert_eq!(
            at(&[0], &alloc::format!("a.txt/{long}")),
            Err(PathError::NotDirectory)
        );
        assert_eq!(
            walk.resolve_for_stat(&[0], "a.txt/."),
            Ok(alloc::vec![0, 1])
        );
        assert_eq!(
            walk.resolve_for_stat(&[0], "d/e/"),
            Err(PathError::NotDirectory)
        );
    }
}
