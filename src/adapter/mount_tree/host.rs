//! Reading a mounted host tree through descriptors.
//!
//! The mount's root is opened once, where the user named it (following a
//! link there is the user's choice), and held until the output is written.
//! Below it, nothing is opened by path: each directory and file is opened
//! from the root's descriptor with no symbolic link followed on the way
//! (`openat2` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`, or one
//! component at a time with `O_NOFOLLOW` where the kernel lacks it), and
//! each is checked to be the device and inode the walk recorded. So a
//! file swapped for a link after the walk, or a directory renamed, fails
//! the write (`changed since the mount was walked`) instead of embedding
//! something else, and nothing outside the mount is ever read.
//!
//! A link inside the mount is embedded as a link, with its target text as
//! `readlink` gives it (an absolute one below the mount's path rewritten
//! relative to the link, so that the guest can follow it), when that
//! target resolves inside the mount, as the
//! kernel would resolve it, reading only links below the root (their
//! targets, on descriptors opened the same way). A target that climbs out
//! with `..`, or an absolute one not below the mount's own path, is refused.
//! A target that names nothing (dangling, or a loop) stays inside and is
//! kept, as a host preopen of the same directory shows it.

use super::{check_name, Content, Item};
use anyhow::{anyhow, bail, Context, Result};
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A mount's root directory, held open from the walk to the write.
#[derive(Debug)]
pub struct Mount {
    fd: OwnedFd,
    /// Its resolved path, for messages.
    shown: PathBuf,
}

/// What identifies a file on the host: its device and inode.
type Id = (u64, u64);

// The fields' types differ between systems.
#[allow(clippy::unnecessary_cast)]
fn id_of(stat: &rustix::fs::Stat) -> Id {
    (stat.st_dev as u64, stat.st_ino as u64)
}

/// A host file to embed, as the walk found it; read when the output is
/// written.
#[derive(Clone, Debug)]
pub struct HostFile {
    from: Source,
    id: Id,
    /// Its size when walked.
    pub len: u64,
}

/// Where a host file is opened from when it is read.
#[derive(Clone, Debug)]
enum Source {
    /// A file the user named itself (an inline tree's `virtualize` entry):
    /// opened by that path, as the user asked.
    Named(PathBuf),
    /// A file below a mount: this path below its root, never followed.
    Beneath { mount: Arc<Mount>, real: PathBuf },
}

impl PartialEq for HostFile {
    fn eq(&self, other: &Self) -> bool {
        let same_source = match (&self.from, &other.from) {
            (Source::Named(a), Source::Named(b)) => a == b,
            (Source::Beneath { mount: a, real: x }, Source::Beneath { mount: b, real: y }) => {
                Arc::ptr_eq(a, b) && x == y
            }
            _ => false,
        };
        same_source && self.id == other.id && self.len == other.len
    }
}

impl Eq for HostFile {}

impl HostFile {
    /// The file's path, for messages.
    pub fn shown(&self) -> PathBuf {
        match &self.from {
            Source::Named(path) => path.clone(),
            Source::Beneath { mount, real } => mount.shown.join(real),
        }
    }

    /// Copies its bytes to `out`: the file must still be the one walked,
    /// with the size it had then.
    pub fn write_to(&self, reader: &mut Reader, out: &mut dyn Write) -> Result<()> {
        let shown = self.shown();
        let failed = || format!("failed to read `{}`", shown.display());
        let file = self.open(reader).with_context(failed)?;
        let copied = std::io::copy(&mut file.take(self.len + 1), out).with_context(failed)?;
        if copied != self.len {
            bail!(
                "`{}` changed while virtualizing: it had {} bytes, and now {copied}",
                shown.display(),
                self.len
            );
        }
        Ok(())
    }

    fn open(&self, reader: &mut Reader) -> Result<std::fs::File> {
        let fd: OwnedFd = match &self.from {
            Source::Named(path) => std::fs::File::open(path)?.into(),
            Source::Beneath { mount, real } => reader.open(mount, real)?,
        };
        let stat = rustix::fs::fstat(&fd)?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile || id_of(&stat) != self.id
        {
            return Err(changed());
        }
        Ok(fd.into())
    }
}

/// The error for a file or directory that is no longer what the walk saw.
fn changed() -> anyhow::Error {
    anyhow!("changed since the mount was walked")
}

/// A name as the host's filesystem gives it: any bytes on Unix; on WASI,
/// whose filesystem names are strings, UTF-8.
fn os_string(name: &[u8]) -> Result<std::ffi::OsString> {
    #[cfg(unix)]
    return Ok(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(name).to_os_string());
    #[cfg(not(unix))]
    return match std::str::from_utf8(name) {
        Ok(name) => Ok(name.into()),
        Err(_) => Err(anyhow!(
            "a name that is not UTF-8: {:?}",
            String::from_utf8_lossy(name)
        )),
    };
}

/// The target of the link `name` in `dir`. `EINVAL` means it is no longer a
/// link (the walk's `lstat` saw one): the tree changed under the walk.
fn read_link(dir: BorrowedFd<'_>, name: impl rustix::path::Arg) -> Result<std::ffi::CString> {
    rustix::fs::readlinkat(dir, name, Vec::new()).map_err(|errno| match errno {
        Errno::INVAL => changed(),
        errno => std::io::Error::from(errno).into(),
    })
}

/// An error opening below a mount: a link (`ELOOP`, or `ENOTDIR` for a
/// link where a directory was) or a way out (`EXDEV`) where the walk saw
/// none means the tree changed.
fn open_error(errno: Errno) -> anyhow::Error {
    match errno {
        Errno::LOOP | Errno::XDEV | Errno::NOTDIR => changed(),
        errno => std::io::Error::from(errno).into(),
    }
}

/// Opens the files of segments one after another, keeping the directory of
/// the last one open: a directory's files are laid out together, so each
/// directory is opened about once.
#[derive(Default)]
pub struct Reader {
    dir: Option<(Arc<Mount>, PathBuf, OwnedFd)>,
}

impl Reader {
    fn open(&mut self, mount: &Arc<Mount>, real: &Path) -> Result<OwnedFd> {
        let parent = real.parent().unwrap_or(Path::new(""));
        let name = real.file_name().context("a mounted file has no name")?;
        let cached =
            |(m, p, _): &(Arc<Mount>, PathBuf, OwnedFd)| Arc::ptr_eq(m, mount) && p == parent;
        if !self.dir.as_ref().is_some_and(cached) {
            let fd =
                open_beneath(mount.fd.as_fd(), parent, OFlags::DIRECTORY).map_err(open_error)?;
            self.dir = Some((mount.clone(), parent.to_path_buf(), fd));
        }
        let (_, _, dir) = self.dir.as_ref().expect("opened above");
        rustix::fs::openat(dir, name, read_flags(), Mode::empty()).map_err(open_error)
    }
}

/// How a file is opened to be read: never through a link, and never
/// waiting (a special file put in its place must not block the run).
fn read_flags() -> OFlags {
    OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC
}

/// Opens `rel` below `root` with `flags`, following no link on the way and
/// never leaving `root`. `rel` is empty for the root itself.
fn open_beneath(root: BorrowedFd<'_>, rel: &Path, flags: OFlags) -> rustix::io::Result<OwnedFd> {
    let flags = flags | OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    if rel.as_os_str().is_empty() {
        return rustix::fs::openat(root, ".", flags, Mode::empty());
    }
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::ResolveFlags;
        let beneath = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS;
        match rustix::fs::openat2(root, rel, flags, Mode::empty(), beneath) {
            // No openat2 in this kernel (or a sandbox refusing it), or a
            // path longer than one call takes.
            Err(Errno::NOSYS | Errno::PERM | Errno::NAMETOOLONG) => {}
            opened => return opened,
        }
    }
    open_by_components(root, rel, flags)
}

/// [`open_beneath`] one component at a time.
fn open_by_components(
    root: BorrowedFd<'_>,
    rel: &Path,
    flags: OFlags,
) -> rustix::io::Result<OwnedFd> {
    let flags = flags | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let names: Vec<_> = rel.components().collect();
    let dir_flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let mut at: Option<OwnedFd> = None;
    for (i, name) in names.iter().enumerate() {
        let std::path::Component::Normal(name) = name else {
            // The walk records only plain names.
            return Err(Errno::XDEV);
        };
        let these = if i + 1 == names.len() {
            flags
        } else {
            dir_flags
        };
        let dir = at.as_ref().map_or(root, |fd| fd.as_fd());
        at = Some(rustix::fs::openat(dir, *name, these, Mode::empty())?);
    }
    Ok(at.expect("rel is not empty"))
}

/// A file the user named: checked readable now, read when written.
pub fn named_file(path: &Path) -> Result<HostFile> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    let stat = rustix::fs::fstat(&file)?;
    let file = HostFile {
        from: Source::Named(path.to_path_buf()),
        id: id_of(&stat),
        len: stat.st_size as u64,
    };
    check_size(&file)?;
    Ok(file)
}

fn check_size(file: &HostFile) -> Result<()> {
    if file.len > u32::MAX as u64 {
        bail!(
            "`{}` has {} bytes; an embedded file holds at most 4 GiB",
            file.shown().display(),
            file.len
        );
    }
    Ok(())
}

/// Reads the host directory `path` recursively, through descriptors.
///
/// A symbolic link inside is followed only if its target stays inside the
/// directory; one pointing outside stops the virtualization, so that a
/// mount never embeds more than the directory it names.
pub fn read_dir(path: &Path) -> Result<Item> {
    let root = path
        .canonicalize()
        .with_context(|| format!("failed to resolve `{}`", path.display()))?;
    let flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC;
    let fd = rustix::fs::open(&root, flags, Mode::empty())
        .with_context(|| format!("failed to read `{}`", root.display()))?;
    let id = id_of(&rustix::fs::fstat(&fd)?);
    let walk = Walk {
        mount: Arc::new(Mount {
            fd,
            shown: root.clone(),
        }),
        given: path,
    };
    walk.run(id)
}

/// One mount's walk.
struct Walk<'a> {
    mount: Arc<Mount>,
    /// The path as the user gave it, for messages.
    given: &'a Path,
}

/// A directory found by the walk, not yet read.
struct FoundDir {
    name: String,
    /// Its path below the root, links resolved.
    real: PathBuf,
    /// Its path as the guest sees it, below the root, for messages.
    seen: PathBuf,
    id: Id,
}

/// A directory being read: its entries so far, and its directories still
/// to read.
struct Open {
    found: FoundDir,
    entries: BTreeMap<String, Item>,
    dirs: std::vec::IntoIter<FoundDir>,
}

impl Walk<'_> {
    /// Reads the tree depth first, each directory's entries in one go and
    /// then its subdirectories; only one directory is open at a time, so a
    /// deep tree needs no more descriptors than a flat one.
    fn run(&self, root_id: Id) -> Result<Item> {
        let root = FoundDir {
            name: String::new(),
            real: PathBuf::new(),
            seen: PathBuf::new(),
            id: root_id,
        };
        let mut open = vec![self.open(root)?];
        loop {
            let top = open.last_mut().expect("the root stays open");
            if let Some(dir) = top.dirs.next() {
                // Links are not followed, so only a directory mounted
                // inside itself (a bind mount) leads back to an ancestor.
                if let Some(ancestor) = open.iter().find(|o| o.found.id == dir.id) {
                    bail!(
                        "directory loop under `{}` (back to `{}`)",
                        self.given.display(),
                        self.mount.shown.join(&ancestor.found.seen).display()
                    );
                }
                open.push(self.open(dir)?);
                continue;
            }
            let done = open.pop().expect("the root stays open");
            let Some(parent) = open.last_mut() else {
                return Ok(Item::Dir(done.entries));
            };
            parent
                .entries
                .insert(done.found.name, Item::Dir(done.entries));
        }
    }

    /// Reads `dir`'s entries: files and links to files now, directories to
    /// be read after.
    fn open(&self, dir: FoundDir) -> Result<Open> {
        let shown = self.mount.shown.join(&dir.seen);
        let fd = open_beneath(self.mount.fd.as_fd(), &dir.real, OFlags::DIRECTORY)
            .map_err(open_error)
            .with_context(|| format!("failed to read `{}`", shown.display()))?;
        if id_of(&rustix::fs::fstat(&fd)?) != dir.id {
            return Err(changed()).with_context(|| format!("failed to read `{}`", shown.display()));
        }
        let mut names = Vec::new();
        for entry in rustix::fs::Dir::read_from(&fd)? {
            let entry = entry.with_context(|| format!("failed to read `{}`", shown.display()))?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                names.push(os_string(name)?);
            }
        }
        names.sort();
        let mut entries = BTreeMap::new();
        let mut dirs = Vec::new();
        for name in names {
            let shown = || self.mount.shown.join(&dir.seen).join(&name);
            let name = name
                .to_str()
                .ok_or_else(|| anyhow!("a name is not UTF-8"))
                .and_then(|n| check_name(n).map(|()| n.to_string()))
                .with_context(|| format!("in `{}`", shown().display()))?;
            let real = dir.real.join(&name);
            match self.entry(fd.as_fd(), &real, &shown)? {
                Entry::File(file) => {
                    entries.insert(name, Item::File(Content::Host(file)));
                }
                Entry::Link(target) => {
                    entries.insert(name, Item::Link(target));
                }
                Entry::Dir { real, id } => dirs.push(FoundDir {
                    seen: dir.seen.join(&name),
                    name,
                    real,
                    id,
                }),
            }
        }
        Ok(Open {
            found: dir,
            entries,
            dirs: dirs.into_iter(),
        })
    }

    /// What the entry at `real` (in the directory `dir`) embeds; `shown`
    /// names it in messages, as the guest sees it.
    fn entry(
        &self,
        dir: BorrowedFd<'_>,
        real: &Path,
        shown: &dyn Fn() -> PathBuf,
    ) -> Result<Entry> {
        let name = real.file_name().expect("an entry has a name");
        let stat = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
            .with_context(|| format!("failed to read `{}`", shown().display()))?;
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::Symlink => self.link(dir, real, &shown()),
            _ => self.found(dir, real, shown, &stat),
        }
    }

    /// What the file or directory at `real` (in `dir`), with `stat`,
    /// embeds; `shown` names it in messages.
    fn found(
        &self,
        dir: BorrowedFd<'_>,
        real: &Path,
        shown: &dyn Fn() -> PathBuf,
        stat: &rustix::fs::Stat,
    ) -> Result<Entry> {
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::Directory => Ok(Entry::Dir {
                real: real.to_path_buf(),
                id: id_of(stat),
            }),
            FileType::RegularFile => {
                // Checked readable now, so that an unreadable file stops
                // the run before anything is written.
                let name = real.file_name().expect("a file has a name");
                rustix::fs::openat(dir, name, read_flags(), Mode::empty())
                    .map_err(open_error)
                    .with_context(|| format!("failed to read `{}`", shown().display()))?;
                let file = HostFile {
                    from: Source::Beneath {
                        mount: self.mount.clone(),
                        real: real.to_path_buf(),
                    },
                    id: id_of(stat),
                    len: stat.st_size as u64,
                };
                check_size(&file)?;
                Ok(Entry::File(file))
            }
            _ => bail!(
                "`{}` is neither a file nor a directory; only those can be embedded",
                shown().display()
            ),
        }
    }

    /// The link `real` (in `dir`), shown as `link`: its target text, if
    /// that stays inside the mount.
    fn link(&self, dir: BorrowedFd<'_>, real: &Path, link: &Path) -> Result<Entry> {
        let name = real.file_name().expect("a link has a name");
        let failed = || format!("failed to read symlink `{}`", link.display());
        let target = read_link(dir, name).with_context(failed)?;
        let target = target
            .to_str()
            .map_err(|_| anyhow!("its target is not UTF-8"))
            .with_context(failed)?
            .to_string();
        let from = real.parent().unwrap_or(Path::new(""));
        match self
            .resolve(from, Path::new(&target))
            .with_context(failed)?
        {
            Reached::Inside => Ok(Entry::Link(self.relative(from, target))),
            Reached::Outside => bail!(
                "symlink `{}` points outside the mounted directory (to `{target}`); only links \
                 that stay inside `{}` are embedded",
                link.display(),
                self.given.display()
            ),
        }
    }

    /// A link's target as the guest can follow it: an absolute target below
    /// the mount's own path becomes the same place written relative to the
    /// link's directory `from` (a guest cannot follow an absolute link,
    /// whose root means nothing in its preopen); any other target is kept
    /// as written.
    fn relative(&self, from: &Path, target: String) -> String {
        let below = match Path::new(&target).strip_prefix(&self.mount.shown) {
            Ok(below) if Path::new(&target).has_root() => below,
            _ => return target,
        };
        let mut parts: Vec<String> = from.components().map(|_| "..".to_string()).collect();
        parts.extend(
            below
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned()),
        );
        if parts.is_empty() {
            ".".to_string()
        } else {
            parts.join("/")
        }
    }

    /// Where `target`, read from a link in the directory `from` (below the
    /// root), leads: resolved component by component as the kernel
    /// resolves it, following the links it meets (up to [`MAX_EXPANSIONS`])
    /// by reading them below the root. A component naming nothing, a file
    /// followed by more components, or too many links end it inside: a
    /// guest following it gets an error, never a way out.
    fn resolve(&self, from: &Path, target: &Path) -> Result<Reached> {
        let mut at = from.to_path_buf();
        let mut todo = Vec::new();
        let mut expansions = 0;
        if !self.push_target(&mut at, &mut todo, target) {
            return Ok(Reached::Outside);
        }
        while let Some(part) = todo.pop() {
            if part == ".." {
                if !at.pop() {
                    return Ok(Reached::Outside);
                }
                continue;
            }
            let dir =
                open_beneath(self.mount.fd.as_fd(), &at, OFlags::DIRECTORY).map_err(open_error)?;
            let stat = match rustix::fs::statat(&dir, &part, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) => stat,
                Err(Errno::NOENT | Errno::NOTDIR) => return Ok(Reached::Inside),
                Err(errno) => return Err(std::io::Error::from(errno).into()),
            };
            match FileType::from_raw_mode(stat.st_mode) {
                FileType::Symlink if expansions == MAX_EXPANSIONS => return Ok(Reached::Inside),
                FileType::Symlink => {
                    expansions += 1;
                    let next = read_link(dir.as_fd(), &part)?;
                    let next = os_string(next.as_bytes())?;
                    if !self.push_target(&mut at, &mut todo, Path::new(&next)) {
                        return Ok(Reached::Outside);
                    }
                }
                FileType::Directory => at.push(&part),
                // A file, or anything else: more components are
                // `not-directory`, and none ends the path inside.
                _ => return Ok(Reached::Inside),
            }
        }
        Ok(Reached::Inside)
    }

    /// Queues `target`'s components, first on top; an absolute target
    /// starts again from the root if it names a path below the mount's own
    /// (resolved) path, and is outside otherwise: nothing outside the mount
    /// is read to resolve it.
    fn push_target(
        &self,
        at: &mut PathBuf,
        todo: &mut Vec<std::ffi::OsString>,
        target: &Path,
    ) -> bool {
        let target = if target.has_root() {
            let Ok(below) = target.strip_prefix(&self.mount.shown) else {
                return false;
            };
            at.clear();
            below
        } else {
            target
        };
        let parts = target.components().rev().filter_map(|c| match c {
            std::path::Component::Normal(name) => Some(name.to_os_string()),
            std::path::Component::ParentDir => Some("..".into()),
            _ => None,
        });
        todo.extend(parts);
        true
    }
}

/// How many links a resolution follows before it is a loop (`ELOOP`), as
/// the host's confinement counts them on Linux (`MAXSYMLINKS`).
const MAX_EXPANSIONS: u32 = 40;

/// Where a link's target leads.
enum Reached {
    Inside,
    Outside,
}

/// What an entry embeds.
enum Entry {
    File(HostFile),
    /// A link, with its target text.
    Link(String),
    /// A directory to read: its path below the root, and its identity.
    Dir {
        real: PathBuf,
        id: Id,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fallback for kernels without `openat2` follows no link either.
    #[test]
    fn opening_by_components_follows_no_link() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/b/f"), "x").unwrap();
        std::os::unix::fs::symlink("b", dir.path().join("a/link")).unwrap();
        std::os::unix::fs::symlink("b/f", dir.path().join("a/flink")).unwrap();
        let root = rustix::fs::open(dir.path(), OFlags::DIRECTORY, Mode::empty()).unwrap();
        let open = |rel: &str| open_by_components(root.as_fd(), Path::new(rel), OFlags::RDONLY);
        assert!(open("a/b/f").is_ok());
        // A link where a directory is needed: not one.
        assert_eq!(open("a/link/f").unwrap_err(), Errno::NOTDIR);
        assert_eq!(open("a/flink").unwrap_err(), Errno::LOOP);
        assert_eq!(open("a/../a/b/f").unwrap_err(), Errno::XDEV);
    }

    /// An absolute link below the mount's path is embedded relative to the
    /// link's directory; a relative one as written.
    #[test]
    fn absolute_links_inside_are_written_relative() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("docs/deep")).unwrap();
        std::fs::write(root.join("docs/g.txt"), "g").unwrap();
        let link =
            |target: &Path, at: &str| std::os::unix::fs::symlink(target, root.join(at)).unwrap();
        link(&root.join("docs/g.txt"), "top");
        link(&root.join("docs"), "docs/deep/up");
        link(&root, "docs/root");
        link(Path::new("../docs/g.txt"), "docs/rel");
        let Item::Dir(top) = read_dir(&root).unwrap() else {
            panic!("a directory")
        };
        let Some(Item::Dir(docs)) = top.get("docs") else {
            panic!("docs")
        };
        let Some(Item::Dir(deep)) = docs.get("deep") else {
            panic!("deep")
        };
        let text = |item: Option<&Item>| match item {
            Some(Item::Link(t)) => t.clone(),
            _ => panic!("a link"),
        };
        assert_eq!(text(top.get("top")), "docs/g.txt");
        assert_eq!(text(deep.get("up")), "../../docs");
        assert_eq!(text(docs.get("root")), "..");
        assert_eq!(text(docs.get("rel")), "../docs/g.txt");
    }
}
