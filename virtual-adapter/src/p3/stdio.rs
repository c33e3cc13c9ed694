//! WASI 0.3's `wasi:cli/{stdin,stdout,stderr}` and `terminal-*`, under the
//! stdio policy, per stream.
//!
//! An allowed stream is the host's own WASI 0.3 stream: the call is passed
//! on to the host's 0.3 function, and the host's stream and future are
//! handed back as they are (the adapter's types and the host's are the
//! same, `merge_structurally_equal_types` in `p3.rs`). The
//! others are answered by the adapter. These functions are synchronous,
//! yet hand out streams and futures, and a synchronous function cannot
//! wait, so each answer is one the adapter can give at once and never has
//! to come back to:
//! - stdin is a stream whose writer is dropped before it is returned (end
//!   of file at the first read);
//! - the stream written to stdout or stderr is dropped unread (the writer
//!   sees it closed, as with a host pipe that is closed);
//! - each future's value is written as the call returns; the write stays
//!   pending in the component model until the caller reads it, so its
//!   writer is kept (dropping a busy writer is an error), one handle per
//!   call.
//!
//! Ignored, the future answers `ok`; denied, `err(io)`. No stream of the
//! adapter's is a terminal.

use super::bindings::exports::wasi::cli::terminal_input::{
    Guest as TerminalInputGuest, GuestTerminalInput,
};
use super::bindings::exports::wasi::cli::terminal_output::{
    Guest as TerminalOutputGuest, GuestTerminalOutput,
};
use super::bindings::exports::wasi::cli::types::ErrorCode;
use super::bindings::exports::wasi::cli::{
    stderr, stdin, stdout, terminal_stderr, terminal_stdin, terminal_stdout,
};
use super::bindings::wasi::cli::{
    stderr as host_stderr, stdin as host_stdin, stdout as host_stdout,
};
use super::bindings::{wit_future::FuturePayload, wit_stream::StreamPayload};
use crate::state::config;
use crate::Adapter;
use wasi_virt_layout::{Call, StdioMode, Stream};
use wit_bindgen::{FutureReader, StreamReader};

/// What a `future<result<_, error-code>>` returns, as the canonical ABI
/// lays it out: the case, then the error code.
type Answer = [u8; 2];
/// `ok`.
static OK: Answer = [0, 0];
/// `err(io)`.
static ERR_IO: Answer = [1, ErrorCode::Io as u8];

/// What `future.write` returns while its reader has not read yet.
const BLOCKED: u32 = u32::MAX;

/// The component model's built-ins for the streams and futures of one of
/// the adapter's exported functions. wit-bindgen's own (its payload
/// vtables) name those of the host's functions that the adapter imports,
/// which are cut off where the policy denies the stream; these are the
/// export's, which exist exactly where the function is exported.
struct Builtins {
    future_new: unsafe extern "C" fn() -> u64,
    future_write: unsafe extern "C" fn(u32, *const u8) -> u32,
    future_drop_writable: unsafe extern "C" fn(u32),
    /// Drops the readable end of the function's byte stream.
    stream_drop_readable: unsafe extern "C" fn(u32),
}

/// Declares the built-ins of `function` of the exported interface
/// `module`, whose byte stream is its first stream or future and whose
/// future is its second.
macro_rules! builtins {
    ($name:ident, $module:literal, $function:literal) => {
        mod $name {
            #[link(wasm_import_module = $module)]
            unsafe extern "C" {
                #[link_name = concat!("[future-new-1]", $function)]
                pub fn future_new() -> u64;
                #[link_name = concat!("[async-lower][future-write-1]", $function)]
                pub fn future_write(future: u32, value: *const u8) -> u32;
                #[link_name = concat!("[future-drop-writable-1]", $function)]
                pub fn future_drop_writable(future: u32);
                // Only stdin makes streams: those of stdout and stderr are
                // the caller's.
                #[allow(dead_code)]
                #[link_name = concat!("[stream-new-0]", $function)]
                pub fn stream_new() -> u64;
                #[allow(dead_code)]
                #[link_name = concat!("[stream-drop-writable-0]", $function)]
                pub fn stream_drop_writable(stream: u32);
                #[link_name = concat!("[stream-drop-readable-0]", $function)]
                pub fn stream_drop_readable(stream: u32);
            }

            pub const BUILTINS: super::Builtins = super::Builtins {
                future_new,
                future_write,
                future_drop_writable,
                stream_drop_readable,
            };
        }
    };
}

builtins!(
    stdin_builtins,
    "[export]wasi:cli/stdin@0.3.0",
    "read-via-stream"
);
builtins!(
    stdout_builtins,
    "[export]wasi:cli/stdout@0.3.0",
    "write-via-stream"
);
builtins!(
    stderr_builtins,
    "[export]wasi:cli/stderr@0.3.0",
    "write-via-stream"
);

/// How the adapter answers a call on `stream`: from the host, or at once;
/// `call` traces it.
fn answer(call: Call, stream: Stream) -> Option<&'static Answer> {
    trace!(call);
    match config().stream(stream) {
        StdioMode::Allow => None,
        StdioMode::Ignore => Some(&OK),
        StdioMode::Deny => Some(&ERR_IO),
    }
}

/// A future, made with `builtins`, that has `answer` for its reader.
fn answered(builtins: &Builtins, answer: &'static Answer) -> FutureReader<Result<(), ErrorCode>> {
    // SAFETY: the handles are the new future's own; `answer` is static, so
    // it stays valid for the pending write, which copies it when read.
    // The reader is only handed out, never used here, so the vtable it
    // carries is never called.
    unsafe {
        let handles = (builtins.future_new)();
        let (reader, writer) = (handles as u32, (handles >> 32) as u32);
        if (builtins.future_write)(writer, answer.as_ptr()) != BLOCKED {
            (builtins.future_drop_writable)(writer);
        }
        FutureReader::new(reader, <Result<(), ErrorCode> as FuturePayload>::VTABLE)
    }
}

impl stdin::Guest for Adapter {
    fn read_via_stream() -> (StreamReader<u8>, FutureReader<Result<(), ErrorCode>>) {
        let Some(answer) = answer(Call::StdinReadViaStream, Stream::Stdin) else {
            return host_stdin::read_via_stream();
        };
        // SAFETY: the handles are the new stream's own; its writer has no
        // operation pending, so it may be dropped (end of stream), and the
        // reader is only handed out.
        let ended = unsafe {
            let handles = stdin_builtins::stream_new();
            stdin_builtins::stream_drop_writable((handles >> 32) as u32);
            StreamReader::new(handles as u32, <u8 as StreamPayload>::VTABLE)
        };
        (ended, answered(&stdin_builtins::BUILTINS, answer))
    }
}

/// A write to `stream`: `data` passed on to the host's, or dropped unread.
fn write(
    call: Call,
    stream: Stream,
    data: StreamReader<u8>,
    builtins: &Builtins,
    host: fn(StreamReader<u8>) -> FutureReader<Result<(), ErrorCode>>,
) -> FutureReader<Result<(), ErrorCode>> {
    let Some(answer) = answer(call, stream) else {
        return host(data);
    };
    // SAFETY: the handle is taken from the reader, which no longer owns it.
    unsafe { (builtins.stream_drop_readable)(data.take_handle()) };
    answered(builtins, answer)
}

impl stdout::Guest for Adapter {
    fn write_via_stream(data: StreamReader<u8>) -> FutureReader<Result<(), ErrorCode>> {
        write(
            Call::StdoutWriteViaStream,
            Stream::Stdout,
            data,
            &stdout_builtins::BUILTINS,
            host_stdout::write_via_stream,
        )
    }
}

impl stderr::Guest for Adapter {
    fn write_via_stream(data: StreamReader<u8>) -> FutureReader<Result<(), ErrorCode>> {
        write(
            Call::StderrWriteViaStream,
            Stream::Stderr,
            data,
            &stderr_builtins::BUILTINS,
            host_stderr::write_via_stream,
        )
    }
}

/// WASI 0.3's terminal resources, of which the adapter hands out none.
pub struct NoTerminal;

impl GuestTerminalInput for NoTerminal {}

impl GuestTerminalOutput for NoTerminal {}

impl TerminalInputGuest for Adapter {
    type TerminalInput = NoTerminal;
}

impl TerminalOutputGuest for Adapter {
    type TerminalOutput = NoTerminal;
}

impl terminal_stdin::Guest for Adapter {
    fn get_terminal_stdin() -> Option<terminal_stdin::TerminalInput> {
        trace!(Call::GetTerminalStdin);
        None
    }
}

impl terminal_stdout::Guest for Adapter {
    fn get_terminal_stdout() -> Option<terminal_stdout::TerminalOutput> {
        trace!(Call::GetTerminalStdout);
        None
    }
}

impl terminal_stderr::Guest for Adapter {
    fn get_terminal_stderr() -> Option<terminal_stderr::TerminalOutput> {
        trace!(Call::GetTerminalStderr);
        None
    }
}
