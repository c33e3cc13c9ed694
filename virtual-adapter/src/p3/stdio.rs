//! WASI 0.3's `wasi:cli/{stdin,stdout,stderr}` and `terminal-*`, for the
//! streams the policy ignores or denies (an allowed stream's 0.3 interface
//! is the host's own: the library leaves it to the host).
//!
//! These functions are synchronous, yet hand out streams and futures. A
//! synchronous function cannot wait, so each answer is one the adapter can
//! give at once and never has to come back to:
//! - stdin is a stream whose writer is dropped before it is returned (end
//!   of file at the first read);
//! - the stream written to stdout or stderr is dropped unread (the writer
//!   sees it closed, as with a host pipe that is closed);
//! - each future's value is written as the call returns; the write stays
//!   pending in the component model until the caller reads it, so its
//!   writer is kept (dropping a busy writer is an error), one handle per
//!   call.
//!
//! Ignored, the future answers `ok`; denied, `err(io)`. No stream of these
//! is ever a terminal.

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

/// The answer for `stream` under the policy; `call` traces it.
fn answer(call: Call, stream: Stream) -> &'static Answer {
    trace!(call);
    match config().stream(stream) {
        StdioMode::Ignore => &OK,
        StdioMode::Deny => &ERR_IO,
        // The library leaves an allowed stream's WASI 0.3 interface to the
        // host, so its calls never come here.
        StdioMode::Allow => crate::trap(call, &[]),
    }
}

/// A future that has `answer` for its reader.
fn answered(answer: &'static Answer) -> FutureReader<Result<(), ErrorCode>> {
    let vtable = <Result<(), ErrorCode> as FuturePayload>::VTABLE;
    // SAFETY: the handles are the new future's own; `answer` is static, so
    // it stays valid for the pending write, which copies it when read.
    unsafe {
        let handles = (vtable.new)();
        let (reader, writer) = (handles as u32, (handles >> 32) as u32);
        if (vtable.start_write)(writer, answer.as_ptr()) != BLOCKED {
            (vtable.drop_writable)(writer);
        }
        FutureReader::new(reader, vtable)
    }
}

/// A stream of bytes that ends before its first byte.
fn ended() -> StreamReader<u8> {
    let vtable = <u8 as StreamPayload>::VTABLE;
    // SAFETY: the handles are the new stream's own; the writer has no
    // operation pending, so it may be dropped.
    unsafe {
        let handles = (vtable.new)();
        (vtable.drop_writable)((handles >> 32) as u32);
        StreamReader::new(handles as u32, vtable)
    }
}

impl stdin::Guest for Adapter {
    fn read_via_stream() -> (StreamReader<u8>, FutureReader<Result<(), ErrorCode>>) {
        let answer = answer(Call::StdinReadViaStream, Stream::Stdin);
        (ended(), answered(answer))
    }
}

impl stdout::Guest for Adapter {
    fn write_via_stream(data: StreamReader<u8>) -> FutureReader<Result<(), ErrorCode>> {
        let answer = answer(Call::StdoutWriteViaStream, Stream::Stdout);
        drop(data);
        answered(answer)
    }
}

impl stderr::Guest for Adapter {
    fn write_via_stream(data: StreamReader<u8>) -> FutureReader<Result<(), ErrorCode>> {
        let answer = answer(Call::StderrWriteViaStream, Stream::Stderr);
        drop(data);
        answered(answer)
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
