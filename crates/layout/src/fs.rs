//! The virtual filesystem's part of the configuration: the remapped host
//! directories, the virtual preopens, and the tree of embedded nodes they
//! name (after the config store); and, at the very end of the
//! configuration, the writable in-memory preopens.
//!
//! The tree is two byte strings: fixed-size node records ([`NODE_SIZE`]
//! bytes each), and the names and paths they point into. A directory's
//! children are consecutive records, sorted by name.

use crate::wire::{Error, PairList, Reader, StrList};

/// The longest file name, in bytes, that the embedded filesystem holds (the
/// host's limit for one path component).
pub const NAME_MAX: usize = 255;

/// The virtual filesystem: preopens naming nodes of one tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fs<'a> {
    /// Host directories shown under another name: `(guest path, host path)`,
    /// where the host must preopen the host path (or a directory above it).
    pub remaps: PairList<'a>,
    /// The guest path of each virtual preopen.
    pub preopen_names: StrList<'a>,
    /// The root node of each virtual preopen, in the same order.
    preopen_nodes: &'a [u8],
    /// Fixed-size node records.
    nodes: &'a [u8],
    /// Names and host paths, referred to by the nodes.
    strings: &'a [u8],
    /// The writable in-memory preopens (`--tmpfs`, `--overlay`).
    pub memory: MemoryList<'a>,
}

impl<'a> Fs<'a> {
    /// How many nodes the tree has.
    pub fn node_count(&self) -> u32 {
        (self.nodes.len() / NODE_SIZE) as u32
    }

    /// Node `index`; `None` past the end.
    pub fn node(&self, index: u32) -> Option<Node<'a>> {
        let at = (index as usize).checked_mul(NODE_SIZE)?;
        let mut r = Reader::new(self.nodes.get(at..at + NODE_SIZE)?);
        let words = [(); 6].map(|()| r.u32().unwrap_or(0));
        let name = self.string(words[1], words[2])?;
        let kind = NodeKind::from_words(words[0], [words[3], words[4], words[5]], |at, len| {
            self.string(at, len)
        })?;
        Some(Node { name, kind })
    }

    /// The string of `len` bytes at `at` of the strings.
    fn string(&self, at: u32, len: u32) -> Option<&'a str> {
        let at = at as usize;
        let bytes = self.strings.get(at..at.checked_add(len as usize)?)?;
        core::str::from_utf8(bytes).ok()
    }

    /// The virtual preopens: `(guest path, root node)`.
    pub fn preopens(&self) -> impl Iterator<Item = (&'a str, u32)> + 'a {
        let mut nodes = Reader::new(self.preopen_nodes);
        self.preopen_names
            .iter()
            .map(move |name| (name, nodes.u32().unwrap_or(u32::MAX)))
    }

    /// Reads the remaps, the preopens and the tree; the in-memory preopens
    /// come later in the configuration ([`MemoryList::read`]), and
    /// [`Fs::validate`] checks the whole once they are in.
    pub(crate) fn read_tree(r: &mut Reader<'a>) -> Result<Fs<'a>, Error> {
        Ok(Fs {
            remaps: r.pair_list()?,
            preopen_names: r.str_list()?,
            preopen_nodes: r.bytes()?,
            nodes: r.bytes()?,
            strings: r.bytes()?,
            memory: MemoryList { len: 0, bytes: &[] },
        })
    }

    /// Checks every node and preopen, so that `node` never fails on an index
    /// the tree itself holds.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        let count = self.node_count();
        if !self.nodes.len().is_multiple_of(NODE_SIZE)
            || self.preopen_nodes.len() != self.preopen_names.len() * 4
        {
            return Err(Error::Truncated);
        }
        for i in 0..count {
            let node = self.node(i).ok_or(Error::Truncated)?;
            if let NodeKind::Dir { first, count: n } = node.kind {
                if first.checked_add(n).is_none_or(|end| end > count) {
                    return Err(Error::Truncated);
                }
            }
        }
        if self.preopens().any(|(_, root)| root >= count) {
            return Err(Error::Truncated);
        }
        let mut r = Reader::new(self.memory.bytes);
        for _ in 0..self.memory.len {
            let memory = Memory::read(&mut r)?;
            if memory.lower.is_some_and(|root| root >= count) {
                return Err(Error::Truncated);
            }
        }
        Ok(())
    }
}

/// The host's side of [`Fs`]: a tree in node order.
#[cfg(feature = "encode")]
#[derive(Clone, Debug, Default)]
pub struct FsSpec<'s> {
    /// `(guest path, host path)` of host directories shown renamed.
    pub remaps: alloc::vec::Vec<(&'s str, &'s str)>,
    /// `(guest path, root node)`.
    pub preopens: alloc::vec::Vec<(&'s str, u32)>,
    /// The nodes; a directory's children are consecutive and sorted.
    pub nodes: alloc::vec::Vec<NodeSpec<'s>>,
    /// The writable in-memory preopens.
    pub memory: alloc::vec::Vec<Memory<'s>>,
}

/// One node of [`FsSpec`].
#[cfg(feature = "encode")]
#[derive(Clone, Debug)]
pub struct NodeSpec<'s> {
    /// Its name in its directory.
    pub name: &'s str,
    /// What it is.
    pub kind: NodeKind<'s>,
}

#[cfg(feature = "encode")]
impl FsSpec<'_> {
    /// Writes what [`Fs::read_tree`] reads.
    pub(crate) fn write_tree(&self, w: &mut crate::wire::Writer) {
        use crate::wire::len32;
        use alloc::vec::Vec;

        w.pair_list(&self.remaps);
        let names: Vec<&str> = self.preopens.iter().map(|(n, _)| *n).collect();
        w.str_list(&names);
        let roots: Vec<u8> = self
            .preopens
            .iter()
            .flat_map(|(_, r)| r.to_le_bytes())
            .collect();
        w.blob(&roots);
        let mut nodes = Vec::with_capacity(self.nodes.len() * NODE_SIZE);
        let mut strings = Vec::new();
        for node in &self.nodes {
            let name_at = len32(strings.len());
            strings.extend_from_slice(node.name.as_bytes());
            let (kind, [a, b, c]) = node.kind.to_words(&mut strings);
            for word in [kind, name_at, len32(node.name.len()), a, b, c] {
                nodes.extend_from_slice(&word.to_le_bytes());
            }
        }
        w.blob(&nodes);
        w.blob(&strings);
    }
}

/// What a node of the virtual filesystem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind<'a> {
    /// A directory whose children are nodes `first..first + count`, sorted
    /// by name.
    Dir {
        /// The first child.
        first: u32,
        /// How many children.
        count: u32,
    },
    /// A file whose bytes are `offset..offset + len` of passive data segment
    /// `segment` (numbered from the adapter's first file segment).
    File {
        /// The passive segment.
        segment: u32,
        /// Where the file starts in it.
        offset: u32,
        /// The file's size.
        len: u32,
    },
    /// A host file, opened at run time through the host preopen that holds
    /// this host path.
    RuntimeFile(&'a str),
    /// A symbolic link whose target text is this, as the host's `readlink`
    /// gave it: relative, and staying inside the embedded directory it was
    /// read from (`src/adapter/mount_tree/host.rs` refuses any other). It may dangle.
    Link(&'a str),
}

/// One node of the virtual filesystem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Node<'a> {
    /// Its name in its directory (empty for a preopen root).
    pub name: &'a str,
    /// What it is.
    pub kind: NodeKind<'a>,
}

/// Bytes per node record: kind, name offset, name length, and three
/// kind-specific words.
pub const NODE_SIZE: usize = 24;

const NODE_DIR: u32 = 1;
const NODE_FILE: u32 = 2;
const NODE_RUNTIME_FILE: u32 = 3;
const NODE_LINK: u32 = 4;

impl<'a> NodeKind<'a> {
    /// The kind a record's tag and three kind-specific words say; a path or
    /// target is the string `string(offset, length)`.
    fn from_words(
        tag: u32,
        [a, b, c]: [u32; 3],
        string: impl Fn(u32, u32) -> Option<&'a str>,
    ) -> Option<NodeKind<'a>> {
        Some(match tag {
            NODE_DIR => NodeKind::Dir { first: a, count: b },
            NODE_FILE => NodeKind::File {
                segment: a,
                offset: b,
                len: c,
            },
            NODE_RUNTIME_FILE => NodeKind::RuntimeFile(string(a, b)?),
            NODE_LINK => NodeKind::Link(string(a, b)?),
            _ => return None,
        })
    }

    /// The tag and words [`NodeKind::from_words`] reads, appending a path or
    /// target to `strings`.
    #[cfg(feature = "encode")]
    fn to_words(self, strings: &mut alloc::vec::Vec<u8>) -> (u32, [u32; 3]) {
        use crate::wire::len32;
        let mut text = |text: &str| {
            let at = len32(strings.len());
            strings.extend_from_slice(text.as_bytes());
            [at, len32(text.len()), 0]
        };
        match self {
            NodeKind::Dir { first, count } => (NODE_DIR, [first, count, 0]),
            NodeKind::File {
                segment,
                offset,
                len,
            } => (NODE_FILE, [segment, offset, len]),
            NodeKind::RuntimeFile(path) => (NODE_RUNTIME_FILE, text(path)),
            NodeKind::Link(target) => (NODE_LINK, text(target)),
        }
    }
}

/// One writable in-memory preopen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory<'a> {
    /// Its guest path.
    pub name: &'a str,
    /// For an overlay, the embedded directory (a node of the tree) that its
    /// writes lie over; `None` for a tmpfs, which starts empty.
    pub lower: Option<u32>,
    /// The most bytes its files and metadata may take.
    pub limit: u64,
}

/// [`Memory::lower`] of a tmpfs, which lies over nothing.
const NO_LOWER: u32 = u32::MAX;

impl<'a> Memory<'a> {
    fn read(r: &mut Reader<'a>) -> Result<Memory<'a>, Error> {
        let name = r.str()?;
        let lower = match r.u32()? {
            NO_LOWER => None,
            node => Some(node),
        };
        let limit = r.u64()?;
        Ok(Memory { name, lower, limit })
    }

    #[cfg(feature = "encode")]
    fn write(&self, w: &mut crate::wire::Writer) {
        w.str(self.name);
        w.u32(self.lower.unwrap_or(NO_LOWER));
        w.u64(self.limit);
    }
}

/// The writable in-memory preopens: `name, lower (u32::MAX for none),
/// limit (u64)` each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryList<'a> {
    len: u32,
    bytes: &'a [u8],
}

impl<'a> MemoryList<'a> {
    /// How many.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Each in order; checked by [`crate::Config::parse`].
    pub fn iter(&self) -> impl Iterator<Item = Memory<'a>> + 'a {
        let mut r = Reader::new(self.bytes);
        (0..self.len).map_while(move |_| Memory::read(&mut r).ok())
    }

    /// Preopen number `index`.
    pub fn get(&self, index: usize) -> Option<Memory<'a>> {
        self.iter().nth(index)
    }

    /// Takes the list's bytes; [`Fs::validate`] decodes them.
    pub(crate) fn read(r: &mut Reader<'a>) -> Result<MemoryList<'a>, Error> {
        let len = r.u32()?;
        let bytes = r.bytes()?;
        Ok(MemoryList { len, bytes })
    }

    #[cfg(feature = "encode")]
    pub(crate) fn write(memory: &[Memory<'_>], w: &mut crate::wire::Writer) {
        w.list(memory, |w, m| m.write(w));
    }
}
