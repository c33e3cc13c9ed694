//! The names of the interfaces the subsystems virtualize, without versions:
//! the registry's rows list them, the host rules and the export closure
//! test for them.

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
