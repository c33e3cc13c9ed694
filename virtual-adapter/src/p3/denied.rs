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

mod filesystem {
    use super::super::bindings::exports::wasi::filesystem::preopens;
    use super::super::bindings::exports::wasi::filesystem::types::*;
    use super::unreachable;
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
        fn read_via_stream(
            &self,
            _offset: Filesize,
        ) -> (StreamReader<u8>, FutureReader<Result<(), ErrorCode>>) {
            unreachable()
        }

        fn write_via_stream(
            &self,
            _data: StreamReader<u8>,
            _offset: Filesize,
        ) -> FutureReader<Result<(), ErrorCode>> {
            unreachable()
        }

        fn append_via_stream(
            &self,
            _data: StreamReader<u8>,
        ) -> FutureReader<Result<(), ErrorCode>> {
            unreachable()
        }

        fn advise(
            &self,
            _offset: Filesize,
            _length: Filesize,
            _advice: Advice,
        ) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn sync_data(&self) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn get_flags(&self) -> Result<DescriptorFlags, ErrorCode> {
            unreachable()
        }

        fn get_type(&self) -> Result<DescriptorType, ErrorCode> {
            unreachable()
        }

        fn set_size(&self, _size: Filesize) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn set_times(
            &self,
            _data_access_timestamp: NewTimestamp,
            _data_modification_timestamp: NewTimestamp,
        ) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn read_directory(
            &self,
        ) -> (
            StreamReader<DirectoryEntry>,
            FutureReader<Result<(), ErrorCode>>,
        ) {
            unreachable()
        }

        fn sync(&self) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn create_directory_at(&self, _path: String) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn stat(&self) -> Result<DescriptorStat, ErrorCode> {
            unreachable()
        }

        fn stat_at(
            &self,
            _path_flags: PathFlags,
            _path: String,
        ) -> Result<DescriptorStat, ErrorCode> {
            unreachable()
        }

        fn set_times_at(
            &self,
            _path_flags: PathFlags,
            _path: String,
            _data_access_timestamp: NewTimestamp,
            _data_modification_timestamp: NewTimestamp,
        ) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn link_at(
            &self,
            _old_path_flags: PathFlags,
            _old_path: String,
            _new_descriptor: DescriptorBorrow<'_>,
            _new_path: String,
        ) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn open_at(
            &self,
            _path_flags: PathFlags,
            _path: String,
            _open_flags: OpenFlags,
            _flags: DescriptorFlags,
        ) -> Result<Descriptor, ErrorCode> {
            unreachable()
        }

        fn readlink_at(&self, _path: String) -> Result<String, ErrorCode> {
            unreachable()
        }

        fn remove_directory_at(&self, _path: String) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn rename_at(
            &self,
            _old_path: String,
            _new_descriptor: DescriptorBorrow<'_>,
            _new_path: String,
        ) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn symlink_at(&self, _old_path: String, _new_path: String) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn unlink_file_at(&self, _path: String) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn is_same_object(&self, _other: DescriptorBorrow<'_>) -> bool {
            unreachable()
        }

        fn metadata_hash(&self) -> Result<MetadataHashValue, ErrorCode> {
            unreachable()
        }

        fn metadata_hash_at(
            &self,
            _path_flags: PathFlags,
            _path: String,
        ) -> Result<MetadataHashValue, ErrorCode> {
            unreachable()
        }
    }
}

mod sockets {
    use super::super::bindings::exports::wasi::sockets::ip_name_lookup;
    use super::super::bindings::exports::wasi::sockets::types::*;
    use super::unreachable;
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

    impl GuestTcpSocket for NoSocket {
        fn create(_address_family: IpAddressFamily) -> Result<TcpSocket, ErrorCode> {
            denied(Call::TcpSocketCreate)
        }

        fn bind(&self, _local_address: IpSocketAddress) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn connect(&self, _remote_address: IpSocketAddress) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn listen(&self) -> Result<StreamReader<TcpSocket>, ErrorCode> {
            unreachable()
        }

        fn send(&self, _data: StreamReader<u8>) -> FutureReader<Result<(), ErrorCode>> {
            unreachable()
        }

        fn receive(&self) -> (StreamReader<u8>, FutureReader<Result<(), ErrorCode>>) {
            unreachable()
        }

        fn get_local_address(&self) -> Result<IpSocketAddress, ErrorCode> {
            unreachable()
        }

        fn get_remote_address(&self) -> Result<IpSocketAddress, ErrorCode> {
            unreachable()
        }

        fn get_is_listening(&self) -> bool {
            unreachable()
        }

        fn get_address_family(&self) -> IpAddressFamily {
            unreachable()
        }

        fn set_listen_backlog_size(&self, _value: u64) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn get_keep_alive_enabled(&self) -> Result<bool, ErrorCode> {
            unreachable()
        }

        fn set_keep_alive_enabled(&self, _value: bool) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn get_keep_alive_idle_time(&self) -> Result<Duration, ErrorCode> {
            unreachable()
        }

        fn set_keep_alive_idle_time(&self, _value: Duration) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn get_keep_alive_interval(&self) -> Result<Duration, ErrorCode> {
            unreachable()
        }

        fn set_keep_alive_interval(&self, _value: Duration) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn get_keep_alive_count(&self) -> Result<u32, ErrorCode> {
            unreachable()
        }

        fn set_keep_alive_count(&self, _value: u32) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn get_hop_limit(&self) -> Result<u8, ErrorCode> {
            unreachable()
        }

        fn set_hop_limit(&self, _value: u8) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn get_receive_buffer_size(&self) -> Result<u64, ErrorCode> {
            unreachable()
        }

        fn set_receive_buffer_size(&self, _value: u64) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn get_send_buffer_size(&self) -> Result<u64, ErrorCode> {
            unreachable()
        }

        fn set_send_buffer_size(&self, _value: u64) -> Result<(), ErrorCode> {
            unreachable()
        }
    }

    impl GuestUdpSocket for NoSocket {
        fn create(_address_family: IpAddressFamily) -> Result<UdpSocket, ErrorCode> {
            denied(Call::UdpSocketCreate)
        }

        fn bind(&self, _local_address: IpSocketAddress) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn connect(&self, _remote_address: IpSocketAddress) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn disconnect(&self) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn send(
            &self,
            _data: Vec<u8>,
            _remote_address: Option<IpSocketAddress>,
        ) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn receive(&self) -> Result<(Vec<u8>, IpSocketAddress), ErrorCode> {
            unreachable()
        }

        fn get_local_address(&self) -> Result<IpSocketAddress, ErrorCode> {
            unreachable()
        }

        fn get_remote_address(&self) -> Result<IpSocketAddress, ErrorCode> {
            unreachable()
        }

        fn get_address_family(&self) -> IpAddressFamily {
            unreachable()
        }

        fn get_unicast_hop_limit(&self) -> Result<u8, ErrorCode> {
            unreachable()
        }

        fn set_unicast_hop_limit(&self, _value: u8) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn get_receive_buffer_size(&self) -> Result<u64, ErrorCode> {
            unreachable()
        }

        fn set_receive_buffer_size(&self, _value: u64) -> Result<(), ErrorCode> {
            unreachable()
        }

        fn get_send_buffer_size(&self) -> Result<u64, ErrorCode> {
            unreachable()
        }

        fn set_send_buffer_size(&self, _value: u64) -> Result<(), ErrorCode> {
            unreachable()
        }
    }
}
