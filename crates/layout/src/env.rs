//! The `wasi:cli/environment` part of the configuration, first after the
//! flags word: the host filter and its names, the policy's variables, the
//! arguments and the initial working directory. [`Env::parse`] decodes it
//! alone, so that an adapter that only answers `wasi:cli/environment` does
//! not carry the decoder of the rest.

use crate::filter::HostFilterMode;
use crate::wire::{Error, PairList, Reader, StrList};

/// Where a value of `wasi:cli/environment` comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source<T> {
    /// Asked of the host at each call.
    Host,
    /// Fixed by the configuration.
    Virtual(T),
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

// The tags of `Env::cwd`: asked of the host, virtually absent, a virtual
// path.
const CWD_HOST: u32 = 0;
const CWD_NONE: u32 = 1;
const CWD_PATH: u32 = 2;

impl<'a> Env<'a> {
    /// Decodes only the environment part of a configuration blob, which
    /// comes first after the flags: `wasi:cli/environment` reads it without
    /// the decoder of the rest (which an environment-only adapter then does
    /// not carry). Checks what it reads as [`crate::Config::parse`] does.
    pub fn parse(bytes: &'a [u8]) -> Result<Env<'a>, Error> {
        let mut r = Reader::new(bytes);
        r.u32()?;
        Env::read(&mut r)
    }

    pub(crate) fn read(r: &mut Reader<'a>) -> Result<Env<'a>, Error> {
        let host = HostFilterMode::read(r)?;
        let host_names = r.str_list()?;
        let overrides = r.pair_list()?;
        let args = match r.option(Reader::str_list)? {
            None => Source::Host,
            Some(args) => Source::Virtual(args),
        };
        let cwd = match r.u32()? {
            CWD_HOST => Source::Host,
            CWD_NONE => Source::Virtual(None),
            CWD_PATH => Source::Virtual(Some(r.str()?)),
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

/// The host's side of [`Env`].
#[cfg(feature = "encode")]
#[derive(Clone, Debug)]
pub struct EnvSpec<'s> {
    /// How host variables are filtered.
    pub host: HostFilterMode,
    /// The allow- or deny-list.
    pub host_names: alloc::vec::Vec<&'s str>,
    /// Variables set by the policy.
    pub overrides: alloc::vec::Vec<(&'s str, &'s str)>,
    /// `get-arguments`.
    pub args: Source<alloc::vec::Vec<&'s str>>,
    /// `initial-cwd`.
    pub cwd: Source<Option<&'s str>>,
}

#[cfg(feature = "encode")]
impl Default for EnvSpec<'_> {
    fn default() -> Self {
        EnvSpec {
            host: HostFilterMode::All,
            host_names: alloc::vec::Vec::new(),
            overrides: alloc::vec::Vec::new(),
            args: Source::Host,
            cwd: Source::Host,
        }
    }
}

#[cfg(feature = "encode")]
impl EnvSpec<'_> {
    /// Writes what [`Env::read`] reads.
    pub(crate) fn write(&self, w: &mut crate::wire::Writer) {
        self.host.write(w);
        w.str_list(&self.host_names);
        w.pair_list(&self.overrides);
        let args = match &self.args {
            Source::Host => None,
            Source::Virtual(args) => Some(args),
        };
        w.option(args, |w, args| w.str_list(args));
        match self.cwd {
            Source::Host => w.u32(CWD_HOST),
            Source::Virtual(None) => w.u32(CWD_NONE),
            Source::Virtual(Some(cwd)) => {
                w.u32(CWD_PATH);
                w.str(cwd);
            }
        }
    }
}
