//! Paths in the embedded tree, resolved as a host resolves them in a
//! preopen. The adapter walks its tree with this (`virtual-adapter/src/vfs.rs`),
//! and the host compiles the same code for fuzzing (`fuzz/fuzz_targets/paths.rs`).

use crate::{Node, NodeKind, NAME_MAX};

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
    /// `loop`: more than [`MAX_EXPANSIONS`] links followed in one path.
    Loop,
}

/// The most symbolic links one resolution follows: a host's confinement
/// on Linux (wasmtime's, through cap-std) gives up with `loop` past this
/// many, as the kernel does (`MAXSYMLINKS`). `crates/layout/tests/memfs.rs` checks a
/// chain of links against the host.
pub const MAX_EXPANSIONS: u32 = 40;

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

/// The one name a host's `stat-at` and `metadata-hash-at` look up, without
/// following symlinks, for a path that is that name followed by `/` and
/// `.` components (`a.txt/`, `a.txt/.`, `a.txt//./`): cap-std, under
/// wasmtime, stats a path whose only component is a name directly, and
/// drops trailing `/` and `.` when it counts components, so such a path
/// finds a file where a walk says `not-directory`. Following symlinks, the
/// same path is opened and is `not-directory` (`tests/memfs/*/trailing-slash.txt`
/// compares both with the host).
pub fn stat_retry(path: &str) -> Option<&str> {
    let mut base = path;
    while let Some(b) = base.strip_suffix('/').or_else(|| base.strip_suffix("/.")) {
        base = b;
    }
    (!base.is_empty() && !base.contains('/') && base != path).then_some(base)
}

/// Queues the components of `path` (a path, or a link's target) on
/// `parts`, the first on top; a trailing slash becomes a final `.`.
fn push_components<'s>(parts: &mut alloc::vec::Vec<&'s str>, path: &'s str) {
    if path.ends_with('/') {
        parts.push(".");
    }
    parts.extend(path.rsplit('/').filter(|p| !p.is_empty()));
}

/// The checks of a link's target before it is followed: an absolute target
/// is `not-permitted` (a host's confinement never follows one), an empty
/// one names nothing.
fn check_target(target: &str) -> Result<(), PathError> {
    if target.starts_with('/') {
        return Err(PathError::NotPermitted);
    }
    if target.is_empty() {
        return Err(PathError::NoEntry);
    }
    Ok(())
}

/// The answer to `..` climbing above the descriptor's directory after
/// `expansions` links: `not-permitted`, unless the links are more than
/// half of [`MAX_EXPANSIONS`]. Linux (`openat2` beneath a directory, which
/// a host's confinement uses) walks such a path twice, the fast walk
/// giving up at the escape and the second walk counting the same links
/// again, so it answers `loop` once twice the links pass the limit
/// (`tests/memfs/embedded/links.txt`: 20 links then `..` is refused, 21
/// a loop).
fn escape(expansions: u32) -> PathError {
    match expansions * 2 > MAX_EXPANSIONS {
        true => PathError::Loop,
        false => PathError::NotPermitted,
    }
}

/// Whether a node is a symbolic link.
pub fn is_link(node: &Node) -> bool {
    matches!(node.kind, NodeKind::Link(_))
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

    /// Resolves `path` from directory `from`, the node a descriptor is
    /// open on, following a final symbolic link; returns the node reached.
    /// See [`resolve_at`](Self::resolve_at).
    pub fn resolve(&self, from: u32, path: &str) -> Result<u32, PathError> {
        self.resolve_at(from, path, true)
    }

    /// Resolves `path` from directory `from`; returns the node reached,
    /// which is a link only if the last component names one and `follow`
    /// is false.
    ///
    /// As a host does, component by component: every component is looked
    /// up in a directory (`a.txt/..` and `a.txt/.` are `not-directory`),
    /// empty components are skipped, a component longer than [`NAME_MAX`]
    /// bytes is `name-too-long` when the walk reaches it, and a trailing
    /// slash asks for a directory (it is read as a final `.`, so a link
    /// before it is followed). The walk keeps its own stack of the
    /// directories it entered, starting at `from`: `..` pops it, and `..`
    /// at its bottom (a path leaving the descriptor's directory, however
    /// spelled, through links or not) is `not-permitted`, as a host
    /// answers. A link met before the last component, or at the last with
    /// `follow`, is replaced by its target's components, read from the
    /// link's directory on the same stack; an absolute target is
    /// `not-permitted`, an empty one `no-entry`, and more than
    /// [`MAX_EXPANSIONS`] links `loop`.
    pub fn resolve_at<'s>(&self, from: u32, path: &'s str, follow: bool) -> Result<u32, PathError>
    where
        'a: 's,
    {
        check(path)?;
        self.walk(from, path, follow)
    }

    /// [`resolve_at`](Self::resolve_at) as `readlink-at` resolves, not
    /// following the last link: a host opens the parent path first (a NUL
    /// in it is `invalid` at once), then reads the last name from there, so
    /// a NUL in the last name is `invalid` only once the parents are
    /// walked (`empty/a.txt\0`, through the file `empty`, is
    /// `not-directory`); an absolute path is `not-permitted` after the
    /// parent's NUL check, before the last name's.
    pub fn resolve_link<'s>(&self, from: u32, path: &'s str) -> Result<u32, PathError>
    where
        'a: 's,
    {
        // With a trailing slash, the last name is a final `.`, and the
        // whole path is its parent.
        let parent = match path.ends_with('/') {
            true => path,
            false => path.rsplit_once('/').map_or("", |(p, _)| p),
        };
        if path.is_empty() {
            return Err(PathError::NoEntry);
        }
        if parent.contains('\0') {
            return Err(PathError::Invalid);
        }
        if path.starts_with('/') {
            return Err(PathError::NotPermitted);
        }
        self.walk(from, path, false)
    }

    /// The walk of [`resolve_at`](Self::resolve_at), after the checks of
    /// the whole path; a component holding a NUL is `invalid`.
    fn walk<'s>(&self, from: u32, path: &'s str, follow: bool) -> Result<u32, PathError>
    where
        'a: 's,
    {
        let mut stack = alloc::vec![from];
        let mut parts = alloc::vec::Vec::new();
        push_components(&mut parts, path);
        let mut expansions = 0;
        while let Some(part) = parts.pop() {
            let here = stack.last().copied().unwrap_or(from);
            if !is_dir(&(self.node)(here)) {
                return Err(PathError::NotDirectory);
            }
            match part {
                "." => {}
                ".." if stack.len() == 1 => return Err(escape(expansions)),
                ".." => {
                    stack.pop();
                }
                name if name.len() > NAME_MAX => return Err(PathError::NameTooLong),
                name if name.contains('\0') => return Err(PathError::Invalid),
                name => {
                    let child = self.child(here, name)?;
                    match (self.node)(child).kind {
                        NodeKind::Link(target) if follow || !parts.is_empty() => {
                            expansions += 1;
                            if expansions > MAX_EXPANSIONS {
                                return Err(PathError::Loop);
                            }
                            check_target(target)?;
                            push_components(&mut parts, target);
                        }
                        _ => stack.push(child),
                    }
                }
            }
        }
        Ok(stack.last().copied().unwrap_or(from))
    }

    /// [`resolve_at`](Self::resolve_at) as `stat-at` and
    /// `metadata-hash-at` resolve: without `follow` (no `symlink-follow`
    /// flag), a path named as in [`stat_retry`] is its one name, looked up
    /// without following (a file, or a link, even to a directory).
    pub fn resolve_for_stat(&self, from: u32, path: &str, follow: bool) -> Result<u32, PathError> {
        match stat_retry(path) {
            Some(base) if !follow => self.resolve_at(from, base, false),
            _ => self.resolve_at(from, path, follow),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `/`: `a.txt`, `d/` holding the file `e` and the empty directory `s`.
    fn tree() -> [Node<'static>; 5] {
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
                kind: NodeKind::Dir { first: 3, count: 2 },
            },
            Node {
                name: "e",
                kind: file,
            },
            Node {
                name: "s",
                kind: NodeKind::Dir { first: 5, count: 0 },
            },
        ]
    }

    #[test]
    fn walks_component_by_component() {
        let nodes = tree();
        let walk = Walk {
            node: |i: u32| nodes[i as usize],
        };
        let at = |from: u32, path| walk.resolve(from, path);
        assert_eq!(at(0, "d//e"), Ok(3));
        assert_eq!(at(0, "./d/."), Ok(2));
        assert_eq!(at(0, "d/.."), Ok(0));
        assert_eq!(at(0, "a.txt/.."), Err(PathError::NotDirectory));
        assert_eq!(at(0, "a.txt/"), Err(PathError::NotDirectory));
        assert_eq!(at(0, "d/../.."), Err(PathError::NotPermitted));
        assert_eq!(at(0, "/d"), Err(PathError::NotPermitted));
        assert_eq!(at(0, ""), Err(PathError::NoEntry));
        assert_eq!(at(0, "d/f"), Err(PathError::NoEntry));
        assert_eq!(at(0, "d\0"), Err(PathError::Invalid));
        let long = "x".repeat(NAME_MAX + 1);
        assert_eq!(at(0, &long), Err(PathError::NameTooLong));
        // The walk reaches `a.txt` before the long name: not-directory.
        assert_eq!(
            at(0, &alloc::format!("a.txt/{long}")),
            Err(PathError::NotDirectory)
        );
    }

    /// A walk from a subdirectory never leaves it, however the path is
    /// spelled; `..` that stays beneath it is fine.
    #[test]
    fn never_leaves_the_directory_it_starts_from() {
        let nodes = tree();
        let walk = Walk {
            node: |i: u32| nodes[i as usize],
        };
        let at = |path| walk.resolve(2, path);
        for path in [
            "..",
            "../a.txt",
            "../d",
            "./..",
            "s/../..",
            "s/../../d/e",
            "s/./../..",
            "../",
        ] {
            assert_eq!(at(path), Err(PathError::NotPermitted), "{path}");
        }
        assert_eq!(at("e"), Ok(3));
        assert_eq!(at("."), Ok(2));
        assert_eq!(at("s/.."), Ok(2));
        assert_eq!(at("s/../e"), Ok(3));
        // Through a file first: not-directory, as anywhere.
        assert_eq!(at("e/.."), Err(PathError::NotDirectory));
    }

    #[test]
    fn stat_finds_a_file_named_with_a_slash_unless_following() {
        let nodes = tree();
        let walk = Walk {
            node: |i: u32| nodes[i as usize],
        };
        let stat = |from, path, follow| walk.resolve_for_stat(from, path, follow);
        for path in ["a.txt/", "a.txt/.", "a.txt//./"] {
            assert_eq!(stat(0, path, false), Ok(1), "{path}");
            assert_eq!(stat(0, path, true), Err(PathError::NotDirectory), "{path}");
        }
        assert_eq!(stat(2, "e/", false), Ok(3));
        // More than one name: not-directory either way.
        assert_eq!(stat(0, "d/e/", false), Err(PathError::NotDirectory));
        assert_eq!(stat(0, "./a.txt/", false), Err(PathError::NotDirectory));
    }

    /// `/`: `a.txt`, `d/` (holding `e`, `up` → `../a.txt`, `self` → `.`),
    /// `ld` → `d`, `lf` → `a.txt`, `loop` → `loop`, `abs` → `/a.txt`,
    /// `dang` → `nope`, `trail` → `d/`, `chain` → `ld/self/up`.
    fn linked() -> alloc::vec::Vec<Node<'static>> {
        let file = NodeKind::File {
            segment: 0,
            offset: 0,
            len: 0,
        };
        let node = |name, kind| Node { name, kind };
        alloc::vec![
            node("", NodeKind::Dir { first: 1, count: 9 }),
            node("a.txt", file),
            node("abs", NodeKind::Link("/a.txt")),
            node("chain", NodeKind::Link("ld/self/up")),
            node(
                "d",
                NodeKind::Dir {
                    first: 10,
                    count: 3
                }
            ),
            node("dang", NodeKind::Link("nope")),
            node("ld", NodeKind::Link("d")),
            node("lf", NodeKind::Link("a.txt")),
            node("loop", NodeKind::Link("loop")),
            node("trail", NodeKind::Link("d/")),
            node("e", file),
            node("self", NodeKind::Link(".")),
            node("up", NodeKind::Link("../a.txt")),
        ]
    }

    #[test]
    fn follows_links_as_a_host_does() {
        let nodes = linked();
        let walk = Walk {
            node: |i: u32| nodes[i as usize],
        };
        let at = |from, path, follow| walk.resolve_at(from, path, follow);
        // The last component only with follow, or a trailing slash.
        assert_eq!(at(0, "lf", false), Ok(7));
        assert_eq!(at(0, "lf", true), Ok(1));
        assert_eq!(at(0, "ld/", false), Ok(4));
        assert_eq!(at(0, "lf/", false), Err(PathError::NotDirectory));
        // Every other component always.
        assert_eq!(at(0, "ld/e", false), Ok(10));
        assert_eq!(at(0, "ld/self/self/e", false), Ok(10));
        assert_eq!(at(0, "ld/..", false), Ok(0));
        assert_eq!(at(0, "chain", true), Ok(1));
        assert_eq!(at(0, "trail", true), Ok(4));
        // Dangling, looping, absolute.
        assert_eq!(at(0, "dang", false), Ok(5));
        assert_eq!(at(0, "dang", true), Err(PathError::NoEntry));
        assert_eq!(at(0, "loop", true), Err(PathError::Loop));
        assert_eq!(at(0, "loop/x", false), Err(PathError::Loop));
        assert_eq!(at(0, "abs", true), Err(PathError::NotPermitted));
        // From `d`, `up` climbs out of the descriptor's directory.
        assert_eq!(at(4, "up", false), Ok(12));
        assert_eq!(at(4, "up", true), Err(PathError::NotPermitted));
        assert_eq!(at(4, "self/e", true), Ok(10));
        assert_eq!(at(4, "self/self/..", true), Err(PathError::NotPermitted));
        // readlink's resolution: a NUL in the last name only once the
        // parents are walked.
        assert_eq!(walk.resolve_link(0, "lf"), Ok(7));
        assert_eq!(
            walk.resolve_link(0, "a.txt/x\0"),
            Err(PathError::NotDirectory)
        );
        assert_eq!(walk.resolve_link(0, "d/x\0"), Err(PathError::Invalid));
        assert_eq!(walk.resolve_link(0, "nope/x\0/"), Err(PathError::Invalid));
        assert_eq!(walk.resolve_link(0, "/d/x\0"), Err(PathError::NotPermitted));
        assert_eq!(walk.resolve_link(0, "/d\0/x"), Err(PathError::Invalid));
        // stat without follow finds the link by its one name.
        assert_eq!(walk.resolve_for_stat(0, "ld/", false), Ok(6));
        assert_eq!(walk.resolve_for_stat(0, "ld/", true), Ok(4));
    }

    /// A chain of exactly [`MAX_EXPANSIONS`] links resolves; one more is a
    /// loop.
    #[test]
    fn gives_up_past_forty_links() {
        let names: alloc::vec::Vec<alloc::string::String> = (0..=MAX_EXPANSIONS + 1)
            .map(|i| alloc::format!("c{i:02}"))
            .collect();
        let mut nodes = alloc::vec![Node {
            name: "",
            kind: NodeKind::Dir {
                first: 1,
                count: MAX_EXPANSIONS + 2
            },
        }];
        for (i, name) in names.iter().enumerate() {
            let kind = match names.get(i + 1) {
                Some(next) => NodeKind::Link(next.as_str()),
                None => NodeKind::File {
                    segment: 0,
                    offset: 0,
                    len: 0,
                },
            };
            nodes.push(Node {
                name: name.as_str(),
                kind,
            });
        }
        let walk = Walk {
            node: |i: u32| nodes[i as usize],
        };
        let last = MAX_EXPANSIONS + 2;
        assert_eq!(walk.resolve_at(0, "c01", true), Ok(last));
        assert_eq!(walk.resolve_at(0, "c00", true), Err(PathError::Loop));
        // Climbing out after 20 links is refused; after 21, a loop.
        assert_eq!(escape(20), PathError::NotPermitted);
        assert_eq!(escape(21), PathError::Loop);
    }
}
