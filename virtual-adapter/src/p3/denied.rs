//! WASI 0.3's filesystem, when the policy denies it: no preopen is handed
//! out, as WASI 0.2's are not under the same policy. So no descriptor ever
//! exists, and its methods cannot be called: each traps (and the library
//! strips their code). A filesystem that the policy allows or grants in
//! part at 0.3 is the host's own, or refused by the library
//! (docs/wasi-versions.md).

/// A method of a resource that never exists.
fn unreachable() -> ! {
    core::arch::wasm32::unreachable()
}

/// Methods, by signature, of a resource that never exists: each traps.
macro_rules! never {
    ($(fn $name:ident(&self $(, $arg:ident: $ty:ty)*) $(-> $ret:ty)?;)*) => {
        $(fn $name(&self $(, $arg: $ty)*) $(-> $ret)? {
            super::unreachable()
        })*
    };
}

mod filesystem {
    use super::super::bindings::exports::wasi::filesystem::preopens;
    use super::super::bindings::exports::wasi::filesystem::types::*;
    use crate::Adapter;
    use alloc::string::String;
    use alloc::vec::Vec;
    use wasi_virt_layout::Call;
    use wit_bindgen::{FutureReader, StreamReader};

    /// A descriptor, of which the adapter hands out none.
    pub struct NoDescriptor;

    impl Guest for Adapter {
        type Descriptor = NoDescriptor;
    }

    impl preopens::Guest for Adapter {
        fn get_directories() -> Vec<(Descriptor, String)> {
            trace!(Call::GetDirectories);
            Vec::new()
        }
    }

    impl GuestDescriptor for NoDescriptor {
        never! {
            fn read_via_stream(
                &self,
                _offset: Filesize
            ) -> (StreamReader<u8>, FutureReader<Result<(), ErrorCode>>);
            fn write_via_stream(
                &self,
                _data: StreamReader<u8>,
                _offset: Filesize
            ) -> FutureReader<Result<(), ErrorCode>>;
            fn append_via_stream(
                &self,
                _data: StreamReader<u8>
            ) -> FutureReader<Result<(), ErrorCode>>;
            fn advise(
                &self,
                _offset: Filesize,
                _length: Filesize,
                _advice: Advice
            ) -> Result<(), ErrorCode>;
            fn sync_data(&self) -> Result<(), ErrorCode>;
            fn get_flags(&self) -> Result<DescriptorFlags, ErrorCode>;
            fn get_type(&self) -> Result<DescriptorType, ErrorCode>;
            fn set_size(&self, _size: Filesize) -> Result<(), ErrorCode>;
            fn set_times(
                &self,
                _data_access_timestamp: NewTimestamp,
                _data_modification_timestamp: NewTimestamp
            ) -> Result<(), ErrorCode>;
            fn read_directory(
                &self
            ) -> (StreamReader<DirectoryEntry>, FutureReader<Result<(), ErrorCode>>);
            fn sync(&self) -> Result<(), ErrorCode>;
            fn create_directory_at(&self, _path: String) -> Result<(), ErrorCode>;
            fn stat(&self) -> Result<DescriptorStat, ErrorCode>;
            fn stat_at(
                &self,
                _path_flags: PathFlags,
                _path: String
            ) -> Result<DescriptorStat, ErrorCode>;
            fn set_times_at(
                &self,
                _path_flags: PathFlags,
                _path: String,
                _data_access_timestamp: NewTimestamp,
                _data_modification_timestamp: NewTimestamp
            ) -> Result<(), ErrorCode>;
            fn link_at(
                &self,
                _old_path_flags: PathFlags,
                _old_path: String,
                _new_descriptor: DescriptorBorrow<'_>,
                _new_path: String
            ) -> Result<(), ErrorCode>;
            fn open_at(
                &self,
                _path_flags: PathFlags,
                _path: String,
                _open_flags: OpenFlags,
                _flags: DescriptorFlags
            ) -> Result<Descriptor, ErrorCode>;
            fn readlink_at(&self, _path: String) -> Result<String, ErrorCode>;
            fn remove_directory_at(&self, _path: String) -> Result<(), ErrorCode>;
            fn rename_at(
                &self,
                _old_path: String,
                _new_descriptor: DescriptorBorrow<'_>,
                _new_path: String
            ) -> Result<(), ErrorCode>;
            fn symlink_at(&self, _old_path: String, _new_path: String) -> Result<(), ErrorCode>;
            fn unlink_file_at(&self, _path: String) -> Result<(), ErrorCode>;
            fn is_same_object(&self, _other: DescriptorBorrow<'_>) -> bool;
            fn metadata_hash(&self) -> Result<MetadataHashValue, ErrorCode>;
            fn metadata_hash_at(
                &self,
                _path_flags: PathFlags,
                _path: String
            ) -> Result<MetadataHashValue, ErrorCode>;
        }
    }
}
