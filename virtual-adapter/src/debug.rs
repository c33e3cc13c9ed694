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
///
/// The formatting lives behind the `wasi-virt` `trace` import, which the
/// library binds to [`wasi_virt_trace`] only when the policy asks for debug
/// output; otherwise it becomes a trap that is never reached, and the
/// formatting machinery is dropped from the output as dead code.
pub fn print(args: fmt::Arguments<'_>) {
    if !config().debug() {
        return;
    }
    // SAFETY: the pointer is only read during the call.
    unsafe { trace(&args as *const fmt::Arguments<'_> as *const u8) }
}

use wasi_virt_layout::hooks::trace;
use wasi_virt_layout::{same_name, TRACE_IMPL};

const _: () = assert!(same_name(stringify!(wasi_virt_trace), TRACE_IMPL));

/// The implementation of the `trace` import.
///
/// # Safety
/// `args` points at a live `fmt::Arguments`.
#[no_mangle]
pub unsafe extern "C" fn wasi_virt_trace(args: *const u8) {
    let args = &*(args as *const fmt::Arguments<'_>);
    let mut line = alloc::format!("{args}");
    line.push('\n');
    let _ = get_stderr().blocking_write_and_flush(line.as_bytes());
}
