//! A deliberately simple model of a POSIX directory tree, written apart
//! from the in-memory store (`crates/layout/src/memfs.rs`), and a driver
//! that runs one sequence of filesystem operations on both and compares
//! every answer. Shared by `crates/layout/tests/memfs.rs` (seeded
//! sequences) and the `memfs` fuzz target (`fuzz/fuzz_targets/memfs.rs`).
//!
//! The model keeps inodes in a map (never reused), directories as name
//! maps, symlinks as their text, link counts and holds. Paths are walked
//! from a held directory with a stack, so `..` never climbs below it; the
//! error codes and their order are the host's (wasmtime over cap-std on
//! Linux), which `crates/layout/tests/memfs.rs` checks the store against.
//!
//! After every step the driver checks the store's own invariants
//! (`Store::check`), that its size accounting equals what the model says
//! is live, that every held descriptor answers `stat`, `read` and the
//! directory listing as the model does (removed nodes included), and that
//! no two live model nodes share one store id (a freed slot reused while
//! still reachable).

use std::cell::Cell;
use std::collections::BTreeMap;
use wasi_virt_layout::memfs::{Env, Error, Id, Open, Store, Time, Type};
use wasi_virt_layout::{Node, NodeKind};

/// What an entry costs besides its name and bytes (the store's charge).
const ENTRY: u64 = 64;
/// The most symlinks one resolution follows.
const LINKS_MAX: u32 = 40;
/// The most descriptors a sequence holds at once (the first: the root).
const HELD_MAX: usize = 8;

/// One step of a sequence. Descriptors are indexes into those held.
#[derive(Clone, Debug)]
pub enum Op {
    Open {
        at: usize,
        path: String,
        how: Open,
    },
    Close {
        desc: usize,
    },
    Write {
        desc: usize,
        offset: Option<u64>,
        len: usize,
    },
    Read {
        desc: usize,
        offset: u64,
        len: u64,
    },
    SetSize {
        desc: usize,
        size: u64,
    },
    Mkdir {
        at: usize,
        path: String,
    },
    Rmdir {
        at: usize,
        path: String,
    },
    Unlink {
        at: usize,
        path: String,
    },
    Rename {
        at: usize,
        old: String,
        to: usize,
        new: String,
    },
    Link {
        at: usize,
        old: String,
        to: usize,
        new: String,
    },
    Symlink {
        at: usize,
        target: String,
        path: String,
    },
    Readlink {
        at: usize,
        path: String,
    },
    StatAt {
        at: usize,
        path: String,
        follow: bool,
    },
    Entries {
        desc: usize,
    },
}

/// The names paths are made of: the embedded tree's ([`LOWER`]) among
/// them, `a` and `b` twice as often, `.` and `..`.
const NAMES: [&str; 11] = ["a", "b", "c", "a", "b", "d", "e", "x", "y", ".", ".."];

/// A path of a few components from [`NAMES`], sometimes with a trailing or
/// doubled slash; now and then empty or absolute.
fn path(pick: &mut dyn FnMut(u32) -> u32) -> String {
    match pick(20) {
        0 => return String::new(),
        1 => return "/a".into(),
        _ => {}
    }
    let n = 1 + pick(3) as usize;
    let parts: Vec<&str> = (0..n)
        .map(|_| NAMES[pick(NAMES.len() as u32) as usize])
        .collect();
    let mut p = parts.join(if pick(10) == 0 { "//" } else { "/" });
    if pick(6) == 0 {
        p.push('/');
    }
    p
}

/// An `open` chosen with `pick`: where, what, and how.
fn open_op(pick: &mut dyn FnMut(u32) -> u32) -> Op {
    let at = pick(HELD_MAX as u32) as usize;
    let path = path(pick);
    let how = Open {
        create: pick(2) == 0,
        exclusive: pick(3) == 0,
        truncate: pick(4) == 0,
        directory: pick(4) == 0,
        write: pick(2) == 0,
        follow: pick(3) != 0,
    };
    Op::Open { at, path, how }
}

/// One operation chosen with `pick(n)`, a number below `n`.
pub fn op(pick: &mut dyn FnMut(u32) -> u32) -> Op {
    let d = |pick: &mut dyn FnMut(u32) -> u32| pick(HELD_MAX as u32) as usize;
    let small = |pick: &mut dyn FnMut(u32) -> u32| match pick(8) {
        0 => u64::MAX - pick(4) as u64,
        1 => 1 << 40,
        _ => pick(300) as u64,
    };
    match pick(15) {
        0 | 1 => open_op(pick),
        2 => Op::Close { desc: d(pick) },
        3 => {
            let desc = d(pick);
            let offset = (pick(2) == 0).then(|| small(pick));
            Op::Write {
                desc,
                offset,
                len: pick(200) as usize,
            }
        }
        4 => Op::Read {
            desc: d(pick),
            offset: small(pick),
            len: small(pick),
        },
        5 => Op::SetSize {
            desc: d(pick),
            size: small(pick),
        },
        6 => Op::Mkdir {
            at: d(pick),
            path: path(pick),
        },
        7 => Op::Rmdir {
            at: d(pick),
            path: path(pick),
        },
        8 => Op::Unlink {
            at: d(pick),
            path: path(pick),
        },
        9 => Op::Rename {
            at: d(pick),
            old: path(pick),
            to: d(pick),
            new: path(pick),
        },
        10 => Op::Link {
            at: d(pick),
            old: path(pick),
            to: d(pick),
            new: path(pick),
        },
        11 => Op::Symlink {
            at: d(pick),
            target: path(pick),
            path: path(pick),
        },
        12 => Op::Readlink {
            at: d(pick),
            path: path(pick),
        },
        13 => Op::StatAt {
            at: d(pick),
            path: path(pick),
            follow: pick(2) == 0,
        },
        _ => Op::Entries { desc: d(pick) },
    }
}

/// A limit chosen with `pick`: tight, middling, or out of the way.
pub fn limit(pick: &mut dyn FnMut(u32) -> u32) -> u64 {
    [300, 1500, 1 << 20][pick(3) as usize]
}

// ---------------------------------------------------------------- model

type Ino = usize;

#[derive(Clone, Debug)]
enum What {
    Dir(BTreeMap<String, Ino>),
    File(Vec<u8>),
    Link(String),
}

#[derive(Clone, Debug)]
struct Inode {
    what: What,
    /// Entries naming it (a root counts one).
    nlink: u32,
    /// Descriptors holding it.
    open: u32,
    /// What its last name cost, kept while a descriptor holds it
    /// unnamed.
    orphan_cost: u64,
}

/// The model's tree.
pub struct Model {
    inodes: BTreeMap<Ino, Inode>,
    next: Ino,
    limit: u64,
}

/// What a walk found: the directories entered and the node on top, or
/// the directory and name where the missing last component would be.
enum Walked {
    Found(Vec<Ino>),
    Missing(Ino, String),
}

fn split(path: &str) -> Vec<String> {
    let mut out: Vec<String> = path
        .split('/')
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect();
    if path.ends_with('/') {
        out.push(".".into());
    }
    out
}

fn checked(path: &str) -> Result<(), Error> {
    if path.contains('\0') {
        Err(Error::Invalid)
    } else if path.is_empty() {
        Err(Error::NoEntry)
    } else if path.starts_with('/') {
        Err(Error::NotPermitted)
    } else {
        Ok(())
    }
}

impl Model {
    fn new(limit: u64) -> Model {
        let root = Inode {
            what: What::Dir(BTreeMap::new()),
            nlink: 1,
            open: 1,
            orphan_cost: 0,
        };
        Model {
            inodes: BTreeMap::from([(0, root)]),
            next: 1,
            limit,
        }
    }

    fn get(&self, ino: Ino) -> &Inode {
        &self.inodes[&ino]
    }

    fn dir(&self, ino: Ino) -> Option<&BTreeMap<String, Ino>> {
        match &self.get(ino).what {
            What::Dir(names) => Some(names),
            _ => None,
        }
    }

    fn dir_mut(&mut self, ino: Ino) -> &mut BTreeMap<String, Ino> {
        match &mut self.inodes.get_mut(&ino).unwrap().what {
            What::Dir(names) => names,
            _ => panic!("not a directory"),
        }
    }

    fn is_dir(&self, ino: Ino) -> bool {
        self.dir(ino).is_some()
    }

    fn kind(&self, ino: Ino) -> Type {
        match self.get(ino).what {
            What::Dir(_) => Type::Directory,
            What::File(_) => Type::RegularFile,
            What::Link(_) => Type::SymbolicLink,
        }
    }

    /// What the live nodes cost: each entry's name, each file's bytes and
    /// symlink's text, and the last name of an unnamed node still held.
    pub fn used(&self) -> u64 {
        let mut used = 0;
        for inode in self.inodes.values() {
            match &inode.what {
                What::Dir(names) => {
                    used += names.keys().map(|n| ENTRY + n.len() as u64).sum::<u64>()
                }
                What::File(bytes) => used += bytes.len() as u64,
                What::Link(text) => used += text.len() as u64,
            }
            used += inode.orphan_cost;
        }
        used
    }

    fn room(&self, more: u64) -> Result<(), Error> {
        match self.used().checked_add(more) {
            Some(u) if u <= self.limit => Ok(()),
            _ => Err(Error::InsufficientSpace),
        }
    }

    /// Walks `path` from `base`: every component before the last must be a
    /// directory, `..` pops the stack and never `base`, a symlink is
    /// replaced by its text (followed last only with `follow`).
    fn walk(&self, base: Ino, path: &str, follow: bool) -> Result<Walked, Error> {
        checked(path)?;
        let mut stack = vec![base];
        let mut todo = split(path);
        todo.reverse();
        let mut followed = 0;
        while let Some(c) = todo.pop() {
            let last = todo.is_empty();
            let here = *stack.last().unwrap();
            let Some(names) = self.dir(here) else {
                return Err(Error::NotDirectory);
            };
            match c.as_str() {
                "." => continue,
                ".." if stack.len() == 1 => return Err(Error::NotPermitted),
                ".." => {
                    stack.pop();
                    continue;
                }
                name if name.len() > 255 => return Err(Error::NameTooLong),
                name => match names.get(name) {
                    Some(&ino) => stack.push(ino),
                    None if last => return Ok(Walked::Missing(here, c)),
                    None => return Err(Error::NoEntry),
                },
            }
            let top = *stack.last().unwrap();
            if let What::Link(text) = &self.get(top).what {
                if last && !follow {
                    break;
                }
                followed += 1;
                if followed > LINKS_MAX {
                    return Err(Error::Loop);
                }
                if text.starts_with('/') {
                    return Err(Error::NotPermitted);
                }
                stack.pop();
                let mut more = split(text);
                more.reverse();
                todo.extend(more);
            }
        }
        Ok(Walked::Found(stack))
    }

    fn find(&self, base: Ino, path: &str, follow: bool) -> Result<Ino, Error> {
        match self.walk(base, path, follow)? {
            Walked::Found(stack) => Ok(*stack.last().unwrap()),
            Walked::Missing(..) => Err(Error::NoEntry),
        }
    }

    /// The directory holding `path`'s last name, and that name (`None`
    /// for `.` or `..`), the directory found first.
    fn parent(&self, base: Ino, path: &str) -> Result<(Ino, Option<String>), Error> {
        checked(path)?;
        let trimmed = path.trim_end_matches('/');
        let (head, last) = match trimmed.rfind('/') {
            Some(i) => (&trimmed[..=i], &trimmed[i + 1..]),
            None => (".", trimmed),
        };
        let Walked::Found(stack) = self.walk(base, head, true)? else {
            return Err(Error::NoEntry);
        };
        let dir = *stack.last().unwrap();
        if !self.is_dir(dir) {
            return Err(Error::NotDirectory);
        }
        match last {
            "" | "." => Ok((dir, None)),
            ".." if stack.len() == 1 => Err(Error::NotPermitted),
            ".." => Ok((dir, None)),
            n if n.len() > 255 => Err(Error::NameTooLong),
            n => Ok((dir, Some(n.to_string()))),
        }
    }

    /// [`parent`](Self::parent) for `symlink-at` and `link-at`: a path
    /// ending with a slash names an existing directory (followed), and no
    /// last name.
    fn parent_for_new(&self, base: Ino, path: &str) -> Result<(Ino, Option<String>), Error> {
        let found = self.parent(base, path)?;
        if path.ends_with('/') {
            return Ok((self.find(base, path, true)?, None));
        }
        Ok(found)
    }

    fn lookup(&self, dir: Ino, name: &str) -> Option<Ino> {
        self.dir(dir).and_then(|names| names.get(name).copied())
    }

    /// Whether `ino` is `top` or lies below it.
    fn below(&self, ino: Ino, top: Ino) -> bool {
        if ino == top {
            return true;
        }
        match self.dir(top) {
            Some(names) => names
                .values()
                .any(|&child| self.is_dir(child) && self.below(ino, child)),
            None => false,
        }
    }

    fn add(&mut self, dir: Ino, name: &str, what: What) -> Result<Ino, Error> {
        if self.get(dir).nlink == 0 {
            return Err(Error::NoEntry);
        }
        let text = match &what {
            What::Link(t) => t.len() as u64,
            _ => 0,
        };
        self.room(ENTRY + name.len() as u64 + text)?;
        let ino = self.next;
        self.next += 1;
        self.inodes.insert(
            ino,
            Inode {
                what,
                nlink: 1,
                open: 0,
                orphan_cost: 0,
            },
        );
        self.dir_mut(dir).insert(name.into(), ino);
        Ok(ino)
    }

    fn drop_name(&mut self, dir: Ino, name: &str) {
        let ino = self.dir_mut(dir).remove(name).unwrap();
        let inode = self.inodes.get_mut(&ino).unwrap();
        inode.nlink -= 1;
        if inode.nlink == 0 {
            inode.orphan_cost = ENTRY + name.len() as u64;
            self.forget_if_unused(ino);
        }
    }

    fn forget_if_unused(&mut self, ino: Ino) {
        let inode = &self.inodes[&ino];
        if inode.nlink == 0 && inode.open == 0 {
            self.inodes.remove(&ino);
        }
    }

    fn hold(&mut self, ino: Ino) {
        self.inodes.get_mut(&ino).unwrap().open += 1;
    }

    fn release(&mut self, ino: Ino) {
        self.inodes.get_mut(&ino).unwrap().open -= 1;
        self.forget_if_unused(ino);
    }

    fn open(&mut self, base: Ino, path: &str, how: Open) -> Result<Ino, Error> {
        if how.create && path.ends_with('/') {
            self.parent(base, path)?;
            return Err(Error::IsDirectory);
        }
        let follow = how.follow && !(how.create && how.exclusive);
        let ino = match self.walk(base, path, follow)? {
            Walked::Found(stack) => *stack.last().unwrap(),
            Walked::Missing(dir, name) if how.create => {
                if how.directory {
                    return Err(Error::IsDirectory);
                }
                return self.add(dir, &name, What::File(Vec::new()));
            }
            Walked::Missing(..) => return Err(Error::NoEntry),
        };
        if how.create && how.exclusive {
            return Err(Error::Exist);
        }
        match self.kind(ino) {
            Type::SymbolicLink => Err(Error::Loop),
            Type::Directory if how.write || how.truncate => Err(Error::IsDirectory),
            Type::Directory => Ok(ino),
            Type::RegularFile if how.directory => Err(Error::NotDirectory),
            Type::RegularFile => {
                if how.truncate {
                    self.resize(ino, 0)?;
                }
                Ok(ino)
            }
        }
    }

    fn bytes(&mut self, ino: Ino) -> Result<&mut Vec<u8>, Error> {
        match &mut self.inodes.get_mut(&ino).unwrap().what {
            What::File(bytes) => Ok(bytes),
            What::Dir(_) => Err(Error::IsDirectory),
            What::Link(_) => Err(Error::Invalid),
        }
    }

    fn resize(&mut self, ino: Ino, size: u64) -> Result<(), Error> {
        let old = self.bytes(ino)?.len() as u64;
        if size > old {
            self.room(size - old)?;
        }
        self.bytes(ino)?.resize(size as usize, 0);
        Ok(())
    }

    fn read(&mut self, ino: Ino, offset: u64, len: u64) -> Result<(Vec<u8>, bool), Error> {
        let bytes = self.bytes(ino)?;
        let size = bytes.len() as u64;
        let from = offset.min(size) as usize;
        let to = offset.saturating_add(len).min(size) as usize;
        let chunk = bytes[from..to.max(from)].to_vec();
        let end = chunk.is_empty();
        Ok((chunk, end))
    }

    fn write(&mut self, ino: Ino, data: &[u8], offset: Option<u64>) -> Result<u64, Error> {
        let old = self.bytes(ino)?.len() as u64;
        let at = offset.unwrap_or(old);
        let end = at
            .checked_add(data.len() as u64)
            .ok_or(Error::InsufficientSpace)?;
        if data.is_empty() {
            return Ok(0);
        }
        if end > old {
            self.room(end - old)?;
        }
        let bytes = self.bytes(ino)?;
        if end as usize > bytes.len() {
            bytes.resize(end as usize, 0);
        }
        bytes[at as usize..end as usize].copy_from_slice(data);
        Ok(data.len() as u64)
    }

    fn mkdir(&mut self, base: Ino, path: &str) -> Result<(), Error> {
        let (dir, Some(name)) = self.parent(base, path)? else {
            return Err(Error::Exist);
        };
        if self.lookup(dir, &name).is_some() {
            return Err(Error::Exist);
        }
        self.add(dir, &name, What::Dir(BTreeMap::new())).map(drop)
    }

    fn rmdir(&mut self, base: Ino, path: &str) -> Result<(), Error> {
        let (dir, Some(name)) = self.parent(base, path)? else {
            return Err(Error::Invalid);
        };
        let ino = self.lookup(dir, &name).ok_or(Error::NoEntry)?;
        let slash = path.ends_with('/');
        if slash && self.kind(ino) == Type::SymbolicLink {
            self.find(base, path, true)?;
            return Err(Error::Invalid);
        }
        if !self.is_dir(ino) {
            return Err(Error::NotDirectory);
        }
        if slash {
            return Err(Error::Invalid);
        }
        if !self.dir(ino).unwrap().is_empty() {
            return Err(Error::NotEmpty);
        }
        self.drop_name(dir, &name);
        Ok(())
    }

    fn unlink(&mut self, base: Ino, path: &str) -> Result<(), Error> {
        let slash = path.ends_with('/');
        let ino = self.find(base, path.trim_end_matches('/'), slash)?;
        if self.is_dir(ino) {
            return Err(Error::IsDirectory);
        }
        if slash {
            return Err(Error::NotDirectory);
        }
        let (dir, Some(name)) = self.parent(base, path)? else {
            return Err(Error::IsDirectory);
        };
        self.drop_name(dir, &name);
        Ok(())
    }

    fn rename(&mut self, base: Ino, old: &str, to: Ino, new: &str) -> Result<(), Error> {
        let (from_dir, old_name) = self.parent(base, old)?;
        let (to_dir, new_name) = self.parent(to, new)?;
        let (Some(old_name), Some(new_name)) = (old_name, new_name) else {
            return Err(Error::Busy);
        };
        let moving = self.lookup(from_dir, &old_name).ok_or(Error::NoEntry)?;
        if self.get(to_dir).nlink == 0 {
            return Err(Error::NoEntry);
        }
        let moving_dir = self.is_dir(moving);
        if !moving_dir && (old.ends_with('/') || new.ends_with('/')) {
            return Err(Error::NotDirectory);
        }
        if moving_dir && self.below(to_dir, moving) {
            return Err(Error::Invalid);
        }
        if let Some(there) = self.lookup(to_dir, &new_name) {
            if there == moving {
                return Ok(());
            }
            if self.below(from_dir, there) {
                return Err(Error::NotEmpty);
            }
            match (moving_dir, self.is_dir(there)) {
                (false, true) => return Err(Error::IsDirectory),
                (true, false) => return Err(Error::NotDirectory),
                (true, true) if !self.dir(there).unwrap().is_empty() => {
                    return Err(Error::NotEmpty)
                }
                _ => {}
            }
        }
        self.room((new_name.len() as u64).saturating_sub(old_name.len() as u64))?;
        if self.lookup(to_dir, &new_name).is_some() {
            self.drop_name(to_dir, &new_name);
        }
        self.dir_mut(from_dir).remove(&old_name);
        self.dir_mut(to_dir).insert(new_name, moving);
        Ok(())
    }

    fn symlink(&mut self, base: Ino, text: &str, path: &str) -> Result<(), Error> {
        if text.starts_with('/') {
            return Err(Error::NotPermitted);
        }
        let (dir, name) = self.parent_for_new(base, path)?;
        if text.is_empty() {
            return Err(Error::NoEntry);
        }
        let Some(name) = name else {
            return Err(Error::Exist);
        };
        if self.lookup(dir, &name).is_some() {
            return Err(Error::Exist);
        }
        self.add(dir, &name, What::Link(text.into())).map(drop)
    }

    fn readlink(&self, base: Ino, path: &str) -> Result<String, Error> {
        match &self.get(self.find(base, path, false)?).what {
            What::Link(text) => Ok(text.clone()),
            _ => Err(Error::Invalid),
        }
    }

    fn link(&mut self, base: Ino, old: &str, to: Ino, new: &str) -> Result<(), Error> {
        let (from_dir, old_name) = self.parent_for_new(base, old)?;
        let (dir, name) = self.parent_for_new(to, new)?;
        let ino = match old_name {
            Some(n) => self.lookup(from_dir, &n).ok_or(Error::NoEntry)?,
            None => from_dir,
        };
        let Some(name) = name else {
            return Err(Error::Exist);
        };
        if self.lookup(dir, &name).is_some() {
            return Err(Error::Exist);
        }
        if self.is_dir(ino) {
            return Err(Error::NotPermitted);
        }
        if self.get(dir).nlink == 0 {
            return Err(Error::NoEntry);
        }
        self.room(ENTRY + name.len() as u64)?;
        self.dir_mut(dir).insert(name, ino);
        self.inodes.get_mut(&ino).unwrap().nlink += 1;
        Ok(())
    }

    /// What `stat-at` reaches: not following, a lone name followed only by
    /// `/` and `.` components is that name's file or symlink itself.
    fn stat_at(&self, base: Ino, path: &str, follow: bool) -> Result<Ino, Error> {
        if !follow {
            let mut name = path;
            while let Some(shorter) = name.strip_suffix('/').or_else(|| name.strip_suffix("/.")) {
                name = shorter;
            }
            if name != path && !name.is_empty() && !name.contains('/') {
                if let Ok(ino) = self.find(base, name, false) {
                    if !self.is_dir(ino) {
                        return Ok(ino);
                    }
                }
            }
        }
        self.find(base, path, follow)
    }

    /// What `stat` answers, without the times: type, links, size.
    fn stat(&self, ino: Ino) -> (Type, u64, u64) {
        let inode = self.get(ino);
        match &inode.what {
            What::Dir(_) => (Type::Directory, 1, 0),
            What::File(b) => (Type::RegularFile, inode.nlink.into(), b.len() as u64),
            What::Link(t) => (Type::SymbolicLink, inode.nlink.into(), t.len() as u64),
        }
    }

    fn entries(&self, ino: Ino) -> Result<Vec<(String, Type)>, Error> {
        let names = self.dir(ino).ok_or(Error::NotDirectory)?;
        Ok(names
            .iter()
            .map(|(n, &i)| (n.clone(), self.kind(i)))
            .collect())
    }
}

// --------------------------------------------------------------- driver

/// An overlay's embedded tree: `a` (a file), `d/` holding `x -> ../a`,
/// `e/` (empty) and `y -> d`.
const LOWER: [(&str, Lower); 7] = [
    ("", Lower::Dir(1, 4)),
    ("a", Lower::File(b"embedded")),
    ("d", Lower::Dir(5, 1)),
    ("e", Lower::Dir(6, 0)),
    ("y", Lower::Link("d")),
    ("x", Lower::Link("../a")),
    ("", Lower::Dir(0, 0)),
];

#[derive(Clone, Copy)]
enum Lower {
    Dir(u32, u32),
    File(&'static [u8]),
    Link(&'static str),
}

/// The store's surroundings: a clock that ticks at each reading, and the
/// embedded tree [`LOWER`] (used by an overlay only).
pub struct TestEnv(Cell<u64>);

impl Env for TestEnv {
    fn now(&self) -> Time {
        self.0.set(self.0.get() + 1);
        Time {
            seconds: self.0.get(),
            nanoseconds: 0,
        }
    }

    fn node(&self, index: u32) -> Node<'_> {
        let (name, lower) = LOWER[index as usize];
        let kind = match lower {
            Lower::Dir(first, count) => NodeKind::Dir { first, count },
            Lower::File(bytes) => NodeKind::File {
                segment: 0,
                offset: 0,
                len: bytes.len() as u32,
            },
            Lower::Link(target) => NodeKind::Link(target),
        };
        Node { name, kind }
    }

    fn read(&self, index: u32, len: u64, offset: u64) -> Result<(Vec<u8>, bool), Error> {
        let Lower::File(bytes) = LOWER[index as usize].1 else {
            return Err(Error::BadDescriptor);
        };
        let size = bytes.len() as u64;
        if offset >= size || len == 0 {
            return Ok((Vec::new(), true));
        }
        let end = size.min(offset.saturating_add(len));
        Ok((bytes[offset as usize..end as usize].to_vec(), false))
    }
}

impl Model {
    /// The model's copy of embedded directory `index`'s entries into `dir`.
    fn embed(&mut self, dir: Ino, index: u32) {
        let Lower::Dir(first, count) = LOWER[index as usize].1 else {
            unreachable!()
        };
        for child in first..first + count {
            let (name, lower) = LOWER[child as usize];
            let what = match lower {
                Lower::Dir(..) => What::Dir(BTreeMap::new()),
                Lower::File(bytes) => What::File(bytes.to_vec()),
                Lower::Link(text) => What::Link(text.into()),
            };
            let ino = self.next;
            self.next += 1;
            self.inodes.insert(
                ino,
                Inode {
                    what,
                    nlink: 1,
                    open: 0,
                    orphan_cost: 0,
                },
            );
            self.dir_mut(dir).insert(name.into(), ino);
            if let Lower::Dir(..) = lower {
                self.embed(ino, child);
            }
        }
    }
}

/// The store and the model side by side, with the descriptors held.
pub struct Pair {
    store: Store<TestEnv>,
    model: Model,
    /// Held descriptors: the store's id and the model's inode.
    held: Vec<(Id, Ino)>,
    /// The store id each live model inode has been seen with.
    ids: BTreeMap<Ino, Id>,
    steps: usize,
    /// Whether the model counts the size (a tmpfs).
    counted: bool,
}

impl Pair {
    /// A tmpfs of size limit `limit`.
    pub fn new(limit: u64) -> Pair {
        Pair::made(None, limit)
    }

    /// An overlay of [`LOWER`]. Its embedded entries are charged only once
    /// copied up, which the model does not follow: the size accounting is
    /// left to the store's own check, and the limit is out of the way.
    pub fn overlay() -> Pair {
        Pair::made(Some(0), 1 << 30)
    }

    fn made(lower: Option<u32>, limit: u64) -> Pair {
        let mut store = Store::new(TestEnv(Cell::new(0)), [(lower, limit)]);
        let root = store.root(0);
        store.hold(root);
        let mut model = Model::new(limit);
        if lower.is_some() {
            model.embed(0, 0);
        }
        Pair {
            store,
            model,
            held: vec![(root, 0)],
            ids: BTreeMap::from([(0, root)]),
            steps: 0,
            counted: lower.is_none(),
        }
    }

    /// The two answers, which must agree, and the ids they name.
    fn same<T: PartialEq + std::fmt::Debug>(&self, op: &Op, store: &T, model: &T) {
        assert_eq!(
            store, model,
            "step {} {op:?}: store (left) and model (right) differ",
            self.steps
        );
    }

    /// Records that store id `id` is model inode `ino`: one live inode per
    /// id and one id per inode.
    fn seen(&mut self, op: &Op, id: Id, ino: Ino) {
        if let Some(&known) = self.ids.get(&ino) {
            assert_eq!(
                known, id,
                "step {} {op:?}: inode {ino} changed ids",
                self.steps
            );
        }
        if let Some((&other, _)) = self.ids.iter().find(|(&i, &v)| v == id && i != ino) {
            panic!(
                "step {} {op:?}: id {id} names inodes {other} and {ino}",
                self.steps
            );
        }
        self.ids.insert(ino, id);
    }

    /// The descriptor at `index` (wrapped), if any.
    fn desc(&self, index: usize) -> (Id, Ino) {
        self.held[index % self.held.len()]
    }

    /// A directory descriptor, as the adapter lets path operations start
    /// only from one.
    fn dir(&self, index: usize) -> Option<(Id, Ino)> {
        let (id, ino) = self.desc(index);
        self.model.is_dir(ino).then_some((id, ino))
    }

    pub fn run(&mut self, op: &Op) {
        self.steps += 1;
        self.apply(op);
        self.check(op);
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::Open { at, path, how } => {
                let Some((id, ino)) = self.dir(*at) else {
                    return;
                };
                if self.held.len() >= HELD_MAX {
                    return;
                }
                let (s, m) = (&mut self.store, &mut self.model);
                let got = (s.open(id, path, *how), m.open(ino, path, *how));
                self.same(op, &got.0.err(), &got.1.err());
                if let (Ok(id), Ok(ino)) = got {
                    self.seen(op, id, ino);
                    self.store.hold(id);
                    self.model.hold(ino);
                    self.held.push((id, ino));
                }
            }
            Op::Close { desc } => {
                if self.held.len() < 2 {
                    return;
                }
                let i = 1 + desc % (self.held.len() - 1);
                let (id, ino) = self.held.remove(i);
                self.store.release(id);
                self.model.release(ino);
            }
            Op::Write { desc, offset, len } => {
                let (id, ino) = self.desc(*desc);
                let data: Vec<u8> = (0..*len).map(|i| (self.steps + i) as u8).collect();
                let (s, m) = (&mut self.store, &mut self.model);
                let got = (s.write(id, &data, *offset), m.write(ino, &data, *offset));
                self.same(op, &got.0, &got.1);
            }
            Op::Read { desc, offset, len } => {
                let (id, ino) = self.desc(*desc);
                let (s, m) = (&mut self.store, &mut self.model);
                let got = (s.read(id, *len, *offset), m.read(ino, *offset, *len));
                self.same(op, &got.0, &got.1);
            }
            Op::SetSize { desc, size } => {
                let (id, ino) = self.desc(*desc);
                let (s, m) = (&mut self.store, &mut self.model);
                let got = (s.set_size(id, *size), m.resize(ino, *size));
                self.same(op, &got.0, &got.1);
            }
            Op::Entries { desc } => {
                let (id, ino) = self.desc(*desc);
                let got = (self.store.entries(id), self.model.entries(ino));
                self.same(op, &got.0, &got.1);
            }
            _ => self.apply_path(op),
        }
    }

    fn apply_path(&mut self, op: &Op) {
        let at = match op {
            Op::Mkdir { at, .. }
            | Op::Rmdir { at, .. }
            | Op::Unlink { at, .. }
            | Op::Rename { at, .. }
            | Op::Link { at, .. }
            | Op::Symlink { at, .. }
            | Op::Readlink { at, .. }
            | Op::StatAt { at, .. } => *at,
            _ => unreachable!(),
        };
        let Some((id, ino)) = self.dir(at) else {
            return;
        };
        let (s, m) = (&mut self.store, &mut self.model);
        let got = match op {
            Op::Mkdir { path, .. } => (s.create_directory(id, path), m.mkdir(ino, path)),
            Op::Rmdir { path, .. } => (s.remove_directory(id, path), m.rmdir(ino, path)),
            Op::Unlink { path, .. } => (s.unlink_file(id, path), m.unlink(ino, path)),
            Op::Symlink { target, path, .. } => {
                (s.symlink(id, target, path), m.symlink(ino, target, path))
            }
            Op::Rename { old, to, new, .. } | Op::Link { old, to, new, .. } => {
                let Some((to_id, to_ino)) = self.dir(*to) else {
                    return;
                };
                let (s, m) = (&mut self.store, &mut self.model);
                match op {
                    Op::Rename { .. } => (
                        s.rename(id, old, to_id, new),
                        m.rename(ino, old, to_ino, new),
                    ),
                    _ => (s.link(id, old, to_id, new), m.link(ino, old, to_ino, new)),
                }
            }
            Op::Readlink { path, .. } => {
                let got = (s.readlink(id, path), m.readlink(ino, path));
                return self.same(op, &got.0, &got.1);
            }
            Op::StatAt { path, follow, .. } => {
                let got = (
                    s.stat_target(id, path, *follow),
                    m.stat_at(ino, path, *follow),
                );
                self.same(op, &got.0.err(), &got.1.err());
                if let (Ok(id), Ok(ino)) = got {
                    self.seen(op, id, ino);
                    let stat = self.store.stat(id);
                    let answer = (stat.type_, stat.link_count, stat.size);
                    self.same(op, &answer, &self.model.stat(ino));
                }
                return;
            }
            _ => unreachable!(),
        };
        self.same(op, &got.0, &got.1);
    }

    /// The invariants after a step.
    fn check(&mut self, op: &Op) {
        if let Err(e) = self.store.check() {
            panic!("step {} {op:?}: the store is inconsistent: {e}", self.steps);
        }
        if self.counted {
            let used = (self.store.used(0), self.model.used());
            self.same(op, &used.0, &used.1);
        }
        // Inodes the model freed may have their ids reused.
        let model = &self.model;
        self.ids.retain(|ino, _| model.inodes.contains_key(ino));
        for (id, ino) in self.held.clone() {
            self.seen(op, id, ino);
            let stat = self.store.stat(id);
            let answer = (stat.type_, stat.link_count, stat.size);
            self.same(op, &answer, &self.model.stat(ino));
            let contents = (
                self.store.read(id, u64::MAX, 0),
                self.model.read(ino, 0, u64::MAX),
            );
            self.same(op, &contents.0, &contents.1);
            let listing = (self.store.entries(id), self.model.entries(ino));
            self.same(op, &listing.0, &listing.1);
        }
    }
}
