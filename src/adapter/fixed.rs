//! Fixed answers without the adapter's code.
//!
//! Under a policy that leaves nothing to decide at run time (no host
//! import, no content, no rules), every function the output's adapter
//! exports answers the same way at each call: a trap (denied exit, clocks,
//! randomness; the methods of a resource that cannot exist), `access-denied`
//! (sockets), the policy's own values (variables, arguments, cwd,
//! configuration properties; no preopens), a stream that fails with
//! `<stream> is denied by wasi-virt`, or reads nothing and takes every
//! write. Then the adapter's module is not specialized at all: [`module`]
//! writes a module of those answers, a few instructions per function,
//! which is encoded and composed as the specialized adapter would be. It
//! answers exactly as the adapter does under the same configuration
//! (`virtual-adapter/src/io.rs`, `stdio.rs`, `environment.rs`, `exit.rs`,
//! `clocks.rs`, `random.rs`, `filesystem.rs`, `sockets.rs`, `config.rs`,
//! and WASI 0.3's `p3.rs`, `p3/stdio.rs`, `p3/sockets.rs`, `p3/denied.rs`);
//! where an interface needs more (the host's, HTTP's types), the adapter
//! is specialized as before.

use super::rewrite::{standard_export_name, Rewritten};
use super::specialize::export_resource;
use crate::subsystem::interfaces::{FS_TYPES, HTTP_TYPES, OUTGOING_HANDLER};
use anyhow::{bail, Result};
use std::collections::BTreeMap;
use wasi_virt_layout::{
    allow, Config, HostFilterMode, Source, StdioMode, Stream, DENIED_STREAM, SINK_BUDGET,
    UNSET_PROPERTY,
};
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, DataSection, EntityType, ExportKind, ExportSection,
    Function, FunctionSection, ImportSection, Instruction as I, MemArg, MemorySection, MemoryType,
    Module, TypeSection, ValType,
};
use wit_parser::abi::{AbiVariant, WasmType};
use wit_parser::{Function as WitFunction, InterfaceId, Resolve, SizeAlign, Type, TypeDefKind};

/// What a function answers.
#[derive(Clone, Debug, PartialEq)]
enum Val {
    /// `unreachable`.
    Trap,
    /// Nothing: the function has no result.
    Unit,
    /// The result's bytes all zero: an empty list, `none`, `false`, `ok`
    /// of a zero.
    Zero,
    /// A number (or `bool`).
    Int(u64),
    /// A `list<string>` (each entry one string) or a
    /// `list<tuple<string, string>>` (each entry two).
    Strings(Vec<Vec<String>>),
    /// A `string`.
    Str(String),
    /// A `(pointer, length)` pair: a list or string [`Writer::place`]d in
    /// the module's data.
    Pair(u32, u32),
    /// The string a [`Val::Property`] answer assembled: its pointer and
    /// length in locals 2 and 3.
    Built,
    /// A variant's (option's, result's) case, by discriminant, with its
    /// payload.
    Case(u32, Box<Val>),
    /// An enum's case, by name.
    Named(&'static str),
    /// A new handle of a resource (`interface`, `resource`), whose rep is
    /// given.
    Own(&'static str, &'static str, u32),
    /// The message of the error the method is called on (its rep).
    Message,
    /// Each index of the pollables polled: they are always ready.
    AllReady,
    /// `wasi:config/store.get(key)` with host properties denied: the
    /// value of the policy's property `key`, else the `upstream` error
    /// that names it, between `prefix` and `suffix`.
    Property {
        properties: Vec<(Val, Val)>,
        prefix: Box<Val>,
        suffix: Box<Val>,
    },
    /// By the rep of the handle in flat parameter `param`: the answer of
    /// each rep listed, the last one for any other.
    ByRep(u32, Vec<(u32, Val)>),
    /// A WASI 0.3 standard stream's `read-via-stream` (`input`) or
    /// `write-via-stream`, not the host's (`virtual-adapter/src/p3/stdio.rs`):
    /// stdin a new stream already at its end, the stream written to
    /// stdout or stderr dropped unread; and a new future whose value is
    /// `ok` (`ok`: the stream is quiet) or `err(io)` (denied).
    Piped { input: bool, ok: bool },
    /// [`Val::Piped`] once its future's value is placed in the statics (at
    /// `value`).
    PipedAt { input: bool, value: u32 },
    /// Drops the handles the function is given (each [`Owned`]), then
    /// answers the value: a function that takes ownership of what it
    /// refuses (`outgoing-handler.handle`).
    Consumes(Vec<Owned>, Box<Val>),
}

/// A handle a function is given to own: the flat parameter that holds it,
/// the one that says whether it is there (an `option`'s case) if it may
/// not be, and its resource (interface, name).
type Owned = (u32, Option<u32>, &'static str, &'static str);

/// What `future.write` returns while its reader has not read.
const BLOCKED: i32 = -1;

/// Stream reps, and the reps of the errors they fail with: `QUIET` reads
/// nothing and takes every write; a denied stream's is [`denied_rep`], and
/// its error's message is entry [`denied_rep`] of [`messages`].
const QUIET: u32 = 0;

/// The rep of `stream` denied.
fn denied_rep(stream: Stream) -> u32 {
    stream as u32 + 1
}

/// The errors' messages, by rep.
fn messages() -> Vec<Vec<String>> {
    let denied = Stream::ALL.map(|s| vec![format!("{}{DENIED_STREAM}", s.name())]);
    std::iter::once(vec![String::new()]).chain(denied).collect()
}

const STREAMS: &str = "wasi:io/streams";
const ERROR: &str = "wasi:io/error";
const POLL: &str = "wasi:io/poll";

fn ok(v: Val) -> Val {
    Val::Case(0, Box::new(v))
}

fn err(v: Val) -> Val {
    Val::Case(1, Box::new(v))
}

/// A stream's failure: `closed` for a quiet stream, else
/// `last-operation-failed` with a new error of the stream's message.
fn stream_error(rep: u32) -> Val {
    match rep {
        QUIET => err(Val::Case(1, Box::new(Val::Unit))),
        denied => err(Val::Case(0, Box::new(Val::Own(ERROR, "error", denied)))),
    }
}

/// What `streams` (denied, then quiet) answer, by the rep in flat
/// parameter `param`: the denied ones fail, the quiet one answers `quiet`.
fn by_stream(param: u32, streams: &[Stream], quiet: Val) -> Val {
    let denied = streams.iter().map(|s| denied_rep(*s));
    let cases = denied.map(|rep| (rep, stream_error(rep)));
    Val::ByRep(param, cases.chain([(QUIET, quiet)]).collect())
}

/// What an input stream's reads answer, by the rep in flat parameter `param`.
fn input_fails(param: u32) -> Val {
    by_stream(param, &[Stream::Stdin], stream_error(QUIET))
}

/// What an output stream answers, by its rep: `quiet` for the quiet one.
fn output(quiet: Val) -> Val {
    by_stream(0, &[Stream::Stdout, Stream::Stderr], quiet)
}

/// The fixed answer of `func` (of the unversioned interface `iface`) under
/// `config`, where the resources `impossible` cannot exist, if it has one.
fn answer(
    config: &Config<'_>,
    impossible: &[(&str, &str)],
    iface: &str,
    func: &str,
) -> Option<Val> {
    // A method of a resource that cannot exist is never called.
    if export_resource(&format!("{iface}#{func}")).is_some_and(|r| impossible.contains(&r)) {
        return Some(Val::Trap);
    }
    if let Some((stream, terminal)) = standard_stream(iface) {
        return stdio(config, stream, terminal);
    }
    Some(match iface {
        "wasi:cli/environment" => environment(config, func)?,
        "wasi:cli/exit" => (!config.allows(allow::EXIT)).then_some(Val::Trap)?,
        ERROR => (func == "[method]error.to-debug-string").then_some(Val::Message)?,
        POLL => match func {
            "poll" => Val::AllReady,
            "[method]pollable.ready" => Val::Int(1),
            "[method]pollable.block" => Val::Unit,
            _ => return None,
        },
        STREAMS => streams(func)?,
        "wasi:sockets/instance-network"
        | "wasi:sockets/tcp-create-socket"
        | "wasi:sockets/udp-create-socket"
        | "wasi:sockets/ip-name-lookup" => sockets(config, func)?,
        "wasi:config/store" => store(config, func)?,
        // HTTP denied (`http.rs`): the request, and its options if given,
        // dropped.
        OUTGOING_HANDLER if func == "handle" && !config.allows(allow::HTTP) => {
            let request = (0, None, HTTP_TYPES, "outgoing-request");
            let options = (2, Some(1), HTTP_TYPES, "request-options");
            let denied = err(Val::Named("HTTP-request-denied"));
            Val::Consumes(vec![request, options], Box::new(denied))
        }
        "wasi:clocks/monotonic-clock" | "wasi:clocks/wall-clock" => {
            let denied = !config.allows(allow::CLOCKS) && config.clock.is_none();
            denied.then_some(Val::Trap)?
        }
        "wasi:random/random" | "wasi:random/insecure" | "wasi:random/insecure-seed" => {
            let denied = !config.allows(allow::RANDOM) && config.random_seed.is_none();
            denied.then_some(Val::Trap)?
        }
        // No descriptor, so no preopen and no filesystem error.
        "wasi:filesystem/preopens" | FS_TYPES => match func {
            "get-directories" | "filesystem-error-code"
                if impossible.contains(&(FS_TYPES, "descriptor")) =>
            {
                Val::Zero
            }
            _ => return None,
        },
        _ => return None,
    })
}

/// The fixed answer of `func` of the WASI 0.3 interface `iface`
/// (unversioned) under `config`, where the resources `impossible` cannot
/// exist, if it has one. The adapter answers 0.3 through its 0.2 code
/// (`virtual-adapter/src/p3.rs`), so these are 0.2's answers in 0.3's
/// types, but for stdio (`p3/stdio.rs`: no terminal, whatever the mode),
/// sockets (`p3/sockets.rs`) and the filesystem (`p3/denied.rs`).
fn answer_0_3(
    config: &Config<'_>,
    impossible: &[(&str, &str)],
    iface: &str,
    func: &str,
) -> Option<Val> {
    if let Some((stream, terminal)) = standard_stream(iface) {
        if terminal {
            return Some(Val::Zero);
        }
        let ok = match config.stream(stream) {
            StdioMode::Allow => return None,
            StdioMode::Ignore => true,
            StdioMode::Deny => false,
        };
        let input = stream == Stream::Stdin;
        return Some(Val::Piped { input, ok });
    }
    let sockets_denied = !config.allows(allow::SOCKETS);
    match iface {
        "wasi:cli/environment" => {
            let func = if func == "get-initial-cwd" {
                "initial-cwd"
            } else {
                func
            };
            environment(config, func)
        }
        "wasi:clocks/system-clock" => answer(config, impossible, "wasi:clocks/wall-clock", func),
        // Creating a socket or looking a name up fails, so no socket exists
        // for a method to be called on.
        "wasi:sockets/types" | "wasi:sockets/ip-name-lookup" if sockets_denied => match func {
            "[static]tcp-socket.create" | "[static]udp-socket.create" | "resolve-addresses" => {
                Some(err(Val::Named("access-denied")))
            }
            _ => (iface == "wasi:sockets/types").then_some(Val::Trap),
        },
        _ => answer(config, impossible, iface, func),
    }
}

/// The standard stream a `wasi:cli` interface hands out, and whether it
/// hands out its terminal instead (`wasi:cli/terminal-stdout`).
fn standard_stream(iface: &str) -> Option<(Stream, bool)> {
    let name = iface.strip_prefix("wasi:cli/")?;
    let (name, terminal) = match name.strip_prefix("terminal-") {
        Some(name) => (name, true),
        None => (name, false),
    };
    let stream = Stream::ALL.into_iter().find(|s| s.name() == name)?;
    Some((stream, terminal))
}

/// `get-stdin` and the others (`stdio.rs`): a denied or quiet stream (a
/// baked stdin is the adapter's to read); a terminal only for the host's.
fn stdio(config: &Config<'_>, stream: Stream, terminal: bool) -> Option<Val> {
    let mode = config.stream(stream);
    if terminal {
        return (mode != StdioMode::Allow).then_some(Val::Zero);
    }
    let rep = match mode {
        StdioMode::Allow => return None,
        StdioMode::Ignore => QUIET,
        StdioMode::Deny => denied_rep(stream),
    };
    Some(match stream {
        Stream::Stdin => {
            config.stdin.is_none().then_some(())?;
            Val::Own(STREAMS, "input-stream", rep)
        }
        _ => Val::Own(STREAMS, "output-stream", rep),
    })
}

/// `wasi:cli/environment` sealed from the host's: the policy's variables,
/// arguments and cwd.
fn environment(config: &Config<'_>, func: &str) -> Option<Val> {
    let env = &config.env;
    if env.host != HostFilterMode::None {
        return None;
    }
    Some(match (func, &env.args, &env.cwd) {
        ("get-environment", _, _) => pairs(env.overrides.iter()),
        ("get-arguments", Source::Virtual(args), _) => {
            Val::Strings(args.iter().map(|a| vec![a.into()]).collect())
        }
        ("initial-cwd", _, Source::Virtual(None)) => Val::Zero,
        ("initial-cwd", _, Source::Virtual(Some(cwd))) => {
            Val::Case(1, Box::new(Val::Str((*cwd).into())))
        }
        _ => return None,
    })
}

/// A `list<tuple<string, string>>`.
fn pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Val {
    Val::Strings(pairs.map(|(k, v)| vec![k.into(), v.into()]).collect())
}

/// `wasi:sockets` denied (`sockets.rs`): a network to name, and
/// `access-denied` for every socket or lookup asked for, so no socket,
/// datagram stream or lookup stream exists for a method to be called on.
fn sockets(config: &Config<'_>, func: &str) -> Option<Val> {
    if config.allows(allow::SOCKETS) {
        return None;
    }
    Some(match func {
        "instance-network" => Val::Own("wasi:sockets/network", "network", 0),
        "create-tcp-socket" | "create-udp-socket" | "resolve-addresses" => {
            err(Val::Named("access-denied"))
        }
        _ => return None,
    })
}

/// `wasi:config/store` with host properties denied (`config.rs`): the
/// policy's properties, and for any other key the `upstream` error that
/// names it.
fn store(config: &Config<'_>, func: &str) -> Option<Val> {
    let store = &config.store;
    if store.host != HostFilterMode::None {
        return None;
    }
    let string = |s: &str| Val::Str(s.into());
    let (before, after) = UNSET_PROPERTY;
    Some(match func {
        "get" => Val::Property {
            properties: (store.properties.iter())
                .map(|(k, v)| (string(k), string(v)))
                .collect(),
            prefix: Box::new(string(before)),
            suffix: Box::new(string(after)),
        },
        "get-all" => ok(pairs(store.properties.iter())),
        _ => return None,
    })
}

/// The method of `resource` that `func` is, if it is one.
fn method<'f>(func: &'f str, resource: &str) -> Option<&'f str> {
    func.strip_prefix("[method]")?
        .strip_prefix(resource)?
        .strip_prefix('.')
}

/// `wasi:io/streams`, on the streams above: a quiet input stream is at its
/// end, a quiet output stream takes everything; a denied one fails.
fn streams(func: &str) -> Option<Val> {
    if let Some(m) = method(func, "input-stream") {
        return Some(match m {
            "read" | "blocking-read" | "skip" | "blocking-skip" => input_fails(0),
            "subscribe" => Val::Own(POLL, "pollable", 0),
            _ => return None,
        });
    }
    Some(match method(func, "output-stream")? {
        "check-write" => output(ok(Val::Int(SINK_BUDGET))),
        "write"
        | "blocking-write-and-flush"
        | "flush"
        | "blocking-flush"
        | "write-zeroes"
        | "blocking-write-zeroes-and-flush" => output(ok(Val::Zero)),
        "subscribe" => Val::Own(POLL, "pollable", 0),
        // A splice reads its source (every one here fails) after, when it
        // does not block, asking its destination how much it takes.
        "splice" => output(input_fails(1)),
        "blocking-splice" => input_fails(1),
        _ => return None,
    })
}

/// The module of fixed answers for the interfaces `exported` (each its
/// versioned name and its functions as the output exports them), where the
/// resources `impossible` cannot exist, or `None` if some function has no
/// fixed answer under `config`.
pub fn module(
    resolve: &Resolve,
    config: &[u8],
    impossible: &[(&str, &str)],
    exported: &[(String, InterfaceId)],
) -> Result<Option<Rewritten>> {
    let Ok(config) = Config::parse(config) else {
        bail!("the adapter's configuration does not decode");
    };
    if config.flags != 0 {
        return Ok(None);
    }
    let mut funcs = Vec::new();
    for (name, func, val) in answers(resolve, &config, impossible, exported) {
        // A module of answers alone defines no resource to be given (HTTP's
        // types have no fixed answers), so it drops none.
        let Some(val) = val.filter(|v| !matches!(v, Val::Consumes(..))) else {
            return Ok(None);
        };
        funcs.push((name, func, val));
    }
    // WASI 0.3's answers make no resource, so its names are not needed to
    // make one (and share the unversioned ones of 0.2).
    Writer::new(resolve, versions_0_2(exported))?.write(funcs)
}

/// Each unversioned WASI 0.2 interface of `exported`, and its name there.
fn versions_0_2(exported: &[(String, InterfaceId)]) -> BTreeMap<&str, &str> {
    (exported.iter())
        .filter_map(|(name, _)| name.split_once('@').map(|(i, v)| (i, v, name)))
        .filter(|(_, v, _)| !v.starts_with("0.3."))
        .map(|(i, _, name)| (i, name.as_str()))
        .collect()
}

/// The `[resource-drop]` import of `resource` of the unversioned interface
/// `iface`, named at its version in `versions`.
fn drop_import(
    versions: &BTreeMap<&str, &str>,
    iface: &str,
    resource: &str,
) -> Result<(String, String)> {
    let Some(versioned) = versions.get(iface) else {
        bail!("a fixed answer drops a `{resource}` of `{iface}`, which is not exported");
    };
    Ok((
        format!("[export]{versioned}"),
        format!("[resource-drop]{resource}"),
    ))
}

/// Each function of the interfaces `exported` (each its versioned name and
/// its functions as the output exports them), and its fixed answer under
/// `config` where the resources `impossible` cannot exist, if it has one.
fn answers<'e>(
    resolve: &'e Resolve,
    config: &Config<'_>,
    impossible: &[(&str, &str)],
    exported: &'e [(String, InterfaceId)],
) -> Vec<(&'e str, &'e WitFunction, Option<Val>)> {
    let mut all = Vec::new();
    for (name, id) in exported {
        let (unversioned, version) = name.split_once('@').unwrap_or((name, ""));
        let at_0_3 = version.starts_with("0.3.");
        for func in resolve.interfaces[*id].functions.values() {
            let val = match at_0_3 {
                true => answer_0_3(config, impossible, unversioned, &func.name),
                false => answer(config, impossible, unversioned, &func.name),
            };
            all.push((name.as_str(), func, val));
        }
    }
    all
}

/// Fixed answers for some of a specialized adapter's functions, where the
/// others need its code: those whose answer needs nothing of the
/// adapter's own (no handle made or read, no allocation, no built-in), so
/// that they answer alike beside its code. Only free functions: a
/// resource's methods answer for the handles of the module that made them
/// (a pollable of fixed answers is always ready; the adapter's clock's is
/// not). The rewrite
/// (`src/adapter/rewrite.rs`) exports each in place of the adapter's own
/// function, and the code only those reached goes.
pub struct Partial<'r> {
    resolve: &'r Resolve,
    /// Each answered function: its interface, as the output names it, the
    /// function, and its answer.
    funcs: Vec<(&'r str, &'r WitFunction, Val)>,
    /// Each unversioned WASI 0.2 interface, as the output names it.
    versions: BTreeMap<&'r str, &'r str>,
}

impl<'r> Partial<'r> {
    /// The answers that stand alone of the functions of `exported`, under
    /// `config`, where the resources `impossible` cannot exist; none under
    /// `--debug`, which traces every call.
    pub fn new(
        resolve: &'r Resolve,
        config: &[u8],
        impossible: &[(&str, &str)],
        exported: &'r [(String, InterfaceId)],
    ) -> Result<Self> {
        let Ok(config) = Config::parse(config) else {
            bail!("the adapter's configuration does not decode");
        };
        let funcs = match config.flags {
            0 => answers(resolve, &config, impossible, exported)
                .into_iter()
                .filter(|(_, func, _)| func.kind.resource().is_none())
                .filter_map(|(name, func, val)| Some((name, func, val.filter(stands_alone)?)))
                .collect(),
            _ => Vec::new(),
        };
        let versions = versions_0_2(exported);
        Ok(Partial {
            resolve,
            funcs,
            versions,
        })
    }

    /// The adapter's imports (`module`, `name`) that answer `k` calls: the
    /// `[resource-drop]`s of what it is given to own.
    pub fn calls(&self, k: usize) -> Result<Vec<(String, String)>> {
        match &self.funcs[k].2 {
            Val::Consumes(owned, _) => (owned.iter())
                .map(|&(_, _, iface, resource)| drop_import(&self.versions, iface, resource))
                .collect(),
            _ => Ok(Vec::new()),
        }
    }

    /// Whether no function is answered.
    pub fn is_empty(&self) -> bool {
        self.funcs.is_empty()
    }

    /// How many functions are answered.
    pub fn len(&self) -> usize {
        self.funcs.len()
    }

    /// The answer, by index, of the adapter's export `name` as built
    /// (`wasi:cli/environment@0.2.12#get-environment`), if it has one.
    pub fn of(&self, name: &str) -> Option<usize> {
        let (iface, func) = name.split_once('#')?;
        let (path, version) = iface.split_once('@')?;
        let at_0_3 = |v: &str| v.starts_with("0.3.");
        self.funcs.iter().position(|(i, f, _)| {
            let (p, v) = i.split_once('@').unwrap_or((i, ""));
            f.name == func && p == path && at_0_3(v) == at_0_3(version)
        })
    }

    /// The answers' bodies, by index, and the bytes they read, which go at
    /// `base`; and how many bytes from `base` they use (those, then their
    /// return area). `calls` has the function index of each import they
    /// call ([`Partial::calls`]).
    pub fn write(
        &self,
        base: u32,
        calls: &BTreeMap<(String, String), u32>,
    ) -> Result<(Vec<Function>, Vec<u8>, u32)> {
        let mut writer = Writer::new(self.resolve, self.versions.clone())?;
        writer.base = base;
        writer.calls = calls.clone();
        let vals: Vec<Val> = (self.funcs.iter())
            .map(|(_, _, val)| writer.place(val.clone()))
            .collect();
        writer.ret = (base + writer.statics.len() as u32).next_multiple_of(8);
        let mut bodies = Vec::with_capacity(vals.len());
        for ((iface, func, _), val) in self.funcs.iter().zip(&vals) {
            let sig = self.resolve.wasm_signature(AbiVariant::GuestExport, func);
            let results: Vec<ValType> = sig.results.iter().map(|t| core(*t)).collect();
            bodies.push(writer.body(iface, func, val, sig.retptr, &results)?);
        }
        let used = writer.ret + RETURN_AREA - base;
        Ok((bodies, writer.statics, used))
    }
}

/// Whether the answer `val` needs nothing of the module it is in but the
/// bytes it reads and its return area.
fn stands_alone(val: &Val) -> bool {
    match val {
        Val::Trap | Val::Unit | Val::Zero | Val::Int(_) | Val::Strings(_) | Val::Str(_) => true,
        Val::Named(_) => true,
        Val::Case(_, payload) | Val::Consumes(_, payload) => stands_alone(payload),
        _ => false,
    }
}

/// Where the module's memory holds what: the statics (the lists and strings
/// answers return, and the errors' messages), the return area, then what
/// `cabi_realloc` hands out.
const STATICS: u32 = 16;

/// The bytes of the return area: more than any result written there.
const RETURN_AREA: u32 = 64;

/// Writes the module.
struct Writer<'r> {
    resolve: &'r Resolve,
    sizes: SizeAlign,
    /// Each unversioned interface's name in the output.
    versions: BTreeMap<&'r str, &'r str>,
    /// The `[resource-new]` imports, by `(interface, resource)`: their
    /// function indices are their positions; and their type.
    news: Vec<(&'static str, &'static str)>,
    new_type: u32,
    /// The component model's built-ins that [`Val::PipedAt`] answers call
    /// (`module`, `name`, type), imported after the `[resource-new]`s.
    builtins: Vec<(String, String, u32)>,
    /// The function index of each import (`module`, `name`) that answers
    /// call other than `[resource-new]`s: the built-ins imported here, or,
    /// written into the adapter ([`Partial`]), the adapter's imports.
    calls: BTreeMap<(String, String), u32>,
    /// Where the statics start: [`STATICS`] in a module of answers alone.
    base: u32,
    /// The lists and strings answers return, from `base`.
    statics: Vec<u8>,
    /// The errors' messages, a `(pointer, length)` pair each, by rep.
    messages: u32,
    /// The return area's address, once the statics are placed.
    ret: u32,
    /// The function indices of `cabi_realloc` and of the byte-string
    /// comparison [`Val::Property`] needs, once the answers are counted.
    realloc: u32,
    eq: u32,
    types: Vec<(Vec<ValType>, Vec<ValType>)>,
}

impl<'r> Writer<'r> {
    fn new(resolve: &'r Resolve, versions: BTreeMap<&'r str, &'r str>) -> Result<Self> {
        let mut sizes = SizeAlign::default();
        sizes.fill(resolve)?;
        Ok(Writer {
            resolve,
            base: STATICS,
            sizes,
            versions,
            news: Vec::new(),
            new_type: 0,
            builtins: Vec::new(),
            calls: BTreeMap::new(),
            statics: Vec::new(),
            messages: 0,
            ret: 0,
            realloc: 0,
            eq: 0,
            types: Vec::new(),
        })
    }

    /// The module, or `None` if an answer makes a resource of an interface
    /// the output does not export.
    fn write(mut self, funcs: Vec<(&str, &WitFunction, Val)>) -> Result<Option<Rewritten>> {
        let mut placed = Vec::with_capacity(funcs.len());
        for (iface, func, val) in funcs {
            let val = self.place_answer(func, val)?;
            if let Val::PipedAt { input, .. } = val {
                self.note_builtins(iface, &func.name, input);
            }
            placed.push((iface, func, val));
        }
        let funcs = placed;
        if funcs.iter().any(|(_, _, v)| *v == Val::Message) {
            self.messages = self.place_strings(&messages()).0;
        }
        self.ret = (self.base + self.statics.len() as u32).next_multiple_of(8);
        for (_, _, val) in &funcs {
            self.note_news(val);
        }
        if self
            .news
            .iter()
            .any(|(i, _)| !self.versions.contains_key(i))
        {
            return Ok(None);
        }
        let mut code = CodeSection::new();
        let mut functions = FunctionSection::new();
        let mut exports = ExportSection::new();
        for (k, (module, name, _)) in self.builtins.iter().enumerate() {
            let index = (self.news.len() + k) as u32;
            self.calls.insert((module.clone(), name.clone()), index);
        }
        let first = (self.news.len() + self.builtins.len()) as u32;
        self.realloc = first + funcs.len() as u32;
        self.eq = self.realloc + 1;
        for (k, (iface, func, val)) in funcs.iter().enumerate() {
            let sig = self.resolve.wasm_signature(AbiVariant::GuestExport, func);
            let params: Vec<ValType> = sig.params.iter().map(|t| core(*t)).collect();
            let results: Vec<ValType> = sig.results.iter().map(|t| core(*t)).collect();
            functions.function(self.ty(params, results.clone()));
            code.function(&self.body(iface, func, val, sig.retptr, &results)?);
            let legacy = format!("{iface}#{}", func.name);
            exports.export(
                &standard_export_name(&legacy),
                ExportKind::Func,
                first + k as u32,
            );
        }
        let four = self.ty(vec![ValType::I32; 4], vec![ValType::I32]);
        functions.function(four);
        code.function(&self.realloc());
        exports.export("cabi_realloc", ExportKind::Func, self.realloc);
        if funcs
            .iter()
            .any(|(_, _, v)| matches!(v, Val::Property { .. }))
        {
            functions.function(four);
            code.function(&bytes_equal());
        }
        exports.export("memory", ExportKind::Memory, 0);
        self.finish(functions, code, exports).map(Some)
    }

    fn finish(
        &self,
        functions: FunctionSection,
        code: CodeSection,
        exports: ExportSection,
    ) -> Result<Rewritten> {
        let mut types = TypeSection::new();
        for (params, results) in &self.types {
            types
                .ty()
                .function(params.iter().copied(), results.iter().copied());
        }
        let mut imports = ImportSection::new();
        let mut imported = Vec::new();
        for (iface, resource) in &self.news {
            let module = format!("[export]{}", self.versions[iface]);
            let name = format!("[resource-new]{resource}");
            imports.import(&module, &name, EntityType::Function(self.new_type));
            imported.push((module, name));
        }
        for (module, name, ty) in &self.builtins {
            imports.import(module, name, EntityType::Function(*ty));
            imported.push((module.clone(), name.clone()));
        }
        let mut memory = MemorySection::new();
        memory.memory(MemoryType {
            // The statics and the return area; allocations grow it.
            minimum: u64::from(self.heap()).div_ceil(1 << 16),
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        let mut module = Module::new();
        module.section(&types);
        module.section(&imports);
        module.section(&functions);
        module.section(&memory);
        module.section(&exports);
        module.section(&code);
        if !self.statics.is_empty() {
            let mut data = DataSection::new();
            let at = ConstExpr::i32_const(self.base as i32);
            data.active(0, &at, self.statics.iter().copied());
            module.section(&data);
        }
        Ok(Rewritten {
            module: module.finish(),
            imports: imported,
        })
    }

    /// `val` with its lists and strings placed in the statics, each a
    /// [`Val::Pair`]: a list's entries (a `(pointer, length)` pair per
    /// string) first, then their text.
    fn place(&mut self, val: Val) -> Val {
        match val {
            Val::Strings(entries) => {
                let (at, _) = self.place_strings(&entries);
                Val::Pair(at, entries.len() as u32)
            }
            Val::Str(s) => Val::Pair(self.place_bytes(s.as_bytes()), s.len() as u32),
            Val::Case(case, payload) => Val::Case(case, Box::new(self.place(*payload))),
            Val::Property {
                properties,
                prefix,
                suffix,
            } => Val::Property {
                properties: (properties.into_iter())
                    .map(|(k, v)| (self.place(k), self.place(v)))
                    .collect(),
                prefix: Box::new(self.place(*prefix)),
                suffix: Box::new(self.place(*suffix)),
            },
            Val::ByRep(param, cases) => Val::ByRep(
                param,
                (cases.into_iter())
                    .map(|(rep, v)| (rep, self.place(v)))
                    .collect(),
            ),
            other => other,
        }
    }

    /// Places `entries`' strings (each entry one or more), a `(pointer,
    /// length)` pair per string, then their text: their address, and how
    /// many strings.
    fn place_strings(&mut self, entries: &[Vec<String>]) -> (u32, u32) {
        let strings = entries.iter().flatten();
        let at = self.base + self.statics.len() as u32;
        let mut text_at = at + 8 * strings.clone().count() as u32;
        let mut text: Vec<u8> = Vec::new();
        for s in strings.clone() {
            self.statics.extend(text_at.to_le_bytes());
            self.statics.extend((s.len() as u32).to_le_bytes());
            text.extend(s.as_bytes());
            text_at += s.len() as u32;
        }
        self.place_bytes(&text);
        (at, strings.count() as u32)
    }

    /// Places `bytes`: their address.
    fn place_bytes(&mut self, bytes: &[u8]) -> u32 {
        let at = self.base + self.statics.len() as u32;
        self.statics.extend(bytes);
        let len = self.statics.len().next_multiple_of(4);
        self.statics.resize(len, 0);
        at
    }

    /// `val` [`place`](Writer::place)d, and a [`Val::Piped`] answer of
    /// `func` with its future's value placed.
    fn place_answer(&mut self, func: &WitFunction, val: Val) -> Result<Val> {
        let Val::Piped { input, ok } = val else {
            return Ok(self.place(val));
        };
        let value = self.future_value(func, ok)?;
        let value = self.place_bytes(&value);
        Ok(Val::PipedAt { input, value })
    }

    /// The bytes of `ok`, or else `err(io)`, of the `future<result<_,
    /// error-code>>` that `func` returns (alone, or after its stream), as
    /// `future.write` reads them.
    fn future_value(&self, func: &WitFunction, ok: bool) -> Result<Vec<u8>> {
        let result = func.result.as_ref();
        let future = match result.and_then(|t| self.kind(t)) {
            Some(TypeDefKind::Tuple(t)) => t.types.get(1),
            _ => result,
        };
        let value = match future.and_then(|t| self.kind(t)) {
            Some(TypeDefKind::Future(Some(value))) => value,
            _ => bail!("`{}` returns no future of a value", func.name),
        };
        let Some(TypeDefKind::Result(r)) = self.kind(value) else {
            bail!("`{}`'s future is not of a result", func.name);
        };
        let mut bytes = vec![0; self.sizes.size(value).size_wasm32()];
        if !ok {
            let io = match r.err.as_ref().and_then(|t| self.kind(t)) {
                Some(TypeDefKind::Enum(e)) => e.cases.iter().position(|c| c.name == "io"),
                _ => None,
            };
            let Some(io) = io else {
                bail!("`{}`'s future has no `io` error", func.name);
            };
            let cases = [r.ok.as_ref(), r.err.as_ref()];
            let at = self.sizes.payload_offset(wit_parser::Int::U8, cases);
            bytes[0] = 1;
            bytes[at.size_wasm32()] = io as u8;
        }
        Ok(bytes)
    }

    /// Notes the built-ins that the [`Val::PipedAt`] answer of `func` (of
    /// the interface `iface`, versioned) calls: its stream is the
    /// function's first stream or future, its future the second.
    fn note_builtins(&mut self, iface: &str, func: &str, input: bool) {
        use ValType::{I32, I64};
        let mut noted = Vec::new();
        if input {
            noted.push(("[stream-new-0]", vec![], vec![I64]));
            noted.push(("[stream-drop-writable-0]", vec![I32], vec![]));
        } else {
            noted.push(("[stream-drop-readable-0]", vec![I32], vec![]));
        }
        noted.push(("[future-new-1]", vec![], vec![I64]));
        noted.push(("[async-lower][future-write-1]", vec![I32; 2], vec![I32]));
        noted.push(("[future-drop-writable-1]", vec![I32], vec![]));
        let module = format!("[export]{iface}");
        for (prefix, params, results) in noted {
            let ty = self.ty(params, results);
            self.builtins
                .push((module.clone(), format!("{prefix}{func}"), ty));
        }
    }

    /// The function index of the import `name` of `module` that an answer
    /// calls ([`Writer::calls`]).
    fn call(&self, module: String, name: String) -> Result<u32> {
        match self.calls.get(&(module, name)) {
            Some(&index) => Ok(index),
            None => bail!("an answer calls an import that is not numbered"),
        }
    }

    /// Notes the `[resource-new]` imports that `val` calls.
    fn note_news(&mut self, val: &Val) {
        match val {
            Val::Own(iface, resource, _) if !self.news.contains(&(iface, resource)) => {
                self.new_type = self.ty(vec![ValType::I32], vec![ValType::I32]);
                self.news.push((iface, resource));
            }
            Val::Case(_, payload) => self.note_news(payload),
            Val::ByRep(_, cases) => cases.iter().for_each(|(_, v)| self.note_news(v)),
            _ => {}
        }
    }

    fn ty(&mut self, params: Vec<ValType>, results: Vec<ValType>) -> u32 {
        let ty = (params, results);
        match self.types.iter().position(|t| *t == ty) {
            Some(i) => i as u32,
            None => {
                self.types.push(ty);
                self.types.len() as u32 - 1
            }
        }
    }

    /// The function answering `val`: its result returned flat, or written
    /// to the return area (`retptr`) whose address it returns.
    fn body(
        &self,
        iface: &str,
        func: &WitFunction,
        val: &Val,
        retptr: bool,
        results: &[ValType],
    ) -> Result<Function> {
        let mut f = Function::new([]);
        let val = match val {
            // Only before an answer that the body's first instructions give.
            Val::Consumes(_, then)
                if matches!(
                    **then,
                    Val::Property { .. } | Val::AllReady | Val::PipedAt { .. }
                ) =>
            {
                bail!(
                    "`{}` cannot drop what it is given before its answer",
                    func.name
                )
            }
            Val::Consumes(owned, then) => {
                self.drop_owned(&mut f, owned)?;
                &**then
            }
            val => val,
        };
        match (val, &func.result) {
            (Val::Trap, _) => {
                f.instruction(&I::Unreachable);
            }
            (Val::Message, _) => {
                // The table's entry for the error's rep is its string.
                f.instruction(&I::LocalGet(0));
                f.instruction(&I::I32Const(3));
                f.instruction(&I::I32Shl);
                f.instruction(&I::I32Const(self.messages as i32));
                f.instruction(&I::I32Add);
            }
            (Val::AllReady, _) => self.all_ready(&mut f),
            (&Val::PipedAt { input, value }, _) => {
                f = self.piped(iface, &func.name, input, value)?;
            }
            (Val::Property { .. }, Some(ty)) => self.property(&mut f, val, ty)?,
            (_, Some(ty)) if retptr => {
                let size = self.sizes.size(ty).size_wasm32() as i32;
                if size > RETURN_AREA as i32 {
                    bail!(
                        "`{}` returns more than a fixed answer's return area holds",
                        func.name
                    );
                }
                f.instruction(&I::I32Const(self.ret as i32));
                f.instruction(&I::I32Const(0));
                f.instruction(&I::I32Const(size));
                f.instruction(&I::MemoryFill(0));
                self.store(&mut f, val, ty, self.ret)?;
                f.instruction(&I::I32Const(self.ret as i32));
            }
            _ => self.flat(&mut f, val, results.first().copied())?,
        }
        f.instruction(&I::End);
        Ok(f)
    }

    /// Leaves `val` as the one flat result of type `core` (nothing when the
    /// function has no result).
    fn flat(&self, f: &mut Function, val: &Val, core: Option<ValType>) -> Result<()> {
        match (val, core) {
            (Val::Unit, None) => {}
            (Val::Zero | Val::Int(_), Some(core)) => {
                let n = if let Val::Int(n) = val { *n } else { 0 };
                f.instruction(&match core {
                    ValType::I64 => I::I64Const(n as i64),
                    _ => I::I32Const(n as i32),
                });
            }
            (Val::Own(..), Some(ValType::I32)) => emit(f, &self.own(val)?),
            (Val::ByRep(param, cases), _) => {
                let block = match core {
                    Some(t) => BlockType::Result(t),
                    None => BlockType::Empty,
                };
                self.by_rep(f, *param, cases, block, &mut |w, f, v| w.flat(f, v, core))?;
            }
            _ => bail!("no flat form for the fixed answer {val:?}"),
        }
        Ok(())
    }

    /// Writes `val` of type `ty` at `addr` (already zeroed).
    fn store(&self, f: &mut Function, val: &Val, ty: &Type, addr: u32) -> Result<()> {
        let size = self.sizes.size(ty).size_wasm32() as u32;
        match val {
            Val::Zero | Val::Unit => {}
            Val::Int(n) if size == 8 => put(f, addr, &[I::I64Const(*n as i64)], 8),
            Val::Int(n) => put(f, addr, &[I::I32Const(*n as i32)], size),
            Val::Own(..) => put(f, addr, &self.own(val)?, 4),
            Val::Named(name) => {
                // An enum's case, or a variant's without a payload (WASI
                // 0.3's error codes are variants).
                let case = match self.kind(ty) {
                    Some(TypeDefKind::Enum(e)) if size == 1 => {
                        e.cases.iter().position(|c| c.name == *name)
                    }
                    Some(TypeDefKind::Variant(v)) if v.cases.len() <= 256 => {
                        (v.cases.iter()).position(|c| c.name == *name && c.ty.is_none())
                    }
                    _ => None,
                };
                let Some(case) = case else {
                    bail!("`{name}` is no case of a one-byte enum, nor one without a payload");
                };
                put(f, addr, &[I::I32Const(case as i32)], 1);
            }
            Val::Pair(ptr, len) => {
                put(f, addr, &[I::I32Const(*ptr as i32)], 4);
                put(f, addr + 4, &[I::I32Const(*len as i32)], 4);
            }
            Val::Built => {
                put(f, addr, &[I::LocalGet(2)], 4);
                put(f, addr + 4, &[I::LocalGet(3)], 4);
            }
            Val::Case(case, payload) => {
                let cases = self.cases(ty)?;
                if cases.len() > 256 {
                    bail!("a fixed answer's variant has more than 256 cases");
                }
                if *case != 0 {
                    put(f, addr, &[I::I32Const(*case as i32)], 1);
                }
                let at = self
                    .sizes
                    .payload_offset(wit_parser::Int::U8, cases.iter().map(|c| c.as_ref()))
                    .size_wasm32() as u32;
                match cases.get(*case as usize) {
                    Some(Some(inner)) => self.store(f, payload, inner, addr + at)?,
                    Some(None) => {}
                    None => bail!("a fixed answer names case {case}, which its type lacks"),
                }
            }
            Val::ByRep(param, cases) => {
                self.by_rep(f, *param, cases, BlockType::Empty, &mut |w, f, v| {
                    w.store(f, v, ty, addr)
                })?;
            }
            _ => bail!("no stored form for the fixed answer {val:?}"),
        }
        Ok(())
    }

    /// The cases of the variant-like type `ty`, each with its payload.
    fn cases(&self, ty: &Type) -> Result<Vec<Option<Type>>> {
        Ok(match self.kind(ty) {
            Some(TypeDefKind::Option(t)) => vec![None, Some(*t)],
            Some(TypeDefKind::Result(r)) => vec![r.ok, r.err],
            Some(TypeDefKind::Variant(v)) => v.cases.iter().map(|c| c.ty).collect(),
            Some(TypeDefKind::Enum(e)) => vec![None; e.cases.len()],
            _ => bail!("a fixed answer's case is not of a variant"),
        })
    }

    /// What the named type `ty` is, through its aliases (`use`).
    fn kind(&self, ty: &Type) -> Option<&'r TypeDefKind> {
        let Type::Id(id) = ty else {
            return None;
        };
        match &self.resolve.types[*id].kind {
            TypeDefKind::Type(t) => self.kind(t),
            kind => Some(kind),
        }
    }

    /// Drops each handle of `owned` through its resource's
    /// `[resource-drop]`, which runs its destructor.
    fn drop_owned(&self, f: &mut Function, owned: &[Owned]) -> Result<()> {
        for &(param, present, iface, resource) in owned {
            let (module, name) = drop_import(&self.versions, iface, resource)?;
            let drop = self.call(module, name)?;
            if let Some(case) = present {
                emit(f, &[I::LocalGet(case), I::If(BlockType::Empty)]);
            }
            emit(f, &[I::LocalGet(param), I::Call(drop)]);
            if present.is_some() {
                f.instruction(&I::End);
            }
        }
        Ok(())
    }

    /// The call of the `[resource-new]` of `val`'s resource with its rep.
    fn own(&self, val: &Val) -> Result<[I<'static>; 2]> {
        let Val::Own(iface, resource, rep) = val else {
            bail!("not a new handle: {val:?}");
        };
        let Some(new) = self.news.iter().position(|n| *n == (*iface, *resource)) else {
            bail!("`{iface}`'s `{resource}` was not noted before writing");
        };
        Ok([I::I32Const(*rep as i32), I::Call(new as u32)])
    }

    /// `if` the rep in flat parameter `param` is each listed one, its
    /// answer; the last answer otherwise.
    fn by_rep(
        &self,
        f: &mut Function,
        param: u32,
        cases: &[(u32, Val)],
        block: BlockType,
        each: &mut dyn FnMut(&Self, &mut Function, &Val) -> Result<()>,
    ) -> Result<()> {
        let Some(((_, last), rest)) = cases.split_last() else {
            bail!("a fixed answer by rep has no case");
        };
        for (rep, val) in rest {
            f.instruction(&I::LocalGet(param));
            f.instruction(&I::I32Const(*rep as i32));
            f.instruction(&I::I32Eq);
            f.instruction(&I::If(block));
            each(self, f, val)?;
            f.instruction(&I::Else);
        }
        each(self, f, last)?;
        for _ in rest {
            f.instruction(&I::End);
        }
        Ok(())
    }

    /// `get(key)` answered by [`Val::Property`]: the property's value if
    /// the key is one, else the `upstream` error naming the key, assembled
    /// past the key (which `cabi_realloc` placed at the allocation
    /// address), the memory grown to hold it.
    fn property(&self, f: &mut Function, val: &Val, ty: &Type) -> Result<()> {
        let Val::Property {
            properties,
            prefix,
            suffix,
        } = val
        else {
            bail!("not a property's answer");
        };
        let (&Val::Pair(prefix_at, prefix_len), &Val::Pair(suffix_at, suffix_len)) =
            (&**prefix, &**suffix)
        else {
            bail!("a property's error text is not placed");
        };
        // Locals: 0 and 1 the key, 2 and 3 the error's text.
        *f = Function::new([(2, ValType::I32)]);
        let size = self.sizes.size(ty).size_wasm32() as i32;
        emit(
            f,
            &[
                I::I32Const(self.ret as i32),
                I::I32Const(0),
                I::I32Const(size),
            ],
        );
        f.instruction(&I::MemoryFill(0));
        for (key, value) in properties {
            let Val::Pair(key_at, key_len) = key else {
                bail!("a property's key is not placed");
            };
            f.instruction(&I::LocalGet(0));
            f.instruction(&I::LocalGet(1));
            f.instruction(&I::I32Const(*key_at as i32));
            f.instruction(&I::I32Const(*key_len as i32));
            f.instruction(&I::Call(self.eq));
            f.instruction(&I::If(BlockType::Empty));
            self.store(f, &ok(Val::Case(1, Box::new(value.clone()))), ty, self.ret)?;
            f.instruction(&I::I32Const(self.ret as i32));
            f.instruction(&I::Return);
            f.instruction(&I::End);
        }
        // Room for the key twice and the text around it; the text at the
        // allocation address past the key's length: the prefix, the key,
        // the suffix.
        let around = (prefix_len + suffix_len) as i32;
        let (p, heap) = (prefix_len as i32, self.heap() as i32);
        let copy = I::MemoryCopy {
            src_mem: 0,
            dst_mem: 0,
        };
        #[rustfmt::skip]
        emit(f, &[
            I::I32Const(0), I::I32Const(0), I::I32Const(1),
            I::LocalGet(1), I::LocalGet(1), I::I32Add, I::I32Const(around), I::I32Add,
            I::Call(self.realloc), I::Drop,
            I::I32Const(heap), I::LocalGet(1), I::I32Add, I::LocalSet(2),
            I::LocalGet(2), I::I32Const(prefix_at as i32), I::I32Const(p), copy.clone(),
            I::LocalGet(2), I::I32Const(p), I::I32Add, I::LocalGet(0), I::LocalGet(1), copy.clone(),
            I::LocalGet(2), I::I32Const(p), I::I32Add, I::LocalGet(1), I::I32Add,
            I::I32Const(suffix_at as i32), I::I32Const(suffix_len as i32), copy,
            I::LocalGet(1), I::I32Const(around), I::I32Add, I::LocalSet(3),
        ]);
        let upstream = Val::Case(0, Box::new(Val::Built));
        self.store(f, &err(upstream), ty, self.ret)?;
        f.instruction(&I::I32Const(self.ret as i32));
        Ok(())
    }

    /// A [`Val::PipedAt`] answer of `func` (of the interface `iface`),
    /// whose future's value is at `value`. `read-via-stream` returns its
    /// stream and future in the return area; `write-via-stream` drops the
    /// stream it is given (parameter 0) and returns its future.
    fn piped(&self, iface: &str, func: &str, input: bool, value: u32) -> Result<Function> {
        let builtin = |prefix| self.call(format!("[export]{iface}"), format!("{prefix}{func}"));
        // Locals after the parameters: the handles `*.new` returns (the
        // readable end in the low half), and the future's writable end.
        let first = u32::from(!input);
        let (handles, writer) = (first, first + 1);
        let mut f = Function::new([(1, ValType::I64), (1, ValType::I32)]);
        let high = [I::I64Const(32), I::I64ShrU, I::I32WrapI64];
        if input {
            emit(
                &mut f,
                &[I::Call(builtin("[stream-new-0]")?), I::LocalTee(handles)],
            );
            emit(&mut f, &high);
            f.instruction(&I::Call(builtin("[stream-drop-writable-0]")?));
            put(&mut f, self.ret, &[I::LocalGet(handles), I::I32WrapI64], 4);
            f.instruction(&I::I32Const(self.ret as i32 + 4));
        } else {
            emit(
                &mut f,
                &[
                    I::LocalGet(0),
                    I::Call(builtin("[stream-drop-readable-0]")?),
                ],
            );
        }
        // The future's value is written now; while its reader has not read
        // it the write stays pending (`BLOCKED`), and the writer is kept.
        emit(
            &mut f,
            &[I::Call(builtin("[future-new-1]")?), I::LocalTee(handles)],
        );
        emit(&mut f, &high);
        #[rustfmt::skip]
        emit(&mut f, &[
            I::LocalTee(writer), I::I32Const(value as i32),
            I::Call(builtin("[async-lower][future-write-1]")?),
            I::I32Const(BLOCKED), I::I32Ne, I::If(BlockType::Empty),
            I::LocalGet(writer), I::Call(builtin("[future-drop-writable-1]")?),
            I::End,
            I::LocalGet(handles), I::I32WrapI64,
        ]);
        if input {
            f.instruction(&I::I32Store(mem_arg(2)));
            f.instruction(&I::I32Const(self.ret as i32));
        }
        Ok(f)
    }

    /// `poll(list<borrow<pollable>>)`: every pollable here is ready, so
    /// the answer is each index, written over the list itself (which
    /// `cabi_realloc` placed in this module's memory). Polling nothing
    /// traps, as a host's `poll` does.
    fn all_ready(&self, f: &mut Function) {
        // Locals: 0 the list, 1 its length, 2 the index.
        *f = Function::new([(1, ValType::I32)]);
        f.instruction(&I::LocalGet(1));
        f.instruction(&I::I32Eqz);
        f.instruction(&I::If(BlockType::Empty));
        f.instruction(&I::Unreachable);
        f.instruction(&I::End);
        f.instruction(&I::Loop(BlockType::Empty));
        f.instruction(&I::LocalGet(0));
        f.instruction(&I::LocalGet(2));
        f.instruction(&I::I32Const(2));
        f.instruction(&I::I32Shl);
        f.instruction(&I::I32Add);
        f.instruction(&I::LocalGet(2));
        f.instruction(&I::I32Store(mem_arg(2)));
        f.instruction(&I::LocalGet(2));
        f.instruction(&I::I32Const(1));
        f.instruction(&I::I32Add);
        f.instruction(&I::LocalTee(2));
        f.instruction(&I::LocalGet(1));
        f.instruction(&I::I32LtU);
        f.instruction(&I::BrIf(0));
        f.instruction(&I::End);
        put(f, self.ret, &[I::LocalGet(0)], 4);
        put(f, self.ret + 4, &[I::LocalGet(1)], 4);
        f.instruction(&I::I32Const(self.ret as i32));
    }

    /// Where `cabi_realloc` allocates: past the return area.
    fn heap(&self) -> u32 {
        (self.ret + RETURN_AREA).next_multiple_of(16)
    }

    /// `cabi_realloc(old, old_size, align, size)`: every allocation is at
    /// the same address, past the return area, the memory grown to hold
    /// it. What a caller writes there (a list it passes) is never read
    /// again once the call returns; a call's one list (`poll`'s) is.
    fn realloc(&self) -> Function {
        // Local 4: the pages missing.
        let mut f = Function::new([(1, ValType::I32)]);
        let heap = self.heap();
        f.instruction(&I::LocalGet(3));
        f.instruction(&I::I32Const(heap as i32 + 0xffff));
        f.instruction(&I::I32Add);
        f.instruction(&I::I32Const(16));
        f.instruction(&I::I32ShrU);
        f.instruction(&I::MemorySize(0));
        f.instruction(&I::I32Sub);
        f.instruction(&I::LocalTee(4));
        f.instruction(&I::I32Const(0));
        f.instruction(&I::I32GtS);
        f.instruction(&I::If(BlockType::Empty));
        f.instruction(&I::LocalGet(4));
        f.instruction(&I::MemoryGrow(0));
        f.instruction(&I::I32Const(-1));
        f.instruction(&I::I32Eq);
        f.instruction(&I::If(BlockType::Empty));
        f.instruction(&I::Unreachable);
        f.instruction(&I::End);
        f.instruction(&I::End);
        f.instruction(&I::I32Const(heap as i32));
        f.instruction(&I::End);
        f
    }
}

/// A memory access of memory 0 at offset 0, aligned to `2^align`.
fn mem_arg(align: u32) -> MemArg {
    MemArg {
        offset: 0,
        align,
        target: Default::default(),
        ordering: None,
    }
}

/// Appends `instructions` to `f`.
fn emit(f: &mut Function, instructions: &[I<'_>]) {
    for i in instructions {
        f.instruction(i);
    }
}

/// Stores the value `value` leaves at `addr`, `width` bytes of it.
fn put(f: &mut Function, addr: u32, value: &[I<'_>], width: u32) {
    f.instruction(&I::I32Const(addr as i32));
    emit(f, value);
    f.instruction(&match width {
        1 => I::I32Store8(mem_arg(0)),
        2 => I::I32Store16(mem_arg(1)),
        4 => I::I32Store(mem_arg(2)),
        _ => I::I64Store(mem_arg(3)),
    });
}

/// `(a, a_len, b, b_len) -> bool`: whether two byte strings in memory are
/// the same.
fn bytes_equal() -> Function {
    // Local 4: the index.
    let mut f = Function::new([(1, ValType::I32)]);
    let unequal = [I::If(BlockType::Empty), I::I32Const(0), I::Return, I::End];
    emit(&mut f, &[I::LocalGet(1), I::LocalGet(3), I::I32Ne]);
    emit(&mut f, &unequal);
    f.instruction(&I::Block(BlockType::Empty));
    f.instruction(&I::Loop(BlockType::Empty));
    emit(
        &mut f,
        &[I::LocalGet(4), I::LocalGet(1), I::I32GeU, I::BrIf(1)],
    );
    for base in [0, 2] {
        f.instruction(&I::LocalGet(base));
        f.instruction(&I::LocalGet(4));
        f.instruction(&I::I32Add);
        f.instruction(&I::I32Load8U(mem_arg(0)));
    }
    f.instruction(&I::I32Ne);
    emit(&mut f, &unequal);
    emit(
        &mut f,
        &[
            I::LocalGet(4),
            I::I32Const(1),
            I::I32Add,
            I::LocalSet(4),
            I::Br(0),
        ],
    );
    f.instruction(&I::End);
    f.instruction(&I::End);
    f.instruction(&I::I32Const(1));
    f.instruction(&I::End);
    f
}

fn core(t: WasmType) -> ValType {
    match t {
        WasmType::I64 | WasmType::PointerOrI64 => ValType::I64,
        WasmType::F32 => ValType::F32,
        WasmType::F64 => ValType::F64,
        WasmType::I32 | WasmType::Pointer | WasmType::Length => ValType::I32,
    }
}
