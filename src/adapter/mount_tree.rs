//! Building the embedded filesystem: walking mounts on the host, checking
//! what may be embedded, laying the tree out as the adapter reads it, and
//! packing file contents into passive data segments.
//!
//! Host files are not read here: a segment records which files it holds and
//! their sizes, and their bytes are copied straight into the output when it
//! is written (`src/adapter/splice.rs`), so no copy of them is ever held.
//! Mounted trees are walked and read through descriptors
//! (`src/adapter/mount_tree/host.rs`), so that what is written is what was
//! walked.

mod host;

use crate::policy::{ByteSize, FsEntry, FsPolicy, DEFAULT_MEMORY_LIMIT};
use anyhow::{anyhow, bail, Context, Result};
use host::HostFile;
pub use host::Reader;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use wasi_virt_layout::{FsSpec, NodeKind, NodeSpec, NAME_MAX};

/// Files are packed into passive segments of at most this size; a larger
/// file gets a segment of its own. Segments are only copied from when read,
/// so their size costs nothing at instantiation.
const PACK: usize = 1 << 20;

/// A node as laid out: the layout's kind, a runtime file's host path, or
/// a link's target.
#[derive(Debug, PartialEq, Eq)]
enum Slot {
    Node(NodeKind<'static>),
    RuntimeFile(String),
    Link(String),
}

/// The embedded tree, ready to encode.
#[derive(Default)]
pub struct Tree {
    /// `(guest path, root node)`.
    pub preopens: Vec<(String, u32)>,
    /// Writable in-memory preopens: `(guest path, the root of the embedded
    /// directory below an overlay, size limit)`.
    pub memory: Vec<(String, Option<u32>, u64)>,
    /// `(guest path, host path)` of host directories shown renamed.
    pub remaps: Vec<(String, String)>,
    /// Nodes in layout order (see [`Tree::spec`]).
    nodes: Vec<(String, Slot)>,
    /// The passive data segments holding file contents.
    pub segments: Vec<Segment>,
}

impl Tree {
    /// The layout crate's view of the tree.
    pub fn spec(&self) -> FsSpec<'_> {
        FsSpec {
            remaps: self
                .remaps
                .iter()
                .map(|(g, h)| (g.as_str(), h.as_str()))
                .collect(),
            preopens: self
                .preopens
                .iter()
                .map(|(p, r)| (p.as_str(), *r))
                .collect(),
            nodes: self
                .nodes
                .iter()
                .map(|(name, slot)| NodeSpec {
                    name,
                    kind: match slot {
                        Slot::Node(kind) => *kind,
                        Slot::RuntimeFile(path) => NodeKind::RuntimeFile(path),
                        Slot::Link(target) => NodeKind::Link(target),
                    },
                })
                .collect(),
            memory: self
                .memory
                .iter()
                .map(|(name, lower, limit)| wasi_virt_layout::Memory {
                    name,
                    lower: *lower,
                    limit: *limit,
                })
                .collect(),
        }
    }

    /// Whether the tree reaches into the host's filesystem at run time:
    /// through a remapped directory, or a runtime file.
    pub fn needs_host_fs(&self) -> bool {
        !self.remaps.is_empty()
            || self
                .nodes
                .iter()
                .any(|(_, slot)| matches!(slot, Slot::RuntimeFile(_)))
    }
}

/// An entry as read from the policy and the host, before layout.
enum Item {
    Dir(BTreeMap<String, Item>),
    File(Content),
    RuntimeFile(String),
    /// A link found in a mount, with its target text.
    Link(String),
}

/// The bytes of an embedded file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// Held: text from the policy.
    Bytes(Vec<u8>),
    /// A host file, read when the output is written.
    Host(HostFile),
}

impl Content {
    /// Its size in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Content::Bytes(bytes) => bytes.len() as u64,
            Content::Host(file) => file.len,
        }
    }

    /// Copies its bytes to `out`; a host file must still be the one walked,
    /// with the size it had then.
    fn write_to(&self, reader: &mut Reader, out: &mut dyn Write) -> Result<()> {
        match self {
            Content::Bytes(bytes) => Ok(out.write_all(bytes)?),
            Content::Host(file) => file.write_to(reader, out),
        }
    }
}

/// A passive data segment: file contents laid end to end.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    /// The files, in order.
    pub parts: Vec<Content>,
}

impl Segment {
    /// Its size in bytes.
    pub fn len(&self) -> u64 {
        self.parts.iter().map(Content::len).sum()
    }

    /// Copies its bytes to `out`, opening host files through `reader`.
    pub fn write_to(&self, reader: &mut Reader, out: &mut dyn Write) -> Result<()> {
        self.parts
            .iter()
            .try_for_each(|part| part.write_to(reader, out))
    }
}

/// Reads every embedded preopen of `policy` and lays them out.
pub fn build(policy: &FsPolicy) -> Result<Tree> {
    let mut roots = Vec::new();
    let mut remaps = Vec::new();
    let mut memory = Vec::new();
    for (guest, entry) in &policy.preopens {
        if guest.is_empty() {
            bail!("a preopen needs a guest path");
        }
        let limit = |size: &Option<ByteSize>| size.map_or(DEFAULT_MEMORY_LIMIT, |s| s.0);
        let (entry, root) = match entry {
            FsEntry::RuntimeDir(host) => {
                let host = host.to_str().ok_or_else(|| {
                    anyhow!("preopen `{guest}`: `{}` is not UTF-8", host.display())
                })?;
                remaps.push((guest.clone(), host.to_string()));
                continue;
            }
            FsEntry::Tmpfs(tmpfs) => {
                memory.push((guest.clone(), None, limit(&tmpfs.size)));
                continue;
            }
            FsEntry::Overlay(overlay) => {
                let lower = FsEntry::Virtualize(overlay.dir.clone());
                memory.push((guest.clone(), None, limit(&overlay.size)));
                (lower, Root::Lower(memory.len() - 1))
            }
            entry => (entry.clone(), Root::Preopen),
        };
        let item = load(&entry).with_context(|| format!("failed to embed preopen `{guest}`"))?;
        if !matches!(item, Item::Dir(_)) {
            bail!("preopen `{guest}` must be a directory, but its source is a file");
        }
        roots.push((guest.clone(), item, root));
    }
    let mut tree = layout(roots, &mut memory);
    tree.remaps = remaps;
    tree.memory = memory;
    Ok(tree)
}

fn load(entry: &FsEntry) -> Result<Item> {
    Ok(match entry {
        FsEntry::Source(text) => Item::File(Content::Bytes(text.clone().into_bytes())),
        FsEntry::Dir(entries) => {
            let mut dir = BTreeMap::new();
            for (name, entry) in entries {
                check_name(name)?;
                let item = load(entry).with_context(|| format!("in `{name}`"))?;
                dir.insert(name.to_string(), item);
            }
            Item::Dir(dir)
        }
        FsEntry::Virtualize(path) => read_host(path)?,
        FsEntry::RuntimeFile(path) => Item::RuntimeFile(
            path.to_str()
                .ok_or_else(|| anyhow!("`{}` is not UTF-8", path.display()))?
                .to_string(),
        ),
        FsEntry::RuntimeDir(path) => bail!(
            "`{}` is a runtime directory inside an embedded one; runtime directories can only \
             be preopens",
            path.display()
        ),
        FsEntry::Tmpfs(_) | FsEntry::Overlay(_) => {
            bail!("a tmpfs or an overlay inside an embedded directory; they can only be preopens")
        }
    })
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        bail!("`{name}` is not a valid file name");
    }
    if name.len() > NAME_MAX {
        bail!("the name `{name}` is longer than {NAME_MAX} bytes");
    }
    Ok(())
}

/// Reads a host file, or a host directory recursively (see
/// [`host::read_dir`]).
fn read_host(path: &Path) -> Result<Item> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("failed to read `{}`", path.display()))?;
    if meta.is_file() {
        return Ok(Item::File(Content::Host(host::named_file(path)?)));
    }
    host::read_dir(path)
}

/// What an embedded root is: a read-only preopen, or the lower layer of
/// writable preopen number `n`.
enum Root {
    Preopen,
    Lower(usize),
}

/// Lays the roots out breadth first, so that each directory's children are
/// consecutive nodes, sorted by name; packs file contents into segments.
fn layout(roots: Vec<(String, Item, Root)>, memory: &mut [(String, Option<u32>, u64)]) -> Tree {
    let mut tree = Tree::default();
    let mut packer = Packer::default();
    // Each queued directory: its node index and its entries.
    let mut queue = std::collections::VecDeque::new();
    for (guest, item, root) in roots {
        let index = tree.nodes.len() as u32;
        let empty = Slot::Node(NodeKind::Dir { first: 0, count: 0 });
        tree.nodes.push((String::new(), empty));
        match root {
            Root::Preopen => tree.preopens.push((guest, index)),
            Root::Lower(n) => memory[n].1 = Some(index),
        }
        if let Item::Dir(entries) = item {
            queue.push_back((index, entries));
        }
    }
    while let Some((index, entries)) = queue.pop_front() {
        let first = tree.nodes.len() as u32;
        tree.nodes[index as usize].1 = Slot::Node(NodeKind::Dir {
            first,
            count: entries.len() as u32,
        });
        for (name, item) in entries {
            let child = tree.nodes.len() as u32;
            match item {
                Item::File(content) => {
                    let kind = packer.add(content);
                    tree.nodes.push((name, Slot::Node(kind)));
                }
                Item::RuntimeFile(path) => tree.nodes.push((name, Slot::RuntimeFile(path))),
                Item::Link(target) => tree.nodes.push((name, Slot::Link(target))),
                Item::Dir(children) => {
                    let empty = Slot::Node(NodeKind::Dir { first: 0, count: 0 });
                    tree.nodes.push((name, empty));
                    queue.push_back((child, children));
                }
            }
        }
    }
    tree.segments = packer.finish();
    tree
}

#[derive(Default)]
struct Packer {
    done: Vec<Segment>,
    open: Segment,
    /// The open segment's size, kept as it grows: summing its parts for
    /// every file added would be quadratic in the number of small files.
    open_len: u64,
}

impl Packer {
    fn add(&mut self, content: Content) -> NodeKind<'static> {
        // At most 4 GiB, checked when the file was found.
        let len = content.len() as u32;
        if content.len() > PACK as u64 {
            // Close the open pack first: its files were numbered with the
            // next segment.
            if !self.open.parts.is_empty() {
                self.done.push(std::mem::take(&mut self.open));
                self.open_len = 0;
            }
            self.done.push(Segment {
                parts: vec![content],
            });
            return NodeKind::File {
                segment: self.done.len() as u32 - 1,
                offset: 0,
                len,
            };
        }
        if self.open_len + content.len() > PACK as u64 {
            self.done.push(std::mem::take(&mut self.open));
            self.open_len = 0;
        }
        let offset = self.open_len as u32;
        self.open_len += content.len();
        self.open.parts.push(content);
        NodeKind::File {
            segment: self.done.len() as u32,
            offset,
            len,
        }
    }

    fn finish(mut self) -> Vec<Segment> {
        if !self.open.parts.is_empty() {
            self.done.push(self.open);
        }
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;

    fn file(text: &str) -> FsEntry {
        FsEntry::Source(text.to_string())
    }

    fn bytes(segment: &Segment) -> Vec<u8> {
        let mut out = Vec::new();
        segment.write_to(&mut Reader::default(), &mut out).unwrap();
        out
    }

    #[test]
    fn host_files_are_read_when_written_and_must_not_change() {
        let mount = tempfile::tempdir().unwrap();
        std::fs::write(mount.path().join("a.txt"), "first").unwrap();
        let mut policy = FsPolicy::default();
        policy.virtual_preopen("/m", mount.path());
        let tree = build(&policy).unwrap();
        std::fs::write(mount.path().join("a.txt"), "FIRST").unwrap();
        assert_eq!(bytes(&tree.segments[0]), b"FIRST");
        std::fs::write(mount.path().join("a.txt"), "longer now").unwrap();
        let mut out = Vec::new();
        let err = tree.segments[0]
            .write_to(&mut Reader::default(), &mut out)
            .unwrap_err();
        assert!(
            format!("{err:#}").contains("changed while virtualizing"),
            "{err:#}"
        );
    }

    /// `tree`'s first segment written, or the error.
    fn written(tree: &Tree) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        tree.segments[0].write_to(&mut Reader::default(), &mut out)?;
        Ok(out)
    }

    #[test]
    fn a_named_file_swapped_after_the_walk_is_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let (named, other) = (dir.path().join("named"), dir.path().join("other"));
        std::fs::write(&named, "inside").unwrap();
        std::fs::write(&other, "SECRET").unwrap();
        let mut policy = FsPolicy::default();
        let entries: IndexMap<String, FsEntry> =
            [("f".to_string(), FsEntry::Virtualize(named.clone()))].into();
        policy.preopen("/d", FsEntry::Dir(entries));
        let tree = build(&policy).unwrap();
        assert_eq!(written(&tree).unwrap(), b"inside");
        std::fs::rename(&named, dir.path().join("kept")).unwrap();
        std::os::unix::fs::symlink(&other, &named).unwrap();
        let err = format!("{:#}", written(&tree).unwrap_err());
        assert!(err.contains("changed since the mount was walked"), "{err}");
    }

    #[test]
    fn a_file_swapped_after_the_walk_is_never_read() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "SECRET").unwrap();
        std::fs::create_dir(outside.path().join("dir")).unwrap();
        std::fs::write(outside.path().join("dir/f"), "SECRET").unwrap();
        let mount = tempfile::tempdir().unwrap();
        let m = mount.path();
        std::fs::write(m.join("a.txt"), "inside").unwrap();
        std::fs::create_dir(m.join("d")).unwrap();
        std::fs::write(m.join("d/f"), "inside").unwrap();
        let mut policy = FsPolicy::default();
        policy.virtual_preopen("/m", m);
        let swaps: [(&str, &dyn Fn()); 4] = [
            ("a file for a link out", &|| {
                std::fs::remove_file(m.join("a.txt")).unwrap();
                std::os::unix::fs::symlink(outside.path().join("secret"), m.join("a.txt")).unwrap();
            }),
            // The old file is kept, so that its inode is not reused.
            ("a file for another of its size", &|| {
                std::fs::rename(m.join("a.txt"), outside.path().join("old")).unwrap();
                std::fs::write(m.join("a.txt"), "SECRET").unwrap();
            }),
            ("a directory for a link out", &|| {
                std::fs::remove_dir_all(m.join("d")).unwrap();
                std::os::unix::fs::symlink(outside.path().join("dir"), m.join("d")).unwrap();
            }),
            ("a directory for another", &|| {
                let _ = std::fs::remove_dir_all(outside.path().join("old-d"));
                std::fs::rename(m.join("d"), outside.path().join("old-d")).unwrap();
                std::fs::create_dir(m.join("d")).unwrap();
                std::fs::write(m.join("d/f"), "SECRET").unwrap();
            }),
        ];
        for (what, swap) in swaps {
            let _ = std::fs::remove_file(m.join("a.txt"));
            std::fs::write(m.join("a.txt"), "inside").unwrap();
            let _ = std::fs::remove_file(m.join("d"));
            let _ = std::fs::remove_dir_all(m.join("d"));
            std::fs::create_dir(m.join("d")).unwrap();
            std::fs::write(m.join("d/f"), "inside").unwrap();
            let tree = build(&policy).unwrap();
            assert_eq!(written(&tree).unwrap(), b"insideinside", "{what}");
            swap();
            let err = format!("{:#}", written(&tree).unwrap_err());
            assert!(
                err.contains("changed since the mount was walked"),
                "{what}: {err}"
            );
        }
    }

    #[test]
    fn layout_is_breadth_first_and_sorted() {
        let mut policy = FsPolicy::default();
        let sub: IndexMap<String, FsEntry> = [("z".to_string(), file("zz"))].into();
        let root: IndexMap<String, FsEntry> = [
            ("b.txt".to_string(), file("bee")),
            ("a".to_string(), FsEntry::Dir(sub)),
        ]
        .into();
        policy.preopen("/data", FsEntry::Dir(root));
        let tree = build(&policy).unwrap();
        assert_eq!(tree.preopens, [("/data".to_string(), 0)]);
        let names: Vec<&str> = tree.nodes.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["", "a", "b.txt", "z"]);
        assert_eq!(
            tree.nodes[0].1,
            Slot::Node(NodeKind::Dir { first: 1, count: 2 })
        );
        assert_eq!(
            tree.nodes[1].1,
            Slot::Node(NodeKind::Dir { first: 3, count: 1 })
        );
        assert_eq!(tree.segments.len(), 1);
        assert_eq!(bytes(&tree.segments[0]), b"beezz");
    }

    #[test]
    fn big_files_get_their_own_segment_and_packs_stay_numbered() {
        let mut p = Packer::default();
        let a = p.add(Content::Bytes(vec![1; 10]));
        let big = p.add(Content::Bytes(vec![2; PACK + 1]));
        let b = p.add(Content::Bytes(vec![3; 10]));
        let segments: Vec<Vec<u8>> = p.finish().iter().map(bytes).collect();
        let at = |k: NodeKind| match k {
            NodeKind::File {
                segment,
                offset,
                len,
            } => segments[segment as usize][offset as usize..(offset + len) as usize].to_vec(),
            other => panic!("not a file: {other:?}"),
        };
        assert_eq!(at(a), vec![1; 10]);
        assert_eq!(at(big), vec![2; PACK + 1]);
        assert_eq!(at(b), vec![3; 10]);
    }

    #[test]
    fn bad_names_and_file_roots_are_refused() {
        let mut policy = FsPolicy::default();
        let bad: IndexMap<String, FsEntry> = [("..".to_string(), file("x"))].into();
        policy.preopen("/d", FsEntry::Dir(bad));
        assert!(format!("{:#}", build(&policy).err().unwrap()).contains("not a valid file name"));
        let mut policy = FsPolicy::default();
        policy.preopen("/d", file("x"));
        assert!(format!("{:#}", build(&policy).err().unwrap()).contains("must be a directory"));
    }

    #[test]
    fn links_inside_are_embedded_as_links_not_copies() {
        let mount = tempfile::tempdir().unwrap();
        let m = mount.path();
        std::fs::create_dir(m.join("sub")).unwrap();
        std::fs::write(m.join("sub/f"), "f").unwrap();
        std::os::unix::fs::symlink("sub", m.join("alias")).unwrap();
        std::os::unix::fs::symlink("..", m.join("sub/up")).unwrap();
        std::os::unix::fs::symlink("nowhere", m.join("dangling")).unwrap();
        std::os::unix::fs::symlink("loop", m.join("loop")).unwrap();
        std::os::unix::fs::symlink("../alias/up/sub/f", m.join("sub/round")).unwrap();
        let mut policy = FsPolicy::default();
        policy.virtual_preopen("/m", m);
        let tree = build(&policy).unwrap();
        let nodes: Vec<(&str, &Slot)> = tree.nodes.iter().map(|(n, s)| (n.as_str(), s)).collect();
        let link = |t: &str| Slot::Link(t.to_string());
        assert_eq!(nodes[1], ("alias", &link("sub")));
        assert_eq!(nodes[2], ("dangling", &link("nowhere")));
        assert_eq!(nodes[3], ("loop", &link("loop")));
        let names: Vec<&str> = nodes.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            ["", "alias", "dangling", "loop", "sub", "f", "round", "up"]
        );
        assert_eq!(nodes[6].1, &link("../alias/up/sub/f"));
        assert_eq!(nodes[7].1, &link(".."));
        // The directory is embedded once: its file's bytes once.
        assert_eq!(written(&tree).unwrap(), b"f");
    }

    #[test]
    fn links_climbing_out_through_other_links_are_refused() {
        let mount = tempfile::tempdir().unwrap();
        let m = mount.path();
        std::fs::create_dir(m.join("sub")).unwrap();
        std::os::unix::fs::symlink("..", m.join("sub/up")).unwrap();
        let mut policy = FsPolicy::default();
        policy.virtual_preopen("/m", m);
        assert!(build(&policy).is_ok());
        std::os::unix::fs::symlink("sub/up/..", m.join("out")).unwrap();
        let err = format!("{:#}", build(&policy).err().unwrap());
        assert!(
            err.contains("points outside the mounted directory"),
            "{err}"
        );
    }

    #[test]
    fn symlinks_may_not_leave_the_mount() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        let mount = tempfile::tempdir().unwrap();
        std::fs::write(mount.path().join("ok.txt"), "ok").unwrap();
        std::os::unix::fs::symlink(mount.path().join("ok.txt"), mount.path().join("inside"))
            .unwrap();
        let mut policy = FsPolicy::default();
        policy.virtual_preopen("/m", mount.path());
        let tree = build(&policy).unwrap();
        assert_eq!(tree.nodes.len(), 3, "the inside link is embedded");
        // Its absolute target is written relative to the link.
        assert_eq!(tree.nodes[1].1, Slot::Link("ok.txt".to_string()));

        std::os::unix::fs::symlink(outside.path().join("secret"), mount.path().join("escape"))
            .unwrap();
        let err = format!("{:#}", build(&policy).err().unwrap());
        assert!(
            err.contains("points outside the mounted directory"),
            "{err}"
        );
    }
}
