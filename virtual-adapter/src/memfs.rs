//! Writable in-memory filesystems: `--tmpfs` (empty at start) and
//! `--overlay` (an embedded directory with a writable layer above it). They
//! live in the instance's memory and never touch the host.
//!
//! The store itself is `wasi_virt_layout::memfs` (`crates/layout/src/memfs.rs`,
//! where the host's tests and the `memfs` fuzz target check it against a
//! model); this file keeps the instance's one store, made from the
//! configuration on first use, and converts to and from `wasi:filesystem`
//! types.
//!
//! Every entry point goes through the adapter's `memfs` hook (like `net`,
//! `rules.rs`): the library binds it to [`wasi_virt_memfs`] only when the
//! configuration has an in-memory preopen, so that no other output carries
//! this code.

use crate::exports::wasi::clocks::wall_clock::Datetime;
use crate::exports::wasi::filesystem::types::{
    DescriptorStat, DescriptorType, ErrorCode, NewTimestamp,
};
use crate::global::Global;
use crate::state::config;
use crate::vfs;
use alloc::string::String;
use alloc::vec::Vec;
use wasi_virt_layout::hooks;
use wasi_virt_layout::memfs::{Env, Error, SetTime, Stat, Store, Time, Type};
use wasi_virt_layout::Node;

pub use wasi_virt_layout::memfs::{Id, Open};

/// The adapter's clock and embedded tree.
struct Adapter;

impl Env for Adapter {
    fn now(&self) -> Time {
        let t = crate::clocks::file_time();
        Time {
            seconds: t.seconds,
            nanoseconds: t.nanoseconds,
        }
    }

    fn node(&self, index: u32) -> Node<'_> {
        vfs::node(index)
    }

    fn read(&self, index: u32, len: u64, offset: u64) -> Result<(Vec<u8>, bool), Error> {
        // `vfs::read` fails only for a node that is not a file.
        vfs::read(index, len, offset).map_err(|_| Error::BadDescriptor)
    }
}

static STORE: Global<Option<Store<Adapter>>> = Global::new(None);

/// Runs `f` on the store, made from the configuration on first use. The
/// store calls back into [`Adapter`] (the file times, the embedded tree),
/// which never reaches the store again.
fn with<T>(f: impl FnOnce(&mut Store<Adapter>) -> T) -> T {
    STORE.with(|slot| {
        let store = slot.get_or_insert_with(|| {
            let memories = config().fs.memory.iter().map(|m| (m.lower, m.limit));
            Store::new(Adapter, memories)
        });
        f(store)
    })
}

fn code(e: Error) -> ErrorCode {
    match e {
        Error::BadDescriptor => ErrorCode::BadDescriptor,
        Error::Busy => ErrorCode::Busy,
        Error::CrossDevice => ErrorCode::CrossDevice,
        Error::Exist => ErrorCode::Exist,
        Error::InsufficientSpace => ErrorCode::InsufficientSpace,
        Error::Invalid => ErrorCode::Invalid,
        Error::IsDirectory => ErrorCode::IsDirectory,
        Error::Loop => ErrorCode::Loop,
        Error::NameTooLong => ErrorCode::NameTooLong,
        Error::NoEntry => ErrorCode::NoEntry,
        Error::NotDirectory => ErrorCode::NotDirectory,
        Error::NotEmpty => ErrorCode::NotEmpty,
        Error::NotPermitted => ErrorCode::NotPermitted,
    }
}

fn descriptor_type(t: Type) -> DescriptorType {
    match t {
        Type::Directory => DescriptorType::Directory,
        Type::RegularFile => DescriptorType::RegularFile,
        Type::SymbolicLink => DescriptorType::SymbolicLink,
    }
}

fn datetime(t: Time) -> Datetime {
    Datetime {
        seconds: t.seconds,
        nanoseconds: t.nanoseconds,
    }
}

fn descriptor_stat(s: Stat) -> DescriptorStat {
    DescriptorStat {
        type_: descriptor_type(s.type_),
        link_count: s.link_count,
        size: s.size,
        data_access_timestamp: Some(datetime(s.atime)),
        data_modification_timestamp: Some(datetime(s.mtime)),
        status_change_timestamp: Some(datetime(s.ctime)),
    }
}

fn set_time(t: NewTimestamp) -> SetTime {
    match t {
        NewTimestamp::NoChange => SetTime::NoChange,
        NewTimestamp::Now => SetTime::Now,
        NewTimestamp::Timestamp(t) => SetTime::At(Time {
            seconds: t.seconds,
            nanoseconds: t.nanoseconds,
        }),
    }
}

/// One call into the in-memory filesystems, through the `memfs` hook.
enum Query<'a> {
    Root(usize),
    Hold(Id),
    Release(Id),
    Kind(Id),
    Stat(Id),
    Resolve(Id, &'a str, bool),
    StatTarget(Id, &'a str, bool),
    Open(Id, &'a str, Open),
    Read(Id, u64, u64),
    Write(Id, &'a [u8], Option<u64>),
    SetSize(Id, u64),
    SetTimes(Id, NewTimestamp, NewTimestamp),
    CreateDirectory(Id, &'a str),
    RemoveDirectory(Id, &'a str),
    UnlinkFile(Id, &'a str),
    Rename(Id, &'a str, Id, &'a str),
    Entries(Id),
    Symlink(Id, &'a str, &'a str),
    Readlink(Id, &'a str),
    Link(Id, &'a str, Id, &'a str),
}

/// What a [`Query`] answers.
enum Answer {
    Unanswered,
    Id(Result<Id, ErrorCode>),
    Done(Result<(), ErrorCode>),
    Kind(DescriptorType),
    Stat(DescriptorStat),
    Read(Result<(Vec<u8>, bool), ErrorCode>),
    Written(Result<u64, ErrorCode>),
    Entries(Result<Vec<(String, DescriptorType)>, ErrorCode>),
    Text(Result<String, ErrorCode>),
}

fn ask(query: Query<'_>) -> Answer {
    let mut answer = Answer::Unanswered;
    // SAFETY: both pointers are live for the call; the hook is
    // `wasi_virt_memfs`, which reads a `Query` and writes an `Answer`.
    unsafe {
        hooks::memfs(
            &query as *const Query<'_> as *const u8,
            &mut answer as *mut Answer as *mut u8,
        )
    };
    answer
}

const _: [unsafe extern "C" fn(*const u8, *mut u8); 2] = [hooks::memfs, wasi_virt_memfs];

/// The implementation of the `memfs` hook.
///
/// # Safety
/// `query` points at a live [`Query`], `answer` at a live [`Answer`].
#[no_mangle]
pub unsafe extern "C" fn wasi_virt_memfs(query: *const u8, answer: *mut u8) {
    let query = &*(query as *const Query<'_>);
    *(answer as *mut Answer) = with(|s| match *query {
        Query::Root(i) => Answer::Id(Ok(s.root(i))),
        Query::Hold(id) => {
            s.hold(id);
            Answer::Done(Ok(()))
        }
        Query::Release(id) => {
            s.release(id);
            Answer::Done(Ok(()))
        }
        Query::Kind(id) => Answer::Kind(descriptor_type(s.kind(id))),
        Query::Stat(id) => Answer::Stat(descriptor_stat(s.stat(id))),
        Query::Resolve(from, path, follow) => {
            Answer::Id(s.resolve(from, path, follow).map_err(code))
        }
        Query::StatTarget(from, path, follow) => {
            Answer::Id(s.stat_target(from, path, follow).map_err(code))
        }
        Query::Open(from, path, how) => Answer::Id(s.open(from, path, how).map_err(code)),
        Query::Read(id, len, offset) => Answer::Read(s.read(id, len, offset).map_err(code)),
        Query::Write(id, bytes, offset) => {
            Answer::Written(s.write(id, bytes, offset).map_err(code))
        }
        Query::SetSize(id, size) => Answer::Done(s.set_size(id, size).map_err(code)),
        Query::SetTimes(id, a, m) => {
            s.set_times(id, set_time(a), set_time(m));
            Answer::Done(Ok(()))
        }
        Query::CreateDirectory(from, path) => {
            Answer::Done(s.create_directory(from, path).map_err(code))
        }
        Query::RemoveDirectory(from, path) => {
            Answer::Done(s.remove_directory(from, path).map_err(code))
        }
        Query::UnlinkFile(from, path) => Answer::Done(s.unlink_file(from, path).map_err(code)),
        Query::Rename(from, old, to, new) => {
            Answer::Done(s.rename(from, old, to, new).map_err(code))
        }
        Query::Entries(id) => Answer::Entries(
            s.entries(id)
                .map(|list| {
                    list.into_iter()
                        .map(|(n, t)| (n, descriptor_type(t)))
                        .collect()
                })
                .map_err(code),
        ),
        Query::Symlink(from, target, path) => {
            Answer::Done(s.symlink(from, target, path).map_err(code))
        }
        Query::Readlink(from, path) => Answer::Text(s.readlink(from, path).map_err(code)),
        Query::Link(from, old, to, new) => Answer::Done(s.link(from, old, to, new).map_err(code)),
    });
}

/// An answer of another kind than asked for: the hook is not bound (no
/// in-memory preopen), and no descriptor of one can exist.
fn unanswered() -> ! {
    core::arch::wasm32::unreachable()
}

fn id(answer: Answer) -> Result<Id, ErrorCode> {
    match answer {
        Answer::Id(r) => r,
        _ => unanswered(),
    }
}

fn done(answer: Answer) -> Result<(), ErrorCode> {
    match answer {
        Answer::Done(r) => r,
        _ => unanswered(),
    }
}

/// The root of memory preopen `index`.
pub fn root(index: usize) -> Id {
    id(ask(Query::Root(index))).unwrap_or_else(|_| unanswered())
}

/// Another descriptor or stream holds `id`.
pub fn hold(id: Id) {
    let _ = done(ask(Query::Hold(id)));
}

/// A descriptor or stream let go of `id`.
pub fn release(id: Id) {
    let _ = done(ask(Query::Release(id)));
}

pub fn kind(id: Id) -> DescriptorType {
    match ask(Query::Kind(id)) {
        Answer::Kind(k) => k,
        _ => unanswered(),
    }
}

pub fn stat(id: Id) -> DescriptorStat {
    match ask(Query::Stat(id)) {
        Answer::Stat(s) => s,
        _ => unanswered(),
    }
}

/// The node `path` names from `from`; a symlink named last is followed
/// only with `follow`.
pub fn resolve(from: Id, path: &str, follow: bool) -> Result<Id, ErrorCode> {
    id(ask(Query::Resolve(from, path, follow)))
}

pub fn stat_target(from: Id, path: &str, follow: bool) -> Result<Id, ErrorCode> {
    id(ask(Query::StatTarget(from, path, follow)))
}

pub fn open(from: Id, path: &str, how: Open) -> Result<Id, ErrorCode> {
    id(ask(Query::Open(from, path, how)))
}

pub fn read(id: Id, len: u64, offset: u64) -> Result<(Vec<u8>, bool), ErrorCode> {
    match ask(Query::Read(id, len, offset)) {
        Answer::Read(r) => r,
        _ => unanswered(),
    }
}

pub fn write(id: Id, bytes: &[u8], offset: Option<u64>) -> Result<u64, ErrorCode> {
    match ask(Query::Write(id, bytes, offset)) {
        Answer::Written(r) => r,
        _ => unanswered(),
    }
}

pub fn set_size(id: Id, size: u64) -> Result<(), ErrorCode> {
    done(ask(Query::SetSize(id, size)))
}

pub fn set_times(id: Id, atime: NewTimestamp, mtime: NewTimestamp) {
    let _ = done(ask(Query::SetTimes(id, atime, mtime)));
}

pub fn create_directory(from: Id, path: &str) -> Result<(), ErrorCode> {
    done(ask(Query::CreateDirectory(from, path)))
}

pub fn remove_directory(from: Id, path: &str) -> Result<(), ErrorCode> {
    done(ask(Query::RemoveDirectory(from, path)))
}

pub fn unlink_file(from: Id, path: &str) -> Result<(), ErrorCode> {
    done(ask(Query::UnlinkFile(from, path)))
}

pub fn rename(from: Id, old: &str, to: Id, new: &str) -> Result<(), ErrorCode> {
    done(ask(Query::Rename(from, old, to, new)))
}

pub fn entries(id: Id) -> Result<Vec<(String, DescriptorType)>, ErrorCode> {
    match ask(Query::Entries(id)) {
        Answer::Entries(r) => r,
        _ => unanswered(),
    }
}

/// `symlink-at`: a symlink `path` (from `from`) to `target`.
pub fn symlink(from: Id, target: &str, path: &str) -> Result<(), ErrorCode> {
    done(ask(Query::Symlink(from, target, path)))
}

/// `readlink-at`: the target of the symlink `path` names.
pub fn readlink(from: Id, path: &str) -> Result<String, ErrorCode> {
    match ask(Query::Readlink(from, path)) {
        Answer::Text(r) => r,
        _ => unanswered(),
    }
}

/// `link-at` (not following): `new` (from `to`) names what `old` (from
/// `from`) names.
pub fn link(from: Id, old: &str, to: Id, new: &str) -> Result<(), ErrorCode> {
    done(ask(Query::Link(from, old, to, new)))
}
