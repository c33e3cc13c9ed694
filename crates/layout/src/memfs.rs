//! Writable in-memory filesystems: `--tmpfs` (empty at start) and
//! `--overlay` (an embedded directory with a writable layer above it). The
//! adapter (`virtual-adapter/src/memfs.rs`) keeps one [`Store`] in the
//! instance's memory and converts its answers to `wasi:filesystem` types;
//! the host's tests (`crates/layout/tests/memfs.rs`) and the `memfs` fuzz
//! target drive the same code against a model of a POSIX tree.
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

use crate::path::{self, PathError};
use crate::{Node as Embedded, NodeKind, NAME_MAX};
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// What the store needs from its surroundings.
pub trait Env {
    /// The time a change is stamped with.
    fn now(&self) -> Time;
    /// Node `index` of the embedded tree an overlay starts from.
    fn node(&self, index: u32) -> Embedded<'_>;
    /// Up to `len` bytes of embedded file `index` from `offset`, and
    /// whether it read nothing because the end was reached.
    fn read(&self, index: u32, len: u64, offset: u64) -> Result<(Vec<u8>, bool), Error>;
}

/// The `wasi:filesystem` error codes the store answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Error {
    /// `bad-descriptor`
    BadDescriptor,
    /// `busy`
    Busy,
    /// `cross-device`
    CrossDevice,
    /// `exist`
    Exist,
    /// `insufficient-space`
    InsufficientSpace,
    /// `invalid`
    Invalid,
    /// `is-directory`
    IsDirectory,
    /// `loop`
    Loop,
    /// `name-too-long`
    NameTooLong,
    /// `no-entry`
    NoEntry,
    /// `not-directory`
    NotDirectory,
    /// `not-empty`
    NotEmpty,
    /// `not-permitted`
    NotPermitted,
}

impl From<PathError> for Error {
    fn from(e: PathError) -> Self {
        match e {
            PathError::Invalid => Error::Invalid,
            PathError::NoEntry => Error::NoEntry,
            PathError::NotPermitted => Error::NotPermitted,
            PathError::NotDirectory => Error::NotDirectory,
            PathError::NameTooLong => Error::NameTooLong,
            PathError::Loop => Error::Loop,
        }
    }
}

/// A timestamp: seconds and nanoseconds since the epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Time {
    /// Whole seconds.
    pub seconds: u64,
    /// And nanoseconds (below 10^9).
    pub nanoseconds: u32,
}

/// What `set-times` sets a timestamp to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetTime {
    /// Leave it as it is.
    NoChange,
    /// The current time.
    Now,
    /// This time.
    At(Time),
}

/// What a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    /// A directory.
    Directory,
    /// A regular file.
    RegularFile,
    /// A symbolic link.
    SymbolicLink,
}

/// What `stat` answers of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// What it is.
    pub type_: Type,
    /// How many entries name it (1 for a directory).
    pub link_count: u64,
    /// Bytes of a file, of a symlink's target; 0 for a directory.
    pub size: u64,
    /// Last access.
    pub atime: Time,
    /// Last change of its data.
    pub mtime: Time,
    /// Last change of its data or status.
    pub ctime: Time,
}

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
    atime: Time,
    mtime: Time,
    ctime: Time,
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

/// The in-memory filesystems of one instance.
pub struct Store<E> {
    env: E,
    nodes: Vec<Option<Node>>,
    free: Vec<Id>,
    fss: Vec<Fs>,
}

impl<E: Env> Store<E> {
    /// One filesystem per item of `memories`: the embedded directory it
    /// starts from (an overlay's) or `None` (a tmpfs), and its size limit.
    pub fn new(env: E, memories: impl IntoIterator<Item = (Option<u32>, u64)>) -> Self {
        let mut store = Store {
            env,
            nodes: Vec::new(),
            free: Vec::new(),
            fss: Vec::new(),
        };
        for (i, (lower, limit)) in memories.into_iter().enumerate() {
            let now = store.env.now();
            let root = store.add(Node {
                parent: 0,
                fs: i as u32,
                kind: Kind::Dir {
                    entries: BTreeMap::new(),
                    lower,
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
                limit,
            });
        }
        store
    }

    /// The bytes charged against filesystem `index`'s limit.
    pub fn used(&self, index: usize) -> u64 {
        self.fss[index].used
    }

    /// Checks the slab's invariants, for the host's tests and the fuzz
    /// target: every entry names a live node of its directory's
    /// filesystem; a node's link count is the number of entries naming it
    /// (a root's is 1); a node no entry names and nothing holds is freed;
    /// a freed slot is on the free list once; each filesystem's `used` is
    /// the sum of what its live nodes are charged.
    pub fn check(&self) -> Result<(), &'static str> {
        let mut named = alloc::vec![0u32; self.nodes.len()];
        for node in self.nodes.iter().flatten() {
            let Kind::Dir { entries, .. } = &node.kind else {
                continue;
            };
            for &id in entries.values() {
                match self.nodes.get(id as usize) {
                    Some(Some(child)) if child.fs == node.fs => named[id as usize] += 1,
                    Some(Some(_)) => return Err("an entry names a node of another filesystem"),
                    _ => return Err("an entry names a freed node"),
                }
            }
        }
        for fs in &self.fss {
            named[fs.root as usize] += 1;
        }
        let mut used = alloc::vec![0u64; self.fss.len()];
        for (id, slot) in self.nodes.iter().enumerate() {
            let Some(node) = slot else {
                if !self.free.contains(&(id as Id)) {
                    return Err("a freed slot is not on the free list");
                }
                continue;
            };
            if node.links != named[id] {
                return Err("a link count differs from the entries naming the node");
            }
            if node.links == 0 && node.holds == 0 {
                return Err("a node nothing names or holds is not freed");
            }
            if self.free.contains(&(id as Id)) {
                return Err("a live node is on the free list");
            }
            used[node.fs as usize] += node.charged;
        }
        if self
            .fss
            .iter()
            .zip(&used)
            .any(|(fs, used)| fs.used != *used)
        {
            return Err("a filesystem's use differs from what its nodes are charged");
        }
        Ok(())
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
    fn charge(&mut self, id: Id, bytes: u64) -> Result<(), Error> {
        let index = self.node(id).fs as usize;
        let fs = &mut self.fss[index];
        match fs.used.checked_add(bytes) {
            Some(used) if used <= fs.limit => {
                fs.used = used;
                self.node_mut(id).charged += bytes;
                Ok(())
            }
            _ => Err(Error::InsufficientSpace),
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
        let NodeKind::Dir { first, count } = self.env.node(lower).kind else {
            return;
        };
        let (fs, time) = (self.node(dir).fs, self.node(dir).mtime);
        for child in first..first + count {
            let embedded = self.env.node(child);
            let name = embedded.name.to_string();
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
                entries.insert(name, id);
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
    pub fn resolve(&mut self, from: Id, path: &str, follow: bool) -> Result<Id, Error> {
        let stack = self.walk(from, path, follow)?;
        Ok(stack[stack.len() - 1])
    }

    /// [`resolve`](Self::resolve), returning the walk's stack: the
    /// directories it entered, `from` at the bottom, and the node reached
    /// on top. `..` pops it and never `from` itself (not-permitted), so no
    /// path leaves the directory it starts from, as on a host; parent links
    /// are never followed.
    fn walk(&mut self, from: Id, path: &str, follow: bool) -> Result<Vec<Id>, Error> {
        match self.trace(from, path, follow)? {
            Ok(stack) => Ok(stack),
            Err(_) => Err(Error::NoEntry),
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
    fn trace(&mut self, from: Id, path: &str, follow: bool) -> Result<Traced, Error> {
        path::check(path).map_err(Error::from)?;
        let mut stack = alloc::vec![from];
        let mut pending = components(path);
        let mut expansions = 0;
        while let Some(part) = pending.pop() {
            let last = pending.is_empty();
            match self.step(&mut stack, &part) {
                Err(Error::NoEntry) if last && part != ".." => {
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
                return Err(Error::Loop);
            }
            if target.starts_with('/') {
                return Err(Error::NotPermitted);
            }
            pending.extend(components(target));
            stack.pop();
        }
        Ok(Ok(stack))
    }

    /// One component from the directory on top of `stack`.
    fn step(&mut self, stack: &mut Vec<Id>, part: &str) -> Result<(), Error> {
        let here = stack[stack.len() - 1];
        if !self.is_dir(here) {
            return Err(Error::NotDirectory);
        }
        match part {
            "." => {}
            ".." if stack.len() == 1 => return Err(Error::NotPermitted),
            ".." => {
                stack.pop();
            }
            name if name.len() > NAME_MAX => return Err(Error::NameTooLong),
            name => stack.push(self.lookup(here, name).ok_or(Error::NoEntry)?),
        }
        Ok(())
    }

    /// The directory that would hold `path`'s last component, and that
    /// component: `None` when the path ends in `.` or `..` (a `..` that
    /// leaves `from` is `not-permitted`, as anywhere). A NUL in the last
    /// component is `invalid` once the directory is found, as the host
    /// finds it.
    fn parent<'p>(&mut self, from: Id, path: &'p str) -> Result<(Id, Option<&'p str>), Error> {
        let (dir, name) = self.parent_unnamed(from, path)?;
        Ok((dir, named(name)?))
    }

    /// The directory and last name of a path that `symlink-at` and
    /// `link-at` take, as cap-std splits it: a path ending with a slash
    /// names a directory (followed, which must exist) and no last name.
    fn new_parent<'p>(&mut self, from: Id, path: &'p str) -> Result<(Id, Option<&'p str>), Error> {
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
    ) -> Result<(Id, Option<&'p str>), Error> {
        if path.is_empty() {
            return Err(Error::NoEntry);
        }
        if path.starts_with('/') {
            return Err(Error::NotPermitted);
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
            return Err(Error::NotDirectory);
        }
        match last {
            "" | "." => Ok((dir, None)),
            ".." if stack.len() == 1 => Err(Error::NotPermitted),
            ".." => Ok((dir, None)),
            name if name.len() > NAME_MAX => Err(Error::NameTooLong),
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
        let now = self.env.now();
        let node = self.node_mut(dir);
        node.mtime = now;
        node.ctime = now;
    }

    /// A directory that no directory names any more (removed while a
    /// descriptor held it) takes no new entries: `no-entry`, as the host's
    /// kernel answers.
    fn live(&self, dir: Id) -> Result<Id, Error> {
        match self.node(dir).links {
            0 => Err(Error::NoEntry),
            _ => Ok(dir),
        }
    }

    /// A new node `kind` named `name` in `dir`, charged its entry and the
    /// target of a symlink.
    fn create(&mut self, dir: Id, name: &str, kind: Kind) -> Result<Id, Error> {
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
            return Err(Error::InsufficientSpace);
        }
        let now = self.env.now();
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
    fn add_name(&mut self, dir: Id, name: &str, id: Id) -> Result<(), Error> {
        self.live(dir)?;
        self.charge(id, ENTRY_COST + name.len() as u64)?;
        if let Kind::Dir { entries, .. } = &mut self.node_mut(dir).kind {
            entries.insert(name.to_string(), id);
        }
        self.touch_dir(dir);
        let now = self.env.now();
        let node = self.node_mut(id);
        node.links += 1;
        node.ctime = now;
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
        let now = self.env.now();
        let node = self.node_mut(id);
        node.links -= 1;
        node.parent = id;
        if node.links > 0 {
            // Another name still holds it: only this entry's cost goes.
            node.ctime = now;
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
    fn owned(&mut self, id: Id) -> Result<&mut Vec<u8>, Error> {
        let len = match &self.node(id).kind {
            Kind::File(Data::Lower { len, .. }) => Some(*len),
            Kind::File(Data::Owned(_)) => None,
            Kind::Dir { .. } => return Err(Error::IsDirectory),
            Kind::Link(_) => return Err(Error::Invalid),
        };
        if let Some(len) = len {
            self.charge(id, len)?;
            let Kind::File(Data::Lower { node, .. }) = self.node(id).kind else {
                unreachable!()
            };
            let (bytes, _) = self.env.read(node, len, 0)?;
            self.node_mut(id).kind = Kind::File(Data::Owned(bytes));
        }
        match &mut self.node_mut(id).kind {
            Kind::File(Data::Owned(bytes)) => Ok(bytes),
            _ => unreachable!(),
        }
    }

    /// Makes file `id` `size` bytes long, charging or refunding the change.
    fn resize(&mut self, id: Id, size: u64) -> Result<(), Error> {
        let old = match &self.node(id).kind {
            Kind::File(data) => data.len(),
            Kind::Dir { .. } => return Err(Error::IsDirectory),
            Kind::Link(_) => return Err(Error::Invalid),
        };
        let size_usize = usize::try_from(size).map_err(|_| Error::InsufficientSpace)?;
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
        let now = self.env.now();
        let node = self.node_mut(id);
        node.mtime = now;
        node.ctime = now;
    }
}

impl<E: Env> Store<E> {
    fn kind_of(&self, id: Id) -> Type {
        match self.node(id).kind {
            Kind::Dir { .. } => Type::Directory,
            Kind::File(_) => Type::RegularFile,
            Kind::Link(_) => Type::SymbolicLink,
        }
    }
}

/// A last component holding a NUL is `invalid`.
fn named(name: Option<&str>) -> Result<Option<&str>, Error> {
    match name {
        Some(n) if n.contains('\0') => Err(Error::Invalid),
        other => Ok(other),
    }
}

/// How `open-at` opens: the open flags, and whether the descriptor writes.
#[derive(Clone, Copy, Debug)]
pub struct Open {
    /// `create`: make a missing file.
    pub create: bool,
    /// `exclusive`: fail if it exists.
    pub exclusive: bool,
    /// `truncate`: empty the file.
    pub truncate: bool,
    /// `directory`: it must be a directory.
    pub directory: bool,
    /// Whether the descriptor writes.
    pub write: bool,
    /// Whether a symlink named last is followed (`symlink-follow`).
    pub follow: bool,
}

impl<E: Env> Store<E> {
    /// The root of memory preopen `index`.
    pub fn root(&mut self, index: usize) -> Id {
        let s = self;
        s.fss[index].root
    }

    /// Another descriptor or stream holds `id`.
    pub fn hold(&mut self, id: Id) {
        self.node_mut(id).holds += 1;
    }

    /// A descriptor or stream let go of `id`.
    pub fn release(&mut self, id: Id) {
        let s = self;
        {
            s.node_mut(id).holds -= 1;
            s.free_if_unused(id);
        }
    }

    /// What node `id` is.
    pub fn kind(&mut self, id: Id) -> Type {
        let s = self;
        s.kind_of(id)
    }

    /// What `stat` answers of node `id`.
    pub fn stat(&mut self, id: Id) -> Stat {
        let s = self;
        {
            let node = s.node(id);
            let (type_, size, links) = match &node.kind {
                // A directory's count differs between host file systems.
                Kind::Dir { .. } => (Type::Directory, 0, 1),
                Kind::File(data) => (Type::RegularFile, data.len(), node.links),
                Kind::Link(target) => (Type::SymbolicLink, target.len() as u64, node.links),
            };
            Stat {
                type_,
                link_count: u64::from(links),
                size,
                atime: node.atime,
                mtime: node.mtime,
                ctime: node.ctime,
            }
        }
    }

    /// What `stat-at` and `metadata-hash-at` reach. Not following symlinks,
    /// the host (cap-std) answers a single name followed by `/` or `/.` with
    /// that name's file or symlink itself rather than `not-directory` or the
    /// link's target ([`path::stat_retry`]); so does this.
    pub fn stat_target(&mut self, from: Id, path: &str, follow: bool) -> Result<Id, Error> {
        let s = self;
        {
            if let Some(base) = path::stat_retry(path).filter(|_| !follow) {
                match s.resolve(from, base, false) {
                    Ok(id) if !s.is_dir(id) => return Ok(id),
                    _ => {}
                }
            }
            s.resolve(from, path, follow)
        }
    }

    /// What `open-at` does in a memory filesystem: the node opened.
    pub fn open(&mut self, from: Id, path: &str, how: Open) -> Result<Id, Error> {
        let Open {
            create,
            exclusive,
            truncate,
            directory,
            write,
            follow,
        } = how;
        let s = self;
        {
            if create && path.ends_with('/') {
                s.parent(from, path)?;
                return Err(Error::IsDirectory);
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
                        return Err(Error::Exist);
                    };
                    if directory {
                        return Err(Error::IsDirectory);
                    }
                    return s.create(dir, name, Kind::File(Data::Owned(Vec::new())));
                }
                Err(_) => return Err(Error::NoEntry),
            };
            if create && exclusive {
                return Err(Error::Exist);
            }
            // A symlink not followed cannot be opened: the host's `O_NOFOLLOW`
            // answers `loop`, a directory asked for or not.
            if s.link_target(id).is_some() {
                return Err(Error::Loop);
            }
            if s.is_dir(id) {
                if write || truncate {
                    return Err(Error::IsDirectory);
                }
            } else if directory {
                return Err(Error::NotDirectory);
            } else if truncate {
                s.resize(id, 0)?;
                s.modified(id);
            }
            Ok(id)
        }
    }

    /// Up to `len` bytes of file `id` from `offset`, and whether that reached
    /// the end.
    pub fn read(&mut self, id: Id, len: u64, offset: u64) -> Result<(Vec<u8>, bool), Error> {
        let s = self;
        match &s.node(id).kind {
            Kind::Dir { .. } => Err(Error::IsDirectory),
            Kind::Link(_) => Err(Error::Invalid),
            Kind::File(Data::Lower { node, .. }) => s.env.read(*node, len, offset),
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
        }
    }

    /// Writes `bytes` into file `id` at `offset` (or at its end, for
    /// `append`), growing it as needed; all or nothing.
    pub fn write(&mut self, id: Id, bytes: &[u8], offset: Option<u64>) -> Result<u64, Error> {
        let s = self;
        {
            let old = match &s.node(id).kind {
                Kind::File(data) => data.len(),
                Kind::Dir { .. } => return Err(Error::IsDirectory),
                Kind::Link(_) => return Err(Error::Invalid),
            };
            let at = offset.unwrap_or(old);
            let end = at
                .checked_add(bytes.len() as u64)
                .ok_or(Error::InsufficientSpace)?;
            if bytes.is_empty() {
                return Ok(0);
            }
            // An end this memory cannot address fails before anything is
            // charged (a limit above 4 GiB on wasm32).
            let end_index = usize::try_from(end).map_err(|_| Error::InsufficientSpace)?;
            if end > old {
                s.owned(id)?;
                s.charge(id, end - old)?;
            }
            let data = s.owned(id)?;
            let end = end_index;
            if end > data.len() {
                data.resize(end, 0);
            }
            data[at as usize..end].copy_from_slice(bytes);
            s.modified(id);
            Ok(bytes.len() as u64)
        }
    }

    /// `set-size`: makes file `id` `size` bytes long.
    pub fn set_size(&mut self, id: Id, size: u64) -> Result<(), Error> {
        let s = self;
        {
            s.resize(id, size)?;
            s.modified(id);
            Ok(())
        }
    }

    /// `set-times` of node `id`.
    pub fn set_times(&mut self, id: Id, atime: SetTime, mtime: SetTime) {
        let s = self;
        {
            let now = s.env.now();
            let pick = |t: SetTime, old: Time| match t {
                SetTime::NoChange => old,
                SetTime::Now => now,
                SetTime::At(t) => t,
            };
            let node = s.node_mut(id);
            node.atime = pick(atime, node.atime);
            node.mtime = pick(mtime, node.mtime);
            node.ctime = now;
        }
    }

    /// `create-directory-at`: an empty directory `path` (from `from`).
    pub fn create_directory(&mut self, from: Id, path: &str) -> Result<(), Error> {
        let s = self;
        {
            let (dir, name) = s.parent(from, path)?;
            let Some(name) = name else {
                return Err(Error::Exist);
            };
            if s.lookup(dir, name).is_some() {
                return Err(Error::Exist);
            }
            let kind = Kind::Dir {
                entries: BTreeMap::new(),
                lower: None,
            };
            s.create(dir, name, kind).map(|_| ())
        }
    }

    /// `remove-directory-at`: removes the empty directory `path` names.
    pub fn remove_directory(&mut self, from: Id, path: &str) -> Result<(), Error> {
        let s = self;
        {
            let (dir, name) = s.parent(from, path)?;
            let Some(name) = name else {
                return Err(Error::Invalid);
            };
            let target = s.lookup(dir, name).ok_or(Error::NoEntry)?;
            // A symlink named with a trailing slash is followed, and what it
            // reaches is a directory so named (or `not-directory`).
            if path.ends_with('/') && s.link_target(target).is_some() {
                s.resolve(from, path, true)?;
                return Err(Error::Invalid);
            }
            if !s.is_dir(target) {
                return Err(Error::NotDirectory);
            }
            // The host refuses a directory named with a trailing slash.
            if path.ends_with('/') {
                return Err(Error::Invalid);
            }
            s.materialize(target);
            if let Kind::Dir { entries, .. } = &s.node(target).kind {
                if !entries.is_empty() {
                    return Err(Error::NotEmpty);
                }
            }
            s.unlink(dir, name);
            Ok(())
        }
    }

    /// `unlink-file-at`: removes the name `path` of a file or symlink.
    pub fn unlink_file(&mut self, from: Id, path: &str) -> Result<(), Error> {
        let s = self;
        {
            // The name itself, a symlink (even to a directory) included,
            // unless a trailing slash has the host follow it.
            let slash = path.ends_with('/');
            let target = s.resolve(from, path.trim_end_matches('/'), slash)?;
            if s.is_dir(target) {
                return Err(Error::IsDirectory);
            }
            if path.ends_with('/') {
                return Err(Error::NotDirectory);
            }
            let (dir, Some(name)) = s.parent(from, path)? else {
                return Err(Error::IsDirectory);
            };
            s.unlink(dir, name);
            Ok(())
        }
    }

    /// `rename-at` within one memory filesystem, as POSIX `rename` does it.
    pub fn rename(&mut self, from: Id, old: &str, to: Id, new: &str) -> Result<(), Error> {
        let s = self;
        {
            if s.node(from).fs != s.node(to).fs {
                return Err(Error::CrossDevice);
            }
            let (old_dir, old_name) = s.parent_unnamed(from, old)?;
            let (new_dir, new_name) = s.parent_unnamed(to, new)?;
            let (old_name, new_name) = (named(old_name)?, named(new_name)?);
            let (Some(old_name), Some(new_name)) = (old_name, new_name) else {
                return Err(Error::Busy);
            };
            let source = s.lookup(old_dir, old_name).ok_or(Error::NoEntry)?;
            s.live(new_dir)?;
            let source_dir = s.is_dir(source);
            if !source_dir && (old.ends_with('/') || new.ends_with('/')) {
                return Err(Error::NotDirectory);
            }
            // A directory cannot move below itself.
            if source_dir && s.is_within(new_dir, source) {
                return Err(Error::Invalid);
            }
            if let Some(existing) = s.lookup(new_dir, new_name) {
                if existing == source {
                    return Ok(());
                }
                // Onto a directory above the source: `not-empty`, as the
                // host's kernel answers before anything else.
                if s.is_within(old_dir, existing) {
                    return Err(Error::NotEmpty);
                }
                match (source_dir, s.is_dir(existing)) {
                    (false, true) => return Err(Error::IsDirectory),
                    (true, false) => return Err(Error::NotDirectory),
                    (true, true) => {
                        s.materialize(existing);
                        if let Kind::Dir { entries, .. } = &s.node(existing).kind {
                            if !entries.is_empty() {
                                return Err(Error::NotEmpty);
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
            s.node_mut(source).ctime = s.env.now();
            s.touch_dir(old_dir);
            s.touch_dir(new_dir);
            Ok(())
        }
    }

    /// `symlink-at`: a symlink `path` whose target is `target`, stored as
    /// given (dangling too), with the host's answers in its order: an absolute
    /// target is `not-permitted` (cap-std refuses it before anything else, so
    /// that no other program follows it out), then the new path's directory
    /// (`new_parent`), then the target (empty: `no-entry`, NUL:
    /// `invalid`, past `PATH_MAX`: `name-too-long`), then the name (taken:
    /// `exist`).
    pub fn symlink(&mut self, from: Id, target: &str, path: &str) -> Result<(), Error> {
        if target.starts_with('/') {
            return Err(Error::NotPermitted);
        }
        let s = self;
        {
            let (dir, name) = s.new_parent(from, path)?;
            if target.contains('\0') || named(name).is_err() {
                return Err(Error::Invalid);
            }
            if target.is_empty() {
                return Err(Error::NoEntry);
            }
            if target.len() > TARGET_MAX {
                return Err(Error::NameTooLong);
            }
            let Some(name) = name else {
                return Err(Error::Exist);
            };
            if s.lookup(dir, name).is_some() {
                return Err(Error::Exist);
            }
            s.create(dir, name, Kind::Link(target.to_string()))
                .map(|_| ())
        }
    }

    /// `readlink-at`: the target of the symlink `path` names (not followed),
    /// `invalid` for anything else; an absolute target (only an overlay's
    /// lower layer could hold one) is `not-permitted`, as cap-std hides it.
    pub fn readlink(&mut self, from: Id, path: &str) -> Result<String, Error> {
        let s = self;
        {
            let id = s.resolve(from, path, false)?;
            match s.link_target(id) {
                None => Err(Error::Invalid),
                Some(target) if target.starts_with('/') => Err(Error::NotPermitted),
                Some(target) => Ok(target.to_string()),
            }
        }
    }

    /// `link-at` without following: names `old` (a file or a symlink itself)
    /// `new` too, in the host's order: both paths' directories
    /// (`new_parent`), a NUL in either name (`invalid`), the old
    /// name (`no-entry`), the new one (`exist` when taken), another
    /// filesystem (`cross-device`), a directory (`not-permitted`).
    pub fn link(&mut self, from: Id, old: &str, to: Id, new: &str) -> Result<(), Error> {
        let s = self;
        {
            let (old_dir, old_name) = s.new_parent(from, old)?;
            let (dir, name) = s.new_parent(to, new)?;
            let (old_name, name) = (named(old_name)?, named(name)?);
            let source = match old_name {
                Some(old_name) => s.lookup(old_dir, old_name).ok_or(Error::NoEntry)?,
                None => old_dir,
            };
            let Some(name) = name else {
                return Err(Error::Exist);
            };
            if s.lookup(dir, name).is_some() {
                return Err(Error::Exist);
            }
            if s.node(source).fs != s.node(dir).fs {
                return Err(Error::CrossDevice);
            }
            if s.is_dir(source) {
                return Err(Error::NotPermitted);
            }
            s.add_name(dir, name, source)
        }
    }

    /// The entries of directory `id`, in name order, as they are now.
    pub fn entries(&mut self, id: Id) -> Result<Vec<(String, Type)>, Error> {
        let s = self;
        {
            if !s.is_dir(id) {
                return Err(Error::NotDirectory);
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
        }
    }
}
