//! `wasi:sockets/*`: the host's sockets, wrapped so that their streams and
//! pollables are the adapter's; or, when sockets are denied, a network that
//! answers every operation with `access-denied` and never reaches the host.

use crate::exports::wasi::io::streams::{InputStream, OutputStream};
use crate::exports::wasi::sockets::instance_network;
use crate::exports::wasi::sockets::ip_name_lookup::{
    self, GuestResolveAddressStream, ResolveAddressStream,
};
use crate::exports::wasi::sockets::network::{
    self, ErrorCode, GuestNetwork, IpAddress, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress,
    Ipv6SocketAddress, Network, NetworkBorrow,
};
use crate::exports::wasi::sockets::tcp::{self, GuestTcpSocket, ShutdownType, TcpSocket};
use crate::exports::wasi::sockets::tcp_create_socket;
use crate::exports::wasi::sockets::udp::{
    self, GuestIncomingDatagramStream, GuestOutgoingDatagramStream, GuestUdpSocket,
    IncomingDatagram, IncomingDatagramStream, OutgoingDatagram, OutgoingDatagramStream, UdpSocket,
};
use crate::exports::wasi::sockets::udp_create_socket;
use crate::io::{VInputStream, VOutputStream, VPollable};
use crate::state::config;
use crate::wasi::sockets as host;
use crate::Adapter;
use alloc::string::String;
use alloc::vec::Vec;
use wasi_virt_layout::{allow, Call};

type Duration = u64;

fn allowed() -> bool {
    config().allows(allow::SOCKETS)
}

fn err(e: host::network::ErrorCode) -> ErrorCode {
    // SAFETY: both enums are generated from the same WIT enum, so they have
    // the same discriminants.
    unsafe { ErrorCode::_lift(e as u8) }
}

fn map<T>(r: Result<T, host::network::ErrorCode>) -> Result<T, ErrorCode> {
    r.map_err(err)
}

fn family_in(f: IpAddressFamily) -> host::network::IpAddressFamily {
    match f {
        IpAddressFamily::Ipv4 => host::network::IpAddressFamily::Ipv4,
        IpAddressFamily::Ipv6 => host::network::IpAddressFamily::Ipv6,
    }
}

fn family_out(f: host::network::IpAddressFamily) -> IpAddressFamily {
    match f {
        host::network::IpAddressFamily::Ipv4 => IpAddressFamily::Ipv4,
        host::network::IpAddressFamily::Ipv6 => IpAddressFamily::Ipv6,
    }
}

fn addr_in(a: IpSocketAddress) -> host::network::IpSocketAddress {
    match a {
        IpSocketAddress::Ipv4(a) => {
            host::network::IpSocketAddress::Ipv4(host::network::Ipv4SocketAddress {
                port: a.port,
                address: a.address,
            })
        }
        IpSocketAddress::Ipv6(a) => {
            host::network::IpSocketAddress::Ipv6(host::network::Ipv6SocketAddress {
                port: a.port,
                flow_info: a.flow_info,
                address: a.address,
                scope_id: a.scope_id,
            })
        }
    }
}

fn addr_out(a: host::network::IpSocketAddress) -> IpSocketAddress {
    match a {
        host::network::IpSocketAddress::Ipv4(a) => IpSocketAddress::Ipv4(Ipv4SocketAddress {
            port: a.port,
            address: a.address,
        }),
        host::network::IpSocketAddress::Ipv6(a) => IpSocketAddress::Ipv6(Ipv6SocketAddress {
            port: a.port,
            flow_info: a.flow_info,
            address: a.address,
            scope_id: a.scope_id,
        }),
    }
}

/// `wasi:sockets/network.network`: the host's, or none when denied.
pub struct VNetwork(Option<host::network::Network>);

impl VNetwork {
    fn host(network: NetworkBorrow<'_>) -> Result<&host::network::Network, ErrorCode> {
        network
            .get::<VNetwork>()
            .0
            .as_ref()
            .ok_or(ErrorCode::AccessDenied)
    }
}

impl GuestNetwork for VNetwork {}

impl network::Guest for Adapter {
    type Network = VNetwork;
}

impl instance_network::Guest for Adapter {
    fn instance_network() -> Network {
        trace!(Call::InstanceNetwork);
        Network::new(VNetwork(
            allowed().then(host::instance_network::instance_network),
        ))
    }
}

/// Fails a call when sockets are denied.
fn check(call: Call) -> Result<(), ErrorCode> {
    trace!(call);
    if allowed() {
        Ok(())
    } else {
        trace!(denied: call);
        Err(ErrorCode::AccessDenied)
    }
}

impl tcp_create_socket::Guest for Adapter {
    fn create_tcp_socket(address_family: IpAddressFamily) -> Result<TcpSocket, ErrorCode> {
        check(Call::CreateTcpSocket)?;
        map(host::tcp_create_socket::create_tcp_socket(family_in(
            address_family,
        )))
        .map(|s| TcpSocket::new(VTcpSocket(s)))
    }
}

impl udp_create_socket::Guest for Adapter {
    fn create_udp_socket(address_family: IpAddressFamily) -> Result<UdpSocket, ErrorCode> {
        check(Call::CreateUdpSocket)?;
        map(host::udp_create_socket::create_udp_socket(family_in(
            address_family,
        )))
        .map(|s| UdpSocket::new(VUdpSocket(s)))
    }
}

impl ip_name_lookup::Guest for Adapter {
    type ResolveAddressStream = VResolveAddressStream;

    fn resolve_addresses(
        network: NetworkBorrow<'_>,
        name: String,
    ) -> Result<ResolveAddressStream, ErrorCode> {
        check(Call::ResolveAddresses)?;
        let network = VNetwork::host(network)?;
        map(host::ip_name_lookup::resolve_addresses(network, &name))
            .map(|s| ResolveAddressStream::new(VResolveAddressStream(s)))
    }
}

/// `wasi:sockets/ip-name-lookup.resolve-address-stream`.
pub struct VResolveAddressStream(host::ip_name_lookup::ResolveAddressStream);

impl GuestResolveAddressStream for VResolveAddressStream {
    fn resolve_next_address(&self) -> Result<Option<IpAddress>, ErrorCode> {
        trace!(Call::ResolveNextAddress);
        map(self.0.resolve_next_address()).map(|a| {
            a.map(|a| match a {
                host::network::IpAddress::Ipv4(a) => IpAddress::Ipv4(a),
                host::network::IpAddress::Ipv6(a) => IpAddress::Ipv6(a),
            })
        })
    }

    fn subscribe(&self) -> crate::exports::wasi::io::poll::Pollable {
        VPollable::host(self.0.subscribe())
    }
}

/// `wasi:sockets/tcp.tcp-socket`, only ever created when sockets are allowed.
pub struct VTcpSocket(host::tcp::TcpSocket);

fn streams(
    (i, o): (host::tcp::InputStream, host::tcp::OutputStream),
) -> (InputStream, OutputStream) {
    (
        InputStream::new(VInputStream::Host(i)),
        OutputStream::new(VOutputStream::Host(o)),
    )
}

/// The methods TCP and UDP sockets share: same names, same host calls.
macro_rules! socket_common {
    ($start_bind:ident) => {
        fn start_bind(
            &self,
            network: NetworkBorrow<'_>,
            local_address: IpSocketAddress,
        ) -> Result<(), ErrorCode> {
            trace!(Call::$start_bind);
            map(self
                .0
                .start_bind(VNetwork::host(network)?, addr_in(local_address)))
        }

        fn finish_bind(&self) -> Result<(), ErrorCode> {
            map(self.0.finish_bind())
        }

        fn local_address(&self) -> Result<IpSocketAddress, ErrorCode> {
            map(self.0.local_address()).map(addr_out)
        }

        fn remote_address(&self) -> Result<IpSocketAddress, ErrorCode> {
            map(self.0.remote_address()).map(addr_out)
        }

        fn address_family(&self) -> IpAddressFamily {
            family_out(self.0.address_family())
        }

        fn receive_buffer_size(&self) -> Result<u64, ErrorCode> {
            map(self.0.receive_buffer_size())
        }

        fn set_receive_buffer_size(&self, value: u64) -> Result<(), ErrorCode> {
            map(self.0.set_receive_buffer_size(value))
        }

        fn send_buffer_size(&self) -> Result<u64, ErrorCode> {
            map(self.0.send_buffer_size())
        }

        fn set_send_buffer_size(&self, value: u64) -> Result<(), ErrorCode> {
            map(self.0.set_send_buffer_size(value))
        }

        fn subscribe(&self) -> crate::exports::wasi::io::poll::Pollable {
            VPollable::host(self.0.subscribe())
        }
    };
}

impl GuestTcpSocket for VTcpSocket {
    socket_common!(TcpStartBind);

    fn start_connect(
        &self,
        network: NetworkBorrow<'_>,
        remote_address: IpSocketAddress,
    ) -> Result<(), ErrorCode> {
        trace!(Call::TcpStartConnect);
        map(self
            .0
            .start_connect(VNetwork::host(network)?, addr_in(remote_address)))
    }

    fn finish_connect(&self) -> Result<(InputStream, OutputStream), ErrorCode> {
        trace!(Call::TcpFinishConnect);
        map(self.0.finish_connect()).map(streams)
    }

    fn start_listen(&self) -> Result<(), ErrorCode> {
        trace!(Call::TcpStartListen);
        map(self.0.start_listen())
    }

    fn finish_listen(&self) -> Result<(), ErrorCode> {
        map(self.0.finish_listen())
    }

    fn accept(&self) -> Result<(TcpSocket, InputStream, OutputStream), ErrorCode> {
        trace!(Call::TcpAccept);
        map(self.0.accept()).map(|(s, i, o)| {
            let (i, o) = streams((i, o));
            (TcpSocket::new(VTcpSocket(s)), i, o)
        })
    }

    fn is_listening(&self) -> bool {
        self.0.is_listening()
    }

    fn set_listen_backlog_size(&self, value: u64) -> Result<(), ErrorCode> {
        map(self.0.set_listen_backlog_size(value))
    }

    fn keep_alive_enabled(&self) -> Result<bool, ErrorCode> {
        map(self.0.keep_alive_enabled())
    }

    fn set_keep_alive_enabled(&self, value: bool) -> Result<(), ErrorCode> {
        map(self.0.set_keep_alive_enabled(value))
    }

    fn keep_alive_idle_time(&self) -> Result<Duration, ErrorCode> {
        map(self.0.keep_alive_idle_time())
    }

    fn set_keep_alive_idle_time(&self, value: Duration) -> Result<(), ErrorCode> {
        map(self.0.set_keep_alive_idle_time(value))
    }

    fn keep_alive_interval(&self) -> Result<Duration, ErrorCode> {
        map(self.0.keep_alive_interval())
    }

    fn set_keep_alive_interval(&self, value: Duration) -> Result<(), ErrorCode> {
        map(self.0.set_keep_alive_interval(value))
    }

    fn keep_alive_count(&self) -> Result<u32, ErrorCode> {
        map(self.0.keep_alive_count())
    }

    fn set_keep_alive_count(&self, value: u32) -> Result<(), ErrorCode> {
        map(self.0.set_keep_alive_count(value))
    }

    fn hop_limit(&self) -> Result<u8, ErrorCode> {
        map(self.0.hop_limit())
    }

    fn set_hop_limit(&self, value: u8) -> Result<(), ErrorCode> {
        map(self.0.set_hop_limit(value))
    }

    fn shutdown(&self, shutdown_type: ShutdownType) -> Result<(), ErrorCode> {
        trace!(Call::TcpShutdown);
        map(self.0.shutdown(match shutdown_type {
            ShutdownType::Receive => host::tcp::ShutdownType::Receive,
            ShutdownType::Send => host::tcp::ShutdownType::Send,
            ShutdownType::Both => host::tcp::ShutdownType::Both,
        }))
    }
}

impl tcp::Guest for Adapter {
    type TcpSocket = VTcpSocket;
}

/// `wasi:sockets/udp.udp-socket`, only ever created when sockets are allowed.
pub struct VUdpSocket(host::udp::UdpSocket);

impl GuestUdpSocket for VUdpSocket {
    socket_common!(UdpStartBind);

    fn stream(
        &self,
        remote_address: Option<IpSocketAddress>,
    ) -> Result<(IncomingDatagramStream, OutgoingDatagramStream), ErrorCode> {
        trace!(Call::UdpStream);
        map(self.0.stream(remote_address.map(addr_in))).map(|(i, o)| {
            (
                IncomingDatagramStream::new(VIncomingDatagramStream(i)),
                OutgoingDatagramStream::new(VOutgoingDatagramStream(o)),
            )
        })
    }

    fn unicast_hop_limit(&self) -> Result<u8, ErrorCode> {
        map(self.0.unicast_hop_limit())
    }

    fn set_unicast_hop_limit(&self, value: u8) -> Result<(), ErrorCode> {
        map(self.0.set_unicast_hop_limit(value))
    }
}

/// `wasi:sockets/udp.incoming-datagram-stream`.
pub struct VIncomingDatagramStream(host::udp::IncomingDatagramStream);

impl GuestIncomingDatagramStream for VIncomingDatagramStream {
    fn receive(&self, max_results: u64) -> Result<Vec<IncomingDatagram>, ErrorCode> {
        trace!(Call::UdpReceive, max_results);
        map(self.0.receive(max_results)).map(|ds| {
            ds.into_iter()
                .map(|d| IncomingDatagram {
                    data: d.data,
                    remote_address: addr_out(d.remote_address),
                })
                .collect()
        })
    }

    fn subscribe(&self) -> crate::exports::wasi::io::poll::Pollable {
        VPollable::host(self.0.subscribe())
    }
}

/// `wasi:sockets/udp.outgoing-datagram-stream`.
pub struct VOutgoingDatagramStream(host::udp::OutgoingDatagramStream);

impl GuestOutgoingDatagramStream for VOutgoingDatagramStream {
    fn check_send(&self) -> Result<u64, ErrorCode> {
        map(self.0.check_send())
    }

    fn send(&self, datagrams: Vec<OutgoingDatagram>) -> Result<u64, ErrorCode> {
        trace!(Call::UdpSend, datagrams.len());
        let datagrams: Vec<host::udp::OutgoingDatagram> = datagrams
            .into_iter()
            .map(|d| host::udp::OutgoingDatagram {
                data: d.data,
                remote_address: d.remote_address.map(addr_in),
            })
            .collect();
        map(self.0.send(&datagrams))
    }

    fn subscribe(&self) -> crate::exports::wasi::io::poll::Pollable {
        VPollable::host(self.0.subscribe())
    }
}

impl udp::Guest for Adapter {
    type UdpSocket = VUdpSocket;
    type IncomingDatagramStream = VIncomingDatagramStream;
    type OutgoingDatagramStream = VOutgoingDatagramStream;
}
