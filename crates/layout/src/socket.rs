//! One socket's standing under the inbound rules, decided only on what the
//! host says the socket holds, never on what the guest attempted.
//!
//! A bind is asked first ([`ask_bind`]): the rules say whether it may be
//! made and which port the host really binds. The grant is recorded only
//! when the host's `start-bind` succeeded ([`Standing::bind_started`]), and
//! holds only once its `finish-bind` did ([`Standing::bind_finished`]). A
//! bind that failed (a second bind, a port in use) changes nothing: the
//! socket keeps whatever it held before.
//!
//! Serving (a TCP `listen`, a UDP socket taking datagrams from anyone) is
//! decided again on the address the host reports the socket bound to
//! ([`Standing::may_serve`]): the socket must hold an inbound grant, the
//! host must hold the port that grant bound, and the rules must still
//! admit that address and port. A socket bound as a client (port 0 with
//! no inbound rule) never serves.
//!
//! The adapter (`virtual-adapter/src/sockets.rs`) runs this code, and the
//! host's tests (`crates/layout/tests/socket.rs`) and the `sockets` fuzz
//! target drive it against a model of the host's sockets.

use crate::net::{canonical, Kind, Rules};
use core::net::IpAddr;

/// The rules as a socket asks them.
pub trait Grants {
    /// The port the host binds for an inbound bind of `kind` to `ip` and
    /// `port`, if a rule allows it (0: the host chooses).
    fn inbound(&self, kind: Kind, ip: IpAddr, port: u16) -> Option<u16>;
    /// Whether some rule is of `kind`.
    fn any(&self, kind: Kind) -> bool;
}

impl Grants for Rules<'_> {
    fn inbound(&self, kind: Kind, ip: IpAddr, port: u16) -> Option<u16> {
        Rules::inbound(self, kind, canonical(ip), port)
    }

    fn any(&self, kind: Kind) -> bool {
        Rules::any(self, kind)
    }
}

/// A bind the rules allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bind {
    /// The port the guest asked for.
    pub guest_port: u16,
    /// The port the host is asked to bind (0: the host chooses).
    pub host_port: u16,
    /// Whether an inbound rule allowed it; a client's bind (port 0 with no
    /// inbound rule) is not.
    pub inbound: bool,
}

/// Asks whether a socket of inbound kind `kind` (`TcpIn` or `UdpIn`) may
/// bind `ip` and `port`. A bind to port 0 that no inbound rule allows is a
/// client's, allowed where some rule of kind `client` (`TcpOut` or
/// `UdpOut`) is.
pub fn ask_bind(
    grants: &impl Grants,
    kind: Kind,
    client: Kind,
    ip: IpAddr,
    port: u16,
) -> Option<Bind> {
    match grants.inbound(kind, ip, port) {
        Some(host_port) => Some(Bind {
            guest_port: port,
            host_port,
            inbound: true,
        }),
        None if port == 0 && grants.any(client) => Some(Bind {
            guest_port: 0,
            host_port: 0,
            inbound: false,
        }),
        None => None,
    }
}

/// What one socket holds under the rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Standing {
    /// A bind the host started and has not finished.
    pending: Option<Bind>,
    /// The bind the host holds.
    bound: Option<Bind>,
}

impl Standing {
    /// The standing of a socket that `accept` returned from a listener: it
    /// shows the listener's ports, and it may not serve.
    pub fn accepted(listener: &Standing) -> Standing {
        Standing {
            pending: None,
            bound: listener.bound.map(|b| Bind {
                inbound: false,
                ..b
            }),
        }
    }

    /// The host's `start-bind` succeeded for `bind`.
    pub fn bind_started(&mut self, bind: Bind) {
        self.pending = Some(bind);
    }

    /// The host's `finish-bind` answered: the started bind holds only if
    /// it succeeded.
    pub fn bind_finished(&mut self, ok: bool) {
        if let Some(bind) = self.pending.take() {
            if ok {
                self.bound = Some(bind);
            }
        }
    }

    /// The bind the host holds, if any.
    pub fn bound(&self) -> Option<Bind> {
        self.bound
    }

    /// The port the guest sees for a local port the host reports: the
    /// guest's own where the rules remapped it.
    pub fn guest_port(&self, host_port: u16) -> u16 {
        match self.bound {
            Some(b) if b.host_port != 0 && b.host_port == host_port => b.guest_port,
            _ => host_port,
        }
    }

    /// Whether the socket may serve (listen, or take datagrams from
    /// anyone) while the host reports it bound to `ip` and `port`: it
    /// holds an inbound grant, the host holds the port that grant bound
    /// (any port where the host chose it), and the rules admit that
    /// address with the guest's port today.
    pub fn may_serve(&self, grants: &impl Grants, kind: Kind, ip: IpAddr, port: u16) -> bool {
        let Some(bind) = self.bound.filter(|b| b.inbound) else {
            return false;
        };
        if bind.host_port != 0 && bind.host_port != port {
            return false;
        }
        match grants.inbound(kind, ip, bind.guest_port) {
            Some(0) => bind.host_port == 0,
            Some(to) => to == port,
            None => false,
        }
    }
}
