//! `--debug`: a line on the host's stderr for every virtualized call.
//!
//! The library keeps the host `wasi:cli/stderr` import only when the policy
//! asks for debug output or lets stderr through, so with tracing off these
//! paths are cut off from the host.

use crate::state::config;
use crate::wasi::cli::stderr::get_stderr;
use core::fmt;

/// Traces a call when `--debug` is on.
macro_rules! trace {
    ($($arg:tt)*) => {
        if $crate::state::config().debug() {
            $crate::debug::print(format_args!("wasi-virt: {}", format_args!($($arg)*)));
        }
    };
}

/// Writes one line to the host's stderr when `--debug` is on.
pub fn print(args: fmt::Arguments<'_>) {
    if !config().debug() {
        return;
    }
    let mut line = alloc::format!("{args}");
    line.push('\n');
    let _ = get_stderr().blocking_write_and_flush(line.as_bytes());
}
