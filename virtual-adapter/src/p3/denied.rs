//! WASI 0.3's filesystem and sockets, when the policy denies them: no
//! preopen is handed out, and creating a socket or looking up a name fails
//! with `access-denied`, as WASI 0.2's do under the same policy. So no
//! descriptor and no socket ever exists, and their methods cannot be
//! called: each traps (and the library strips their code). A filesystem or
//! sockets that the policy allows or grants in part at 0.3 is the host's
//! own, or refused by the library (docs/wasi-versions.md).

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

mod sockets {
    use super::super::bindings::exports::wasi::sockets::ip_name_lookup;
    use super::super::bindings::exports::wasi::sockets::types::*;
    use crate::Adapter;
    use alloc::string::String;
    use alloc::vec::Vec;
    use wasi_virt_layout::Call;
    use wit_bindgen::{FutureReader, StreamReader};

    /// Traced, then refused with `access-denied`.
    fn denied<T>(call: Call) -> Result<T, ErrorCode> {
        trace!(call);
        Err(ErrorCode::AccessDenied)
    }

    /// A socket, of which the adapter creates none.
    pub struct NoSocket;

    impl Guest for Adapter {
        type TcpSocket = NoSocket;
        type UdpSocket = NoSocket;
    }

    impl ip_name_lookup::Guest for Adapter {
        fn resolve_addresses(
            _name: String,
        ) -> Result<Vec<ip_name_lookup::IpAddress>, ip_name_lookup::ErrorCode> {
            trace!(Call::ResolveAddresses);
            Err(ip_name_lookup::ErrorCode::AccessDenied)
        }
    }

    /// The methods TCP and UDP sockets share.
    macro_rules! either_socket {
        () => {
            never! {
                fn bind(&self, _local_address: IpSocketAddress) -> Result<(), ErrorCode>;
                fn connect(&self, _remote_address: IpSocketAddress) -> Result<(), ErrorCode>;
                fn get_local_address(&self) -> Result<IpSocketAddress, ErrorCode>;
                fn get_remote_address(&self) -> Result<IpSocketAddress, ErrorCode>;
                fn get_address_family(&self) -> IpAddressFamily;
                fn get_receive_buffer_size(&self) -> Result<u64, ErrorCode>;
                fn set_receive_buffer_size(&self, _value: u64) -> Result<(), ErrorCode>;
                fn get_send_buffer_size(&self) -> Result<u64, ErrorCode>;
                fn set_send_buffer_size(&self, _value: u64) -> Result<(), ErrorCode>;
            }
        };
    }

    impl GuestTcpSocket for NoSocket {
        fn create(_address_family: IpAddressFamily) -> Result<TcpSocket, ErrorCode> {
            denied(Call::TcpSocketCreate)
        }

        either_socket!();
        never! {
            fn listen(&self) -> Result<StreamReader<TcpSocket>, ErrorCode>;
            fn send(&self, _data: StreamReader<u8>) -> FutureReader<Result<(), ErrorCode>>;
            fn receive(&self) -> (StreamReader<u8>, FutureReader<Result<(), ErrorCode>>);
            fn get_is_listening(&self) -> bool;
            fn set_listen_backlog_size(&self, _value: u64) -> Result<(), ErrorCode>;
            fn get_keep_alive_enabled(&self) -> Result<bool, ErrorCode>;
            fn set_keep_alive_enabled(&self, _value: bool) -> Result<(), ErrorCode>;
            fn get_keep_alive_idle_time(&self) -> Result<Duration, ErrorCode>;
            fn set_keep_alive_idle_time(&self, _value: Duration) -> Result<(), ErrorCode>;
            fn get_keep_alive_interval(&self) -> Result<Duration, ErrorCode>;
            fn set_keep_alive_interval(&self, _value: Duration) -> Result<(), ErrorCode>;
            fn get_keep_alive_count(&self) -> Result<u32, ErrorCode>;
            fn set_keep_alive_count(&self, _value: u32) -> Result<(), ErrorCode>;
            fn get_hop_limit(&self) -> Result<u8, ErrorCode>;
            fn set_hop_limit(&self, _value: u8) -> Result<(), ErrorCode>;
        }
    }

    impl GuestUdpSocket for NoSocket {
        fn create(_address_family: IpAddressFamily) -> Result<UdpSocket, ErrorCode> {
            denied(Call::UdpSocketCreate)
        }

        either_socket!();
        never! {
            fn disconnect(&self) -> Result<(), ErrorCode>;
            fn send(
                &self,
                _data: Vec<u8>,
                _remote_address: Option<IpSocketAddress>
            ) -> Result<(), ErrorCode>;
            fn receive(&self) -> Result<(Vec<u8>, IpSocketAddress), ErrorCode>;
            fn get_unicast_hop_limit(&self) -> Result<u8, ErrorCode>;
            fn set_unicast_hop_limit(&self, _value: u8) -> Result<(), ErrorCode>;
        }
    }
}
