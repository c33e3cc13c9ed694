//! The hooks: functions the adapter imports from [`HOOK_MODULE`] and the
//! library defines when it specializes the adapter, so that no such import
//! is left in any output. Each is bound either to one of the adapter's own
//! exports (the `*_IMPL` names here) or to a trap that nothing reaches, so
//! that the code behind it is removed as dead.
//!
//! On wasm32 this module also declares the imports themselves, which the
//! adapter calls (`wasi_virt_layout::hooks::net`, ...).

/// The export name of the adapter's `--debug` formatter, which the library
/// binds to the [`TRACE`] hook when the policy asks for debug output.
pub const TRACE_IMPL: &str = "wasi_virt_trace";

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

        // The adapter's side of the hooks.
        #[cfg(target_arch = "wasm32")]
        #[link(wasm_import_module = $module)]
        extern "C" {
            $( $(#[$doc])* #[link_name = $link] pub fn $func($($arg: $ty),*); )*
        }
    };
}

hooks! {
    module = "wasi-virt";
    /// `passive-read(segment, offset, len, dest)`: copies `len` bytes at
    /// `offset` of file segment `segment` (see
    /// [`file_segment_index`](crate::file_segment_index)) to `dest`; the
    /// library defines it as a `memory.init` dispatcher.
    PASSIVE_READ = "passive-read" => fn passive_read(segment: u32, offset: u32, len: u32, dest: *mut u8);
    /// `trace(kind, call, args, count)`: writes one line about
    /// [`Call`](crate::Call) `call` to the host's stderr; `kind` says whether
    /// it was made, denied or trapped, and `args` points at `count` arguments
    /// (both defined in `virtual-adapter/src/debug.rs`, the only code that
    /// reads them). The line names the call from
    /// [`Config::call_names`](crate::Config::call_names). Bound to
    /// [`TRACE_IMPL`] under `--debug`, else a trap that nothing reaches, so the
    /// formatting code is removed as dead.
    TRACE = "trace" => fn trace(kind: u32, call: u32, args: *const u8, count: usize);
    /// `net(query, answer)`: decides one socket or HTTP call under network
    /// rules; `query` and `answer` point at values of the adapter's own types
    /// (`virtual-adapter/src/rules.rs`, the only code that reads and writes
    /// them). Bound to [`NET_IMPL`] when the configuration has rules
    /// ([`FLAG_NET_SOCKETS`](crate::FLAG_NET_SOCKETS),
    /// [`FLAG_NET_HTTP`](crate::FLAG_NET_HTTP)), else a trap that nothing
    /// reaches, so that the rules' code is removed as dead.
    NET = "net" => fn net(query: *const u8, answer: *mut u8);
    /// `memfs(query, answer)`: one call into the writable in-memory
    /// filesystems, with values of the adapter's own types
    /// (`virtual-adapter/src/memfs.rs`). Bound to [`MEMFS_IMPL`] when the
    /// configuration has a tmpfs or an overlay
    /// ([`Fs::memory`](crate::Fs::memory)), else a trap that nothing reaches,
    /// so that their code is removed as dead.
    MEMFS = "memfs" => fn memfs(query: *const u8, answer: *mut u8);
    /// `seeded(seed, what, dest, len)`: draws from the generator seeded with
    /// `seed`: `len` bytes into `dest` ([`SEEDED_BYTES`]), or one `u64` into
    /// its 8 bytes ([`SEEDED_U64`]). Bound to [`SEEDED_IMPL`] when the policy
    /// seeds randomness, else a trap that nothing reaches, so that the
    /// generator's code is removed as dead.
    SEEDED = "seeded" => fn seeded(seed: u64, what: u32, dest: *mut u8, len: usize);
    /// `http-send(query, answer)`: sends an outgoing request through the host,
    /// with values of the adapter's own types (`virtual-adapter/src/http.rs`).
    /// Bound to [`HTTP_SEND_IMPL`] when the configuration lets HTTP through
    /// (wholly or by rules), else a trap that nothing reaches, so that building
    /// the host's request is removed as dead code.
    HTTP_SEND = "http-send" => fn http_send(query: *mut u8, answer: *mut u8);
    /// `serve(query, answer)`: what a command served per request
    /// (`--serve-http`) gets instead of the host's: one of the `SERVE_*`
    /// queries, its answer written to `answer` as a value of the adapter's own
    /// types (`virtual-adapter/src/serve.rs`). Called only under
    /// [`FLAG_SERVE_RUN`](crate::FLAG_SERVE_RUN), and bound to [`SERVE_IMPL`]
    /// then, else a trap that nothing reaches, so that the request's arguments,
    /// variables, streams and answer are removed as dead code.
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
