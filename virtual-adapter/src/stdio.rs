//! `wasi:cli/{stdin,stdout,stderr}` and the `terminal-*` interfaces: each
//! stream allowed (the host's), ignored (end-of-file / discard) or denied
//! (errors on use). A terminal follows its stream: only an allowed stream can
//! be a terminal.

use crate::exports::wasi::cli::terminal_input::{
    Guest as TerminalInputGuest, GuestTerminalInput, TerminalInput,
};
use crate::exports::wasi::cli::terminal_output::{
    Guest as TerminalOutputGuest, GuestTerminalOutput, TerminalOutput,
};
use crate::exports::wasi::cli::{
    stderr, stdin, stdout, terminal_stderr, terminal_stdin, terminal_stdout,
};
use crate::exports::wasi::io::streams::{InputStream, OutputStream};
use crate::global::Global;
use crate::io::{VInputStream, VOutputStream};
use crate::state::config;
use crate::wasi::cli as host;
use crate::Adapter;
use alloc::boxed::Box;
use alloc::vec::Vec;
use wasi_virt_layout::{Call, StdioMode, Stream, SERVE_OUTPUT, SERVE_STDIN};

/// Stdin baked into the configuration: its bytes, then end of stream. Like
/// the host's stdin, it is one stream: every `get-stdin` reads on from where
/// the last read stopped.
struct Baked(&'static [u8]);

/// How much of the baked stdin has been read.
static POSITION: Global<usize> = Global::new(0);

impl crate::io::Source for Baked {
    fn read(&self, len: u64) -> Option<Vec<u8>> {
        let at = POSITION.get();
        let rest = &self.0[at..];
        if rest.is_empty() && len > 0 {
            return None;
        }
        let n = rest.len().min(usize::try_from(len).unwrap_or(usize::MAX));
        POSITION.set(at + n);
        Some(rest[..n].to_vec())
    }
}

impl stdin::Guest for Adapter {
    fn get_stdin() -> InputStream {
        trace!(Call::GetStdin);
        if crate::state::serving() {
            return crate::serve::ask(SERVE_STDIN);
        }
        if let Some(bytes) = config().stdin {
            return InputStream::new(VInputStream::Source(Box::new(Baked(bytes))));
        }
        InputStream::new(match config().stream(Stream::Stdin) {
            StdioMode::Allow => VInputStream::Host(host::stdin::get_stdin()),
            StdioMode::Ignore => VInputStream::Empty,
            StdioMode::Deny => VInputStream::Denied("stdin"),
        })
    }
}

fn output(stream: Stream, host: fn() -> crate::wasi::io::streams::OutputStream) -> OutputStream {
    // A command served per request writes its response on stdout, and
    // with `--stderr=stdout` on stderr too.
    if crate::state::serving() && (stream == Stream::Stdout || crate::state::stderr_into_response())
    {
        return crate::serve::ask(SERVE_OUTPUT);
    }
    OutputStream::new(match config().stream(stream) {
        StdioMode::Allow => VOutputStream::Host(host()),
        StdioMode::Ignore => VOutputStream::Discard,
        StdioMode::Deny => VOutputStream::Denied(stream.name()),
    })
}

impl stdout::Guest for Adapter {
    fn get_stdout() -> OutputStream {
        trace!(Call::GetStdout);
        output(Stream::Stdout, host::stdout::get_stdout)
    }
}

impl stderr::Guest for Adapter {
    fn get_stderr() -> OutputStream {
        trace!(Call::GetStderr);
        output(Stream::Stderr, host::stderr::get_stderr)
    }
}

/// `wasi:cli/terminal-input.terminal-input`, wrapping the host's.
pub struct VTerminalInput(#[allow(dead_code)] host::terminal_input::TerminalInput);

impl GuestTerminalInput for VTerminalInput {}

impl TerminalInputGuest for Adapter {
    type TerminalInput = VTerminalInput;
}

/// `wasi:cli/terminal-output.terminal-output`, wrapping the host's.
pub struct VTerminalOutput(#[allow(dead_code)] host::terminal_output::TerminalOutput);

impl GuestTerminalOutput for VTerminalOutput {}

impl TerminalOutputGuest for Adapter {
    type TerminalOutput = VTerminalOutput;
}

/// Whether `stream` is the host's, and so may be a terminal: never while
/// a command is served per request.
fn allowed(stream: Stream) -> bool {
    config().stream(stream) == StdioMode::Allow && !crate::state::serving()
}

impl terminal_stdin::Guest for Adapter {
    fn get_terminal_stdin() -> Option<TerminalInput> {
        trace!(Call::GetTerminalStdin);
        if !allowed(Stream::Stdin) {
            return None;
        }
        host::terminal_stdin::get_terminal_stdin().map(|t| TerminalInput::new(VTerminalInput(t)))
    }
}

impl terminal_stdout::Guest for Adapter {
    fn get_terminal_stdout() -> Option<TerminalOutput> {
        trace!(Call::GetTerminalStdout);
        if !allowed(Stream::Stdout) {
            return None;
        }
        host::terminal_stdout::get_terminal_stdout()
            .map(|t| TerminalOutput::new(VTerminalOutput(t)))
    }
}

impl terminal_stderr::Guest for Adapter {
    fn get_terminal_stderr() -> Option<TerminalOutput> {
        trace!(Call::GetTerminalStderr);
        if !allowed(Stream::Stderr) {
            return None;
        }
        host::terminal_stderr::get_terminal_stderr()
            .map(|t| TerminalOutput::new(VTerminalOutput(t)))
    }
}
