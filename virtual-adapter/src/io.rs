//! `wasi:io/{error,poll,streams}`: the adapter's own resources. Each wraps a
//! host resource (passthrough) or is virtual (end-of-file, discard, denied,
//! always ready). Every interface the adapter exports that hands out streams
//! or pollables hands out these.

use crate::exports::wasi::io::error::{Error, Guest as ErrorGuest, GuestError};
use crate::exports::wasi::io::poll::{Guest as PollGuest, GuestPollable, Pollable, PollableBorrow};
use crate::exports::wasi::io::streams::{
    Guest as StreamsGuest, GuestInputStream, GuestOutputStream, InputStreamBorrow, StreamError,
};
use crate::wasi::io::{error as host_error, poll as host_poll, streams as host};
use crate::Adapter;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use wasi_virt_layout::{Call, SINK_BUDGET};

/// `wasi:io/error.error`.
pub enum IoError {
    Host(host_error::Error),
    Virtual(String),
    /// A `wasi:filesystem` error code (its discriminant) of an in-memory
    /// file's stream (`memfs.rs`).
    Filesystem(u8),
}

impl GuestError for IoError {
    fn to_debug_string(&self) -> String {
        match self {
            IoError::Host(e) => e.to_debug_string(),
            IoError::Virtual(msg) => msg.clone(),
            IoError::Filesystem(_) => String::from("in-memory file write failed"),
        }
    }
}

impl ErrorGuest for Adapter {
    type Error = IoError;
}

/// An error a virtual stream reports: `what` names the stream.
pub fn denied_error(what: &str) -> StreamError {
    let mut message = String::from(what);
    message.push_str(wasi_virt_layout::DENIED_STREAM);
    StreamError::LastOperationFailed(Error::new(IoError::Virtual(message)))
}

/// Converts a host stream error into the adapter's.
pub fn stream_error(e: host::StreamError) -> StreamError {
    match e {
        host::StreamError::LastOperationFailed(e) => {
            StreamError::LastOperationFailed(Error::new(IoError::Host(e)))
        }
        host::StreamError::Closed => StreamError::Closed,
    }
}

fn map<T>(r: Result<T, host::StreamError>) -> Result<T, StreamError> {
    r.map_err(stream_error)
}

/// `wasi:io/poll.pollable`.
pub enum VPollable {
    Host(host_poll::Pollable),
    /// Virtual streams never block.
    Ready,
    /// A deadline of the virtual time (`time.rs`).
    Timer(u64),
}

impl VPollable {
    /// A pollable for the adapter's consumers.
    pub fn host(p: host_poll::Pollable) -> Pollable {
        Pollable::new(VPollable::Host(p))
    }

    /// An always-ready pollable.
    pub fn ready() -> Pollable {
        Pollable::new(VPollable::Ready)
    }

    /// A pollable ready once the virtual clock reaches `deadline`.
    pub fn timer(deadline: u64) -> Pollable {
        Pollable::new(VPollable::Timer(deadline))
    }

    /// Ready without waiting.
    fn ready_now(&self) -> bool {
        match self {
            VPollable::Host(_) => false,
            VPollable::Ready => true,
            VPollable::Timer(deadline) => crate::time::now() >= *deadline,
        }
    }
}

impl GuestPollable for VPollable {
    fn ready(&self) -> bool {
        match self {
            VPollable::Host(p) => p.ready(),
            other => other.ready_now(),
        }
    }

    fn block(&self) {
        match self {
            VPollable::Host(p) => p.block(),
            VPollable::Ready => {}
            VPollable::Timer(deadline) => crate::time::advance_to(*deadline),
        }
    }
}

/// Waiting on virtual timers when nothing is ready: the virtual time jumps
/// to the earliest deadline, and every timer due then is ready.
fn earliest_timers(ours: &[&VPollable]) -> Vec<u32> {
    let deadline = ours
        .iter()
        .filter_map(|p| match p {
            VPollable::Timer(d) => Some(*d),
            _ => None,
        })
        .min();
    let Some(deadline) = deadline else {
        return Vec::new();
    };
    crate::time::advance_to(deadline);
    (0..ours.len() as u32)
        .filter(|i| ours[*i as usize].ready_now())
        .collect()
}

impl PollGuest for Adapter {
    type Pollable = VPollable;

    fn poll(in_: Vec<PollableBorrow<'_>>) -> Vec<u32> {
        trace!(Call::Poll, in_.len());
        let ours: Vec<&VPollable> = in_.iter().map(|p| p.get::<VPollable>()).collect();
        let ready: Vec<u32> = (0..ours.len() as u32)
            .filter(|i| ours[*i as usize].ready_now())
            .collect();
        if !ready.is_empty() {
            return ready;
        }
        let timers = earliest_timers(&ours);
        if !timers.is_empty() {
            return timers;
        }
        let (indices, hosts): (Vec<u32>, Vec<&host_poll::Pollable>) = ours
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match p {
                VPollable::Host(h) => Some((i as u32, h)),
                _ => None,
            })
            .unzip();
        if hosts.is_empty() {
            // `poll` must not be called with an empty list.
            crate::trap(Call::PollWithoutPollables, &[]);
        }
        host_poll::poll(&hosts)
            .into_iter()
            .map(|j| indices[j as usize])
            .collect()
    }
}

/// Bytes the adapter itself serves as a stream (an embedded file).
pub trait Source {
    /// Up to `len` more bytes; `None` at the end.
    fn read(&self, len: u64) -> Option<Vec<u8>>;
}

/// `wasi:io/streams.input-stream`.
pub enum VInputStream {
    Host(host::InputStream),
    /// A host stream handed out more than once (a served request's body
    /// as stdin).
    Body(Rc<host::InputStream>),
    /// Bytes from the adapter; never blocks.
    Source(alloc::boxed::Box<dyn Source>),
    /// Reads see end-of-file.
    Empty,
    /// Every read fails; names what was denied.
    Denied(&'static str),
    /// A stream on a descriptor without the right to read: a host opens
    /// it, its first read fails with this `wasi:filesystem` error code
    /// (the discriminant), and it is closed after.
    Refused(Cell<Option<u8>>),
}

impl VInputStream {
    fn host(&self) -> Option<&host::InputStream> {
        match self {
            VInputStream::Host(h) => Some(h),
            VInputStream::Body(h) => Some(h),
            _ => None,
        }
    }

    fn virtual_error(&self) -> StreamError {
        match self {
            VInputStream::Denied(what) => denied_error(what),
            VInputStream::Refused(code) => refused_error(code),
            _ => StreamError::Closed,
        }
    }
}

impl VInputStream {
    /// Reads through the host, from the adapter's source, or fails as the
    /// virtual stream does.
    fn take(
        &self,
        len: u64,
        host: impl FnOnce(&host::InputStream) -> Result<Vec<u8>, host::StreamError>,
    ) -> Result<Vec<u8>, StreamError> {
        if let Some(h) = self.host() {
            return map(host(h));
        }
        match self {
            VInputStream::Source(s) => s.read(len).ok_or(StreamError::Closed),
            _ => Err(self.virtual_error()),
        }
    }
}

impl VInputStream {
    fn skip_virtual(&self, len: u64) -> Result<u64, StreamError> {
        match self {
            VInputStream::Source(s) => s
                .read(len)
                .map(|b| b.len() as u64)
                .ok_or(StreamError::Closed),
            _ => Err(self.virtual_error()),
        }
    }
}

impl GuestInputStream for VInputStream {
    fn read(&self, len: u64) -> Result<Vec<u8>, StreamError> {
        trace!(Call::Read, len);
        self.take(len, |h| h.read(len))
    }

    fn blocking_read(&self, len: u64) -> Result<Vec<u8>, StreamError> {
        trace!(Call::BlockingRead, len);
        self.take(len, |h| h.blocking_read(len))
    }

    fn skip(&self, len: u64) -> Result<u64, StreamError> {
        trace!(Call::Skip, len);
        match self.host() {
            Some(h) => map(h.skip(len)),
            None => self.skip_virtual(len),
        }
    }

    fn blocking_skip(&self, len: u64) -> Result<u64, StreamError> {
        trace!(Call::BlockingSkip, len);
        match self.host() {
            Some(h) => map(h.blocking_skip(len)),
            None => self.skip_virtual(len),
        }
    }

    fn subscribe(&self) -> Pollable {
        match self.host() {
            Some(h) => VPollable::host(h.subscribe()),
            None => VPollable::ready(),
        }
    }
}

/// The error of a refused stream: the code once, then closed.
fn refused_error(code: &Cell<Option<u8>>) -> StreamError {
    match code.take() {
        Some(code) => StreamError::LastOperationFailed(Error::new(IoError::Filesystem(code))),
        None => StreamError::Closed,
    }
}

/// `wasi:io/streams.output-stream`.
pub enum VOutputStream {
    Host(host::OutputStream),
    /// Writes succeed and are dropped.
    Discard,
    /// Every write fails; names what was denied.
    Denied(&'static str),
    /// Writes go wherever the shared sink points at the time.
    Shared(Rc<RefCell<Sink>>),
    /// Writes go to an in-memory file.
    Target(alloc::boxed::Box<dyn Target>),
    /// A stream on a descriptor without the right to write: a host opens
    /// it and takes writes in, its first write fails with this
    /// `wasi:filesystem` error code, and it is closed after.
    Refused(Cell<Option<u8>>),
}

/// Where a [`VOutputStream::Target`] writes: an error is a `wasi:filesystem`
/// error code's discriminant.
pub trait Target {
    fn write(&self, bytes: &[u8]) -> Result<(), u8>;
}

/// Where a [`VOutputStream::Shared`] writes: a buffer until its owner
/// attaches a host stream (an http body before its request is sent).
#[derive(Default)]
pub enum Sink {
    #[default]
    Empty,
    Buffer(Vec<u8>),
    Host(host::OutputStream),
    Closed,
}

impl VOutputStream {
    /// Runs `f` on the host stream, or answers as the virtual stream does: a
    /// discard or buffering sink accepts `sink` (a buffer also gets `buffer`
    /// applied), a denied stream fails, a closed one is closed. `writes`
    /// tells a write (even of nothing) from a check or a flush.
    fn with<T>(
        &self,
        writes: bool,
        sink: T,
        buffer: impl FnOnce(&mut Vec<u8>),
        f: impl FnOnce(&host::OutputStream) -> Result<T, host::StreamError>,
    ) -> Result<T, StreamError> {
        match self {
            VOutputStream::Host(h) => map(f(h)),
            VOutputStream::Discard => Ok(sink),
            VOutputStream::Denied(what) => Err(denied_error(what)),
            VOutputStream::Refused(code) => match code.get() {
                // A check or a flush before the first write passes; any
                // write fails, an empty one too.
                Some(_) if !writes => Ok(sink),
                _ => Err(refused_error(code)),
            },
            VOutputStream::Target(target) => {
                let mut bytes = Vec::new();
                buffer(&mut bytes);
                target.write(&bytes).map(|()| sink).map_err(|code| {
                    StreamError::LastOperationFailed(Error::new(IoError::Filesystem(code)))
                })
            }
            VOutputStream::Shared(shared) => {
                let mut shared = shared.borrow_mut();
                match &mut *shared {
                    Sink::Host(h) => map(f(h)),
                    Sink::Closed => Err(StreamError::Closed),
                    Sink::Buffer(bytes) => {
                        buffer(bytes);
                        Ok(sink)
                    }
                    empty @ Sink::Empty => {
                        let mut bytes = Vec::new();
                        buffer(&mut bytes);
                        *empty = Sink::Buffer(bytes);
                        Ok(sink)
                    }
                }
            }
        }
    }
}

impl GuestOutputStream for VOutputStream {
    fn check_write(&self) -> Result<u64, StreamError> {
        trace!(Call::CheckWrite);
        self.with(false, SINK_BUDGET, |_| {}, |h| h.check_write())
    }

    fn write(&self, contents: Vec<u8>) -> Result<(), StreamError> {
        trace!(Call::Write, contents.len());
        self.with(
            true,
            (),
            |b| b.extend_from_slice(&contents),
            |h| h.write(&contents),
        )
    }

    fn blocking_write_and_flush(&self, contents: Vec<u8>) -> Result<(), StreamError> {
        trace!(Call::BlockingWriteAndFlush, contents.len());
        self.with(
            true,
            (),
            |b| b.extend_from_slice(&contents),
            |h| h.blocking_write_and_flush(&contents),
        )
    }

    fn flush(&self) -> Result<(), StreamError> {
        trace!(Call::Flush);
        self.with(false, (), |_| {}, |h| h.flush())
    }

    fn blocking_flush(&self) -> Result<(), StreamError> {
        trace!(Call::BlockingFlush);
        self.with(false, (), |_| {}, |h| h.blocking_flush())
    }

    fn subscribe(&self) -> Pollable {
        match self {
            VOutputStream::Host(h) => VPollable::host(h.subscribe()),
            VOutputStream::Shared(shared) => match &*shared.borrow() {
                Sink::Host(h) => VPollable::host(h.subscribe()),
                _ => VPollable::ready(),
            },
            _ => VPollable::ready(),
        }
    }

    fn write_zeroes(&self, len: u64) -> Result<(), StreamError> {
        trace!(Call::WriteZeroes, len);
        self.with(
            true,
            (),
            |b| b.resize(b.len() + len as usize, 0),
            |h| h.write_zeroes(len),
        )
    }

    fn blocking_write_zeroes_and_flush(&self, len: u64) -> Result<(), StreamError> {
        trace!(Call::BlockingWriteZeroesAndFlush, len);
        self.with(
            true,
            (),
            |b| b.resize(b.len() + len as usize, 0),
            |h| h.blocking_write_zeroes_and_flush(len),
        )
    }

    fn splice(&self, src: InputStreamBorrow<'_>, len: u64) -> Result<u64, StreamError> {
        trace!(Call::Splice, len);
        self.splice_from(src.get::<VInputStream>(), len, false)
    }

    fn blocking_splice(&self, src: InputStreamBorrow<'_>, len: u64) -> Result<u64, StreamError> {
        trace!(Call::BlockingSplice, len);
        self.splice_from(src.get::<VInputStream>(), len, true)
    }
}

impl VOutputStream {
    /// Host to host splices stay in the host; anything else is a read then
    /// a write of what was read.
    fn splice_from(
        &self,
        src: &VInputStream,
        len: u64,
        blocking: bool,
    ) -> Result<u64, StreamError> {
        if let (VOutputStream::Host(dst), Some(from)) = (self, src.host()) {
            return map(if blocking {
                dst.blocking_splice(from, len)
            } else {
                dst.splice(from, len)
            });
        }
        let budget = if blocking {
            len
        } else {
            len.min(self.check_write()?)
        };
        let bytes = if blocking {
            src.blocking_read(budget)?
        } else {
            src.read(budget)?
        };
        let n = bytes.len() as u64;
        if blocking {
            self.blocking_write_and_flush(bytes)?;
        } else {
            self.write(bytes)?;
        }
        Ok(n)
    }
}

impl StreamsGuest for Adapter {
    type InputStream = VInputStream;
    type OutputStream = VOutputStream;
}
