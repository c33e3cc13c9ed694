//! Writable in-memory filesystems: `--tmpfs` (empty at start) and
//! `--overlay` (an embedded directory with a writable layer above it). They
//! live in the instance's memory and never touch the host.
//!
//! Nodes sit in one slab. A directory of an overlay keeps its embedded
//! (lower) directory until it is first listed or searched; then its
//! entries are copied into the layer, files as references to their
//! embedded bytes, which are copied up on the first change. A deleted entry
//! is simply gone from its directory, so it hides the embedded one.
//!
//! Paths are resolved component by component, as a host does: every
//! component before the last must be a directory (`a.txt/..` is
//! `not-directory`), `..` never climbs above the descriptor the path is
//! resolved from (a walk keeps its own stack, and never follows parent
//! links), and a trailing slash asks for a directory.
//!
//! A directory removed while a descriptor holds it is detached (its parent
//! is itself) and takes no new entries, as a host's removed directory;
//! no id kept anywhere refers to a freed node, which the slab may reuse.
//!
//! Each filesystem has a size limit that counts the bytes of the files in
//! its layer and a fixed cost per created entry; a change that would pass
//! it fails with `insufficient-space` and changes nothing. A node's memory
//! is freed when it is unlinked and no descriptor or stream holds it.
//!
//! Every entry point goes through the adapter's `memfs` hook (like `net`,
//! `rules.rs`): the library binds it to [`wasi_virt_memfs`] only when the
//! configuration has an in-memory preopen, so that no other output carries
//! this code.

use crate::exports::wasi::clocks::wall_clock::Datetime;
use crate::exports::wasi::filesystem::types::{
    DescriptorStat, DescriptorType, ErrorCode, NewTimestamp,
};
use crate::state::config;
use crate::vfs;
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;
use wasi_virt_layout::hooks;
use wasi_virt_layout::{NodeKind, NAME_MAX};

/// A node's index in the slab.
pub type Id = u32;

/// What an entry costs against the limit besides its name and bytes.
const ENTRY_COST: u64 = 64;

/// The most symlinks one resolution follows; one more is `loop`. Linux's
/// limit (`MAXSYMLINKS`), which the host's `openat2` applies, and the one
/// cap-std applies when it resolves by hand.
const MAX_SYMLINK_EXPANSIONS: u32 = 40;

/// The longest symlink target the host takes (`PATH_MAX` less its NUL).
const TARGET_MAX: usize = 4095;

/// What [`Store::trace`] reached: the walk's stack, or the directory and
/// name where the missing last component would be.
type Traced = Result<Vec<Id>, (Id, String)>;

/// The components of `path`, last first (so that a walk pops them in
/// order); a trailing slash is a last `.`, which asks for a directory and
/// makes the component before it followed if it is a symlink.
fn components(path: &str) -> Vec<String> {
    let mut parts: Vec<String> = path
        .split('/')
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect();
    if path.ends_with('/') {
        parts.push(".".into());
    }
    parts.reverse();
    parts
}

struct Node {
    /// The directory holding a directory; a root, a directory no directory
    /// names any more, and every file and symlink (which hard links may put
    /// in several directories) hold themselves, so that no id in the slab
    /// ever refers to a freed (and perhaps reused) node, and a climb of
    /// parents ends. Only `is_within` follows it: paths never do.
    parent: Id,
    /// Which filesystem (memory preopen) it belongs to.
    fs: u32,
    kind: Kind,
    atime: Datetime,
    mtime: Datetime,
    ctime: Datetime,
    /// Descriptors and streams holding it.
    holds: u32,
    /// How many directory entries name it (hard links): at most one for
    /// a directory.
    links: u32,
    /// What it is charged against its filesystem's limit.
    charged: u64,
}

enum Kind {
    Dir {
        entries: BTreeMap<String, Id>,
        /// The embedded directory not yet copied into the layer.
        lower: Option<u32>,
    },
    File(Data),
    /// A symbolic link: its target, as given to `symlink-at`.
    Link(String),
}

enum Data {
    /// The bytes of embedded file `node`, not yet copied up.
    Lower {
        node: u32,
        len: u64,
    },
    Owned(Vec<u8>),
}

impl Data {
    fn len(&self) -> u64 {
        match self {
            Data::Lower { len, .. } => *len,
            Data::Owned(bytes) => bytes.len() as u64,
        }
    }
}

struct Fs {
    root: Id,
    used: u64,
    limit: u64,
}

#[derive(Default)]
struct Store {
    nodes: Vec<Option<Node>>,
    free: Vec<Id>,
    fss: Vec<Fs>,
}

struct Global(RefCell<Option<Store>>);

// SAFETY: the adapter is single-threaded wasm.
unsafe impl Sync for Global {}

static STORE: Global = Global(RefCell::new(None));

/// Runs `f` on the store, made from the configuration on first use.
fn with<T>(f: impl FnOnce(&mut Store) -> T) -> T {
    let mut slot = STORE.0.borrow_mut();
    let store = slot.get_or_insert_with(Store::new);
    f(store)
}

impl Store {
    fn new() -> Store {
        let mut store = Store::default();
        for (i, memory) in config().fs.memory.iter().enumerate() {
            let now = crate::clocks::file_time();
            let root = store.add(Node {
                parent: 0,
                fs: i as u32,
                kind: Kind::Dir {
                    entries: BTreeMap::new(),
                    lower: memory.lower,
                },
                atime: now,
                mtime: now,
                ctime: now,
                holds: 0,
                links: 1,
                charged: 0,
            });
            store.node_mut(root).parent = root;
            store.fss.push(Fs {
                root,
                used: 0,
                limit: memory.limit,
            });
        }
        store
    }

    fn add(&mut self, node: Node) -> Id {
        match self.free.pop() {
            Some(id) => {
                self.nodes[id as usize] = Some(node);
                id
            }
            None => {
                self.nodes.push(Some(node));
                (self.nodes.len() - 1) as Id
            }
        }
    }

    fn node(&self, id: Id) -> &Node {
        self.nodes[id as usize].as_ref().expect("a live node")
    }

    fn node_mut(&mut self, id: Id) -> &mut Node {
        self.nodes[id as usize].as_mut().expect("a live node")
    }

    fn is_dir(&self, id: Id) -> bool {
        matches!(self.node(id).kind, Kind::Dir { .. })
    }

    /// Charges `bytes` more against `id`'s filesystem, or fails with
    /// `insufficient-space` and charges nothing.
    fn charge(&mut self, id: Id, bytes: u64) -> Result<(), ErrorCode> {
        let index = self.node(id).fs as usize;
        let fs = &mut self.fss[index];
        match fs.used.checked_add(bytes) {
            Some(used) if used <= fs.limit => {
                fs.used = used;
                self.node_mut(id).charged += bytes;
                Ok(())
            }
            _ => Err(ErrorCode::InsufficientSpace),
        }
    }

    fn refund(&mut self, id: Id, bytes: u64) {
        let node = self.node_mut(id);
        let bytes = bytes.min(node.charged);
        node.charged -= bytes;
        let fs = node.fs as usize;
        self.fss[fs].used -= bytes;
    }

    /// Copies an overlay directory's embedded entries into the layer.
    fn materialize(&mut self, dir: Id) {
        let lower = match &mut self.node_mut(dir).kind {
            Kind::Dir { lower, .. } => lower.take(),
            Kind::File(_) | Kind::Link(_) => None,
        };
        let Some(lower) = lower else {
            return;
        };
        let NodeKind::Dir { first, count } = vfs::node(lower).kind else {
            return;
        };
        let (fs, time) = (self.node(dir).fs, self.node(dir).mtime);
        for child in first..first + count {
            let embedded = vfs::node(child);
            let kind = match embedded.kind {
                NodeKind::Dir { .. } => Kind::Dir {
                    entries: BTreeMap::new(),
                    lower: Some(child),
                },
                NodeKind::File { len, .. } => Kind::File(Data::Lower {
                    node: child,
                    len: u64::from(len),
                }),
                // An embedded symlink is one in the layer: its target is
                // resolved from here like any other.
                NodeKind::Link(target) => Kind::Link(target.to_string()),
                NodeKind::RuntimeFile(_) => continue,
            };
            let id = self.add(Node {
                parent: dir,
                fs,
                kind,
                atime: time,
                mtime: time,
                ctime: time,
                holds: 0,
                links: 1,
                charged: 0,
            });
            if !self.is_dir(id) {
                self.node_mut(id).parent = id;
            }
            if let Kind::Dir { entries, .. } = &mut self.node_mut(dir).kind {
                entries.insert(embedded.name.to_string(), id);
            }
        }
    }

    fn lookup(&mut self, dir: Id, name: &str) -> Option<Id> {
        self.materialize(dir);
        match &self.node(dir).kind {
            Kind::Dir { entries, .. } => entries.get(name).copied(),
            Kind::File(_) | Kind::Link(_) => None,
        }
    }

    /// The target of symlink `id`, if it is one.
    fn link_target(&self, id: Id) -> Option<&str> {
        match &self.node(id).kind {
            Kind::Link(target) => Some(target),
            _ => None,
        }
    }

    /// Walks the components of `path` from directory `from`; the node
    /// reached. A trailing slash asks for a directory. The last component
    /// is followed if it is a symlink only when `follow` is set (or the
    /// path ends with a slash).
    fn resolve(&mut self, from: Id, path: &str, follow: bool) -> Result<Id, ErrorCode> {
        let stack = self.walk(from, path, follow)?;
        Ok(stack[stack.len() - 1])
    }

    /// [`resolve`](Self::resolve), returning the walk's stack: the
    /// directories it entered, `from` at the bottom, and the node reached
    /// on top. `..` pops it and never `from` itself (not-permitted), so no
    /// path leaves the directory it starts from, as on a host; parent links
    /// are never followed.
    fn walk(&mut self, from: Id, path: &str, follow: bool) -> Result<Vec<Id>, ErrorCode> {
        match self.trace(from, path, follow)? {
            Ok(stack) => Ok(stack),
            Err(_) => Err(ErrorCode::NoEntry),
        }
    }

    /// [`walk`](Self::walk), telling a missing last name apart: `Err((dir,
    /// name))` when everything but the last name (after symlinks, so the
    /// target of a dangling one) was found, where a creation would put it.
    ///
    /// A symlink met on the way is replaced by its target's components,
    /// resolved on the same stack from the link's directory, as cap-std
    /// does: `..` in a target climbs that stack and never below `from`,
    /// an absolute target is `not-permitted` (an escape), and more than
    /// [`MAX_SYMLINK_EXPANSIONS`] links in one resolution is `loop`.
    fn trace(&mut self, from: Id, path: &str, follow: bool) -> Result<Traced, ErrorCode> {
        vfs::check_path(path)?;
        let mut stack = alloc::vec![from];
        let mut pending = components(path);
        let mut expansions = 0;
        while let Some(part) = pending.pop() {
            let last = pending.is_empty();
            match self.step(&mut stack, &part) {
                Err(ErrorCode::NoEntry) if last && part != ".." => {
                    return Ok(Err((stack[stack.len() - 1], part)));
                }
                other => other?,
            }
            let top = stack[stack.len() - 1];
            let Some(target) = self.link_target(top) else {
                continue;
            };
            if last && !follow {
                break;
            }
            expansions += 1;
            if expansions > MAX_SYMLINK_EXPANSIONS {
                return Err(ErrorCode::Loop);
            }
            if target.starts_with('/') {
                return Err(ErrorCode::NotPermitted);
            }
            pending.extend(components(target));
            stack.pop();
        }
        Ok(Ok(stack))
    }

    /// One component from the directory on top of `stack`.
    fn step(&mut self, stack: &mut Vec<Id>, part: &str) -> Result<(), ErrorCode> {
        let here = stack[stack.len() - 1];
        if !self.is_dir(here) {
            return Err(ErrorCode::NotDirectory);
        }
        match part {
            "." => {}
            ".." if stack.len() == 1 => return Err(ErrorCode::NotPermitted),
            ".." => {
                stack.pop();
            }
            name if name.len() > NAME_MAX => return Err(ErrorCode::NameTooLong),
            name => stack.push(self.lookup(here, name).ok_or(ErrorCode::NoEntry)?),
        }
        Ok(())
    }

    /// The directory that would hold `path`'s last component, and that
    /// component: `None` when the path ends in `.` or `..` (a `..` that
    /// leaves `from` is `not-permitted`, as anywhere). A NUL in the last
    /// component is `invalid` once the directory is found, as the host
    /// finds it.
    fn parent<'p>(&mut self, from: Id, path: &'p str) -> Result<(Id, Option<&'p str>), ErrorCode> {
        let (dir, name) = self.parent_unnamed(from, path)?;
        Ok((dir, named(name)?))
    }

    /// The directory and last name of a path that `symlink-at` and
    /// `link-at` take, as cap-std splits it: a path ending with a slash
    /// names a directory (followed, which must exist) and no last name.
    fn new_parent<'p>(
        &mut self,
        from: Id,
        path: &'p str,
    ) -> Result<(Id, Option<&'p str>), ErrorCode> {
        if !path.ends_with('/') {
            return self.parent_unnamed(from, path);
        }
        self.parent_unnamed(from, path)?;
        let dir = self.resolve(from, path, true)?;
        Ok((dir, None))
    }

    /// [`parent`](Self::parent) without the check of the last component,
    /// for `rename`, which the host finds both directories for first.
    fn parent_unnamed<'p>(
        &mut self,
        from: Id,
        path: &'p str,
    ) -> Result<(Id, Option<&'p str>), ErrorCode> {
        if path.is_empty() {
            return Err(ErrorCode::NoEntry);
        }
        if path.starts_with('/') {
            return Err(ErrorCode::NotPermitted);
        }
        let trimmed = path.trim_end_matches('/');
        let (dir_path, last) = match trimmed.rfind('/') {
            Some(i) => (&trimmed[..i + 1], &trimmed[i + 1..]),
            None => ("", trimmed),
        };
        let dir_path = if dir_path.is_empty() { "." } else { dir_path };
        let stack = self.walk(from, dir_path, true)?;
        let dir = stack[stack.len() - 1];
        if !self.is_dir(dir) {
            return Err(ErrorCode::NotDirectory);
        }
        match last {
            "" | "." => Ok((dir, None)),
            ".." if stack.len() == 1 => Err(ErrorCode::NotPermitted),
            ".." => Ok((dir, None)),
            name if name.len() > NAME_MAX => Err(ErrorCode::NameTooLong),
            name => Ok((dir, Some(name))),
        }
    }

    /// Whether `node` is `ancestor` or lies below it.
    ///
    /// Parents form a tree whose tops hold themselves (roots and detached
    /// nodes), so the climb ends; it is bounded by the slab's size all the
    /// same, and a climb that did not end answers `true`, which makes
    /// `rename` refuse rather than loop.
    fn is_within(&self, node: Id, ancestor: Id) -> bool {
        let mut up = node;
        for _ in 0..=self.nodes.len() {
            if up == ancestor {
                return true;
            }
            let parent = self.node(up).parent;
            if parent == up {
                return false;
            }
            up = parent;
        }
        true
    }

    fn touch_dir(&mut self, dir: Id) {
        let now = crate::clocks::file_time();
        let node = self.node_mut(dir);
        node.mtime = now;
        node.ctime = now;
    }

    /// A directory that no directory names any more (removed while a
    /// descriptor held it) takes no new entries: `no-entry`, as the host's
    /// kernel answers.
    fn live(&self, dir: Id) -> Result<Id, ErrorCode> {
        match self.node(dir).links {
            0 => Err(ErrorCode::NoEntry),
            _ => Ok(dir),
        }
    }

    /// A new node `kind` named `name` in `dir`, charged its entry and the
    /// target of a symlink.
    fn create(&mut self, dir: Id, name: &str, kind: Kind) -> Result<Id, ErrorCode> {
        self.live(dir)?;
        let fs = self.node(dir).fs;
        let target = match &kind {
            Kind::Link(target) => target.len() as u64,
            _ => 0,
        };
        let cost = ENTRY_COST + name.len() as u64 + target;
        let fs_state = &self.fss[fs as usize];
        if fs_state
            .used
            .checked_add(cost)
            .is_none_or(|u| u > fs_state.limit)
        {
            return Err(ErrorCode::InsufficientSpace);
        }
        let now = crate::clocks::file_time();
        let id = self.add(Node {
            parent: dir,
            fs,
            kind,
            atime: now,
            mtime: now,
            ctime: now,
            holds: 0,
            links: 1,
            charged: 0,
        });
        self.charge(id, cost)?;
        if self.is_dir(id) {
            self.node_mut(id).parent = dir;
        } else {
            self.node_mut(id).parent = id;
        }
        if let Kind::Dir { entries, .. } = &mut self.node_mut(dir).kind {
            entries.insert(name.to_string(), id);
        }
        self.touch_dir(dir);
        Ok(id)
    }

    /// Names file or symlink `id` `name` in `dir` too (a hard link),
    /// charging the new entry.
    fn link(&mut self, dir: Id, name: &str, id: Id) -> Result<(), ErrorCode> {
        self.live(dir)?;
        self.charge(id, ENTRY_COST + name.len() as u64)?;
        if let Kind::Dir { entries, .. } = &mut self.node_mut(dir).kind {
            entries.insert(name.to_string(), id);
        }
        self.touch_dir(dir);
        let node = self.node_mut(id);
        node.links += 1;
        node.ctime = crate::clocks::file_time();
        Ok(())
    }

    /// Takes `name` out of `dir`; frees the node (and, for a directory,
    /// nothing else: only empty directories are removed) unless held.
    fn unlink(&mut self, dir: Id, name: &str) {
        let id = match &mut self.node_mut(dir).kind {
            Kind::Dir { entries, .. } => entries.remove(name),
            Kind::File(_) | Kind::Link(_) => None,
        };
        self.touch_dir(dir);
        let Some(id) = id else {
            return;
        };
        let node = self.node_mut(id);
        node.links -= 1;
        node.parent = id;
        if node.links > 0 {
            // Another name still holds it: only this entry's cost goes.
            node.ctime = crate::clocks::file_time();
            self.refund(id, ENTRY_COST + name.len() as u64);
        } else {
            self.free_if_unused(id);
        }
    }

    fn free_if_unused(&mut self, id: Id) {
        let node = self.node(id);
        if node.links > 0 || node.holds > 0 {
            return;
        }
        let charged = node.charged;
        self.refund(id, charged);
        self.nodes[id as usize] = None;
        self.free.push(id);
    }

    /// The bytes of file `id`, copied up into the layer if still embedded.
    fn owned(&mut self, id: Id) -> Result<&mut Vec<u8>, ErrorCode> {
        let len = match &self.node(id).kind {
            Kind::File(Data::Lower { len, .. }) => Some(*len),
            Kind::File(Data::Owned(_)) => None,
            Kind::Dir { .. } => return Err(ErrorCode::IsDirectory),
            Kind::Link(_) => return Err(ErrorCode::Invalid),
        };
        if let Some(len) = len {
            self.charge(id, len)?;
            let Kind::File(Data::Lower { node, .. }) = self.node(id).kind else {
                unreachable!()
            };
            let (bytes, _) = vfs::read(node, len, 0)?;
            self.node_mut(id).kind = Kind::File(Data::Owned(bytes));
        }
        match &mut self.node_mut(id).kind {
            Kind::File(Data::Owned(bytes)) => Ok(bytes),
            _ => unreachable!(),
        }
    }

    /// Makes file `id` `size` bytes long, charging or refunding the change.
    fn resize(&mut self, id: Id, size: u64) -> Result<(), ErrorCode> {
        let old = match &self.node(id).kind {
            Kind::File(data) => data.len(),
            Kind::Dir { .. } => return Err(ErrorCode::IsDirectory),
            Kind::Link(_) => return Err(ErrorCode::Invalid),
        };
        let size_usize = usize::try_from(size).map_err(|_| ErrorCode::InsufficientSpace)?;
        self.owned(id)?;
        if size > old {
            self.charge(id, size - old)?;
        } else {
            self.refund(id, old - size);
        }
        self.owned(id)?.resize(size_usize, 0);
        Ok(())
    }

    fn modified(&mut self, id: Id) {
        let now = crate::clocks::file_time();
        let node = self.node_mut(id);
        node.mtime = now;
        node.ctime = now;
    }
}

/// A last component holding a NUL is `invalid`.
fn named(name: Option<&str>) -> Result<Option<&str>, ErrorCode> {
    match name {
        Some(n) if n.contains('\0') => Err(ErrorCode::Invalid),
        other => Ok(other),
    }
}

/// The root of memory preopen `index`.
fn do_root(index: usize) -> Id {
    with(|s| s.fss[index].root)
}

/// Another descriptor or stream holds `id`.
fn do_hold(id: Id) {
    with(|s| s.node_mut(id).holds += 1);
}

/// A descriptor or stream let go of `id`.
fn do_release(id: Id) {
    with(|s| {
        s.node_mut(id).holds -= 1;
        s.free_if_unused(id);
    });
}

fn do_kind(id: Id) -> DescriptorType {
    with(|s| s.kind_of(id))
}

impl Store {
    fn kind_of(&self, id: Id) -> DescriptorType {
        match self.node(id).kind {
            Kind::Dir { .. } => DescriptorType::Directory,
            Kind::File(_) => DescriptorType::RegularFile,
            Kind::Link(_) => DescriptorType::SymbolicLink,
        }
    }
}

fn do_stat(id: Id) -> DescriptorStat {
    with(|s| {
        let node = s.node(id);
        let (type_, size, links) = match &node.kind {
            // A directory's count differs between host file systems.
            Kind::Dir { .. } => (DescriptorType::Directory, 0, 1),
            Kind::File(data) => (DescriptorType::RegularFile, data.len(), node.links),
            Kind::Link(target) => (
                DescriptorType::SymbolicLink,
                target.len() as u64,
                node.links,
            ),
        };
        DescriptorStat {
            type_,
            link_count: u64::from(links),
            size,
            data_access_timestamp: Some(node.atime),
            data_modification_timestamp: Some(node.mtime),
            status_change_timestamp: Some(node.ctime),
        }
    })
}

fn do_resolve(from: Id, path: &str, follow: bool) -> Result<Id, ErrorCode> {
    with(|s| s.resolve(from, path, follow))
}

/// What `stat-at` and `metadata-hash-at` reach. Not following symlinks,
/// the host (cap-std) answers a single name followed by `/` or `/.` with
/// that name's file or symlink itself rather than `not-directory` or the
/// link's target ([`vfs::stat_retry`]); so does this.
fn do_stat_target(from: Id, path: &str, follow: bool) -> Result<Id, ErrorCode> {
    with(|s| {
        if let Some(base) = vfs::stat_retry(path).filter(|_| !follow) {
            match s.resolve(from, base, false) {
                Ok(id) if !s.is_dir(id) => return Ok(id),
                _ => {}
            }
        }
        s.resolve(from, path, follow)
    })
}

/// How `open-at` opens: the open flags, and whether the descriptor writes.
#[derive(Clone, Copy)]
pub struct Open {
    pub create: bool,
    pub exclusive: bool,
    pub truncate: bool,
    pub directory: bool,
    pub write: bool,
    /// Whether a symlink named last is followed (`symlink-follow`).
    pub follow: bool,
}

/// What `open-at` does in a memory filesystem: the node opened.
fn do_open(from: Id, path: &str, how: Open) -> Result<Id, ErrorCode> {
    let Open {
        create,
        exclusive,
        truncate,
        directory,
        write,
        follow,
    } = how;
    with(|s| {
        if create && path.ends_with('/') {
            s.parent(from, path)?;
            return Err(ErrorCode::IsDirectory);
        }
        // An exclusive creation never follows a symlink named last: it
        // exists, dangling or not (O_EXCL).
        let follow = follow && !(create && exclusive);
        let id = match s.trace(from, path, follow)? {
            Ok(stack) => stack[stack.len() - 1],
            // A missing name, or the missing target of a followed
            // symlink, is created where it would be.
            Err((dir, name)) if create => {
                let Some(name) = named(Some(&name))? else {
                    return Err(ErrorCode::Exist);
                };
                if directory {
                    return Err(ErrorCode::IsDirectory);
                }
                return s.create(dir, name, Kind::File(Data::Owned(Vec::new())));
            }
            Err(_) => return Err(ErrorCode::NoEntry),
        };
        if create && exclusive {
            return Err(ErrorCode::Exist);
        }
        // A symlink not followed cannot be opened: the host's `O_NOFOLLOW`
        // answers `loop`, a directory asked for or not.
        if s.link_target(id).is_some() {
            return Err(ErrorCode::Loop);
        }
        if s.is_dir(id) {
            if write || truncate {
                return Err(ErrorCode::IsDirectory);
            }
        } else if directory {
            return Err(ErrorCode::NotDirectory);
        } else if truncate {
            s.resize(id, 0)?;
            s.modified(id);
        }
        Ok(id)
    })
}

/// Up to `len` bytes of file `id` from `offset`, and whether that reached
/// the end.
fn do_read(id: Id, len: u64, offset: u64) -> Result<(Vec<u8>, bool), ErrorCode> {
    with(|s| match &s.node(id).kind {
        Kind::Dir { .. } => Err(ErrorCode::IsDirectory),
        Kind::Link(_) => Err(ErrorCode::Invalid),
        Kind::File(Data::Lower { node, .. }) => vfs::read(*node, len, offset),
        Kind::File(Data::Owned(bytes)) => {
            let size = bytes.len() as u64;
            let start = offset.min(size);
            let end = size.min(offset.saturating_add(len));
            let chunk = bytes[start as usize..end.max(start) as usize].to_vec();
            // As the host answers: the end is reported by a read that
            // returns nothing.
            let end = chunk.is_empty();
            Ok((chunk, end))
        }
    })
}

/// Writes `bytes` into file `id` at `offset` (or at its end, for
/// `append`), growing it as needed; all or nothing.
fn do_write(id: Id, bytes: &[u8], offset: Option<u64>) -> Result<u64, ErrorCode> {
    with(|s| {
        let old = match &s.node(id).kind {
            Kind::File(data) => data.len(),
            Kind::Dir { .. } => return Err(ErrorCode::IsDirectory),
            Kind::Link(_) => return Err(ErrorCode::Invalid),
        };
        let at = offset.unwrap_or(old);
        let end = at
            .checked_add(bytes.len() as u64)
            .ok_or(ErrorCode::InsufficientSpace)?;
        if bytes.is_empty() {
            return Ok(0);
        }
        if end > old {
            s.owned(id)?;
            s.charge(id, end - old)?;
        }
        let data = s.owned(id)?;
        let end = usize::try_from(end).map_err(|_| ErrorCode::InsufficientSpace)?;
        if end > data.len() {
            data.resize(end, 0);
        }
        data[at as usize..end].copy_from_slice(bytes);
        s.modified(id);
        Ok(bytes.len() as u64)
    })
}

fn do_set_size(id: Id, size: u64) -> Result<(), ErrorCode> {
    with(|s| {
        s.resize(id, size)?;
        s.modified(id);
        Ok(())
    })
}

fn do_set_times(id: Id, atime: NewTimestamp, mtime: NewTimestamp) {
    with(|s| {
        let now = crate::clocks::file_time();
        let pick = |t: NewTimestamp, old: Datetime| match t {
            NewTimestamp::NoChange => old,
            NewTimestamp::Now => now,
            NewTimestamp::Timestamp(t) => t,
        };
        let node = s.node_mut(id);
        node.atime = pick(atime, node.atime);
        node.mtime = pick(mtime, node.mtime);
        node.ctime = now;
    })
}

fn do_create_directory(from: Id, path: &str) -> Result<(), ErrorCode> {
    with(|s| {
        let (dir, name) = s.parent(from, path)?;
        let Some(name) = name else {
            return Err(ErrorCode::Exist);
        };
        if s.lookup(dir, name).is_some() {
            return Err(ErrorCode::Exist);
        }
        let kind = Kind::Dir {
            entries: BTreeMap::new(),
            lower: None,
        };
        s.create(dir, name, kind).map(|_| ())
    })
}

fn do_remove_directory(from: Id, path: &str) -> Result<(), ErrorCode> {
    with(|s| {
        let (dir, name) = s.parent(from, path)?;
        let Some(name) = name else {
            return Err(ErrorCode::Invalid);
        };
        let target = s.lookup(dir, name).ok_or(ErrorCode::NoEntry)?;
        // A symlink named with a trailing slash is followed, and what it
        // reaches is a directory so named (or `not-directory`).
        if path.ends_with('/') && s.link_target(target).is_some() {
            s.resolve(from, path, true)?;
            return Err(ErrorCode::Invalid);
        }
        if !s.is_dir(target) {
            return Err(ErrorCode::NotDirectory);
        }
        // The host refuses a directory named with a trailing slash.
        if path.ends_with('/') {
            return Err(ErrorCode::Invalid);
        }
        s.materialize(target);
        if let Kind::Dir { entries, .. } = &s.node(target).kind {
            if !entries.is_empty() {
                return Err(ErrorCode::NotEmpty);
            }
        }
        s.unlink(dir, name);
        Ok(())
    })
}

fn do_unlink_file(from: Id, path: &str) -> Result<(), ErrorCode> {
    with(|s| {
        // The name itself, a symlink (even to a directory) included,
        // unless a trailing slash has the host follow it.
        let slash = path.ends_with('/');
        let target = s.resolve(from, path.trim_end_matches('/'), slash)?;
        if s.is_dir(target) {
            return Err(ErrorCode::IsDirectory);
        }
        if path.ends_with('/') {
            return Err(ErrorCode::NotDirectory);
        }
        let (dir, Some(name)) = s.parent(from, path)? else {
            return Err(ErrorCode::IsDirectory);
        };
        s.unlink(dir, name);
        Ok(())
    })
}

/// `rename-at` within one memory filesystem, as POSIX `rename` does it.
fn do_rename(from: Id, old: &str, to: Id, new: &str) -> Result<(), ErrorCode> {
    with(|s| {
        if s.node(from).fs != s.node(to).fs {
            return Err(ErrorCode::CrossDevice);
        }
        let (old_dir, old_name) = s.parent_unnamed(from, old)?;
        let (new_dir, new_name) = s.parent_unnamed(to, new)?;
        let (old_name, new_name) = (named(old_name)?, named(new_name)?);
        let (Some(old_name), Some(new_name)) = (old_name, new_name) else {
            return Err(ErrorCode::Busy);
        };
        let source = s.lookup(old_dir, old_name).ok_or(ErrorCode::NoEntry)?;
        s.live(new_dir)?;
        let source_dir = s.is_dir(source);
        if !source_dir && (old.ends_with('/') || new.ends_with('/')) {
            return Err(ErrorCode::NotDirectory);
        }
        // A directory cannot move below itself.
        if source_dir && s.is_within(new_dir, source) {
            return Err(ErrorCode::Invalid);
        }
        if let Some(existing) = s.lookup(new_dir, new_name) {
            if existing == source {
                return Ok(());
            }
            // Onto a directory above the source: `not-empty`, as the
            // host's kernel answers before anything else.
            if s.is_within(old_dir, existing) {
                return Err(ErrorCode::NotEmpty);
            }
            match (source_dir, s.is_dir(existing)) {
                (false, true) => return Err(ErrorCode::IsDirectory),
                (true, false) => return Err(ErrorCode::NotDirectory),
                (true, true) => {
                    s.materialize(existing);
                    if let Kind::Dir { entries, .. } = &s.node(existing).kind {
                        if !entries.is_empty() {
                            return Err(ErrorCode::NotEmpty);
                        }
                    }
                }
                (false, false) => {}
            }
        }
        // The new name is charged like a new entry; the old one refunded.
        let grow = new_name.len().saturating_sub(old_name.len()) as u64;
        s.charge(source, grow)?;
        s.refund(source, old_name.len().saturating_sub(new_name.len()) as u64);
        if s.lookup(new_dir, new_name).is_some() {
            s.unlink(new_dir, new_name);
        }
        if let Kind::Dir { entries, .. } = &mut s.node_mut(old_dir).kind {
            entries.remove(old_name);
        }
        if let Kind::Dir { entries, .. } = &mut s.node_mut(new_dir).kind {
            entries.insert(new_name.to_string(), source);
        }
        if source_dir {
            s.node_mut(source).parent = new_dir;
        }
        s.node_mut(source).ctime = crate::clocks::file_time();
        s.touch_dir(old_dir);
        s.touch_dir(new_dir);
        Ok(())
    })
}

/// `symlink-at`: a symlink `path` whose target is `target`, stored as
/// given (dangling too), with the host's answers in its order: an absolute
/// target is `not-permitted` (cap-std refuses it before anything else, so
/// that no other program follows it out), then the new path's directory
/// ([`Store::new_parent`]), then the target (empty: `no-entry`, NUL:
/// `invalid`, past `PATH_MAX`: `name-too-long`), then the name (taken:
/// `exist`).
fn do_symlink(from: Id, target: &str, path: &str) -> Result<(), ErrorCode> {
    if target.starts_with('/') {
        return Err(ErrorCode::NotPermitted);
    }
    with(|s| {
        let (dir, name) = s.new_parent(from, path)?;
        if target.contains('\0') || named(name).is_err() {
            return Err(ErrorCode::Invalid);
        }
        if target.is_empty() {
            return Err(ErrorCode::NoEntry);
        }
        if target.len() > TARGET_MAX {
            return Err(ErrorCode::NameTooLong);
        }
        let Some(name) = name else {
            return Err(ErrorCode::Exist);
        };
        if s.lookup(dir, name).is_some() {
            return Err(ErrorCode::Exist);
        }
        s.create(dir, name, Kind::Link(target.to_string()))
            .map(|_| ())
    })
}

/// `readlink-at`: the target of the symlink `path` names (not followed),
/// `invalid` for anything else; an absolute target (only an overlay's
/// lower layer could hold one) is `not-permitted`, as cap-std hides it.
fn do_readlink(from: Id, path: &str) -> Result<String, ErrorCode> {
    with(|s| {
        let id = s.resolve(from, path, false)?;
        match s.link_target(id) {
            None => Err(ErrorCode::Invalid),
            Some(target) if target.starts_with('/') => Err(ErrorCode::NotPermitted),
            Some(target) => Ok(target.to_string()),
        }
    })
}

/// `link-at` without following: names `old` (a file or a symlink itself)
/// `new` too, in the host's order: both paths' directories
/// ([`Store::new_parent`]), a NUL in either name (`invalid`), the old
/// name (`no-entry`), the new one (`exist` when taken), another
/// filesystem (`cross-device`), a directory (`not-permitted`).
fn do_link(from: Id, old: &str, to: Id, new: &str) -> Result<(), ErrorCode> {
    with(|s| {
        let (old_dir, old_name) = s.new_parent(from, old)?;
        let (dir, name) = s.new_parent(to, new)?;
        let (old_name, name) = (named(old_name)?, named(name)?);
        let source = match old_name {
            Some(old_name) => s.lookup(old_dir, old_name).ok_or(ErrorCode::NoEntry)?,
            None => old_dir,
        };
        let Some(name) = name else {
            return Err(ErrorCode::Exist);
        };
        if s.lookup(dir, name).is_some() {
            return Err(ErrorCode::Exist);
        }
        if s.node(source).fs != s.node(dir).fs {
            return Err(ErrorCode::CrossDevice);
        }
        if s.is_dir(source) {
            return Err(ErrorCode::NotPermitted);
        }
        s.link(dir, name, source)
    })
}

/// The entries of directory `id`, in name order, as they are now.
fn do_entries(id: Id) -> Result<Vec<(String, DescriptorType)>, ErrorCode> {
    with(|s| {
        if !s.is_dir(id) {
            return Err(ErrorCode::NotDirectory);
        }
        s.materialize(id);
        let Kind::Dir { entries, .. } = &s.node(id).kind else {
            unreachable!()
        };
        let list: Vec<(String, Id)> = entries.iter().map(|(n, i)| (n.clone(), *i)).collect();
        Ok(list
            .into_iter()
            .map(|(name, child)| (name, s.kind_of(child)))
            .collect())
    })
}

/// One call into the in-memory filesystems, through the `memfs` hook.
enum Query<'a> {
    Root(usize),
    Hold(Id),
    Release(Id),
    Kind(Id),
    Stat(Id),
    Resolve(Id, &'a str, bool),
    StatTarget(Id, &'a str, bool),
    Open(Id, &'a str, Open),
    Read(Id, u64, u64),
    Write(Id, &'a [u8], Option<u64>),
    SetSize(Id, u64),
    SetTimes(Id, NewTimestamp, NewTimestamp),
    CreateDirectory(Id, &'a str),
    RemoveDirectory(Id, &'a str),
    UnlinkFile(Id, &'a str),
    Rename(Id, &'a str, Id, &'a str),
    Entries(Id),
    Symlink(Id, &'a str, &'a str),
    Readlink(Id, &'a str),
    Link(Id, &'a str, Id, &'a str),
}

/// What a [`Query`] answers.
enum Answer {
    Unanswered,
    Id(Result<Id, ErrorCode>),
    Done(Result<(), ErrorCode>),
    Kind(DescriptorType),
    Stat(DescriptorStat),
    Read(Result<(Vec<u8>, bool), ErrorCode>),
    Written(Result<u64, ErrorCode>),
    Entries(Result<Vec<(String, DescriptorType)>, ErrorCode>),
    Text(Result<String, ErrorCode>),
}

fn ask(query: Query<'_>) -> Answer {
    let mut answer = Answer::Unanswered;
    // SAFETY: both pointers are live for the call; the hook is
    // `wasi_virt_memfs`, which reads a `Query` and writes an `Answer`.
    unsafe {
        hooks::memfs(
            &query as *const Query<'_> as *const u8,
            &mut answer as *mut Answer as *mut u8,
        )
    };
    answer
}

const _: [unsafe extern "C" fn(*const u8, *mut u8); 2] = [hooks::memfs, wasi_virt_memfs];

/// The implementation of the `memfs` hook.
///
/// # Safety
/// `query` points at a live [`Query`], `answer` at a live [`Answer`].
#[no_mangle]
pub unsafe extern "C" fn wasi_virt_memfs(query: *const u8, answer: *mut u8) {
    let query = &*(query as *const Query<'_>);
    *(answer as *mut Answer) = match *query {
        Query::Root(i) => Answer::Id(Ok(do_root(i))),
        Query::Hold(id) => {
            do_hold(id);
            Answer::Done(Ok(()))
        }
        Query::Release(id) => {
            do_release(id);
            Answer::Done(Ok(()))
        }
        Query::Kind(id) => Answer::Kind(do_kind(id)),
        Query::Stat(id) => Answer::Stat(do_stat(id)),
        Query::Resolve(from, path, follow) => Answer::Id(do_resolve(from, path, follow)),
        Query::StatTarget(from, path, follow) => Answer::Id(do_stat_target(from, path, follow)),
        Query::Open(from, path, how) => Answer::Id(do_open(from, path, how)),
        Query::Read(id, len, offset) => Answer::Read(do_read(id, len, offset)),
        Query::Write(id, bytes, offset) => Answer::Written(do_write(id, bytes, offset)),
        Query::SetSize(id, size) => Answer::Done(do_set_size(id, size)),
        Query::SetTimes(id, a, m) => {
            do_set_times(id, a, m);
            Answer::Done(Ok(()))
        }
        Query::CreateDirectory(from, path) => Answer::Done(do_create_directory(from, path)),
        Query::RemoveDirectory(from, path) => Answer::Done(do_remove_directory(from, path)),
        Query::UnlinkFile(from, path) => Answer::Done(do_unlink_file(from, path)),
        Query::Rename(from, old, to, new) => Answer::Done(do_rename(from, old, to, new)),
        Query::Entries(id) => Answer::Entries(do_entries(id)),
        Query::Symlink(from, target, path) => Answer::Done(do_symlink(from, target, path)),
        Query::Readlink(from, path) => Answer::Text(do_readlink(from, path)),
        Query::Link(from, old, to, new) => Answer::Done(do_link(from, old, to, new)),
    };
}

/// An answer of another kind than asked for: the hook is not bound (no
/// in-memory preopen), and no descriptor of one can exist.
fn unanswered() -> ! {
    core::arch::wasm32::unreachable()
}

fn id(answer: Answer) -> Result<Id, ErrorCode> {
    match answer {
        Answer::Id(r) => r,
        _ => unanswered(),
    }
}

fn done(answer: Answer) -> Result<(), ErrorCode> {
    match answer {
        Answer::Done(r) => r,
        _ => unanswered(),
    }
}

/// The root of memory preopen `index`.
pub fn root(index: usize) -> Id {
    id(ask(Query::Root(index))).unwrap_or_else(|_| unanswered())
}

/// Another descriptor or stream holds `id`.
pub fn hold(id: Id) {
    let _ = done(ask(Query::Hold(id)));
}

/// A descriptor or stream let go of `id`.
pub fn release(id: Id) {
    let _ = done(ask(Query::Release(id)));
}

pub fn kind(id: Id) -> DescriptorType {
    match ask(Query::Kind(id)) {
        Answer::Kind(k) => k,
        _ => unanswered(),
    }
}

pub fn stat(id: Id) -> DescriptorStat {
    match ask(Query::Stat(id)) {
        Answer::Stat(s) => s,
        _ => unanswered(),
    }
}

/// The node `path` names from `from`; a symlink named last is followed
/// only with `follow`.
pub fn resolve(from: Id, path: &str, follow: bool) -> Result<Id, ErrorCode> {
    id(ask(Query::Resolve(from, path, follow)))
}

pub fn stat_target(from: Id, path: &str, follow: bool) -> Result<Id, ErrorCode> {
    id(ask(Query::StatTarget(from, path, follow)))
}

pub fn open(from: Id, path: &str, how: Open) -> Result<Id, ErrorCode> {
    id(ask(Query::Open(from, path, how)))
}

pub fn read(id: Id, len: u64, offset: u64) -> Result<(Vec<u8>, bool), ErrorCode> {
    match ask(Query::Read(id, len, offset)) {
        Answer::Read(r) => r,
        _ => unanswered(),
    }
}

pub fn write(id: Id, bytes: &[u8], offset: Option<u64>) -> Result<u64, ErrorCode> {
    match ask(Query::Write(id, bytes, offset)) {
        Answer::Written(r) => r,
        _ => unanswered(),
    }
}

pub fn set_size(id: Id, size: u64) -> Result<(), ErrorCode> {
    done(ask(Query::SetSize(id, size)))
}

pub fn set_times(id: Id, atime: NewTimestamp, mtime: NewTimestamp) {
    let _ = done(ask(Query::SetTimes(id, atime, mtime)));
}

pub fn create_directory(from: Id, path: &str) -> Result<(), ErrorCode> {
    done(ask(Query::CreateDirectory(from, path)))
}

pub fn remove_directory(from: Id, path: &str) -> Result<(), ErrorCode> {
    done(ask(Query::RemoveDirectory(from, path)))
}

pub fn unlink_file(from: Id, path: &str) -> Result<(), ErrorCode> {
    done(ask(Query::UnlinkFile(from, path)))
}

pub fn rename(from: Id, old: &str, to: Id, new: &str) -> Result<(), ErrorCode> {
    done(ask(Query::Rename(from, old, to, new)))
}

pub fn entries(id: Id) -> Result<Vec<(String, DescriptorType)>, ErrorCode> {
    match ask(Query::Entries(id)) {
        Answer::Entries(r) => r,
        _ => unanswered(),
    }
}

/// `symlink-at`: a symlink `path` (from `from`) to `target`.
pub fn symlink(from: Id, target: &str, path: &str) -> Result<(), ErrorCode> {
    done(ask(Query::Symlink(from, target, path)))
}

/// `readlink-at`: the target of the symlink `path` names.
pub fn readlink(from: Id, path: &str) -> Result<String, ErrorCode> {
    match ask(Query::Readlink(from, path)) {
        Answer::Text(r) => r,
        _ => unanswered(),
    }
}

/// `link-at` (not following): `new` (from `to`) names what `old` (from
/// `from`) names.
pub fn link(from: Id, old: &str, to: Id, new: &str) -> Result<(), ErrorCode> {
    done(ask(Query::Link(from, old, to, new)))
}
