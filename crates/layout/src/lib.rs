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
//!
//! # The parts, in layout order
//!
//! Each part of the configuration has its own module, which holds its
//! types, its decoder and (with `encode`) its encoder side by side:
//!
//! | part | module |
//! |------|--------|
//! | the `FLAG_*` word | here |
//! | `wasi:cli/environment` ([`Env`]) | `env.rs` |
//! | the stdio modes ([`StdioMode`]) | `stdio.rs` |
//! | the [`allow`] word | here |
//! | `wasi:config/store` ([`Store`]) | `store.rs` |
//! | the filesystem tree ([`Fs`]) | `fs.rs` |
//! | the virtual clock ([`VirtualClock`]) | `clock.rs` |
//! | the random seed | here |
//! | the baked-in stdin | `stdio.rs` |
//! | the call names ([`CALL_NAMES`]) | `call.rs` names them; here |
//! | the network rules ([`net::Rules`]) | `net/rule.rs` |
//! | the in-memory preopens ([`MemoryList`]) | `fs.rs` |
//!
//! Their primitives (integers, strings, lists) are in `wire.rs`; the
//! [`Anchor`] is in `anchor.rs`, the hooks in [`hooks`].
#![no_std]
#![deny(missing_docs)]
// The reader's documentation links to the writer ([`encode`], the `*Spec`
// types), which only the `encode` feature compiles.
#![cfg_attr(not(feature = "encode"), allow(rustdoc::broken_intra_doc_links))]

extern crate alloc;

mod anchor;
mod call;
mod clock;
mod env;
mod filter;
mod fs;
mod stdio;
mod store;
mod wire;

pub mod cgi;
pub mod heap;
pub mod hooks;
pub mod memfs;
pub mod net;
pub mod path;
pub mod refs;
pub mod socket;

pub use anchor::{
    file_segment_index, Anchor, ANCHOR_SYMBOL, CONFIG_SEGMENTS, LAYOUT_VERSION, MAGIC,
};
pub use call::{Call, CALL_NAMES};
pub use clock::VirtualClock;
pub use env::{Env, Source};
pub use filter::HostFilterMode;
pub use fs::{Fs, Memory, MemoryList, Node, NodeKind, NAME_MAX, NODE_SIZE};
pub use hooks::{
    HOOK_MODULE, HTTP_SEND, HTTP_SEND_IMPL, MEMFS, MEMFS_IMPL, NET, NET_IMPL, PASSIVE_READ, SEEDED,
    SEEDED_BYTES, SEEDED_IMPL, SEEDED_U64, SERVE, SERVE_ANSWER_FAILED, SERVE_ANSWER_OK, SERVE_ARGS,
    SERVE_IMPL, SERVE_OUTPUT, SERVE_STDIN, SERVE_VARS, TRACE, TRACE_IMPL,
};
pub use refs::REFS_SECTION;
pub use stdio::{StdioMode, Stream, UnknownMode, DENIED_STREAM, SINK_BUDGET};
pub use store::{Store, UNSET_PROPERTY};
pub use wire::{Error, PairList, StrList};

#[cfg(feature = "encode")]
pub use env::EnvSpec;
#[cfg(feature = "encode")]
pub use fs::{FsSpec, NodeSpec};
#[cfg(feature = "encode")]
pub use store::StoreSpec;

use wire::Reader;

/// Whether two strings are equal, in a `const` context: the adapter checks
/// at compile time that its exported symbols carry the names this crate
/// gives them ([`ANCHOR_SYMBOL`], the hooks' `*_IMPL` names).
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

/// The `FLAG_*` bits of a configuration blob, its first word (0 if it is
/// shorter): read without decoding anything else.
pub fn flags_of(bytes: &[u8]) -> u32 {
    Reader::new(bytes).u32().unwrap_or(0)
}

impl<'a> Config<'a> {
    /// Decodes a configuration blob, checking every length and string. Its
    /// parts are read in the order [`encode`] writes them.
    pub fn parse(bytes: &'a [u8]) -> Result<Config<'a>, Error> {
        let mut r = Reader::new(bytes);
        let flags = r.u32()?;
        let env = Env::read(&mut r)?;
        let stdio = StdioMode::read_all(&mut r)?;
        let allow = r.u32()?;
        let store = Store::read(&mut r)?;
        let mut fs = Fs::read_tree(&mut r)?;
        let clock = VirtualClock::read(&mut r)?;
        let random_seed = r.option(Reader::u64)?;
        let stdin = stdio::read_baked(&mut r)?;
        let call_names = r.str_list()?;
        let net = net::Rules::read(&mut r)?;
        fs.memory = MemoryList::read(&mut r)?;
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

/// The host's description of a configuration, written by [`encode`].
#[cfg(feature = "encode")]
#[derive(Clone, Debug, Default)]
pub struct ConfigSpec<'s> {
    /// `FLAG_*` bits.
    pub flags: u32,
    /// The `wasi:cli/environment` policy.
    pub env: EnvSpec<'s>,
    /// `stdin`, `stdout`, `stderr`.
    pub stdio: [StdioMode; 3],
    /// [`allow`] bits.
    pub allow: u32,
    /// The `wasi:config/store` policy.
    pub store: StoreSpec<'s>,
    /// The virtual filesystem.
    pub fs: FsSpec<'s>,
    /// The virtual clock, if the clocks are virtual.
    pub clock: Option<VirtualClock>,
    /// The seed of the adapter's generator, if randomness is seeded.
    pub random_seed: Option<u64>,
    /// What stdin reads, if it is baked in.
    pub stdin: Option<&'s [u8]>,
    /// The text of each [`Call`]: [`CALL_NAMES`] under `--debug`, else
    /// empty.
    pub call_names: &'s [&'s str],
    /// The network rules.
    pub net: alloc::vec::Vec<net::RuleSpec<'s>>,
}

/// Encodes a configuration blob for [`Config::parse`], part by part in the
/// order it reads them.
#[cfg(feature = "encode")]
pub fn encode(spec: &ConfigSpec<'_>) -> alloc::vec::Vec<u8> {
    let mut w = wire::Writer::default();
    w.u32(spec.flags);
    spec.env.write(&mut w);
    StdioMode::write_all(&spec.stdio, &mut w);
    w.u32(spec.allow);
    spec.store.write(&mut w);
    spec.fs.write_tree(&mut w);
    VirtualClock::write(spec.clock, &mut w);
    w.option(spec.random_seed, wire::Writer::u64);
    stdio::write_baked(spec.stdin, &mut w);
    w.str_list(spec.call_names);
    net::Rules::write(&spec.net, &mut w);
    MemoryList::write(&spec.fs.memory, &mut w);
    w.bytes
}

#[cfg(all(test, feature = "encode"))]
mod tests;
