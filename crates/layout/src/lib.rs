//! The one definition of the bytes that `wasi-virt` writes into the virtual
//! adapter and that the adapter reads back.
//!
//! Both sides compile this crate: the adapter (`no_std`, reader only) and the
//! host library (with the `encode` feature, which adds the writer).
//!
//! # How the configuration reaches the adapter
//!
//! The adapter defines one static, the [`Anchor`], and exports its address
//! under [`ANCHOR_SYMBOL`] (a `#[no_mangle]` static in a wasm cdylib becomes an
//! exported `i32` global holding its address). The host:
//!
//! 1. encodes the configuration with [`encode`];
//! 2. places it in a new active data segment above the adapter's initial
//!    memory, raising the memory minimum so that it is in bounds (the adapter's
//!    allocator only takes pages from `memory.grow`, so it never reuses them);
//! 3. overwrites the anchor's bytes with [`Anchor::to_bytes`] pointing at it.
//!
//! The configuration itself is a sequence of little-endian `u32`s and
//! length-prefixed byte strings, read front to back by [`Config::parse`].
//! Lists carry their byte length first, so the parser can skip them without
//! decoding, and iterate them lazily later.
#![no_std]
#![deny(missing_docs)]

extern crate alloc;

use core::fmt;

pub mod cgi;
pub mod heap;
pub mod memfs;
pub mod net;
pub mod path;
pub mod socket;

/// The export name of the adapter's anchor static.
pub const ANCHOR_SYMBOL: &str = "WASI_VIRT_ANCHOR";

/// The export name of the adapter's `--debug` formatter, which the library
/// binds to the [`TRACE`] hook when the policy asks for debug output.
pub const TRACE_IMPL: &str = "wasi_virt_trace";

/// Whether two strings are equal, in a `const` context: the adapter checks
/// at compile time that its exported symbols carry the names above.
pub const fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Declares each hook once: the name the library matches, and (on wasm) the
/// import the adapter calls, from the same literal.
macro_rules! hooks {
    (module = $module:literal; $(
        $(#[$doc:meta])*
        $name:ident = $link:literal => fn $func:ident($($arg:ident: $ty:ty),*);
    )*) => {
        /// The import module of the hooks: functions the adapter imports and
        /// the library defines when it specializes the adapter, so that no
        /// such import is left in any output.
        pub const HOOK_MODULE: &str = $module;
        $( $(#[$doc])* pub const $name: &str = $link; )*

        /// The adapter's side of the hooks.
        #[cfg(target_arch = "wasm32")]
        pub mod hooks {
            #[link(wasm_import_module = $module)]
            extern "C" {
                $( $(#[$doc])* #[link_name = $link] pub fn $func($($arg: $ty),*); )*
            }
        }
    };
}

hooks! {
    module = "wasi-virt";
    /// `passive-read(segment, offset, len, dest)`: copies `len` bytes at
    /// `offset` of file segment `segment` (see [`file_segment_index`]) to
    /// `dest`; the library defines it as a `memory.init` dispatcher.
    PASSIVE_READ = "passive-read" => fn passive_read(segment: u32, offset: u32, len: u32, dest: *mut u8);
    /// `trace(kind, call, args, count)`: writes one line about [`Call`]
    /// `call` to the host's stderr; `kind` says whether it was made, denied
    /// or trapped, and `args` points at `count` arguments (both defined in
    /// `virtual-adapter/src/debug.rs`, the only code that reads them). The
    /// line names the call from [`Config::call_names`]. Bound to
    /// [`TRACE_IMPL`] under `--debug`, else a trap that nothing reaches, so
    /// the formatting code is removed as dead.
    TRACE = "trace" => fn trace(kind: u32, call: u32, args: *const u8, count: usize);
    /// `net(query, answer)`: decides one socket or HTTP call under network
    /// rules; `query` and `answer` point at values of the adapter's own
    /// types (`virtual-adapter/src/rules.rs`, the only code that reads and
    /// writes them). Bound to [`NET_IMPL`] when the configuration has
    /// rules ([`FLAG_NET_SOCKETS`], [`FLAG_NET_HTTP`]), else a trap that
    /// nothing reaches, so that the rules' code is removed as dead.
    NET = "net" => fn net(query: *const u8, answer: *mut u8);
    /// `memfs(query, answer)`: one call into the writable in-memory
    /// filesystems, with values of the adapter's own types
    /// (`virtual-adapter/src/memfs.rs`). Bound to [`MEMFS_IMPL`] when the
    /// configuration has a tmpfs or an overlay ([`Fs::memory`]), else a trap
    /// that nothing reaches, so that their code is removed as dead.
    MEMFS = "memfs" => fn memfs(query: *const u8, answer: *mut u8);
    /// `seeded(seed, what, dest, len)`: draws from the generator seeded with
    /// `seed`: `len` bytes into `dest` ([`SEEDED_BYTES`]), or one `u64`
    /// into its 8 bytes ([`SEEDED_U64`]). Bound to [`SEEDED_IMPL`] when the
    /// policy seeds randomness, else a trap that nothing reaches, so that
    /// the generator's code is removed as dead.
    SEEDED = "seeded" => fn seeded(seed: u64, what: u32, dest: *mut u8, len: usize);
    /// `http-send(query, answer)`: sends an outgoing request through the
    /// host, with values of the adapter's own types
    /// (`virtual-adapter/src/http.rs`). Bound to [`HTTP_SEND_IMPL`] when the
    /// configuration lets HTTP through (wholly or by rules), else a trap
    /// that nothing reaches, so that building the host's request is removed
    /// as dead code.
    HTTP_SEND = "http-send" => fn http_send(query: *mut u8, answer: *mut u8);
    /// `serve(query, answer)`: what a command served per request
    /// (`--serve-http`) gets instead of the host's: one of the `SERVE_*`
    /// queries, its answer written to `answer` as a value of the adapter's
    /// own types (`virtual-adapter/src/serve.rs`). Called only under
    /// [`FLAG_SERVE_RUN`], and bound to [`SERVE_IMPL`] then, else a trap
    /// that nothing reaches, so that the request's arguments, variables,
    /// streams and answer are removed as dead code.
    SERVE = "serve" => fn serve(query: u32, answer: *mut u8);
}

/// The export name of the adapter's side of a command served per request,
/// which the library binds to the [`SERVE`] hook under `--serve-http`.
pub const SERVE_IMPL: &str = "wasi_virt_serve";

/// [`SERVE`]: the arguments, from the request target.
pub const SERVE_ARGS: u32 = 0;
/// [`SERVE`]: the CGI variables.
pub const SERVE_VARS: u32 = 1;
/// [`SERVE`]: stdin, the request body.
pub const SERVE_STDIN: u32 = 2;
/// [`SERVE`]: a stream into the response.
pub const SERVE_OUTPUT: u32 = 3;
/// [`SERVE`]: answer the request, the run having succeeded.
pub const SERVE_ANSWER_OK: u32 = 4;
/// [`SERVE`]: answer the request, the run having failed (500).
pub const SERVE_ANSWER_FAILED: u32 = 5;

/// The export name of the adapter's sender of outgoing requests, which the
/// library binds to the [`HTTP_SEND`] hook when HTTP may pass.
pub const HTTP_SEND_IMPL: &str = "wasi_virt_http_send";

/// The export name of the adapter's seeded generator, which the library
/// binds to the [`SEEDED`] hook when the policy seeds randomness.
pub const SEEDED_IMPL: &str = "wasi_virt_seeded";

/// [`SEEDED`]: fill `len` bytes.
pub const SEEDED_BYTES: u32 = 0;

/// [`SEEDED`]: the generator's next `u64`, little-endian.
pub const SEEDED_U64: u32 = 1;

/// The export name of the adapter's in-memory filesystems, which the library
/// binds to the [`MEMFS`] hook when the configuration has one.
pub const MEMFS_IMPL: &str = "wasi_virt_memfs";

/// The export name of the adapter's network-rules decider, which the library
/// binds to the [`NET`] hook when the configuration has rules.
pub const NET_IMPL: &str = "wasi_virt_net";

/// Declares every call (and every other event) the adapter reports under
/// `--debug` once: [`Call`], the number the adapter passes to the
/// [`TRACE`] hook, and [`CALL_NAMES`], the text the library writes into the
/// configuration when the policy asks for debug output.
macro_rules! calls {
    ($($variant:ident = $name:literal,)*) => {
        /// A call or event that the adapter traces, denies or traps on: its
        /// number in the [`TRACE`] hook, and its index in [`CALL_NAMES`].
        ///
        /// Adding, removing or reordering entries changes the numbers, so the
        /// adapter must be rebuilt (`./build-adapter.sh --check` catches a
        /// stale one).
        #[repr(u16)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Call {
            $(#[doc = $name] $variant,)*
        }

        /// The text of each [`Call`], indexed by its number. Only the library
        /// uses it: the adapter never refers to it, so the names are not in
        /// the adapter's data, and reach it only through the configuration.
        pub const CALL_NAMES: &[&str] = &[$($name,)*];
    };
}

calls! {
    GetEnvironment = "wasi:cli/environment.get-environment",
    GetArguments = "wasi:cli/environment.get-arguments",
    InitialCwd = "wasi:cli/environment.initial-cwd",
    Exit = "wasi:cli/exit.exit",
    ExitWithCode = "wasi:cli/exit.exit-with-code",
    GetStdin = "wasi:cli/stdin.get-stdin",
    GetStdout = "wasi:cli/stdout.get-stdout",
    GetStderr = "wasi:cli/stderr.get-stderr",
    GetTerminalStdin = "wasi:cli/terminal-stdin.get-terminal-stdin",
    GetTerminalStdout = "wasi:cli/terminal-stdout.get-terminal-stdout",
    GetTerminalStderr = "wasi:cli/terminal-stderr.get-terminal-stderr",
    MonotonicNow = "wasi:clocks/monotonic-clock.now",
    MonotonicResolution = "wasi:clocks/monotonic-clock.resolution",
    SubscribeInstant = "wasi:clocks/monotonic-clock.subscribe-instant",
    SubscribeDuration = "wasi:clocks/monotonic-clock.subscribe-duration",
    WallNow = "wasi:clocks/wall-clock.now",
    WallResolution = "wasi:clocks/wall-clock.resolution",
    GetRandomBytes = "wasi:random/random.get-random-bytes",
    GetRandomU64 = "wasi:random/random.get-random-u64",
    GetInsecureRandomBytes = "wasi:random/insecure.get-insecure-random-bytes",
    GetInsecureRandomU64 = "wasi:random/insecure.get-insecure-random-u64",
    InsecureSeed = "wasi:random/insecure-seed.insecure-seed",
    Poll = "wasi:io/poll.poll",
    Read = "wasi:io/streams.input-stream.read",
    BlockingRead = "wasi:io/streams.input-stream.blocking-read",
    Skip = "wasi:io/streams.input-stream.skip",
    BlockingSkip = "wasi:io/streams.input-stream.blocking-skip",
    CheckWrite = "wasi:io/streams.output-stream.check-write",
    Write = "wasi:io/streams.output-stream.write",
    BlockingWriteAndFlush = "wasi:io/streams.output-stream.blocking-write-and-flush",
    Flush = "wasi:io/streams.output-stream.flush",
    BlockingFlush = "wasi:io/streams.output-stream.blocking-flush",
    WriteZeroes = "wasi:io/streams.output-stream.write-zeroes",
    BlockingWriteZeroesAndFlush = "wasi:io/streams.output-stream.blocking-write-zeroes-and-flush",
    Splice = "wasi:io/streams.output-stream.splice",
    BlockingSplice = "wasi:io/streams.output-stream.blocking-splice",
    StoreGet = "wasi:config/store.get",
    StoreGetAll = "wasi:config/store.get-all",
    InstanceNetwork = "wasi:sockets/instance-network.instance-network",
    CreateTcpSocket = "wasi:sockets/tcp-create-socket.create-tcp-socket",
    CreateUdpSocket = "wasi:sockets/udp-create-socket.create-udp-socket",
    ResolveAddresses = "wasi:sockets/ip-name-lookup.resolve-addresses",
    ResolveNextAddress = "wasi:sockets/ip-name-lookup.resolve-address-stream.resolve-next-address",
    TcpStartBind = "wasi:sockets/tcp.tcp-socket.start-bind",
    TcpStartConnect = "wasi:sockets/tcp.tcp-socket.start-connect",
    TcpFinishConnect = "wasi:sockets/tcp.tcp-socket.finish-connect",
    TcpStartListen = "wasi:sockets/tcp.tcp-socket.start-listen",
    TcpAccept = "wasi:sockets/tcp.tcp-socket.accept",
    TcpShutdown = "wasi:sockets/tcp.tcp-socket.shutdown",
    UdpStartBind = "wasi:sockets/udp.udp-socket.start-bind",
    UdpStream = "wasi:sockets/udp.udp-socket.stream",
    UdpReceive = "wasi:sockets/udp.incoming-datagram-stream.receive",
    UdpSend = "wasi:sockets/udp.outgoing-datagram-stream.send",
    OutgoingBodyFinish = "wasi:http/types.outgoing-body.finish",
    Handle = "wasi:http/outgoing-handler.handle",
    ResponseOutparamSet = "wasi:http/types.response-outparam.set",
    Serve = "wasi:http/incoming-handler.handle",
    RunAnswered = "command answered the request",
    RunOutsideRequest = "a served command asked for its request outside one",
    RunTwice = "a second request in one instance: a served command needs a fresh instance per request",
    ReadViaStream = "wasi:filesystem/types.descriptor.read-via-stream",
    WriteViaStream = "wasi:filesystem/types.descriptor.write-via-stream",
    AppendViaStream = "wasi:filesystem/types.descriptor.append-via-stream",
    SetSize = "wasi:filesystem/types.descriptor.set-size",
    ReadFile = "wasi:filesystem/types.descriptor.read",
    WriteFile = "wasi:filesystem/types.descriptor.write",
    ReadDirectory = "wasi:filesystem/types.descriptor.read-directory",
    CreateDirectoryAt = "wasi:filesystem/types.descriptor.create-directory-at",
    Stat = "wasi:filesystem/types.descriptor.stat",
    StatAt = "wasi:filesystem/types.descriptor.stat-at",
    LinkAt = "wasi:filesystem/types.descriptor.link-at",
    OpenAt = "wasi:filesystem/types.descriptor.open-at",
    RemoveDirectoryAt = "wasi:filesystem/types.descriptor.remove-directory-at",
    RenameAt = "wasi:filesystem/types.descriptor.rename-at",
    SymlinkAt = "wasi:filesystem/types.descriptor.symlink-at",
    UnlinkFileAt = "wasi:filesystem/types.descriptor.unlink-file-at",
    GetDirectories = "wasi:filesystem/preopens.get-directories",
    PollWithoutPollables = "wasi:io/poll.poll called with no pollables",
    NodeOutOfRange = "virtual filesystem node out of range",
    RuntimeFileOutsidePreopens = "runtime file outside the host's preopens",
    RuntimeFileRefused = "runtime file refused by the host",
    RemapOutsidePreopens = "host directory to remap outside the host's preopens",
    RemapRefused = "host directory to remap refused by the host",
}

/// The longest file name, in bytes, that the embedded filesystem holds (the
/// host's limit for one path component).
pub const NAME_MAX: usize = 255;

/// Data segments added by the library after the adapter's own: one active
/// segment holding the configuration.
pub const CONFIG_SEGMENTS: u32 = 1;

/// The data segment index of file segment `file_segment`, in an adapter whose
/// own module has `module_segments` data segments: the adapter's segments
/// come first, then the configuration, then the file segments in order.
pub const fn file_segment_index(module_segments: u32, file_segment: u32) -> u32 {
    module_segments + CONFIG_SEGMENTS + file_segment
}

/// `b"wvrt"`, the first word of the anchor.
pub const MAGIC: u32 = u32::from_le_bytes(*b"wvrt");

/// Bumped whenever the layout of [`Anchor`] or of the configuration changes.
/// The host refuses an adapter built against another layout.
pub const LAYOUT_VERSION: u32 = 11;

/// Flag bit: trace every virtualized call to stderr.
pub const FLAG_DEBUG: u32 = 1 << 0;

/// Flag bit: network rules govern `wasi:sockets` (some rule is for TCP, UDP
/// or lookups); every socket call is decided through the [`NET`] hook.
pub const FLAG_NET_SOCKETS: u32 = 1 << 1;

/// Flag bit: network rules govern outgoing HTTP (some rule is `http://` or
/// `https://`); every request is decided through the [`NET`] hook.
pub const FLAG_NET_HTTP: u32 = 1 << 2;

/// Flag bit: a command served per request (`--serve-http`) writes its
/// stderr into the response, interleaved with its stdout.
pub const FLAG_STDERR_TO_RESPONSE: u32 = 1 << 3;

/// Flag bit: the command is served per request (`--serve-http`); its
/// arguments, variables, stdin, stdout and exit go through the [`SERVE`]
/// hook.
pub const FLAG_SERVE_RUN: u32 = 1 << 4;

/// Bits of [`Config::allow`]: a subsystem whose bit is set passes calls
/// through to the host; one whose bit is clear denies them.
pub mod allow {
    /// `wasi:clocks/*`.
    pub const CLOCKS: u32 = 1 << 0;
    /// `wasi:random/*`.
    pub const RANDOM: u32 = 1 << 1;
    /// `wasi:cli/exit`.
    pub const EXIT: u32 = 1 << 2;
    /// `wasi:sockets/*`.
    pub const SOCKETS: u32 = 1 << 3;
    /// `wasi:http/*`.
    pub const HTTP: u32 = 1 << 4;
    /// The host's filesystem preopens.
    pub const HOST_PREOPENS: u32 = 1 << 5;
}

/// The fixed-size record the adapter exports and the host patches.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Anchor {
    /// Always [`MAGIC`].
    pub magic: u32,
    /// The [`LAYOUT_VERSION`] the adapter was built with.
    pub layout_version: u32,
    /// Linear-memory address of the encoded configuration.
    pub config_ptr: u32,
    /// Byte length of the encoded configuration; 0 means "not configured".
    pub config_len: u32,
}

impl Anchor {
    /// Size of the anchor in linear memory.
    pub const SIZE: usize = 16;

    /// The anchor as the adapter is built: no configuration attached.
    pub const UNPATCHED: Anchor = Anchor {
        magic: MAGIC,
        layout_version: LAYOUT_VERSION,
        config_ptr: 0,
        config_len: 0,
    };

    /// The anchor's bytes as they lie in linear memory.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut out = [0; Self::SIZE];
        for (i, word) in [
            self.magic,
            self.layout_version,
            self.config_ptr,
            self.config_len,
        ]
        .iter()
        .enumerate()
        {
            out[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
        }
        out
    }

    /// Reads an anchor from linear-memory bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Anchor> {
        let mut r = Reader::new(bytes.get(..Self::SIZE)?);
        Some(Anchor {
            magic: r.u32().ok()?,
            layout_version: r.u32().ok()?,
            config_ptr: r.u32().ok()?,
            config_len: r.u32().ok()?,
        })
    }
}

/// Why a configuration blob could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The blob ended inside a field.
    Truncated,
    /// A string was not UTF-8.
    Utf8,
    /// An enumeration held a value this layout does not define.
    BadTag(u32),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => f.write_str("configuration is truncated"),
            Error::Utf8 => f.write_str("configuration holds a string that is not UTF-8"),
            Error::BadTag(t) => write!(f, "configuration holds unknown tag {t}"),
        }
    }
}

/// Which host values (environment variables, config properties) are visible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostFilterMode {
    /// No host value is visible.
    None = 0,
    /// Every host value is visible.
    All = 1,
    /// Only the listed host values are visible.
    Allow = 2,
    /// Every host value except the listed ones is visible.
    Deny = 3,
}

impl HostFilterMode {
    /// Whether the host value `name` is visible, given the list.
    pub fn shows(self, listed: bool) -> bool {
        match self {
            HostFilterMode::None => false,
            HostFilterMode::All => true,
            HostFilterMode::Allow => listed,
            HostFilterMode::Deny => !listed,
        }
    }
}

impl HostFilterMode {
    fn from_u32(v: u32) -> Result<Self, Error> {
        Ok(match v {
            0 => HostFilterMode::None,
            1 => HostFilterMode::All,
            2 => HostFilterMode::Allow,
            3 => HostFilterMode::Deny,
            t => return Err(Error::BadTag(t)),
        })
    }
}

/// What one standard stream does. The library's policy uses this type too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "kebab-case")
)]
pub enum StdioMode {
    /// The host's stream.
    #[default]
    Allow = 0,
    /// Every read or write fails with an error; the stream is not a terminal.
    Deny = 1,
    /// Reads see end-of-file; writes succeed and are discarded.
    Ignore = 2,
}

impl StdioMode {
    /// Every mode, in tag order.
    pub const ALL: [StdioMode; 3] = [StdioMode::Allow, StdioMode::Deny, StdioMode::Ignore];

    /// The mode's name: `allow`, `deny` or `ignore`.
    pub const fn name(self) -> &'static str {
        match self {
            StdioMode::Allow => "allow",
            StdioMode::Deny => "deny",
            StdioMode::Ignore => "ignore",
        }
    }

    fn from_u32(v: u32) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|m| *m as u32 == v)
            .ok_or(Error::BadTag(v))
    }
}

impl core::str::FromStr for StdioMode {
    type Err = UnknownMode;

    fn from_str(s: &str) -> Result<Self, UnknownMode> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or(UnknownMode)
    }
}

impl fmt::Display for StdioMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A stdio mode name that is not `allow`, `deny` or `ignore`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownMode;

impl fmt::Display for UnknownMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected `allow`, `deny` or `ignore`")
    }
}

impl core::error::Error for UnknownMode {}

/// The standard streams, in the order of [`Config::stdio`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Standard input.
    Stdin = 0,
    /// Standard output.
    Stdout = 1,
    /// Standard error.
    Stderr = 2,
}

impl Stream {
    /// Every stream, in configuration order.
    pub const ALL: [Stream; 3] = [Stream::Stdin, Stream::Stdout, Stream::Stderr];

    /// The stream's name: `stdin`, `stdout` or `stderr`.
    pub const fn name(self) -> &'static str {
        match self {
            Stream::Stdin => "stdin",
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// Where a value of `wasi:cli/environment` comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source<T> {
    /// Asked of the host at each call.
    Host,
    /// Fixed by the configuration.
    Virtual(T),
}

/// A decoded configuration. Borrowed from the blob; nothing is copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config<'a> {
    /// `FLAG_*` bits.
    pub flags: u32,
    /// The `wasi:cli/environment` policy.
    pub env: Env<'a>,
    /// `stdin`, `stdout`, `stderr`.
    pub stdio: [StdioMode; 3],
    /// [`allow`] bits.
    pub allow: u32,
    /// The `wasi:config/store` policy.
    pub store: Store<'a>,
    /// The virtual filesystem.
    pub fs: Fs<'a>,
    /// The virtual clock, if the clocks are virtual.
    pub clock: Option<VirtualClock>,
    /// The seed of the adapter's generator, if randomness is seeded.
    pub random_seed: Option<u64>,
    /// What stdin reads, if it is baked in (its mode is then `Ignore`: the
    /// host's stdin is never read).
    pub stdin: Option<&'a [u8]>,
    /// The text of each [`Call`], by number ([`CALL_NAMES`]) under `--debug`;
    /// empty otherwise, so no output carries them unless asked to.
    pub call_names: StrList<'a>,
    /// The network rules; empty when sockets and HTTP are allowed or denied
    /// as a whole (their [`allow`] bits say which).
    pub net: net::Rules<'a>,
}

/// A virtual clock: the wall clock starts at this instant, the monotonic
/// clock at 0, and both advance together as the adapter decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VirtualClock {
    /// Seconds since the Unix epoch at the start.
    pub seconds: u64,
    /// Nanoseconds past `seconds`, below 1,000,000,000.
    pub nanoseconds: u32,
}

/// The virtual filesystem: preopens naming nodes of one tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fs<'a> {
    /// Host directories shown under another name: `(guest path, host path)`,
    /// where the host must preopen the host path (or a directory above it).
    pub remaps: PairList<'a>,
    /// The guest path of each virtual preopen.
    pub preopen_names: StrList<'a>,
    /// The root node of each virtual preopen, in the same order.
    preopen_nodes: &'a [u8],
    /// Fixed-size node records.
    nodes: &'a [u8],
    /// Names and host paths, referred to by the nodes.
    strings: &'a [u8],
    /// The writable in-memory preopens (`--tmpfs`, `--overlay`).
    pub memory: MemoryList<'a>,
}

/// One writable in-memory preopen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory<'a> {
    /// Its guest path.
    pub name: &'a str,
    /// For an overlay, the embedded directory (a node of the tree) that its
    /// writes lie over; `None` for a tmpfs, which starts empty.
    pub lower: Option<u32>,
    /// The most bytes its files and metadata may take.
    pub limit: u64,
}

/// The writable in-memory preopens: `name, lower (u32::MAX for none),
/// limit (u64)` each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryList<'a> {
    len: u32,
    bytes: &'a [u8],
}

impl<'a> MemoryList<'a> {
    /// How many.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Each in order; checked by [`Config::parse`].
    pub fn iter(&self) -> impl Iterator<Item = Memory<'a>> + 'a {
        let mut r = Reader::new(self.bytes);
        (0..self.len).map_while(move |_| read_memory(&mut r).ok())
    }

    /// Preopen number `index`.
    pub fn get(&self, index: usize) -> Option<Memory<'a>> {
        self.iter().nth(index)
    }
}

fn read_memory<'a>(r: &mut Reader<'a>) -> Result<Memory<'a>, Error> {
    let name = r.str()?;
    let lower = match r.u32()? {
        u32::MAX => None,
        node => Some(node),
    };
    let limit = r.u64()?;
    Ok(Memory { name, lower, limit })
}

/// What a node of the virtual filesystem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind<'a> {
    /// A directory whose children are nodes `first..first + count`, sorted
    /// by name.
    Dir {
        /// The first child.
        first: u32,
        /// How many children.
        count: u32,
    },
    /// A file whose bytes are `offset..offset + len` of passive data segment
    /// `segment` (numbered from the adapter's first file segment).
    File {
        /// The passive segment.
        segment: u32,
        /// Where the file starts in it.
        offset: u32,
        /// The file's size.
        len: u32,
    },
    /// A host file, opened at run time through the host preopen that holds
    /// this host path.
    RuntimeFile(&'a str),
    /// A symbolic link whose target text is this, as the host's `readlink`
    /// gave it: relative, and staying inside the embedded directory it was
    /// read from (`src/fs/host.rs` refuses any other). It may dangle.
    Link(&'a str),
}

/// One node of the virtual filesystem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Node<'a> {
    /// Its name in its directory (empty for a preopen root).
    pub name: &'a str,
    /// What it is.
    pub kind: NodeKind<'a>,
}

/// Bytes per node record: kind, name offset, name length, and three
/// kind-specific words.
pub const NODE_SIZE: usize = 24;

const NODE_DIR: u32 = 1;
const NODE_FILE: u32 = 2;
const NODE_RUNTIME_FILE: u32 = 3;
const NODE_LINK: u32 = 4;

impl<'a> Fs<'a> {
    /// How many nodes the tree has.
    pub fn node_count(&self) -> u32 {
        (self.nodes.len() / NODE_SIZE) as u32
    }

    /// Node `index`; `None` past the end.
    pub fn node(&self, index: u32) -> Option<Node<'a>> {
        let at = (index as usize).checked_mul(NODE_SIZE)?;
        let mut r = Reader::new(self.nodes.get(at..at + NODE_SIZE)?);
        let words = [(); 6].map(|()| r.u32().unwrap_or(0));
        let name = self
            .strings
            .get(words[1] as usize..(words[1] as usize).checked_add(words[2] as usize)?)?;
        let name = core::str::from_utf8(name).ok()?;
        let kind = match words[0] {
            NODE_DIR => NodeKind::Dir {
                first: words[3],
                count: words[4],
            },
            NODE_FILE => NodeKind::File {
                segment: words[3],
                offset: words[4],
                len: words[5],
            },
            NODE_RUNTIME_FILE => {
                let at = words[3] as usize;
                let path = self.strings.get(at..at.checked_add(words[4] as usize)?)?;
                NodeKind::RuntimeFile(core::str::from_utf8(path).ok()?)
            }
            NODE_LINK => {
                let at = words[3] as usize;
                let target = self.strings.get(at..at.checked_add(words[4] as usize)?)?;
                NodeKind::Link(core::str::from_utf8(target).ok()?)
            }
            _ => return None,
        };
        Some(Node { name, kind })
    }

    /// The virtual preopens: `(guest path, root node)`.
    pub fn preopens(&self) -> impl Iterator<Item = (&'a str, u32)> + 'a {
        let mut nodes = Reader::new(self.preopen_nodes);
        self.preopen_names
            .iter()
            .map(move |name| (name, nodes.u32().unwrap_or(u32::MAX)))
    }

    /// Checks every node and preopen, so that `node` never fails on an index
    /// the tree itself holds.
    fn validate(&self) -> Result<(), Error> {
        let count = self.node_count();
        if !self.nodes.len().is_multiple_of(NODE_SIZE)
            || self.preopen_nodes.len() != self.preopen_names.len() * 4
        {
            return Err(Error::Truncated);
        }
        for i in 0..count {
            let node = self.node(i).ok_or(Error::Truncated)?;
            if let NodeKind::Dir { first, count: n } = node.kind {
                if first.checked_add(n).is_none_or(|end| end > count) {
                    return Err(Error::Truncated);
                }
            }
        }
        if self.preopens().any(|(_, root)| root >= count) {
            return Err(Error::Truncated);
        }
        let mut r = Reader::new(self.memory.bytes);
        for _ in 0..self.memory.len {
            let memory = read_memory(&mut r)?;
            if memory.lower.is_some_and(|root| root >= count) {
                return Err(Error::Truncated);
            }
        }
        Ok(())
    }
}

/// The `wasi:config/store` part of the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Store<'a> {
    /// How host properties are filtered.
    pub host: HostFilterMode,
    /// The allow- or deny-list for [`HostFilterMode::Allow`]/[`HostFilterMode::Deny`].
    pub host_names: StrList<'a>,
    /// Properties set by the policy; they replace host properties.
    pub properties: PairList<'a>,
}

/// The `wasi:cli/environment` part of the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Env<'a> {
    /// How host variables are filtered.
    pub host: HostFilterMode,
    /// The allow- or deny-list for [`HostFilterMode::Allow`]/[`HostFilterMode::Deny`].
    pub host_names: StrList<'a>,
    /// Variables set by the policy; they replace host variables of the same name.
    pub overrides: PairList<'a>,
    /// `get-arguments`.
    pub args: Source<StrList<'a>>,
    /// `initial-cwd`; a virtual `None` is encoded as a virtual absent string.
    pub cwd: Source<Option<&'a str>>,
}

impl<'a> Env<'a> {
    /// Decodes only the environment part of a configuration blob, which
    /// comes first after the flags: `wasi:cli/environment` reads it without
    /// the decoder of the rest (which an environment-only adapter then does
    /// not carry). Checks what it reads as [`Config::parse`] does.
    pub fn parse(bytes: &'a [u8]) -> Result<Env<'a>, Error> {
        let mut r = Reader::new(bytes);
        r.u32()?;
        Env::read(&mut r)
    }

    fn read(r: &mut Reader<'a>) -> Result<Env<'a>, Error> {
        let host = HostFilterMode::from_u32(r.u32()?)?;
        let host_names = r.str_list()?;
        let overrides = r.pair_list()?;
        let args = match r.u32()? {
            0 => Source::Host,
            1 => Source::Virtual(r.str_list()?),
            t => return Err(Error::BadTag(t)),
        };
        let cwd = match r.u32()? {
            0 => Source::Host,
            1 => Source::Virtual(None),
            2 => Source::Virtual(Some(r.str()?)),
            t => return Err(Error::BadTag(t)),
        };
        Ok(Env {
            host,
            host_names,
            overrides,
            args,
            cwd,
        })
    }
}

/// The `FLAG_*` bits of a configuration blob, its first word (0 if it is
/// shorter): read without decoding anything else.
pub fn flags_of(bytes: &[u8]) -> u32 {
    Reader::new(bytes).u32().unwrap_or(0)
}

impl<'a> Config<'a> {
    /// Decodes a configuration blob, checking every length and string.
    pub fn parse(bytes: &'a [u8]) -> Result<Config<'a>, Error> {
        let mut r = Reader::new(bytes);
        let flags = r.u32()?;
        let env = Env::read(&mut r)?;
        let stdio = [
            StdioMode::from_u32(r.u32()?)?,
            StdioMode::from_u32(r.u32()?)?,
            StdioMode::from_u32(r.u32()?)?,
        ];
        let allow = r.u32()?;
        let store = Store {
            host: HostFilterMode::from_u32(r.u32()?)?,
            host_names: r.str_list()?,
            properties: r.pair_list()?,
        };
        let fs = Fs {
            remaps: r.pair_list()?,
            preopen_names: r.str_list()?,
            preopen_nodes: r.bytes()?,
            nodes: r.bytes()?,
            strings: r.bytes()?,
            memory: MemoryList { len: 0, bytes: &[] },
        };
        let clock = match r.u32()? {
            0 => None,
            1 => Some(VirtualClock {
                seconds: r.u64()?,
                nanoseconds: r.u32()?,
            }),
            t => return Err(Error::BadTag(t)),
        };
        let random_seed = match r.u32()? {
            0 => None,
            1 => Some(r.u64()?),
            t => return Err(Error::BadTag(t)),
        };
        let stdin = match r.u32()? {
            0 => None,
            1 => Some(r.bytes()?),
            t => return Err(Error::BadTag(t)),
        };
        let call_names = r.str_list()?;
        let net = net::Rules::read(&mut r)?;
        let mut fs = fs;
        let len = r.u32()?;
        let bytes = r.bytes()?;
        fs.memory = MemoryList { len, bytes };
        fs.validate()?;
        Ok(Config {
            flags,
            env,
            stdio,
            allow,
            store,
            fs,
            clock,
            random_seed,
            stdin,
            call_names,
            net,
        })
    }

    /// Whether every bit of `subsystem` (an [`allow`] constant) is allowed.
    pub fn allows(&self, subsystem: u32) -> bool {
        self.allow & subsystem == subsystem
    }

    /// The mode of one standard stream.
    pub fn stream(&self, stream: Stream) -> StdioMode {
        self.stdio[stream as usize]
    }

    /// Whether `--debug` tracing is on.
    pub fn debug(&self) -> bool {
        self.flags & FLAG_DEBUG != 0
    }

    /// Whether network rules govern sockets ([`FLAG_NET_SOCKETS`]).
    pub fn net_sockets(&self) -> bool {
        self.flags & FLAG_NET_SOCKETS != 0
    }

    /// Whether network rules govern outgoing HTTP ([`FLAG_NET_HTTP`]).
    pub fn net_http(&self) -> bool {
        self.flags & FLAG_NET_HTTP != 0
    }

    /// The text of [`Call`] number `call`, if the configuration carries it.
    pub fn call_name(&self, call: u32) -> Option<&'a str> {
        self.call_names.get(call as usize)
    }
}

/// A list of strings, decoded on iteration. Strings were checked by
/// [`Config::parse`], so iteration cannot fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StrList<'a> {
    len: u32,
    bytes: &'a [u8],
}

impl<'a> StrList<'a> {
    /// Number of strings.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The strings in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let mut r = Reader::new(self.bytes);
        (0..self.len).map(move |_| r.str().expect("validated by Config::parse"))
    }

    /// Whether `s` is one of the strings.
    pub fn contains(&self, s: &str) -> bool {
        self.iter().any(|x| x == s)
    }

    /// String number `index`, if there are that many.
    pub fn get(&self, index: usize) -> Option<&'a str> {
        self.iter().nth(index)
    }
}

/// A list of `(name, value)` string pairs, decoded on iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PairList<'a> {
    len: u32,
    bytes: &'a [u8],
}

impl<'a> PairList<'a> {
    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let mut r = Reader::new(self.bytes);
        (0..self.len).map(move |_| {
            let k = r.str().expect("validated by Config::parse");
            let v = r.str().expect("validated by Config::parse");
            (k, v)
        })
    }

    /// The value paired with `name`, if any.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }
}

struct Reader<'a> {
    pub(crate) bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if self.bytes.len() < n {
            return Err(Error::Truncated);
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    fn u64(&mut self) -> Result<u64, Error> {
        let low = self.u32()? as u64;
        let high = self.u32()? as u64;
        Ok(low | high << 32)
    }

    fn u32(&mut self) -> Result<u32, Error> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn str(&mut self) -> Result<&'a str, Error> {
        core::str::from_utf8(self.bytes()?).map_err(|_| Error::Utf8)
    }

    fn bytes(&mut self) -> Result<&'a [u8], Error> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    /// `count, byte_len, bytes`; every string inside is checked now.
    fn list(&mut self, strs_per_item: u32) -> Result<(u32, &'a [u8]), Error> {
        let count = self.u32()?;
        let byte_len = self.u32()? as usize;
        let bytes = self.take(byte_len)?;
        let mut inner = Reader::new(bytes);
        for _ in 0..count.checked_mul(strs_per_item).ok_or(Error::Truncated)? {
            inner.str()?;
        }
        Ok((count, bytes))
    }

    fn str_list(&mut self) -> Result<StrList<'a>, Error> {
        let (len, bytes) = self.list(1)?;
        Ok(StrList { len, bytes })
    }

    fn pair_list(&mut self) -> Result<PairList<'a>, Error> {
        let (len, bytes) = self.list(2)?;
        Ok(PairList { len, bytes })
    }
}

#[cfg(feature = "encode")]
pub use encode::*;

#[cfg(feature = "encode")]
mod encode {
    use super::{HostFilterMode, Source, StdioMode};
    use alloc::vec::Vec;

    /// The host's description of a configuration, written by [`encode`].
    #[derive(Clone, Debug, Default)]
    pub struct ConfigSpec<'s> {
        /// `FLAG_*` bits.
        pub flags: u32,
        /// The `wasi:cli/environment` policy.
        pub env: EnvSpec<'s>,
        /// `stdin`, `stdout`, `stderr`.
        pub stdio: [StdioMode; 3],
        /// [`super::allow`] bits.
        pub allow: u32,
        /// The `wasi:config/store` policy.
        pub store: StoreSpec<'s>,
        /// The virtual filesystem.
        pub fs: FsSpec<'s>,
        /// The virtual clock, if the clocks are virtual.
        pub clock: Option<super::VirtualClock>,
        /// The seed of the adapter's generator, if randomness is seeded.
        pub random_seed: Option<u64>,
        /// What stdin reads, if it is baked in.
        pub stdin: Option<&'s [u8]>,
        /// The text of each [`super::Call`]: [`super::CALL_NAMES`] under
        /// `--debug`, else empty.
        pub call_names: &'s [&'s str],
        /// The network rules.
        pub net: Vec<super::net::RuleSpec<'s>>,
    }

    /// The host's side of [`super::Fs`]: a tree in node order.
    #[derive(Clone, Debug, Default)]
    pub struct FsSpec<'s> {
        /// `(guest path, host path)` of host directories shown renamed.
        pub remaps: Vec<(&'s str, &'s str)>,
        /// `(guest path, root node)`.
        pub preopens: Vec<(&'s str, u32)>,
        /// The nodes; a directory's children are consecutive and sorted.
        pub nodes: Vec<NodeSpec<'s>>,
        /// The writable in-memory preopens.
        pub memory: Vec<super::Memory<'s>>,
    }

    /// One node of [`FsSpec`].
    #[derive(Clone, Debug)]
    pub struct NodeSpec<'s> {
        /// Its name in its directory.
        pub name: &'s str,
        /// What it is.
        pub kind: super::NodeKind<'s>,
    }

    /// The host's side of [`super::Store`].
    #[derive(Clone, Debug)]
    pub struct StoreSpec<'s> {
        /// How host properties are filtered.
        pub host: HostFilterMode,
        /// The allow- or deny-list.
        pub host_names: Vec<&'s str>,
        /// Properties set by the policy.
        pub properties: Vec<(&'s str, &'s str)>,
    }

    impl Default for StoreSpec<'_> {
        fn default() -> Self {
            StoreSpec {
                host: HostFilterMode::All,
                host_names: Vec::new(),
                properties: Vec::new(),
            }
        }
    }

    /// The host's side of [`super::Env`].
    #[derive(Clone, Debug)]
    pub struct EnvSpec<'s> {
        /// How host variables are filtered.
        pub host: HostFilterMode,
        /// The allow- or deny-list.
        pub host_names: Vec<&'s str>,
        /// Variables set by the policy.
        pub overrides: Vec<(&'s str, &'s str)>,
        /// `get-arguments`.
        pub args: Source<Vec<&'s str>>,
        /// `initial-cwd`.
        pub cwd: Source<Option<&'s str>>,
    }

    impl Default for EnvSpec<'_> {
        fn default() -> Self {
            EnvSpec {
                host: HostFilterMode::All,
                host_names: Vec::new(),
                overrides: Vec::new(),
                args: Source::Host,
                cwd: Source::Host,
            }
        }
    }

    /// Encodes a configuration blob for [`super::Config::parse`].
    pub fn encode(spec: &ConfigSpec<'_>) -> Vec<u8> {
        let mut w = Writer::default();
        w.u32(spec.flags);
        w.u32(spec.env.host as u32);
        w.str_list(&spec.env.host_names);
        w.pair_list(&spec.env.overrides);
        match &spec.env.args {
            Source::Host => w.u32(0),
            Source::Virtual(args) => {
                w.u32(1);
                w.str_list(args);
            }
        }
        match spec.env.cwd {
            Source::Host => w.u32(0),
            Source::Virtual(None) => w.u32(1),
            Source::Virtual(Some(cwd)) => {
                w.u32(2);
                w.str(cwd);
            }
        }
        for mode in spec.stdio {
            w.u32(mode as u32);
        }
        w.u32(spec.allow);
        w.u32(spec.store.host as u32);
        w.str_list(&spec.store.host_names);
        w.pair_list(&spec.store.properties);
        w.pair_list(&spec.fs.remaps);
        let names: Vec<&str> = spec.fs.preopens.iter().map(|(n, _)| *n).collect();
        w.str_list(&names);
        let roots: Vec<u8> = spec
            .fs
            .preopens
            .iter()
            .flat_map(|(_, r)| r.to_le_bytes())
            .collect();
        w.blob(&roots);
        let mut nodes = Vec::with_capacity(spec.fs.nodes.len() * super::NODE_SIZE);
        let mut strings = Vec::new();
        for node in &spec.fs.nodes {
            let name_at = len32(strings.len());
            strings.extend_from_slice(node.name.as_bytes());
            let (kind, a, b, c) = match node.kind {
                super::NodeKind::Dir { first, count } => (super::NODE_DIR, first, count, 0),
                super::NodeKind::File {
                    segment,
                    offset,
                    len,
                } => (super::NODE_FILE, segment, offset, len),
                super::NodeKind::RuntimeFile(path) => {
                    let at = len32(strings.len());
                    strings.extend_from_slice(path.as_bytes());
                    (super::NODE_RUNTIME_FILE, at, len32(path.len()), 0)
                }
                super::NodeKind::Link(target) => {
                    let at = len32(strings.len());
                    strings.extend_from_slice(target.as_bytes());
                    (super::NODE_LINK, at, len32(target.len()), 0)
                }
            };
            for word in [kind, name_at, len32(node.name.len()), a, b, c] {
                nodes.extend_from_slice(&word.to_le_bytes());
            }
        }
        w.blob(&nodes);
        w.blob(&strings);
        match spec.clock {
            None => w.u32(0),
            Some(clock) => {
                w.u32(1);
                w.u64(clock.seconds);
                w.u32(clock.nanoseconds);
            }
        }
        match spec.random_seed {
            None => w.u32(0),
            Some(seed) => {
                w.u32(1);
                w.u64(seed);
            }
        }
        match spec.stdin {
            None => w.u32(0),
            Some(bytes) => {
                w.u32(1);
                w.blob(bytes);
            }
        }
        w.str_list(spec.call_names);
        w.bytes.extend(super::net::rules_bytes(&spec.net));
        w.list(&spec.fs.memory, |w, m| {
            w.str(m.name);
            w.u32(m.lower.unwrap_or(u32::MAX));
            w.u64(m.limit);
        });
        w.bytes
    }

    #[derive(Default)]
    struct Writer {
        bytes: Vec<u8>,
    }

    impl Writer {
        fn u32(&mut self, v: u32) {
            self.bytes.extend_from_slice(&v.to_le_bytes());
        }

        fn u64(&mut self, v: u64) {
            self.bytes.extend_from_slice(&v.to_le_bytes());
        }

        fn str(&mut self, s: &str) {
            self.blob(s.as_bytes());
        }

        fn blob(&mut self, b: &[u8]) {
            self.u32(len32(b.len()));
            self.bytes.extend_from_slice(b);
        }

        fn list<T>(&mut self, items: &[T], mut each: impl FnMut(&mut Writer, &T)) {
            let mut inner = Writer::default();
            for item in items {
                each(&mut inner, item);
            }
            self.u32(len32(items.len()));
            self.u32(len32(inner.bytes.len()));
            self.bytes.extend_from_slice(&inner.bytes);
        }

        fn str_list(&mut self, items: &[&str]) {
            self.list(items, |w, s| w.str(s));
        }

        fn pair_list(&mut self, items: &[(&str, &str)]) {
            self.list(items, |w, (k, v)| {
                w.str(k);
                w.str(v);
            });
        }
    }

    fn len32(n: usize) -> u32 {
        u32::try_from(n).expect("wasm32 configuration larger than 4 GiB")
    }
}

#[cfg(all(test, feature = "encode"))]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    #[test]
    fn anchor_round_trip() {
        let a = Anchor {
            config_ptr: 0x0011_0000,
            config_len: 77,
            ..Anchor::UNPATCHED
        };
        let bytes = a.to_bytes();
        assert_eq!(&bytes[..4], b"wvrt");
        assert_eq!(Anchor::from_bytes(&bytes), Some(a));
        assert_eq!(Anchor::from_bytes(&bytes[..15]), None);
    }

    fn sample() -> ConfigSpec<'static> {
        ConfigSpec {
            flags: FLAG_DEBUG,
            env: EnvSpec {
                host: HostFilterMode::Deny,
                host_names: vec!["SECRET", "TOKEN"],
                overrides: vec![("A", "1"), ("EMPTY", ""), ("ÜNICODE", "välue")],
                args: Source::Virtual(vec!["prog", "--flag"]),
                cwd: Source::Virtual(Some("/app")),
            },
            stdio: [StdioMode::Ignore, StdioMode::Allow, StdioMode::Deny],
            allow: allow::CLOCKS | allow::HTTP,
            store: StoreSpec {
                host: HostFilterMode::Allow,
                host_names: vec!["region"],
                properties: vec![("db-url", "postgres://x")],
            },
            clock: Some(VirtualClock {
                seconds: 1_704_067_200,
                nanoseconds: 5,
            }),
            random_seed: Some(u64::MAX - 1),
            stdin: Some(b"line one\nline two\n"),
            call_names: CALL_NAMES,
            net: vec![net::RuleSpec {
                kind: net::Kind::TcpOut,
                family: net::Family::V4,
                host: net::HostMatch::Name("db.internal"),
                ports: vec![(5432, 5432)],
                to_host: Some(core::net::IpAddr::V4(core::net::Ipv4Addr::new(
                    172, 17, 0, 14,
                ))),
                to_port: Some(5433),
                methods: "",
                path: "",
            }],
            fs: FsSpec {
                remaps: vec![("/srv", "/host/srv")],
                preopens: vec![("/data", 0)],
                nodes: vec![
                    NodeSpec {
                        name: "",
                        kind: NodeKind::Dir { first: 1, count: 4 },
                    },
                    NodeSpec {
                        name: "a.txt",
                        kind: NodeKind::File {
                            segment: 0,
                            offset: 0,
                            len: 5,
                        },
                    },
                    NodeSpec {
                        name: "sub",
                        kind: NodeKind::Dir { first: 3, count: 0 },
                    },
                    NodeSpec {
                        name: "z",
                        kind: NodeKind::RuntimeFile("/host/z.txt"),
                    },
                    NodeSpec {
                        name: "zz",
                        kind: NodeKind::Link("sub/../a.txt"),
                    },
                ],
                memory: vec![
                    Memory {
                        name: "/tmp",
                        lower: None,
                        limit: 1 << 40,
                    },
                    Memory {
                        name: "/app",
                        lower: Some(2),
                        limit: 99,
                    },
                ],
            },
        }
    }

    #[test]
    fn config_round_trip() {
        let bytes = encode(&sample());
        let c = Config::parse(&bytes).unwrap();
        assert!(c.debug());
        assert_eq!(c.env.host, HostFilterMode::Deny);
        assert_eq!(
            c.env.host_names.iter().collect::<Vec<_>>(),
            ["SECRET", "TOKEN"]
        );
        assert!(c.env.host_names.contains("TOKEN"));
        assert!(!c.env.host_names.contains("TOK"));
        assert_eq!(
            c.env.overrides.iter().collect::<Vec<_>>(),
            [("A", "1"), ("EMPTY", ""), ("ÜNICODE", "välue")]
        );
        assert_eq!(c.env.overrides.get("EMPTY"), Some(""));
        match c.env.args {
            Source::Virtual(a) => assert_eq!(a.iter().collect::<Vec<_>>(), ["prog", "--flag"]),
            Source::Host => panic!("args should be virtual"),
        }
        assert_eq!(c.env.cwd, Source::Virtual(Some("/app")));
        assert_eq!(
            c.stdio,
            [StdioMode::Ignore, StdioMode::Allow, StdioMode::Deny]
        );
        assert!(c.allows(allow::CLOCKS) && c.allows(allow::HTTP));
        assert!(!c.allows(allow::RANDOM) && !c.allows(allow::CLOCKS | allow::RANDOM));
        assert_eq!(c.store.host, HostFilterMode::Allow);
        assert!(c.store.host_names.contains("region"));
        assert_eq!(c.store.properties.get("db-url"), Some("postgres://x"));
        assert_eq!(c.fs.preopens().collect::<Vec<_>>(), [("/data", 0)]);
        assert_eq!(
            c.fs.remaps.iter().collect::<Vec<_>>(),
            [("/srv", "/host/srv")]
        );
        assert_eq!(c.fs.node_count(), 5);
        assert_eq!(
            c.fs.node(0).unwrap().kind,
            NodeKind::Dir { first: 1, count: 4 }
        );
        assert_eq!(c.fs.node(4).unwrap().kind, NodeKind::Link("sub/../a.txt"));
        assert_eq!(c.fs.node(4).unwrap().name, "zz");
        assert_eq!(
            c.fs.node(3).unwrap().kind,
            NodeKind::RuntimeFile("/host/z.txt")
        );
        assert_eq!(c.fs.node(3).unwrap().name, "z");
        let file = c.fs.node(1).unwrap();
        assert_eq!(file.name, "a.txt");
        assert_eq!(
            file.kind,
            NodeKind::File {
                segment: 0,
                offset: 0,
                len: 5
            }
        );
        assert_eq!(c.fs.node(2).unwrap().name, "sub");
        assert_eq!(c.fs.node(4).unwrap().kind, NodeKind::Link("sub/../a.txt"));
        assert_eq!(c.fs.node(5), None);
        assert_eq!(
            c.clock,
            Some(VirtualClock {
                seconds: 1_704_067_200,
                nanoseconds: 5
            })
        );
        assert_eq!(c.random_seed, Some(u64::MAX - 1));
        assert_eq!(c.stdin, Some(&b"line one\nline two\n"[..]));
        assert_eq!(c.call_names.iter().collect::<Vec<_>>(), CALL_NAMES);
        let memory: Vec<Memory<'_>> = c.fs.memory.iter().collect();
        assert_eq!(memory.len(), 2);
        assert_eq!(
            (memory[0].name, memory[0].lower, memory[0].limit),
            ("/tmp", None, 1 << 40)
        );
        assert_eq!(
            (memory[1].name, memory[1].lower, memory[1].limit),
            ("/app", Some(2), 99)
        );
        let rule = c.net.iter().next().unwrap();
        assert_eq!(c.net.len(), 1);
        assert_eq!(rule.host, net::HostMatch::Name("db.internal"));
        assert_eq!((rule.family, rule.to_port), (net::Family::V4, Some(5433)));
        assert_eq!(rule.ports.iter().collect::<Vec<_>>(), [(5432, 5432)]);
        assert_eq!(
            c.call_name(Call::GetEnvironment as u32),
            Some("wasi:cli/environment.get-environment")
        );
        assert_eq!(
            c.call_name(Call::RemapRefused as u32),
            Some("host directory to remap refused by the host")
        );
        assert_eq!(c.call_name(CALL_NAMES.len() as u32), None);
    }

    #[test]
    fn the_environment_and_flags_decode_alone() {
        for spec in [sample(), ConfigSpec::default()] {
            let bytes = encode(&spec);
            let whole = Config::parse(&bytes).unwrap();
            assert_eq!(Env::parse(&bytes), Ok(whole.env));
            assert_eq!(flags_of(&bytes), whole.flags);
        }
        // The prefix alone is enough, and a shorter one is refused.
        let bytes = encode(&sample());
        let env_end = (0..bytes.len())
            .find(|&n| Env::parse(&bytes[..n]).is_ok())
            .unwrap();
        assert!(env_end < bytes.len());
        assert_eq!(Env::parse(&bytes[..env_end - 1]), Err(Error::Truncated));
        assert_eq!(flags_of(&bytes[..3]), 0);
    }

    #[test]
    fn call_names_match_the_calls() {
        assert_eq!(
            CALL_NAMES[Call::GetStdout as usize],
            "wasi:cli/stdout.get-stdout"
        );
        assert_eq!(
            CALL_NAMES[Call::Handle as usize],
            "wasi:http/outgoing-handler.handle"
        );
        assert!(CALL_NAMES.len() <= u16::MAX as usize);
        for (i, name) in CALL_NAMES.iter().enumerate() {
            assert!(!name.is_empty() && !name.contains('('), "{name}");
            assert!(!CALL_NAMES[..i].contains(name), "{name} twice");
        }
    }

    #[test]
    fn fs_trees_that_point_outside_are_refused() {
        let mut spec = sample();
        spec.fs.nodes[0].kind = NodeKind::Dir { first: 1, count: 9 };
        assert_eq!(Config::parse(&encode(&spec)), Err(Error::Truncated));
        let mut spec = sample();
        spec.fs.preopens[0].1 = 5;
        assert_eq!(Config::parse(&encode(&spec)), Err(Error::Truncated));
    }

    #[test]
    fn host_filters() {
        assert!(!HostFilterMode::None.shows(true));
        assert!(HostFilterMode::All.shows(false));
        assert!(HostFilterMode::Allow.shows(true) && !HostFilterMode::Allow.shows(false));
        assert!(!HostFilterMode::Deny.shows(true) && HostFilterMode::Deny.shows(false));
    }

    #[test]
    fn config_round_trip_defaults() {
        let bytes = encode(&ConfigSpec::default());
        let c = Config::parse(&bytes).unwrap();
        assert!(!c.debug());
        assert_eq!(c.env.host, HostFilterMode::All);
        assert!(c.env.host_names.is_empty() && c.env.overrides.is_empty());
        assert_eq!(c.env.args, Source::Host);
        assert_eq!(c.env.cwd, Source::Host);
        assert_eq!((c.clock, c.random_seed, c.stdin), (None, None, None));
        assert!(c.call_names.is_empty() && c.call_name(0).is_none());

        let mut spec = ConfigSpec::default();
        spec.env.cwd = Source::Virtual(None);
        spec.env.args = Source::Virtual(Vec::new());
        let bytes = encode(&spec);
        let c = Config::parse(&bytes).unwrap();
        assert_eq!(c.env.cwd, Source::Virtual(None));
        assert!(matches!(c.env.args, Source::Virtual(a) if a.is_empty()));
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = encode(&sample());
        for n in 0..bytes.len() {
            assert_eq!(Config::parse(&bytes[..n]), Err(Error::Truncated), "at {n}");
        }
    }

    #[test]
    fn bad_utf8_and_tags_are_errors() {
        let mut spec = ConfigSpec::default();
        spec.env.host_names = vec!["ab"];
        let mut bytes = encode(&spec);
        let at = bytes.windows(2).position(|w| w == b"ab").unwrap();
        bytes[at] = 0xff;
        assert_eq!(Config::parse(&bytes), Err(Error::Utf8));

        let mut bytes = encode(&ConfigSpec::default());
        bytes[4] = 9;
        assert_eq!(Config::parse(&bytes), Err(Error::BadTag(9)));
    }
}
