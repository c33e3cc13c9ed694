//! `wasi:filesystem/{types,preopens}`: the embedded read-only tree (see
//! `vfs`), and the host's preopens, wrapped so that their streams are the
//! adapter's. Host preopens can be denied: then only the embedded preopens
//! exist, and no `wasi:filesystem` import is left.

use crate::clocks::datetime;
use crate::debug::AsArg;
use crate::exports::wasi::clocks::wall_clock::Datetime;
use crate::exports::wasi::filesystem::preopens;
use crate::exports::wasi::filesystem::types::{
    self, Advice, Descriptor, DescriptorBorrow, DescriptorFlags, DescriptorStat, DescriptorType,
    DirectoryEntry, DirectoryEntryStream, ErrorBorrow, ErrorCode, Filesize, GuestDescriptor,
    GuestDirectoryEntryStream, InputStream, MetadataHashValue, NewTimestamp, OpenFlags,
    OutputStream, PathFlags,
};
use crate::io::{IoError, VInputStream, VOutputStream};
use crate::memfs;
use crate::state::config;
use crate::vfs;
use crate::wasi::clocks::wall_clock as host_clock;
use crate::wasi::filesystem as host;
use crate::Adapter;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;
use wasi_virt_layout::{allow, Call, NodeKind};

use host::types as h;

fn err(e: h::ErrorCode) -> ErrorCode {
    // SAFETY: both enums are generated from the same WIT enum.
    unsafe { ErrorCode::_lift(e as u8) }
}

fn map<T>(r: Result<T, h::ErrorCode>) -> Result<T, ErrorCode> {
    r.map_err(err)
}

fn kind(t: h::DescriptorType) -> DescriptorType {
    // SAFETY: as for `err`.
    unsafe { DescriptorType::_lift(t as u8) }
}

fn stat(s: h::DescriptorStat) -> DescriptorStat {
    DescriptorStat {
        type_: kind(s.type_),
        link_count: s.link_count,
        size: s.size,
        data_access_timestamp: s.data_access_timestamp.map(datetime),
        data_modification_timestamp: s.data_modification_timestamp.map(datetime),
        status_change_timestamp: s.status_change_timestamp.map(datetime),
    }
}

fn timestamp(t: NewTimestamp) -> h::NewTimestamp {
    match t {
        NewTimestamp::NoChange => h::NewTimestamp::NoChange,
        NewTimestamp::Now => h::NewTimestamp::Now,
        NewTimestamp::Timestamp(Datetime {
            seconds,
            nanoseconds,
        }) => h::NewTimestamp::Timestamp(host_clock::Datetime {
            seconds,
            nanoseconds,
        }),
    }
}

/// Whether a path operation follows symlinks: `stat-at` and
/// `metadata-hash-at` resolve a trailing slash differently then
/// (`wasi_virt_layout::path::stat_retry`).
fn follows(f: PathFlags) -> bool {
    f.contains(PathFlags::SYMLINK_FOLLOW)
}

fn path_flags(f: PathFlags) -> h::PathFlags {
    h::PathFlags::from_bits_retain(f.bits())
}

fn hash(v: h::MetadataHashValue) -> MetadataHashValue {
    MetadataHashValue {
        lower: v.lower,
        upper: v.upper,
    }
}

/// `wasi:filesystem/types.descriptor`.
pub enum VDescriptor {
    /// A host descriptor, only ever created from an allowed host preopen.
    Host(h::Descriptor),
    /// A node of the embedded tree: paths resolve beneath it only.
    Virtual(u32),
    /// A node of a writable in-memory filesystem (`memfs.rs`).
    Memory(MemDesc),
}

/// A descriptor of an in-memory node: it holds the node (so an unlinked
/// file stays readable while open), and whether it may write.
pub struct MemDesc {
    id: memfs::Id,
    read: bool,
    write: bool,
}

impl MemDesc {
    fn new(id: memfs::Id, read: bool, write: bool) -> Self {
        memfs::hold(id);
        MemDesc { id, read, write }
    }

    /// A file opened for writing, as the host checks it: `bad-descriptor`
    /// otherwise (the file's handle was opened without write access).
    fn writable(&self) -> Result<memfs::Id, ErrorCode> {
        let id = file_only(self)?;
        if self.write {
            Ok(id)
        } else {
            Err(ErrorCode::BadDescriptor)
        }
    }

    /// A file opened for reading.
    fn readable(&self) -> Result<memfs::Id, ErrorCode> {
        let id = file_only(self)?;
        if self.read {
            Ok(id)
        } else {
            Err(ErrorCode::BadDescriptor)
        }
    }
}

impl Drop for MemDesc {
    fn drop(&mut self) {
        memfs::release(self.id);
    }
}

/// A stream over an in-memory file: it holds the file while open.
struct MemStream {
    id: memfs::Id,
    /// The next offset; `None` appends.
    position: Cell<Option<u64>>,
}

impl MemStream {
    fn new(id: memfs::Id, position: Option<u64>) -> Self {
        memfs::hold(id);
        MemStream {
            id,
            position: Cell::new(position),
        }
    }
}

impl Drop for MemStream {
    fn drop(&mut self) {
        memfs::release(self.id);
    }
}

impl crate::io::Source for MemStream {
    fn read(&self, len: u64) -> Option<Vec<u8>> {
        let at = self.position.get().unwrap_or(0);
        let (bytes, _) = memfs::read(self.id, len, at).ok()?;
        if bytes.is_empty() && len > 0 {
            return None;
        }
        self.position.set(Some(at + bytes.len() as u64));
        Some(bytes)
    }
}

impl crate::io::Target for MemStream {
    fn write(&self, bytes: &[u8]) -> Result<(), u8> {
        let at = self.position.get();
        let n = memfs::write(self.id, bytes, at).map_err(|e| e as u8)?;
        if let Some(at) = at {
            self.position.set(Some(at + n));
        }
        Ok(())
    }
}

/// Opens the runtime file at host path `path`, read-only.
fn open_runtime_file(path: &str) -> Result<h::Descriptor, ErrorCode> {
    open_host(
        &host::preopens::get_directories(),
        path,
        h::OpenFlags::empty(),
    )
    .map_err(|why| {
        match why {
            None => trace!(Call::RuntimeFileOutsidePreopens, path),
            Some(code) => trace!(Call::RuntimeFileRefused, path, code as u8),
        }
        ErrorCode::NoEntry
    })
}

/// A host descriptor borrowed as another operation's argument; an embedded
/// one cannot take part in a host operation.
fn other(d: &VDescriptor) -> Result<&h::Descriptor, ErrorCode> {
    match d {
        VDescriptor::Host(h) => Ok(h),
        VDescriptor::Virtual(_) | VDescriptor::Memory(_) => Err(ErrorCode::CrossDevice),
    }
}

fn virtual_stat(node: u32) -> DescriptorStat {
    DescriptorStat {
        type_: vfs::kind(node),
        link_count: 1,
        size: vfs::size(node),
        data_access_timestamp: None,
        data_modification_timestamp: None,
        status_change_timestamp: None,
    }
}

fn virtual_hash(node: u32) -> MetadataHashValue {
    // Unique per node; the fixed upper half keeps it apart from host hashes.
    MetadataHashValue {
        lower: u64::from(node),
        upper: u64::from_le_bytes(*b"wasivirt"),
    }
}

/// Runs `$host` on a host descriptor `$h`, or answers `$virt` for an
/// embedded chain `$c`.
macro_rules! on {
    ($self:ident, $h:ident => $host:expr, $c:pat => $virt:expr, $m:pat => $mem:expr) => {
        match $self {
            VDescriptor::Host($h) => map($host),
            VDescriptor::Virtual($c) => $virt,
            VDescriptor::Memory($m) => $mem,
        }
    };
}

/// An embedded descriptor that paths resolve from: a directory, else
/// `not-directory`, which the host answers before looking at anything else.
fn virtual_dir(node: &u32) -> Result<u32, ErrorCode> {
    match vfs::kind(*node) {
        DescriptorType::Directory => Ok(*node),
        _ => Err(ErrorCode::NotDirectory),
    }
}

/// What a host's read-only preopen answers to `rename-at` or `link-at` from
/// an embedded directory: both descriptors must be directories, and then
/// the change is not permitted.
fn virtual_pair(node: &u32, other: &VDescriptor) -> Result<(), ErrorCode> {
    virtual_dir(node)?;
    if let VDescriptor::Virtual(to) = other {
        virtual_dir(to)?;
    }
    Err(ErrorCode::NotPermitted)
}

/// What a host's read-only preopen says to a change of an embedded
/// descriptor's contents: not a file for a directory, else not permitted.
fn not_permitted_file(node: &u32) -> ErrorCode {
    match vfs::kind(*node) {
        DescriptorType::Directory => ErrorCode::BadDescriptor,
        _ => ErrorCode::NotPermitted,
    }
}

impl GuestDescriptor for VDescriptor {
    fn read_via_stream(&self, offset: Filesize) -> Result<InputStream, ErrorCode> {
        trace!(Call::ReadViaStream, offset);
        match self {
            VDescriptor::Host(h) => {
                map(h.read_via_stream(offset)).map(|s| InputStream::new(VInputStream::Host(s)))
            }
            VDescriptor::Virtual(c) => match vfs::kind(*c) {
                DescriptorType::Directory => Err(ErrorCode::IsDirectory),
                _ => Ok(InputStream::new(VInputStream::Source(Box::new(
                    vfs::FileReader {
                        node: *c,
                        position: Cell::new(offset),
                    },
                )))),
            },
            VDescriptor::Memory(m) => match memfs::kind(m.id) {
                DescriptorType::Directory => Err(ErrorCode::IsDirectory),
                // As a host does, the stream opens whatever the rights;
                // without the right to read, its first read fails.
                _ => Ok(InputStream::new(match m.readable() {
                    Ok(id) => VInputStream::Source(Box::new(MemStream::new(id, Some(offset)))),
                    Err(e) => VInputStream::Refused(Cell::new(Some(e as u8))),
                })),
            },
        }
    }

    fn write_via_stream(&self, offset: Filesize) -> Result<OutputStream, ErrorCode> {
        trace!(Call::WriteViaStream, offset);
        let stream = on!(self, h => h.write_via_stream(offset).map(VOutputStream::Host),
            c => Err(not_permitted_file(c)),
            m => mem_stream(m, Some(offset)))?;
        Ok(OutputStream::new(stream))
    }

    fn append_via_stream(&self) -> Result<OutputStream, ErrorCode> {
        trace!(Call::AppendViaStream);
        let stream = on!(self, h => h.append_via_stream().map(VOutputStream::Host),
            c => Err(not_permitted_file(c)),
            m => mem_stream(m, None))?;
        Ok(OutputStream::new(stream))
    }

    fn advise(&self, offset: Filesize, length: Filesize, advice: Advice) -> Result<(), ErrorCode> {
        // SAFETY: as for `err`.
        let advice = unsafe { h::Advice::_lift(advice as u8) };
        on!(self, h => h.advise(offset, length, advice),
            c => match vfs::kind(*c) {
                DescriptorType::Directory => Err(ErrorCode::BadDescriptor),
                _ => Ok(()),
            },
            m => file_only(m).map(|_| ()))
    }

    fn sync_data(&self) -> Result<(), ErrorCode> {
        on!(self, h => h.sync_data(), _ => Ok(()), _ => Ok(()))
    }

    fn get_flags(&self) -> Result<DescriptorFlags, ErrorCode> {
        on!(self, h => h.get_flags().map(|f| DescriptorFlags::from_bits_retain(f.bits())),
        _ => Ok(DescriptorFlags::READ),
        m => Ok(memory_flags(m)))
    }

    fn get_type(&self) -> Result<DescriptorType, ErrorCode> {
        on!(self, h => h.get_type().map(kind), c => Ok(vfs::kind(*c)),
            m => Ok(memfs::kind(m.id)))
    }

    fn set_size(&self, size: Filesize) -> Result<(), ErrorCode> {
        trace!(Call::SetSize, size);
        on!(self, h => h.set_size(size), c => Err(not_permitted_file(c)),
        // Truncating a file opened read-only is `invalid` to the host.
        m => {
            file_only(m)?;
            match m.writable() {
                Err(ErrorCode::BadDescriptor) => Err(ErrorCode::Invalid),
                other => memfs::set_size(other?, size),
            }
        })
    }

    fn set_times(
        &self,
        data_access_timestamp: NewTimestamp,
        data_modification_timestamp: NewTimestamp,
    ) -> Result<(), ErrorCode> {
        on!(self, h => h.set_times(
            timestamp(data_access_timestamp),
            timestamp(data_modification_timestamp),
        ), _ => Err(ErrorCode::NotPermitted),
        m => {
            memfs::set_times(m.id, data_access_timestamp, data_modification_timestamp);
            Ok(())
        })
    }

    fn read(&self, length: Filesize, offset: Filesize) -> Result<(Vec<u8>, bool), ErrorCode> {
        trace!(Call::ReadFile, length, offset);
        on!(self, h => h.read(length, offset), c => vfs::read(*c, length, offset),
            m => memfs::read(m.readable()?, length, offset))
    }

    fn write(&self, buffer: Vec<u8>, offset: Filesize) -> Result<Filesize, ErrorCode> {
        trace!(Call::WriteFile, buffer.len(), offset);
        on!(self, h => h.write(&buffer, offset), c => Err(not_permitted_file(c)),
            m => memfs::write(m.writable()?, &buffer, Some(offset)))
    }

    fn read_directory(&self) -> Result<DirectoryEntryStream, ErrorCode> {
        trace!(Call::ReadDirectory);
        let stream = match self {
            VDescriptor::Host(h) => VDirectoryEntryStream::Host(map(h.read_directory())?),
            VDescriptor::Virtual(c) => match vfs::node(*c).kind {
                NodeKind::Dir { first, count } => VDirectoryEntryStream::Virtual {
                    next: Cell::new(first),
                    end: first + count,
                },
                NodeKind::File { .. } | NodeKind::RuntimeFile(_) | NodeKind::Link(_) => {
                    return Err(ErrorCode::NotDirectory)
                }
            },
            VDescriptor::Memory(m) => {
                let mut entries = memfs::entries(m.id)?;
                entries.reverse();
                VDirectoryEntryStream::Memory(core::cell::RefCell::new(entries))
            }
        };
        Ok(DirectoryEntryStream::new(stream))
    }

    fn sync(&self) -> Result<(), ErrorCode> {
        on!(self, h => h.sync(), _ => Ok(()), _ => Ok(()))
    }

    fn create_directory_at(&self, path: String) -> Result<(), ErrorCode> {
        trace!(Call::CreateDirectoryAt, path);
        on!(self, h => h.create_directory_at(&path),
            c => virtual_dir(c).and(Err(ErrorCode::NotPermitted)),
            m => memfs::create_directory(dir_only(m)?, &path))
    }

    fn stat(&self) -> Result<DescriptorStat, ErrorCode> {
        trace!(Call::Stat);
        on!(self, h => h.stat().map(stat), c => Ok(virtual_stat(*c)),
            m => Ok(memfs::stat(m.id)))
    }

    fn stat_at(&self, path_flags_: PathFlags, path: String) -> Result<DescriptorStat, ErrorCode> {
        trace!(Call::StatAt, path);
        on!(self, h => h.stat_at(path_flags(path_flags_), &path).map(stat),
        c => {
            let node = vfs::resolve_for_stat(virtual_dir(c)?, &path, follows(path_flags_))?;
            match vfs::runtime_file(node) {
                Some(file) => map(open_runtime_file(file)?.stat().map(stat)),
                None => Ok(virtual_stat(node)),
            }
        },
        m => memfs::stat_target(dir_only(m)?, &path, follows(path_flags_)).map(memfs::stat))
    }

    fn set_times_at(
        &self,
        path_flags_: PathFlags,
        path: String,
        data_access_timestamp: NewTimestamp,
        data_modification_timestamp: NewTimestamp,
    ) -> Result<(), ErrorCode> {
        on!(self, h => h.set_times_at(
            path_flags(path_flags_),
            &path,
            timestamp(data_access_timestamp),
            timestamp(data_modification_timestamp),
        ), c => virtual_dir(c).and(Err(ErrorCode::NotPermitted)),
        m => {
            let id = memfs::resolve(dir_only(m)?, &path, follows(path_flags_))?;
            memfs::set_times(id, data_access_timestamp, data_modification_timestamp);
            Ok(())
        })
    }

    fn link_at(
        &self,
        old_path_flags: PathFlags,
        old_path: String,
        new_descriptor: DescriptorBorrow<'_>,
        new_path: String,
    ) -> Result<(), ErrorCode> {
        trace!(Call::LinkAt, old_path, new_path);
        if let VDescriptor::Memory(m) = self {
            let VDescriptor::Memory(to) = new_descriptor.get::<VDescriptor>() else {
                return Err(ErrorCode::CrossDevice);
            };
            // The host refuses to follow a symlink for a hard link before
            // it looks at either path.
            if follows(old_path_flags) {
                return Err(ErrorCode::Invalid);
            }
            return memfs::link(dir_only(m)?, &old_path, dir_only(to)?, &new_path);
        }
        let new = new_descriptor.get::<VDescriptor>();
        let target = other(new);
        on!(self, h => h.link_at(path_flags(old_path_flags), &old_path, target?, &new_path),
            c => virtual_pair(c, new),
            _ => Err(ErrorCode::CrossDevice))
    }

    fn open_at(
        &self,
        path_flags_: PathFlags,
        path: String,
        open_flags: OpenFlags,
        flags: DescriptorFlags,
    ) -> Result<Descriptor, ErrorCode> {
        trace!(Call::OpenAt, path);
        let from = match self {
            VDescriptor::Host(h) => {
                return map(h.open_at(
                    path_flags(path_flags_),
                    &path,
                    h::OpenFlags::from_bits_retain(open_flags.bits()),
                    h::DescriptorFlags::from_bits_retain(flags.bits()),
                ))
                .map(|d| Descriptor::new(VDescriptor::Host(d)));
            }
            VDescriptor::Memory(m) => {
                return open_memory(m, &path, follows(path_flags_), open_flags, flags)
            }
            VDescriptor::Virtual(c) => virtual_dir(c)?,
        };
        // The embedded tree answers as a host's read-only preopen: after
        // the flags, any change (create, truncate, write) is refused
        // before the path is looked at.
        if check_open_flags(open_flags, flags)? {
            return Err(ErrorCode::NotPermitted);
        }
        let node = vfs::resolve(from, &path, follows(path_flags_))?;
        // A link not followed: a host refuses to open it (`O_NOFOLLOW`).
        if vfs::kind(node) == DescriptorType::SymbolicLink {
            return Err(ErrorCode::Loop);
        }
        if open_flags.contains(OpenFlags::DIRECTORY) && vfs::kind(node) != DescriptorType::Directory
        {
            return Err(ErrorCode::NotDirectory);
        }
        if let Some(path) = vfs::runtime_file(node) {
            return open_runtime_file(path).map(|d| Descriptor::new(VDescriptor::Host(d)));
        }
        Ok(Descriptor::new(VDescriptor::Virtual(node)))
    }

    fn readlink_at(&self, path: String) -> Result<String, ErrorCode> {
        on!(self, h => h.readlink_at(&path),
            c => vfs::readlink(virtual_dir(c)?, &path).map(Into::into),
            m => memfs::readlink(dir_only(m)?, &path))
    }

    fn remove_directory_at(&self, path: String) -> Result<(), ErrorCode> {
        trace!(Call::RemoveDirectoryAt, path);
        on!(self, h => h.remove_directory_at(&path),
            c => virtual_dir(c).and(Err(ErrorCode::NotPermitted)),
            m => memfs::remove_directory(dir_only(m)?, &path))
    }

    fn rename_at(
        &self,
        old_path: String,
        new_descriptor: DescriptorBorrow<'_>,
        new_path: String,
    ) -> Result<(), ErrorCode> {
        trace!(Call::RenameAt, old_path, new_path);
        if let VDescriptor::Memory(m) = self {
            let VDescriptor::Memory(to) = new_descriptor.get::<VDescriptor>() else {
                return Err(ErrorCode::CrossDevice);
            };
            return memfs::rename(dir_only(m)?, &old_path, dir_only(to)?, &new_path);
        }
        let new = new_descriptor.get::<VDescriptor>();
        let target = other(new);
        on!(self, h => h.rename_at(&old_path, target?, &new_path), c => virtual_pair(c, new),
            _ => Err(ErrorCode::CrossDevice))
    }

    fn symlink_at(&self, old_path: String, new_path: String) -> Result<(), ErrorCode> {
        trace!(Call::SymlinkAt, old_path, new_path);
        on!(self, h => h.symlink_at(&old_path, &new_path),
            c => virtual_dir(c).and(Err(ErrorCode::NotPermitted)),
            m => memfs::symlink(dir_only(m)?, &old_path, &new_path))
    }

    fn unlink_file_at(&self, path: String) -> Result<(), ErrorCode> {
        trace!(Call::UnlinkFileAt, path);
        on!(self, h => h.unlink_file_at(&path),
            c => virtual_dir(c).and(Err(ErrorCode::NotPermitted)),
            m => memfs::unlink_file(dir_only(m)?, &path))
    }

    fn is_same_object(&self, other_: DescriptorBorrow<'_>) -> bool {
        match (self, other_.get::<VDescriptor>()) {
            (VDescriptor::Host(a), VDescriptor::Host(b)) => a.is_same_object(b),
            (VDescriptor::Virtual(a), VDescriptor::Virtual(b)) => a == b,
            (VDescriptor::Memory(a), VDescriptor::Memory(b)) => a.id == b.id,
            _ => false,
        }
    }

    fn metadata_hash(&self) -> Result<MetadataHashValue, ErrorCode> {
        on!(self, h => h.metadata_hash().map(hash), c => Ok(virtual_hash(*c)),
            m => Ok(memory_hash(m.id)))
    }

    fn metadata_hash_at(
        &self,
        path_flags_: PathFlags,
        path: String,
    ) -> Result<MetadataHashValue, ErrorCode> {
        on!(self, h => h.metadata_hash_at(path_flags(path_flags_), &path).map(hash),
        c => {
            let node = vfs::resolve_for_stat(virtual_dir(c)?, &path, follows(path_flags_))?;
            match vfs::runtime_file(node) {
                Some(file) => map(open_runtime_file(file)?.metadata_hash().map(hash)),
                None => Ok(virtual_hash(node)),
            }
        },
        m => memfs::stat_target(dir_only(m)?, &path, follows(path_flags_)).map(memory_hash))
    }
}

/// The flags an in-memory descriptor was opened with, as the host reports
/// them: read if it reads, and write (mutate-directory for a directory) if
/// it writes.
fn memory_flags(m: &MemDesc) -> DescriptorFlags {
    let write = match memfs::kind(m.id) {
        DescriptorType::Directory => DescriptorFlags::MUTATE_DIRECTORY,
        _ => DescriptorFlags::WRITE,
    };
    let mut flags = DescriptorFlags::empty();
    flags.set(DescriptorFlags::READ, m.read);
    flags.set(write, m.write);
    flags
}

/// A file-only operation on an in-memory directory is `bad-descriptor`, as
/// the host answers.
fn file_only(m: &MemDesc) -> Result<memfs::Id, ErrorCode> {
    match memfs::kind(m.id) {
        DescriptorType::Directory => Err(ErrorCode::BadDescriptor),
        _ => Ok(m.id),
    }
}

/// A directory operation on an in-memory file is `not-directory`.
fn dir_only(m: &MemDesc) -> Result<memfs::Id, ErrorCode> {
    match memfs::kind(m.id) {
        DescriptorType::Directory => Ok(m.id),
        _ => Err(ErrorCode::NotDirectory),
    }
}

/// An output stream on an in-memory file. As a host does, it opens
/// whatever the rights; without the right to write, its first write fails.
fn mem_stream(m: &MemDesc, position: Option<u64>) -> Result<VOutputStream, ErrorCode> {
    file_only(m)?;
    Ok(match m.writable() {
        Ok(id) => VOutputStream::Target(Box::new(MemStream::new(id, position))),
        Err(e) => VOutputStream::Refused(Cell::new(Some(e as u8))),
    })
}

fn memory_hash(id: memfs::Id) -> MetadataHashValue {
    MetadataHashValue {
        lower: u64::from(id),
        upper: u64::from_le_bytes(*b"wasi-mem"),
    }
}

/// `open-at` in an in-memory filesystem, with the host's checks of the flags.
/// The checks a host makes of `open-at`'s flags, in its order: a
/// directory cannot be created, made exclusive or truncated (`invalid`),
/// and the sync flags are not supported. Then whether the open writes: the
/// host opens a file for writing when asked to write, create or truncate.
fn check_open_flags(open_flags: OpenFlags, flags: DescriptorFlags) -> Result<bool, ErrorCode> {
    let changes = OpenFlags::CREATE | OpenFlags::EXCLUSIVE | OpenFlags::TRUNCATE;
    if open_flags.contains(OpenFlags::DIRECTORY) && open_flags.intersects(changes) {
        return Err(ErrorCode::Invalid);
    }
    let sync = DescriptorFlags::FILE_INTEGRITY_SYNC
        | DescriptorFlags::DATA_INTEGRITY_SYNC
        | DescriptorFlags::REQUESTED_WRITE_SYNC;
    if flags.intersects(sync) {
        return Err(ErrorCode::Unsupported);
    }
    Ok(flags.contains(DescriptorFlags::WRITE)
        || open_flags.intersects(OpenFlags::CREATE | OpenFlags::TRUNCATE))
}

fn open_memory(
    m: &MemDesc,
    path: &str,
    follow: bool,
    open_flags: OpenFlags,
    flags: DescriptorFlags,
) -> Result<Descriptor, ErrorCode> {
    let dir = dir_only(m)?;
    let directory = open_flags.contains(OpenFlags::DIRECTORY);
    let write = check_open_flags(open_flags, flags)?;
    let read = flags.contains(DescriptorFlags::READ) || !flags.contains(DescriptorFlags::WRITE);
    let how = memfs::Open {
        create: open_flags.contains(OpenFlags::CREATE),
        exclusive: open_flags.contains(OpenFlags::EXCLUSIVE),
        truncate: open_flags.contains(OpenFlags::TRUNCATE),
        directory,
        write,
        follow,
    };
    let id = memfs::open(dir, path, how)?;
    Ok(Descriptor::new(VDescriptor::Memory(MemDesc::new(
        id, read, write,
    ))))
}

/// `wasi:filesystem/types.directory-entry-stream`.
pub enum VDirectoryEntryStream {
    Host(h::DirectoryEntryStream),
    /// The children `next..end` of an embedded directory.
    Virtual {
        next: Cell<u32>,
        end: u32,
    },
    /// The entries of an in-memory directory when it was read, last first.
    Memory(core::cell::RefCell<Vec<(String, DescriptorType)>>),
}

impl GuestDirectoryEntryStream for VDirectoryEntryStream {
    fn read_directory_entry(&self) -> Result<Option<DirectoryEntry>, ErrorCode> {
        match self {
            VDirectoryEntryStream::Host(s) => map(s.read_directory_entry()).map(|e| {
                e.map(|e| DirectoryEntry {
                    type_: kind(e.type_),
                    name: e.name,
                })
            }),
            VDirectoryEntryStream::Virtual { next, end } => {
                let at = next.get();
                if at >= *end {
                    return Ok(None);
                }
                next.set(at + 1);
                Ok(Some(DirectoryEntry {
                    type_: vfs::kind(at),
                    name: vfs::node(at).name.into(),
                }))
            }
            VDirectoryEntryStream::Memory(entries) => Ok(entries
                .borrow_mut()
                .pop()
                .map(|(name, type_)| DirectoryEntry { type_, name })),
        }
    }
}

impl types::Guest for Adapter {
    type Descriptor = VDescriptor;
    type DirectoryEntryStream = VDirectoryEntryStream;

    fn filesystem_error_code(err_: ErrorBorrow<'_>) -> Option<ErrorCode> {
        match err_.get::<IoError>() {
            IoError::Host(e) if config().allows(allow::HOST_PREOPENS) => {
                h::filesystem_error_code(e).map(err)
            }
            // SAFETY: the discriminant of a filesystem error code (`memfs`).
            IoError::Filesystem(code) => Some(unsafe { ErrorCode::_lift(*code) }),
            _ => None,
        }
    }
}

/// Opens host path `wanted` through the host preopen that is it, or that
/// holds it, with `open_flags` and the rights the host gave that preopen.
/// The error is the host's, or `None` when no host preopen holds `wanted`.
fn open_host(
    host: &[(h::Descriptor, String)],
    wanted: &str,
    open_flags: h::OpenFlags,
) -> Result<h::Descriptor, Option<h::ErrorCode>> {
    let wanted = wanted.trim_end_matches('/');
    for (dir, name) in host {
        let name = name.trim_end_matches('/');
        let rest = if wanted == name {
            "."
        } else {
            match wanted.strip_prefix(name).and_then(|r| r.strip_prefix('/')) {
                Some(rest) if name.is_empty() || !rest.is_empty() => rest,
                _ => continue,
            }
        };
        // The same rights the host gave its preopen, never more.
        let mut flags = dir.get_flags().unwrap_or(h::DescriptorFlags::READ);
        if !open_flags.contains(h::OpenFlags::DIRECTORY) {
            flags &= h::DescriptorFlags::READ;
        }
        return dir
            .open_at(h::PathFlags::empty(), rest, open_flags, flags)
            .map_err(Some);
    }
    Err(None)
}

impl preopens::Guest for Adapter {
    fn get_directories() -> Vec<(Descriptor, String)> {
        trace!(Call::GetDirectories);
        let mut out: Vec<(Descriptor, String)> = config()
            .fs
            .preopens()
            .map(|(path, root)| (Descriptor::new(VDescriptor::Virtual(root)), path.into()))
            .collect();
        for (i, memory) in config().fs.memory.iter().enumerate() {
            let root = MemDesc::new(memfs::root(i), true, true);
            out.push((
                Descriptor::new(VDescriptor::Memory(root)),
                memory.name.into(),
            ));
        }
        let remaps = config().fs.remaps;
        if config().allows(allow::HOST_PREOPENS) || !remaps.is_empty() {
            let host = host::preopens::get_directories();
            for (guest, wanted) in remaps.iter() {
                match open_host(&host, wanted, h::OpenFlags::DIRECTORY) {
                    Ok(d) => out.push((Descriptor::new(VDescriptor::Host(d)), guest.into())),
                    Err(None) => crate::trap(
                        Call::RemapOutsidePreopens,
                        &[wanted.as_arg(), guest.as_arg()],
                    ),
                    Err(Some(code)) => crate::trap(
                        Call::RemapRefused,
                        &[wanted.as_arg(), guest.as_arg(), (code as u8).as_arg()],
                    ),
                }
            }
            if config().allows(allow::HOST_PREOPENS) {
                out.extend(
                    host.into_iter()
                        .map(|(d, path)| (Descriptor::new(VDescriptor::Host(d)), path)),
                );
            }
        }
        out
    }
}
