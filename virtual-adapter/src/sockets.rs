//! `wasi:sockets/*`: the host's sockets, wrapped so that their streams and
//! pollables are the adapter's; or, when sockets are denied, a network that
//! answers every operation with `access-denied` and never reaches the host.
//!
//! Under network rules (`--allow-outbound`, `--allow-inbound`,
//! `--allow-resolve`), every connect, bind, listen, datagram and lookup is
//! checked first (`wasi_virt_layout::net` decides), remaps are applied on
//! the way to the host and undone on the way back, so that the component
//! sees the addresses it asked for.

use crate::address::SocketAddress;
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
use crate::rules::{self, ask, Answer, Hooked, Query};
use crate::state::config;
use crate::wasi::sockets as host;
use crate::Adapter;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use wasi_virt_layout::net::{canonical, Kind};
use wasi_virt_layout::socket::{self, Standing};
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

/// Whether network rules govern sockets: every call is then decided by
/// them (`rules.rs`).
pub(crate) fn ruled() -> bool {
    config().net_sockets()
}

socket_address!(
    IpSocketAddress,
    Ipv4SocketAddress,
    Ipv6SocketAddress,
    IpAddress
);

fn ip_port(a: &impl SocketAddress) -> (IpAddr, u16) {
    a.ip_port()
}

/// Whether two socket addresses name the same address and port.
pub(crate) fn same<A: SocketAddress>(a: &A, b: &A) -> bool {
    a.ip_port() == b.ip_port()
}

fn with_port<A: SocketAddress>(a: A, port: u16) -> A {
    a.with_port(port)
}

/// Where a guest address really goes: `a` itself with another port, or,
/// when a rule remaps the address, that address.
fn redirect<A: SocketAddress>(a: A, (ip, port): (IpAddr, u16)) -> A {
    if ip == a.ip_port().0 {
        return a.with_port(port);
    }
    A::at(ip, port)
}

/// Where an outbound connect or datagram to `a` goes, if the rules allow
/// it (`kind` is `TcpOut` or `UdpOut`); `a` itself without rules. Denied,
/// traced, and `None`: the caller answers `access-denied`.
pub(crate) fn granted_to<A: SocketAddress>(kind: Kind, a: A, call: Call) -> Option<A> {
    if !ruled() {
        return Some(a);
    }
    let (ip, port) = a.ip_port();
    match ask(&Query::Outbound(kind, ip, port)) {
        Answer::To(Some(to)) => Some(redirect(a, to)),
        _ => {
            trace!(denied: call, port as u64);
            None
        }
    }
}

fn outbound(kind: Kind, a: IpSocketAddress, call: Call) -> Result<IpSocketAddress, ErrorCode> {
    granted_to(kind, a, call).ok_or(ErrorCode::AccessDenied)
}

/// The host's local address `a`, with the guest's port where the socket's
/// bind was remapped (`standing`).
pub(crate) fn guest_local<A: SocketAddress>(a: A, standing: &Standing) -> A {
    let port = a.ip_port().1;
    a.with_port(standing.guest_port(port))
}

/// The host's remote address, or the one the guest asked for (`asked`)
/// where a rule remapped it.
pub(crate) fn asked_remote<A, E>(host: Result<A, E>, asked: Option<A>) -> Result<A, E> {
    match (host, asked) {
        (Ok(_), Some(guest)) => Ok(guest),
        (host, _) => host,
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
        let host = allowed() && rules::needs().is_none_or(|n| n.network());
        Network::new(VNetwork(
            host.then(host::instance_network::instance_network),
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
        if rules::needs().is_some_and(|n| !n.tcp) {
            trace!(denied: Call::CreateTcpSocket);
            return Err(ErrorCode::AccessDenied);
        }
        map(host::tcp_create_socket::create_tcp_socket(family_in(
            address_family,
        )))
        .map(|s| TcpSocket::new(VTcpSocket::new(s, Standing::default())))
    }
}

impl udp_create_socket::Guest for Adapter {
    fn create_udp_socket(address_family: IpAddressFamily) -> Result<UdpSocket, ErrorCode> {
        check(Call::CreateUdpSocket)?;
        if rules::needs().is_some_and(|n| !n.udp) {
            trace!(denied: Call::CreateUdpSocket);
            return Err(ErrorCode::AccessDenied);
        }
        map(host::udp_create_socket::create_udp_socket(family_in(
            address_family,
        )))
        .map(|s| UdpSocket::new(VUdpSocket::new(s)))
    }
}

impl ip_name_lookup::Guest for Adapter {
    type ResolveAddressStream = VResolveAddressStream;

    fn resolve_addresses(
        network: NetworkBorrow<'_>,
        name: String,
    ) -> Result<ResolveAddressStream, ErrorCode> {
        check(Call::ResolveAddresses)?;
        let (families, remembered) = if ruled() {
            match ask(&Query::Resolve(&name)) {
                Answer::Local(ip) => return Ok(VResolveAddressStream::local(ip)),
                Answer::Invalid => return Err(ErrorCode::InvalidArgument),
                Answer::Host(v4, v6) => ((v4, v6), Some(name.clone())),
                _ => {
                    trace!(denied: Call::ResolveAddresses, name);
                    return Err(ErrorCode::AccessDenied);
                }
            }
        } else {
            ((true, true), None)
        };
        let network = VNetwork::host(network)?;
        map(host::ip_name_lookup::resolve_addresses(network, &name)).map(|s| {
            ResolveAddressStream::new(VResolveAddressStream::Host {
                stream: s,
                families,
                name: remembered,
            })
        })
    }
}

/// `wasi:sockets/ip-name-lookup.resolve-address-stream`: the host's,
/// filtered by family and remembered under the name; or an answer the
/// adapter gives itself.
pub enum VResolveAddressStream {
    /// The host looks the name up.
    Host {
        stream: host::ip_name_lookup::ResolveAddressStream,
        /// IPv4 and IPv6 addresses pass.
        families: (bool, bool),
        /// The name as the guest gave it, under rules: each address is
        /// remembered with it.
        name: Option<String>,
    },
    /// One address, then the end.
    Local(Cell<Option<IpAddr>>),
}

impl VResolveAddressStream {
    fn local(ip: IpAddr) -> ResolveAddressStream {
        ResolveAddressStream::new(VResolveAddressStream::Local(Cell::new(Some(ip))))
    }
}

impl GuestResolveAddressStream for VResolveAddressStream {
    fn resolve_next_address(&self) -> Result<Option<IpAddress>, ErrorCode> {
        trace!(Call::ResolveNextAddress);
        let (stream, (v4, v6), name) = match self {
            VResolveAddressStream::Local(next) => return Ok(next.take().map(ip_out)),
            VResolveAddressStream::Host {
                stream,
                families,
                name,
            } => (stream, *families, name),
        };
        loop {
            let Some(a) = map(stream.resolve_next_address())? else {
                return Ok(None);
            };
            let ip = match a {
                host::network::IpAddress::Ipv4((x, y, z, w)) => {
                    IpAddr::V4(Ipv4Addr::new(x, y, z, w))
                }
                host::network::IpAddress::Ipv6((x0, x1, x2, x3, x4, x5, x6, x7)) => {
                    IpAddr::V6(Ipv6Addr::new(x0, x1, x2, x3, x4, x5, x6, x7))
                }
            };
            if !(if canonical(ip).is_ipv4() { v4 } else { v6 }) {
                continue;
            }
            if let Some(name) = name {
                ask(&Query::Resolved(ip, name));
            }
            return Ok(Some(ip_out(ip)));
        }
    }

    fn subscribe(&self) -> crate::exports::wasi::io::poll::Pollable {
        match self {
            VResolveAddressStream::Host { stream, .. } => VPollable::host(stream.subscribe()),
            VResolveAddressStream::Local(_) => VPollable::ready(),
        }
    }
}

/// What a socket remembers of the rules: its standing (the bind the host
/// holds, decided in `wasi_virt_layout::socket`) and the remote address
/// the guest asked for where a rule remapped it.
#[derive(Default)]
struct Seen {
    standing: Cell<Standing>,
    remote: Cell<Option<IpSocketAddress>>,
}

impl Seen {
    fn with_standing(standing: Standing) -> Seen {
        Seen {
            standing: Cell::new(standing),
            remote: Cell::new(None),
        }
    }

    /// Decides a bind under the rules: the address the host is to bind,
    /// and the grant to record once the host has started it. Without rules,
    /// `a` itself and nothing to record.
    fn ask_bind(
        &self,
        kind: Kind,
        client: Kind,
        a: IpSocketAddress,
        call: Call,
    ) -> Result<(IpSocketAddress, Option<socket::Bind>), ErrorCode> {
        if !ruled() {
            return Ok((a, None));
        }
        let (ip, port) = ip_port(&a);
        match socket::ask_bind(&Hooked, kind, client, ip, port) {
            Some(bind) => Ok((with_port(a, bind.host_port), Some(bind))),
            None => {
                trace!(denied: call, port as u64);
                Err(ErrorCode::AccessDenied)
            }
        }
    }

    fn update(&self, f: impl FnOnce(&mut Standing)) {
        let mut standing = self.standing.get();
        f(&mut standing);
        self.standing.set(standing);
    }

    /// Whether the socket may serve (listen, or take datagrams from
    /// anyone), decided on the address the host reports it bound to.
    fn may_serve(
        &self,
        kind: Kind,
        local: Result<host::network::IpSocketAddress, host::network::ErrorCode>,
    ) -> bool {
        let Ok(local) = local else {
            return false;
        };
        let (ip, port) = ip_port(&addr_out(local));
        self.standing.get().may_serve(&Hooked, kind, ip, port)
    }

    fn local(&self, a: IpSocketAddress) -> IpSocketAddress {
        guest_local(a, &self.standing.get())
    }

    fn remote(
        &self,
        host: Result<IpSocketAddress, ErrorCode>,
    ) -> Result<IpSocketAddress, ErrorCode> {
        asked_remote(host, self.remote.get())
    }
}

/// `wasi:sockets/tcp.tcp-socket`, only ever created when sockets are allowed.
pub struct VTcpSocket {
    host: host::tcp::TcpSocket,
    seen: Seen,
}

impl VTcpSocket {
    fn new(host: host::tcp::TcpSocket, standing: Standing) -> Self {
        VTcpSocket {
            host,
            seen: Seen::with_standing(standing),
        }
    }
}

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
    ($start_bind:ident, $inbound:ident, $client:ident) => {
        fn start_bind(
            &self,
            network: NetworkBorrow<'_>,
            local_address: IpSocketAddress,
        ) -> Result<(), ErrorCode> {
            trace!(Call::$start_bind);
            let network = VNetwork::host(network)?;
            let (local, bind) = self.seen.ask_bind(
                Kind::$inbound,
                Kind::$client,
                local_address,
                Call::$start_bind,
            )?;
            map(self.host.start_bind(network, addr_in(local)))?;
            if let Some(bind) = bind {
                self.seen.update(|s| s.bind_started(bind));
            }
            Ok(())
        }

        fn finish_bind(&self) -> Result<(), ErrorCode> {
            let done = map(self.host.finish_bind());
            self.seen.update(|s| s.bind_finished(done.is_ok()));
            done
        }

        fn local_address(&self) -> Result<IpSocketAddress, ErrorCode> {
            map(self.host.local_address()).map(|a| self.seen.local(addr_out(a)))
        }

        fn remote_address(&self) -> Result<IpSocketAddress, ErrorCode> {
            self.seen
                .remote(map(self.host.remote_address()).map(addr_out))
        }

        fn address_family(&self) -> IpAddressFamily {
            family_out(self.host.address_family())
        }

        fn receive_buffer_size(&self) -> Result<u64, ErrorCode> {
            map(self.host.receive_buffer_size())
        }

        fn set_receive_buffer_size(&self, value: u64) -> Result<(), ErrorCode> {
            map(self.host.set_receive_buffer_size(value))
        }

        fn send_buffer_size(&self) -> Result<u64, ErrorCode> {
            map(self.host.send_buffer_size())
        }

        fn set_send_buffer_size(&self, value: u64) -> Result<(), ErrorCode> {
            map(self.host.set_send_buffer_size(value))
        }

        fn subscribe(&self) -> crate::exports::wasi::io::poll::Pollable {
            VPollable::host(self.host.subscribe())
        }
    };
}

impl GuestTcpSocket for VTcpSocket {
    socket_common!(TcpStartBind, TcpIn, TcpOut);

    fn start_connect(
        &self,
        network: NetworkBorrow<'_>,
        remote_address: IpSocketAddress,
    ) -> Result<(), ErrorCode> {
        trace!(Call::TcpStartConnect);
        let network = VNetwork::host(network)?;
        let to = outbound(Kind::TcpOut, remote_address, Call::TcpStartConnect)?;
        map(self.host.start_connect(network, addr_in(to)))?;
        if !same(&to, &remote_address) {
            self.seen.remote.set(Some(remote_address));
        }
        Ok(())
    }

    fn finish_connect(&self) -> Result<(InputStream, OutputStream), ErrorCode> {
        trace!(Call::TcpFinishConnect);
        map(self.host.finish_connect()).map(streams)
    }

    fn start_listen(&self) -> Result<(), ErrorCode> {
        trace!(Call::TcpStartListen);
        if ruled() && !self.seen.may_serve(Kind::TcpIn, self.host.local_address()) {
            trace!(denied: Call::TcpStartListen);
            return Err(ErrorCode::AccessDenied);
        }
        map(self.host.start_listen())
    }

    fn finish_listen(&self) -> Result<(), ErrorCode> {
        map(self.host.finish_listen())
    }

    fn accept(&self) -> Result<(TcpSocket, InputStream, OutputStream), ErrorCode> {
        trace!(Call::TcpAccept);
        map(self.host.accept()).map(|(s, i, o)| {
            let (i, o) = streams((i, o));
            (
                TcpSocket::new(VTcpSocket::new(
                    s,
                    Standing::accepted(&self.seen.standing.get()),
                )),
                i,
                o,
            )
        })
    }

    fn is_listening(&self) -> bool {
        self.host.is_listening()
    }

    fn set_listen_backlog_size(&self, value: u64) -> Result<(), ErrorCode> {
        map(self.host.set_listen_backlog_size(value))
    }

    fn keep_alive_enabled(&self) -> Result<bool, ErrorCode> {
        map(self.host.keep_alive_enabled())
    }

    fn set_keep_alive_enabled(&self, value: bool) -> Result<(), ErrorCode> {
        map(self.host.set_keep_alive_enabled(value))
    }

    fn keep_alive_idle_time(&self) -> Result<Duration, ErrorCode> {
        map(self.host.keep_alive_idle_time())
    }

    fn set_keep_alive_idle_time(&self, value: Duration) -> Result<(), ErrorCode> {
        map(self.host.set_keep_alive_idle_time(value))
    }

    fn keep_alive_interval(&self) -> Result<Duration, ErrorCode> {
        map(self.host.keep_alive_interval())
    }

    fn set_keep_alive_interval(&self, value: Duration) -> Result<(), ErrorCode> {
        map(self.host.set_keep_alive_interval(value))
    }

    fn keep_alive_count(&self) -> Result<u32, ErrorCode> {
        map(self.host.keep_alive_count())
    }

    fn set_keep_alive_count(&self, value: u32) -> Result<(), ErrorCode> {
        map(self.host.set_keep_alive_count(value))
    }

    fn hop_limit(&self) -> Result<u8, ErrorCode> {
        map(self.host.hop_limit())
    }

    fn set_hop_limit(&self, value: u8) -> Result<(), ErrorCode> {
        map(self.host.set_hop_limit(value))
    }

    fn shutdown(&self, shutdown_type: ShutdownType) -> Result<(), ErrorCode> {
        trace!(Call::TcpShutdown);
        map(self.host.shutdown(match shutdown_type {
            ShutdownType::Receive => host::tcp::ShutdownType::Receive,
            ShutdownType::Send => host::tcp::ShutdownType::Send,
            ShutdownType::Both => host::tcp::ShutdownType::Both,
        }))
    }
}

impl tcp::Guest for Adapter {
    type TcpSocket = VTcpSocket;
}

/// What a UDP socket under rules knows of its peers, shared with its
/// streams.
#[derive(Default)]
struct Peers {
    /// Every remote address its datagrams really went to, with the one the
    /// guest gave (received datagrams show the guest's).
    sent: Vec<(IpSocketAddress, IpSocketAddress)>,
    /// Whether it serves: takes datagrams from anyone, as only a socket
    /// holding an inbound grant on the address the host bound may.
    /// Otherwise it takes datagrams only from where it sent, as a client.
    serves: bool,
}

type Remaps = Rc<RefCell<Peers>>;

/// `wasi:sockets/udp.udp-socket`, only ever created when sockets are allowed.
pub struct VUdpSocket {
    host: host::udp::UdpSocket,
    seen: Seen,
    remaps: Remaps,
}

impl VUdpSocket {
    fn new(host: host::udp::UdpSocket) -> Self {
        VUdpSocket {
            host,
            seen: Seen::default(),
            remaps: Rc::default(),
        }
    }
}

/// Checks a datagram's remote address and, under rules, notes where it
/// really goes.
fn send_to(a: IpSocketAddress, remaps: &Remaps, call: Call) -> Result<IpSocketAddress, ErrorCode> {
    let to = outbound(Kind::UdpOut, a, call)?;
    if ruled() {
        let sent = &mut remaps.borrow_mut().sent;
        if !sent.iter().any(|(t, _)| same(t, &to)) {
            sent.push((to, a));
        }
    }
    Ok(to)
}

impl GuestUdpSocket for VUdpSocket {
    socket_common!(UdpStartBind, UdpIn, UdpOut);

    fn stream(
        &self,
        remote_address: Option<IpSocketAddress>,
    ) -> Result<(IncomingDatagramStream, OutgoingDatagramStream), ErrorCode> {
        trace!(Call::UdpStream);
        let to = match remote_address {
            Some(a) => Some(send_to(a, &self.remaps, Call::UdpStream)?),
            None => None,
        };
        let (i, o) = map(self.host.stream(to.map(addr_in)))?;
        self.remaps.borrow_mut().serves =
            !ruled() || self.seen.may_serve(Kind::UdpIn, self.host.local_address());
        self.seen
            .remote
            .set(remote_address.filter(|a| !to.is_some_and(|t| same(a, &t))));
        Ok((
            IncomingDatagramStream::new(VIncomingDatagramStream(i, self.remaps.clone())),
            OutgoingDatagramStream::new(VOutgoingDatagramStream(o, self.remaps.clone())),
        ))
    }

    fn unicast_hop_limit(&self) -> Result<u8, ErrorCode> {
        map(self.host.unicast_hop_limit())
    }

    fn set_unicast_hop_limit(&self, value: u8) -> Result<(), ErrorCode> {
        map(self.host.set_unicast_hop_limit(value))
    }
}

/// `wasi:sockets/udp.incoming-datagram-stream`.
pub struct VIncomingDatagramStream(host::udp::IncomingDatagramStream, Remaps);

impl GuestIncomingDatagramStream for VIncomingDatagramStream {
    fn receive(&self, max_results: u64) -> Result<Vec<IncomingDatagram>, ErrorCode> {
        trace!(Call::UdpReceive, max_results);
        let peers = self.1.borrow();
        map(self.0.receive(max_results)).map(|ds| {
            ds.into_iter()
                .filter_map(|d| {
                    let from = addr_out(d.remote_address);
                    let guest = peers
                        .sent
                        .iter()
                        .find(|(to, _)| same(to, &from))
                        .map(|(_, g)| *g);
                    if guest.is_none() && !peers.serves {
                        trace!(denied: Call::UdpReceive, ip_port(&from).1 as u64);
                        return None;
                    }
                    Some(IncomingDatagram {
                        data: d.data,
                        remote_address: guest.unwrap_or(from),
                    })
                })
                .collect()
        })
    }

    fn subscribe(&self) -> crate::exports::wasi::io::poll::Pollable {
        VPollable::host(self.0.subscribe())
    }
}

/// `wasi:sockets/udp.outgoing-datagram-stream`.
pub struct VOutgoingDatagramStream(host::udp::OutgoingDatagramStream, Remaps);

impl GuestOutgoingDatagramStream for VOutgoingDatagramStream {
    fn check_send(&self) -> Result<u64, ErrorCode> {
        map(self.0.check_send())
    }

    fn send(&self, datagrams: Vec<OutgoingDatagram>) -> Result<u64, ErrorCode> {
        trace!(Call::UdpSend, datagrams.len());
        // Every datagram is checked before any is sent: a denied one fails
        // the call, and none of the batch leaves.
        let mut out = Vec::with_capacity(datagrams.len());
        for d in datagrams {
            let remote_address = match d.remote_address {
                Some(a) => Some(addr_in(send_to(a, &self.1, Call::UdpSend)?)),
                None => None,
            };
            out.push(host::udp::OutgoingDatagram {
                data: d.data,
                remote_address,
            });
        }
        map(self.0.send(&out))
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
