//! `wasi:filesystem/{types,preopens}`: the host's preopens, wrapped so that
//! their streams are the adapter's; or, when host preopens are denied, no
//! preopens at all (so no descriptor ever exists and every path lookup fails
//! in the guest's own libc), with no `wasi:filesystem` import left.

use crate::clocks::datetime;
use crate::exports::wasi::clocks::wall_clock::Datetime;
use crate::exports::wasi::filesystem::preopens;
use crate::exports::wasi::filesystem::types::{
    self, Advice, Descriptor, DescriptorBorrow, DescriptorFlags, DescriptorStat, DescriptorType,
    DirectoryEntry, DirectoryEntryStream, ErrorBorrow, ErrorCode, Filesize, GuestDescriptor,
    GuestDirectoryEntryStream, InputStream, MetadataHashValue, NewTimestamp, OpenFlags,
    OutputStream, PathFlags,
};
use crate::io::{IoError, VInputStream, VOutputStream};
use crate::state::config;
use crate::wasi::clocks::wall_clock as host_clock;
use crate::wasi::filesystem as host;
use crate::Adapter;
use alloc::string::String;
use alloc::vec::Vec;
use wasi_virt_layout::allow;

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

fn path_flags(f: PathFlags) -> h::PathFlags {
    h::PathFlags::from_bits_retain(f.bits())
}

fn hash(v: h::MetadataHashValue) -> MetadataHashValue {
    MetadataHashValue {
        lower: v.lower,
        upper: v.upper,
    }
}

/// `wasi:filesystem/types.descriptor`: a host descriptor; only ever created
/// from an allowed host preopen.
pub struct VDescriptor(h::Descriptor);

fn other(d: DescriptorBorrow<'_>) -> &h::Descriptor {
    &d.get::<VDescriptor>().0
}

impl GuestDescriptor for VDescriptor {
    fn read_via_stream(&self, offset: Filesize) -> Result<InputStream, ErrorCode> {
        trace!("wasi:filesystem/types.descriptor.read-via-stream({offset})");
        map(self.0.read_via_stream(offset)).map(|s| InputStream::new(VInputStream::Host(s)))
    }

    fn write_via_stream(&self, offset: Filesize) -> Result<OutputStream, ErrorCode> {
        trace!("wasi:filesystem/types.descriptor.write-via-stream({offset})");
        map(self.0.write_via_stream(offset)).map(|s| OutputStream::new(VOutputStream::Host(s)))
    }

    fn append_via_stream(&self) -> Result<OutputStream, ErrorCode> {
        trace!("wasi:filesystem/types.descriptor.append-via-stream");
        map(self.0.append_via_stream()).map(|s| OutputStream::new(VOutputStream::Host(s)))
    }

    fn advise(&self, offset: Filesize, length: Filesize, advice: Advice) -> Result<(), ErrorCode> {
        // SAFETY: as for `err`.
        let advice = unsafe { h::Advice::_lift(advice as u8) };
        map(self.0.advise(offset, length, advice))
    }

    fn sync_data(&self) -> Result<(), ErrorCode> {
        map(self.0.sync_data())
    }

    fn get_flags(&self) -> Result<DescriptorFlags, ErrorCode> {
        map(self.0.get_flags()).map(|f| DescriptorFlags::from_bits_retain(f.bits()))
    }

    fn get_type(&self) -> Result<DescriptorType, ErrorCode> {
        map(self.0.get_type()).map(kind)
    }

    fn set_size(&self, size: Filesize) -> Result<(), ErrorCode> {
        trace!("wasi:filesystem/types.descriptor.set-size({size})");
        map(self.0.set_size(size))
    }

    fn set_times(
        &self,
        data_access_timestamp: NewTimestamp,
        data_modification_timestamp: NewTimestamp,
    ) -> Result<(), ErrorCode> {
        map(self.0.set_times(
            timestamp(data_access_timestamp),
            timestamp(data_modification_timestamp),
        ))
    }

    fn read(&self, length: Filesize, offset: Filesize) -> Result<(Vec<u8>, bool), ErrorCode> {
        trace!("wasi:filesystem/types.descriptor.read({length}, {offset})");
        map(self.0.read(length, offset))
    }

    fn write(&self, buffer: Vec<u8>, offset: Filesize) -> Result<Filesize, ErrorCode> {
        trace!(
            "wasi:filesystem/types.descriptor.write({} bytes, {offset})",
            buffer.len()
        );
        map(self.0.write(&buffer, offset))
    }

    fn read_directory(&self) -> Result<DirectoryEntryStream, ErrorCode> {
        trace!("wasi:filesystem/types.descriptor.read-directory");
        map(self.0.read_directory()).map(|s| DirectoryEntryStream::new(VDirectoryEntryStream(s)))
    }

    fn sync(&self) -> Result<(), ErrorCode> {
        map(self.0.sync())
    }

    fn create_directory_at(&self, path: String) -> Result<(), ErrorCode> {
        trace!("wasi:filesystem/types.descriptor.create-directory-at({path})");
        map(self.0.create_directory_at(&path))
    }

    fn stat(&self) -> Result<DescriptorStat, ErrorCode> {
        trace!("wasi:filesystem/types.descriptor.stat");
        map(self.0.stat()).map(stat)
    }

    fn stat_at(&self, path_flags_: PathFlags, path: String) -> Result<DescriptorStat, ErrorCode> {
        trace!("wasi:filesystem/types.descriptor.stat-at({path})");
        map(self.0.stat_at(path_flags(path_flags_), &path)).map(stat)
    }

    fn set_times_at(
        &self,
        path_flags_: PathFlags,
        path: String,
        data_access_timestamp: NewTimestamp,
        data_modification_timestamp: NewTimestamp,
    ) -> Result<(), ErrorCode> {
        map(self.0.set_times_at(
            path_flags(path_flags_),
            &path,
            timestamp(data_access_timestamp),
            timestamp(data_modification_timestamp),
        ))
    }

    fn link_at(
        &self,
        old_path_flags: PathFlags,
        old_path: String,
        new_descriptor: DescriptorBorrow<'_>,
        new_path: String,
    ) -> Result<(), ErrorCode> {
        trace!("wasi:filesystem/types.descriptor.link-at({old_path}, {new_path})");
        map(self.0.link_at(
            path_flags(old_path_flags),
            &old_path,
            other(new_descriptor),
            &new_path,
        ))
    }

    fn open_at(
        &self,
        path_flags_: PathFlags,
        path: String,
        open_flags: OpenFlags,
        flags: DescriptorFlags,
    ) -> Result<Descriptor, ErrorCode> {
        trace!("wasi:filesystem/types.descriptor.open-at({path})");
        map(self.0.open_at(
            path_flags(path_flags_),
            &path,
            h::OpenFlags::from_bits_retain(open_flags.bits()),
            h::DescriptorFlags::from_bits_retain(flags.bits()),
        ))
        .map(|d| Descriptor::new(VDescriptor(d)))
    }

    fn readlink_at(&self, path: String) -> Result<String, ErrorCode> {
        map(self.0.readlink_at(&path))
    }

    fn remove_directory_at(&self, path: String) -> Result<(), ErrorCode> {
        trace!("wasi:filesystem/types.descriptor.remove-directory-at({path})");
        map(self.0.remove_directory_at(&path))
    }

    fn rename_at(
        &self,
        old_path: String,
        new_descriptor: DescriptorBorrow<'_>,
        new_path: String,
    ) -> Result<(), ErrorCode> {
        trace!("wasi:filesystem/types.descriptor.rename-at({old_path}, {new_path})");
        map(self
            .0
            .rename_at(&old_path, other(new_descriptor), &new_path))
    }

    fn symlink_at(&self, old_path: String, new_path: String) -> Result<(), ErrorCode> {
        trace!("wasi:filesystem/types.descriptor.symlink-at({old_path}, {new_path})");
        map(self.0.symlink_at(&old_path, &new_path))
    }

    fn unlink_file_at(&self, path: String) -> Result<(), ErrorCode> {
        trace!("wasi:filesystem/types.descriptor.unlink-file-at({path})");
        map(self.0.unlink_file_at(&path))
    }

    fn is_same_object(&self, other_: DescriptorBorrow<'_>) -> bool {
        self.0.is_same_object(other(other_))
    }

    fn metadata_hash(&self) -> Result<MetadataHashValue, ErrorCode> {
        map(self.0.metadata_hash()).map(hash)
    }

    fn metadata_hash_at(
        &self,
        path_flags_: PathFlags,
        path: String,
    ) -> Result<MetadataHashValue, ErrorCode> {
        map(self.0.metadata_hash_at(path_flags(path_flags_), &path)).map(hash)
    }
}

/// `wasi:filesystem/types.directory-entry-stream`, the host's.
pub struct VDirectoryEntryStream(h::DirectoryEntryStream);

impl GuestDirectoryEntryStream for VDirectoryEntryStream {
    fn read_directory_entry(&self) -> Result<Option<DirectoryEntry>, ErrorCode> {
        map(self.0.read_directory_entry()).map(|e| {
            e.map(|e| DirectoryEntry {
                type_: kind(e.type_),
                name: e.name,
            })
        })
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
            _ => None,
        }
    }
}

impl preopens::Guest for Adapter {
    fn get_directories() -> Vec<(Descriptor, String)> {
        trace!("wasi:filesystem/preopens.get-directories");
        if !config().allows(allow::HOST_PREOPENS) {
            return Vec::new();
        }
        host::preopens::get_directories()
            .into_iter()
            .map(|(d, path)| (Descriptor::new(VDescriptor(d)), path))
            .collect()
    }
}
