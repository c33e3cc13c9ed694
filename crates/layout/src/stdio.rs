//! The standard streams' part of the configuration: the [`StdioMode`] of
//! each [`Stream`] (three `u32`s after the environment), and the baked-in
//! stdin (an optional byte string after the random seed).

use crate::wire::{Error, Reader};
use core::fmt;

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

    /// The modes of stdin, stdout and stderr, in that order.
    pub(crate) fn read_all(r: &mut Reader<'_>) -> Result<[StdioMode; 3], Error> {
        Ok([
            StdioMode::from_u32(r.u32()?)?,
            StdioMode::from_u32(r.u32()?)?,
            StdioMode::from_u32(r.u32()?)?,
        ])
    }

    #[cfg(feature = "encode")]
    pub(crate) fn write_all(modes: &[StdioMode; 3], w: &mut crate::wire::Writer) {
        for mode in modes {
            w.u32(*mode as u32);
        }
    }
}

/// What stdin reads, if it is baked in.
pub(crate) fn read_baked<'a>(r: &mut Reader<'a>) -> Result<Option<&'a [u8]>, Error> {
    r.option(Reader::bytes)
}

#[cfg(feature = "encode")]
pub(crate) fn write_baked(stdin: Option<&[u8]>, w: &mut crate::wire::Writer) {
    w.option(stdin, |w, bytes| w.blob(bytes));
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

/// What a denied stream's error says after its name (`stdout is denied by
/// wasi-virt`): the adapter's text, and the library's fixed answers'.
pub const DENIED_STREAM: &str = " is denied by wasi-virt";

/// How much a stream that takes every write and drops it (`ignore`)
/// accepts per `check-write`.
pub const SINK_BUDGET: u64 = 1 << 20;

/// The standard streams, in the order of [`Config::stdio`](crate::Config::stdio).
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
