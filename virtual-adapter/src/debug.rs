//! `--debug`: a line on the host's stderr for every virtualized call.
//!
//! Call sites pass numbers, not text: a [`Call`] (`crates/layout`) and
//! [`Arg`]s. The names travel in the configuration only under `--debug`, and
//! the one function that turns all of it into text, [`wasi_virt_trace`], is
//! bound to the `trace` hook only then; otherwise the hook is a trap that is
//! never reached, and the formatting is removed as dead code. So an output
//! without `--debug` carries no call names and no formatting code; only the
//! line's few framing bytes (`wasi-virt: `, `denied: `, `trap: `) stay in
//! the data, which the rewrite keeps whole.
//!
//! The library keeps the host `wasi:cli/stderr` import only when the policy
//! asks for debug output or lets stderr through, so with tracing off these
//! paths are cut off from the host.

use crate::state::config;
use crate::wasi::cli::stderr::get_stderr;
use alloc::string::String;
use alloc::vec::Vec;
use wasi_virt_layout::hooks::trace;
use wasi_virt_layout::{same_name, Call, TRACE_IMPL};

/// Traces a call when `--debug` is on: `trace!(Call::Read, len)` writes
/// `wasi-virt: wasi:io/streams.input-stream.read(8)`. With `denied:` first,
/// the line says the call was denied (for a denial that does not trap; see
/// `crate::denied` for one that does).
macro_rules! trace {
    (denied: $call:expr $(, $arg:expr)* $(,)?) => {
        trace!(@ $crate::debug::Kind::Denied, $call $(, $arg)*)
    };
    (@ $kind:expr, $call:expr $(, $arg:expr)*) => {{
        #[allow(unused_imports)]
        use $crate::debug::AsArg as _;
        $crate::debug::emit($kind, $call, &[$(($arg).as_arg()),*])
    }};
    ($call:expr $(, $arg:expr)* $(,)?) => {
        trace!(@ $crate::debug::Kind::Call, $call $(, $arg)*)
    };
}

/// What a trace line reports: the `kind` of the `trace` hook.
#[repr(u32)]
#[derive(Clone, Copy)]
pub enum Kind {
    /// `wasi-virt: NAME(args)`.
    Call,
    /// `wasi-virt: denied: NAME(args)`.
    Denied,
    /// `wasi-virt: trap: NAME(args)`.
    Trap,
}

/// One argument of a traced call. The `trace` hook receives a pointer to a
/// slice of them; caller and reader are both this module's code.
pub enum Arg<'a> {
    /// Written in decimal.
    Num(u64),
    /// Written as it is.
    Text(&'a str),
}

/// What a call site can pass to [`trace!`].
pub trait AsArg {
    /// The value as a trace argument.
    fn as_arg(&self) -> Arg<'_>;
}

impl AsArg for str {
    fn as_arg(&self) -> Arg<'_> {
        Arg::Text(self)
    }
}

impl AsArg for String {
    fn as_arg(&self) -> Arg<'_> {
        Arg::Text(self)
    }
}

impl<T: AsArg + ?Sized> AsArg for &T {
    fn as_arg(&self) -> Arg<'_> {
        (**self).as_arg()
    }
}

macro_rules! numbers {
    ($($ty:ty),*) => {$(
        impl AsArg for $ty {
            fn as_arg(&self) -> Arg<'_> {
                Arg::Num(*self as u64)
            }
        }
    )*};
}

numbers!(u8, u32, u64, usize);

/// Reports `call` with `args` when `--debug` is on.
pub fn emit(kind: Kind, call: Call, args: &[Arg<'_>]) {
    if !crate::state::debug() {
        return;
    }
    // SAFETY: the slice is only read during the call.
    unsafe {
        trace(
            kind as u32,
            call as u32,
            args.as_ptr() as *const u8,
            args.len(),
        )
    }
}

const _: () = assert!(same_name(stringify!(wasi_virt_trace), TRACE_IMPL));

/// The library aliases the `trace` import to [`wasi_virt_trace`]: their
/// types must be the same.
const _: [unsafe extern "C" fn(u32, u32, *const u8, usize); 2] = [trace, wasi_virt_trace];

/// The implementation of the `trace` import: the only code of the adapter
/// that writes text about a call.
///
/// # Safety
/// `args` points at `count` live [`Arg`]s.
#[no_mangle]
pub unsafe extern "C" fn wasi_virt_trace(kind: u32, call: u32, args: *const u8, count: usize) {
    let args = core::slice::from_raw_parts(args as *const Arg<'_>, count);
    let line = line(kind, call, args);
    let _ = get_stderr().blocking_write_and_flush(&line);
}

/// `wasi-virt: [denied: |trap: ]NAME[(arg, arg)]` and a newline. A call
/// whose name the configuration lacks is shown by its number.
fn line(kind: u32, call: u32, args: &[Arg<'_>]) -> Vec<u8> {
    let mut out = Vec::from(*b"wasi-virt: ");
    out.extend_from_slice(match kind {
        k if k == Kind::Denied as u32 => b"denied: ",
        k if k == Kind::Trap as u32 => b"trap: ",
        _ => b"",
    });
    match config().call_name(call) {
        Some(name) => out.extend_from_slice(name.as_bytes()),
        None => decimal(&mut out, call.into()),
    }
    for (i, arg) in args.iter().enumerate() {
        out.extend_from_slice(if i == 0 { b"(" } else { b", " });
        match arg {
            Arg::Num(n) => decimal(&mut out, *n),
            Arg::Text(s) => out.extend_from_slice(s.as_bytes()),
        }
    }
    if !args.is_empty() {
        out.push(b')');
    }
    out.push(b'\n');
    out
}

/// Appends `n` in decimal, without `core::fmt`.
fn decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}
