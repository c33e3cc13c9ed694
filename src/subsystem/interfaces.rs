//! The names of the interfaces the subsystems virtualize, without versions:
//! the registry's rows list them, the host rules and the export closure
//! test for them.

use crate::policy::{Policy, StdioMode};
use wasi_virt_layout::Stream;

/// `wasi:cli/environment`.
pub const ENVIRONMENT: &str = "wasi:cli/environment";
/// `wasi:filesystem/preopens`, through which embedded files reach a component.
pub const PREOPENS: &str = "wasi:filesystem/preopens";
/// `wasi:http/types`.
pub const HTTP_TYPES: &str = "wasi:http/types";
/// `wasi:config/store`.
pub const CONFIG_STORE: &str = "wasi:config/store";

/// `wasi:clocks/monotonic-clock`.
pub const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock";
/// `wasi:clocks/wall-clock`.
pub const WALL_CLOCK: &str = "wasi:clocks/wall-clock";
/// The random interfaces.
pub const RANDOM_INTERFACES: &[&str] = &[
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
];

/// `wasi:cli/exit`.
pub const EXIT: &str = "wasi:cli/exit";
/// `wasi:filesystem/types`.
pub const FS_TYPES: &str = "wasi:filesystem/types";
/// The sockets interfaces.
pub const SOCKETS_INTERFACES: &[&str] = &[
    NETWORK,
    INSTANCE_NETWORK,
    TCP,
    TCP_CREATE_SOCKET,
    UDP,
    UDP_CREATE_SOCKET,
    IP_NAME_LOOKUP,
];

/// `wasi:sockets/network`.
pub const NETWORK: &str = "wasi:sockets/network";
/// `wasi:sockets/instance-network`.
pub const INSTANCE_NETWORK: &str = "wasi:sockets/instance-network";
/// `wasi:sockets/tcp`.
pub const TCP: &str = "wasi:sockets/tcp";
/// `wasi:sockets/tcp-create-socket`.
pub const TCP_CREATE_SOCKET: &str = "wasi:sockets/tcp-create-socket";
/// `wasi:sockets/udp`.
pub const UDP: &str = "wasi:sockets/udp";
/// `wasi:sockets/udp-create-socket`.
pub const UDP_CREATE_SOCKET: &str = "wasi:sockets/udp-create-socket";
/// `wasi:sockets/ip-name-lookup`.
pub const IP_NAME_LOOKUP: &str = "wasi:sockets/ip-name-lookup";
/// `wasi:http/outgoing-handler`.
pub const OUTGOING_HANDLER: &str = "wasi:http/outgoing-handler";
/// `wasi:cli/stdin`.
pub const STDIN: &str = "wasi:cli/stdin";
/// `wasi:cli/stdout`.
pub const STDOUT: &str = "wasi:cli/stdout";
/// `wasi:cli/stderr`.
pub const STDERR: &str = "wasi:cli/stderr";
/// `wasi:cli/terminal-input`.
pub const TERMINAL_INPUT: &str = "wasi:cli/terminal-input";
/// `wasi:cli/terminal-output`.
pub const TERMINAL_OUTPUT: &str = "wasi:cli/terminal-output";
/// `wasi:cli/terminal-stdin`.
pub const TERMINAL_STDIN: &str = "wasi:cli/terminal-stdin";
/// `wasi:cli/terminal-stdout`.
pub const TERMINAL_STDOUT: &str = "wasi:cli/terminal-stdout";
/// `wasi:cli/terminal-stderr`.
pub const TERMINAL_STDERR: &str = "wasi:cli/terminal-stderr";

/// `wasi:clocks/system-clock`, WASI 0.3's wall clock.
pub const SYSTEM_CLOCK: &str = "wasi:clocks/system-clock";
/// `wasi:sockets/types`, WASI 0.3's sockets (both protocols in one).
pub const SOCKET_TYPES: &str = "wasi:sockets/types";
/// `wasi:cli/types`, WASI 0.3's stdio types (`error-code`).
pub const CLI_TYPES: &str = "wasi:cli/types";
/// `wasi:clocks/types`, WASI 0.3's clock types (`duration`).
pub const CLOCK_TYPES: &str = "wasi:clocks/types";
/// WASI 0.3's HTTP client, whose `send` takes `wasi:http/types`' request.
pub const HTTP_CLIENT: &str = "wasi:http/client";

/// The adapter's WASI 0.3 HTTP client under outbound rules
/// (`wit/p3/deps/p3-http.wit`), through which a component's
/// `wasi:http/client@0.3.0` sends the host's own requests.
pub const GUARDED_CLIENT: &str = "wasi-virt:p3-http/client@0.3.0";

/// The adapter's WASI 0.3 preopens of renamed host directories
/// (`wit/p3/deps/p3-fs.wit`), which hand a component's
/// `wasi:filesystem/preopens@0.3.0` the host's own descriptors.
pub const GUARDED_PREOPENS: &str = "wasi-virt:p3-fs/preopens@0.3.0";

/// Each WASI 0.3 interface the adapter can serve with the host's own types
/// (a guard), and the guard's name in the adapter: a component's import
/// of the interface is connected to the guard (src/compose.rs), whose
/// types are the host's, imported by both.
pub const GUARDS: &[(&str, &str)] = &[(HTTP_CLIENT, GUARDED_CLIENT), (PREOPENS, GUARDED_PREOPENS)];

/// The WASI 0.3 version of the interfaces in [`P3_FACES`].
pub const WASI_0_3: semver::Version = semver::Version::new(0, 3, 0);

/// A WASI 0.3 interface the adapter exports beside the WASI 0.2 ones
/// (`wit/p3/faces.wit`, `virtual-adapter/src/p3.rs`): its functions answer
/// through those of its WASI 0.2 counterpart, whose row governs it.
pub struct Face {
    /// Its name without a version (at [`WASI_0_3`]).
    pub name: &'static str,
    /// The WASI 0.2 interface (unversioned) whose code answers it and
    /// whose subsystem governs it.
    pub counterpart: &'static str,
    /// Whether it holds types alone (`wasi:clocks/types`), which need no
    /// counterpart exported.
    pub types_only: bool,
    /// Whether `policy` leaves it to the host's own WASI 0.3 even where
    /// the adapter exports its counterpart: a terminal interface whose
    /// streams are all allowed (the host's terminals are its own).
    pub to_host: fn(&Policy) -> bool,
    /// Whether the adapter serves it only where its subsystem is denied
    /// (filesystem, sockets, the HTTP client): where the subsystem passes
    /// through it is the host's own, and anything between (mounts, network
    /// rules) is refused, but for [`ruled`](Self::ruled).
    pub denied_only: bool,
    /// Whether the adapter also serves it under network rules that grant
    /// no inbound use (sockets: the host's own sockets, checked call by
    /// call; a listener's stream of accepted sockets cannot be wrapped).
    pub ruled: bool,
}

/// Every WASI 0.3 interface the adapter serves; the others of WASI 0.3
/// (`wasi:http/handler`, the unstable timezone) are refused unless `--allow-import` or
/// `--deny-import` names them.
pub const P3_FACES: &[Face] = &[
    face(ENVIRONMENT, ENVIRONMENT),
    face(EXIT, EXIT),
    face("wasi:random/random", "wasi:random/random"),
    face("wasi:random/insecure", "wasi:random/insecure"),
    face("wasi:random/insecure-seed", "wasi:random/insecure-seed"),
    face(MONOTONIC_CLOCK, MONOTONIC_CLOCK),
    face(SYSTEM_CLOCK, WALL_CLOCK),
    types(CLOCK_TYPES, MONOTONIC_CLOCK),
    face(STDIN, STDIN),
    face(STDOUT, STDOUT),
    face(STDERR, STDERR),
    types(CLI_TYPES, STDOUT),
    // A terminal resource has one owner: the host's when every stream that
    // can hand it out is allowed, else the adapter's (which hands out none).
    Face {
        to_host: |p| allows(p, Stream::Stdin),
        ..types(TERMINAL_INPUT, TERMINAL_INPUT)
    },
    Face {
        to_host: outputs_allowed,
        ..types(TERMINAL_OUTPUT, TERMINAL_OUTPUT)
    },
    Face {
        to_host: |p| allows(p, Stream::Stdin),
        ..face(TERMINAL_STDIN, TERMINAL_STDIN)
    },
    Face {
        to_host: outputs_allowed,
        ..face(TERMINAL_STDOUT, TERMINAL_STDOUT)
    },
    Face {
        to_host: outputs_allowed,
        ..face(TERMINAL_STDERR, TERMINAL_STDERR)
    },
    denied_only(FS_TYPES, FS_TYPES),
    denied_only(PREOPENS, PREOPENS),
    Face {
        ruled: true,
        ..denied_only(SOCKET_TYPES, TCP_CREATE_SOCKET)
    },
    Face {
        ruled: true,
        ..denied_only(IP_NAME_LOOKUP, IP_NAME_LOOKUP)
    },
    denied_only(HTTP_TYPES, OUTGOING_HANDLER),
    denied_only(HTTP_CLIENT, OUTGOING_HANDLER),
];

const fn denied_only(name: &'static str, counterpart: &'static str) -> Face {
    Face {
        denied_only: true,
        ..face(name, counterpart)
    }
}

/// Whether `policy` gives both stdout and stderr the host's.
fn outputs_allowed(policy: &Policy) -> bool {
    allows(policy, Stream::Stdout) && allows(policy, Stream::Stderr)
}

/// Whether `policy` gives `stream` the host's (a baked stdin is not).
fn allows(policy: &Policy, stream: Stream) -> bool {
    let stdio = policy.stdio.as_ref();
    stdio.map_or(StdioMode::Allow, |s| s.mode(stream)) == StdioMode::Allow
}

/// The WASI 0.3 interfaces the adapter also imports from the host
/// (`wit/p3/faces.wit`): the stdio streams an allowed stream is passed on
/// to, and the sockets that sockets under network rules wrap.
pub const P3_HOST_SIDE: &[&str] = &[STDIN, STDOUT, STDERR, SOCKET_TYPES, IP_NAME_LOOKUP];

/// The WASI 0.3 stdio interfaces whose functions hand out streams.
pub const P3_STREAMS: &[&str] = &[STDIN, STDOUT, STDERR];

const fn types(name: &'static str, counterpart: &'static str) -> Face {
    Face {
        types_only: true,
        ..face(name, counterpart)
    }
}

const fn face(name: &'static str, counterpart: &'static str) -> Face {
    Face {
        name,
        counterpart,
        types_only: false,
        to_host: |_| false,
        denied_only: false,
        ruled: false,
    }
}
