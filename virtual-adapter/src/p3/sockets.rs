//! WASI 0.3's `wasi:sockets/types` and `ip-name-lookup`: denied, no socket
//! is created and no name looked up (`access-denied`, as WASI 0.2 answers
//! under the same policy); under outbound network rules, the host's own
//! 0.3 sockets, wrapped so that every create, bind, connect, datagram and
//! lookup is decided by the same rules as WASI 0.2's (`rules.rs`,
//! `wasi_virt_layout::socket`), on the addresses the host really holds.
//!
//! A socket's byte streams and futures are the host's, handed on as they
//! are (the adapter's types and the host's are one Rust type each,
//! `merge_structurally_equal_types` in `p3.rs`), so data never passes
//! through the adapter. `listen` is the one exception: its stream hands
//! out sockets, which would have to be the adapter's, and a synchronous
//! function cannot fill a stream of its own (component-model issue 677).
//! So a listening socket is never granted at 0.3: the library refuses
//! inbound rules for a component importing these interfaces, and `listen`
//! answers `access-denied`.

use super::bindings::exports::wasi::sockets::ip_name_lookup;
use super::bindings::exports::wasi::sockets::types::{
    Duration, ErrorCode, Guest, GuestTcpSocket, GuestUdpSocket, IpAddress, IpAddressFamily,
    IpSocketAddress, Ipv4SocketAddress, Ipv6SocketAddress, TcpSocket, UdpSocket,
};
use super::bindings::wasi::sockets::{ip_name_lookup as host_lookup, types as host};
use crate::address::SocketAddress;
use crate::rules::{self, ask, Answer, Hooked, Query};
use crate::sockets::{asked_remote, granted_to, guest_local, ruled, same};
use crate::state::config;
use crate::Adapter;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use wasi_virt_layout::net::{canonical, Kind};
use wasi_virt_layout::socket::{self, Standing};
use wasi_virt_layout::{allow, Call};
use wit_bindgen::{FutureReader, StreamReader};

/// Whether the policy lets sockets reach the host at all.
fn allowed() -> bool {
    config().allows(allow::SOCKETS)
}

/// Traced, then refused with `access-denied`.
fn denied<T>(call: Call) -> Result<T, ErrorCode> {
    trace!(denied: call);
    Err(ErrorCode::AccessDenied)
}

socket_address!(
    IpSocketAddress,
    Ipv4SocketAddress,
    Ipv6SocketAddress,
    IpAddress
);

/// Where an outbound connect or datagram to `a` goes, if the rules allow
/// it; `a` itself without rules.
fn outbound(kind: Kind, a: IpSocketAddress, call: Call) -> Result<IpSocketAddress, ErrorCode> {
    granted_to(kind, a, call).ok_or(ErrorCode::AccessDenied)
}

/// What a socket knows of the rules: its standing (the bind the host
/// holds) and the remote address the component asked for, where a rule
/// remapped it.
#[derive(Default)]
struct Seen {
    standing: Cell<Standing>,
    remote: Cell<Option<IpSocketAddress>>,
}

impl Seen {
    /// Binds `host` to `local` as the rules decide (the port they give),
    /// recording the grant by what the host answered.
    fn bind(
        &self,
        (kind, client, call): (Kind, Kind, Call),
        local: IpSocketAddress,
        host_bind: impl FnOnce(IpSocketAddress) -> Result<(), ErrorCode>,
    ) -> Result<(), ErrorCode> {
        trace!(call);
        if !ruled() {
            return host_bind(local);
        }
        let (ip, port) = local.ip_port();
        let Some(bind) = socket::ask_bind(&Hooked, kind, client, ip, port) else {
            trace!(denied: call, port as u64);
            return Err(ErrorCode::AccessDenied);
        };
        let done = host_bind(local.with_port(bind.host_port));
        let mut standing = self.standing.get();
        standing.bind_started(bind);
        standing.bind_finished(done.is_ok());
        self.standing.set(standing);
        done
    }

    /// Whether the socket may serve (listen, take datagrams from anyone),
    /// decided on the address the host reports it bound to.
    fn may_serve(&self, kind: Kind, local: Result<IpSocketAddress, ErrorCode>) -> bool {
        let Ok(local) = local else {
            return false;
        };
        let (ip, port) = local.ip_port();
        self.standing.get().may_serve(&Hooked, kind, ip, port)
    }

    /// The host's local address, with the component's port where a rule
    /// gave the host another.
    fn local(
        &self,
        host: Result<IpSocketAddress, ErrorCode>,
    ) -> Result<IpSocketAddress, ErrorCode> {
        host.map(|a| guest_local(a, &self.standing.get()))
    }

    /// The host's remote address, or the one the component asked for where
    /// a rule remapped it.
    fn remote(
        &self,
        host: Result<IpSocketAddress, ErrorCode>,
    ) -> Result<IpSocketAddress, ErrorCode> {
        asked_remote(host, self.remote.get())
    }

    /// Records that the component connected to `asked`, which went to `to`.
    fn connected(&self, asked: IpSocketAddress, to: &IpSocketAddress) {
        self.remote.set((!same(&asked, to)).then_some(asked));
    }
}

/// Whether a socket of `kind` may be created: sockets allowed, and the
/// rules granting some use of it.
fn may_create(call: Call, udp: bool) -> Result<(), ErrorCode> {
    trace!(call);
    let needed = rules::needs().is_none_or(|n| if udp { n.udp } else { n.tcp });
    if allowed() && needed {
        Ok(())
    } else {
        denied(call)
    }
}

/// `tcp-socket`: the host's, only ever created where sockets are allowed.
pub struct P3Tcp {
    host: host::TcpSocket,
    seen: Seen,
}

/// `udp-socket`: the host's, with where its datagrams went.
pub struct P3Udp {
    host: host::UdpSocket,
    seen: Seen,
    /// Every remote address a datagram really went to, with the one the
    /// component gave (a received datagram shows the component's).
    sent: RefCell<Vec<(IpSocketAddress, IpSocketAddress)>>,
}

impl Guest for Adapter {
    type TcpSocket = P3Tcp;
    type UdpSocket = P3Udp;
}

/// Methods both sockets pass to the host as they are.
macro_rules! passed {
    ($(fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)*) => {
        $(fn $name(&self $(, $arg: $ty)*) -> $ret {
            self.host.$name($($arg),*)
        })*
    };
}

impl GuestTcpSocket for P3Tcp {
    fn create(address_family: IpAddressFamily) -> Result<TcpSocket, ErrorCode> {
        may_create(Call::TcpSocketCreate, false)?;
        let host = host::TcpSocket::create(address_family)?;
        Ok(TcpSocket::new(P3Tcp {
            host,
            seen: Seen::default(),
        }))
    }

    fn bind(&self, local_address: IpSocketAddress) -> Result<(), ErrorCode> {
        let how = (Kind::TcpIn, Kind::TcpOut, Call::P3TcpBind);
        self.seen.bind(how, local_address, |a| self.host.bind(a))
    }

    /// Blocks until the host has connected (a synchronous lift of an
    /// `async` function may).
    fn connect(&self, remote_address: IpSocketAddress) -> Result<(), ErrorCode> {
        trace!(Call::P3TcpConnect);
        let to = outbound(Kind::TcpOut, remote_address, Call::P3TcpConnect)?;
        self.host.connect(to)?;
        self.seen.connected(remote_address, &to);
        Ok(())
    }

    /// Never granted: see the module's comment.
    fn listen(&self) -> Result<StreamReader<TcpSocket>, ErrorCode> {
        trace!(Call::P3TcpListen);
        denied(Call::P3TcpListen)
    }

    fn send(&self, data: StreamReader<u8>) -> FutureReader<Result<(), ErrorCode>> {
        self.host.send(data)
    }

    fn receive(&self) -> (StreamReader<u8>, FutureReader<Result<(), ErrorCode>>) {
        self.host.receive()
    }

    fn get_local_address(&self) -> Result<IpSocketAddress, ErrorCode> {
        self.seen.local(self.host.get_local_address())
    }

    fn get_remote_address(&self) -> Result<IpSocketAddress, ErrorCode> {
        self.seen.remote(self.host.get_remote_address())
    }

    passed! {
        fn get_is_listening(&self) -> bool;
        fn get_address_family(&self) -> IpAddressFamily;
        fn set_listen_backlog_size(&self, value: u64) -> Result<(), ErrorCode>;
        fn get_keep_alive_enabled(&self) -> Result<bool, ErrorCode>;
        fn set_keep_alive_enabled(&self, value: bool) -> Result<(), ErrorCode>;
        fn get_keep_alive_idle_time(&self) -> Result<Duration, ErrorCode>;
        fn set_keep_alive_idle_time(&self, value: Duration) -> Result<(), ErrorCode>;
        fn get_keep_alive_interval(&self) -> Result<Duration, ErrorCode>;
        fn set_keep_alive_interval(&self, value: Duration) -> Result<(), ErrorCode>;
        fn get_keep_alive_count(&self) -> Result<u32, ErrorCode>;
        fn set_keep_alive_count(&self, value: u32) -> Result<(), ErrorCode>;
        fn get_hop_limit(&self) -> Result<u8, ErrorCode>;
        fn set_hop_limit(&self, value: u8) -> Result<(), ErrorCode>;
        fn get_receive_buffer_size(&self) -> Result<u64, ErrorCode>;
        fn set_receive_buffer_size(&self, value: u64) -> Result<(), ErrorCode>;
        fn get_send_buffer_size(&self) -> Result<u64, ErrorCode>;
        fn set_send_buffer_size(&self, value: u64) -> Result<(), ErrorCode>;
    }
}

impl P3Udp {
    /// Checks a datagram's remote address `a`, and notes where it really
    /// goes.
    fn send_to(&self, a: IpSocketAddress, call: Call) -> Result<IpSocketAddress, ErrorCode> {
        let to = outbound(Kind::UdpOut, a, call)?;
        let mut sent = self.sent.borrow_mut();
        if !sent.iter().any(|(t, _)| same(t, &to)) {
            sent.push((to, a));
        }
        Ok(to)
    }
}

impl GuestUdpSocket for P3Udp {
    fn create(address_family: IpAddressFamily) -> Result<UdpSocket, ErrorCode> {
        may_create(Call::UdpSocketCreate, true)?;
        let host = host::UdpSocket::create(address_family)?;
        Ok(UdpSocket::new(P3Udp {
            host,
            seen: Seen::default(),
            sent: RefCell::default(),
        }))
    }

    fn bind(&self, local_address: IpSocketAddress) -> Result<(), ErrorCode> {
        let how = (Kind::UdpIn, Kind::UdpOut, Call::P3UdpBind);
        self.seen.bind(how, local_address, |a| self.host.bind(a))
    }

    fn connect(&self, remote_address: IpSocketAddress) -> Result<(), ErrorCode> {
        trace!(Call::P3UdpConnect);
        let to = self.send_to(remote_address, Call::P3UdpConnect)?;
        self.host.connect(to)?;
        self.seen.connected(remote_address, &to);
        Ok(())
    }

    fn disconnect(&self) -> Result<(), ErrorCode> {
        self.host.disconnect()?;
        self.seen.remote.set(None);
        Ok(())
    }

    /// Blocks until the host has sent it.
    fn send(
        &self,
        data: Vec<u8>,
        remote_address: Option<IpSocketAddress>,
    ) -> Result<(), ErrorCode> {
        trace!(Call::P3UdpSend, data.len());
        let to = match remote_address {
            Some(a) => Some(self.send_to(a, Call::P3UdpSend)?),
            None => None,
        };
        self.host.send(&data, to)
    }

    /// Blocks until a datagram comes that the socket may take: under rules,
    /// from where it sent, unless it holds an inbound grant on the address
    /// the host bound (which the library never gives at 0.3); the others
    /// are dropped.
    fn receive(&self) -> Result<(Vec<u8>, IpSocketAddress), ErrorCode> {
        trace!(Call::P3UdpReceive);
        loop {
            let (data, from) = self.host.receive()?;
            let sent = self.sent.borrow();
            let guest = sent.iter().find(|(to, _)| same(to, &from)).map(|(_, g)| *g);
            let serves = || {
                !ruled()
                    || self
                        .seen
                        .may_serve(Kind::UdpIn, self.host.get_local_address())
            };
            match guest {
                Some(guest) => return Ok((data, guest)),
                None if serves() => return Ok((data, from)),
                None => trace!(denied: Call::P3UdpReceive, from.ip_port().1 as u64),
            }
        }
    }

    fn get_local_address(&self) -> Result<IpSocketAddress, ErrorCode> {
        self.seen.local(self.host.get_local_address())
    }

    fn get_remote_address(&self) -> Result<IpSocketAddress, ErrorCode> {
        self.seen.remote(self.host.get_remote_address())
    }

    passed! {
        fn get_address_family(&self) -> IpAddressFamily;
        fn get_unicast_hop_limit(&self) -> Result<u8, ErrorCode>;
        fn set_unicast_hop_limit(&self, value: u8) -> Result<(), ErrorCode>;
        fn get_receive_buffer_size(&self) -> Result<u64, ErrorCode>;
        fn set_receive_buffer_size(&self, value: u64) -> Result<(), ErrorCode>;
        fn get_send_buffer_size(&self) -> Result<u64, ErrorCode>;
        fn set_send_buffer_size(&self, value: u64) -> Result<(), ErrorCode>;
    }
}

impl ip_name_lookup::Guest for Adapter {
    /// Blocks until the host has looked the name up; under rules, a name
    /// they answer themselves is never looked up, and only the families
    /// they allow come back, each remembered under the name.
    fn resolve_addresses(name: String) -> Result<Vec<IpAddress>, ip_name_lookup::ErrorCode> {
        use ip_name_lookup::ErrorCode as E;
        trace!(Call::ResolveAddresses, name.as_str());
        if !allowed() {
            trace!(denied: Call::ResolveAddresses);
            return Err(E::AccessDenied);
        }
        if !ruled() {
            return host_lookup::resolve_addresses(&name);
        }
        let (v4, v6) = match ask(&Query::Resolve(&name)) {
            Answer::Local(ip) => return Ok(alloc::vec![ip_out(ip)]),
            Answer::Invalid => return Err(E::InvalidArgument),
            Answer::Host(v4, v6) => (v4, v6),
            _ => {
                trace!(denied: Call::ResolveAddresses, name.as_str());
                return Err(E::AccessDenied);
            }
        };
        let found = host_lookup::resolve_addresses(&name)?;
        let ips = found.into_iter().map(|a| match a {
            IpAddress::Ipv4((x, y, z, w)) => IpAddr::V4(Ipv4Addr::new(x, y, z, w)),
            IpAddress::Ipv6((x0, x1, x2, x3, x4, x5, x6, x7)) => {
                canonical(IpAddr::V6(Ipv6Addr::new(x0, x1, x2, x3, x4, x5, x6, x7)))
            }
        });
        let kept = ips.filter(|ip| if ip.is_ipv4() { v4 } else { v6 });
        Ok(kept
            .map(|ip| {
                ask(&Query::Resolved(ip, &name));
                ip_out(ip)
            })
            .collect())
    }
}
