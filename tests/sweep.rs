//! The encapsulation sweep: random policies applied to two guests, `probe-all`
//! (which imports every WASI interface the adapter can stand in for) and
//! `probe` (stdio, clocks, random, exit and the environment only). Each
//! output must validate, and its WASI imports must equal, exactly, the set
//! this file computes from the policy on its own terms (what each setting
//! lets through, as the docs describe it), without asking the library.
//!
//! Each policy is also written as a standalone adapter at the guest's WASI
//! version and composed by `wasm-tools compose -d` and `wac plug` (the
//! libraries behind them): both must compose it, the outputs must validate
//! and import exactly what the guest left unserved plus what the adapter
//! imports, at the guest's version or the adapter's host-side one; one
//! policy in [`INSTANTIATE_EVERY`] is instantiated in wasmtime, library
//! output and both compositions alike.
//!
//! The WASI 0.3 guests (`p3-mixed`, `p3-async`) are swept by properties
//! instead: each output is refused only for a reason its policy gives, by
//! the rules of docs/wasi-versions.md, and otherwise validates, keeps no
//! WASI 0.3 import the policy does not leave to the host, and imports
//! nothing, at either version, of a subsystem the policy denies.
//!
//! One trial per policy; the seed is fixed, so failures reproduce.

#[path = "harness/mod.rs"]
mod harness;

use indexmap::IndexMap;
use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::BTreeSet;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use wasi_virt::{
    Access, Args, ClocksPolicy, ConfigPolicy, Cwd, EnvPolicy, FsEntry, FsPolicy, HostFilter,
    NetworkPolicy, PermissionsPolicy, Policy, RandomPolicy, StdinPolicy, StdioMode, StdioPolicy,
    WasiVirt,
};

/// The guest that must import every interface in [`USES`].
const EVERY_INTERFACE: &str = "probe-all";

/// The guests, and the seeds of their policies (one policy per seed).
const GUESTS: &[(&str, Range<u64>)] = &[(EVERY_INTERFACE, 0..300), ("probe", 1000..1160)];

/// One policy in this many is instantiated in wasmtime (compiling a
/// composed probe-all takes about a second; the rest are checked without
/// running).
const INSTANTIATE_EVERY: u64 = 10;

/// Every WASI interface the adapter can stand in for, and the interfaces
/// whose types it uses (the `use` lines of wit/deps/*.wit).
const USES: &[(&str, &[&str])] = &[
    ("wasi:cli/environment", &[]),
    ("wasi:cli/exit", &[]),
    ("wasi:cli/stdin", &["wasi:io/streams"]),
    ("wasi:cli/stdout", &["wasi:io/streams"]),
    ("wasi:cli/stderr", &["wasi:io/streams"]),
    ("wasi:cli/terminal-input", &[]),
    ("wasi:cli/terminal-output", &[]),
    ("wasi:cli/terminal-stdin", &["wasi:cli/terminal-input"]),
    ("wasi:cli/terminal-stdout", &["wasi:cli/terminal-output"]),
    ("wasi:cli/terminal-stderr", &["wasi:cli/terminal-output"]),
    ("wasi:clocks/monotonic-clock", &["wasi:io/poll"]),
    ("wasi:clocks/wall-clock", &[]),
    ("wasi:random/random", &[]),
    ("wasi:random/insecure", &[]),
    ("wasi:random/insecure-seed", &[]),
    (
        "wasi:filesystem/types",
        &["wasi:io/streams", "wasi:clocks/wall-clock"],
    ),
    ("wasi:filesystem/preopens", &["wasi:filesystem/types"]),
    ("wasi:sockets/network", &["wasi:io/error"]),
    ("wasi:sockets/instance-network", &["wasi:sockets/network"]),
    (
        "wasi:sockets/ip-name-lookup",
        &["wasi:io/poll", "wasi:sockets/network"],
    ),
    (
        "wasi:sockets/tcp",
        &[
            "wasi:io/streams",
            "wasi:io/poll",
            "wasi:clocks/monotonic-clock",
            "wasi:sockets/network",
        ],
    ),
    (
        "wasi:sockets/tcp-create-socket",
        &["wasi:sockets/network", "wasi:sockets/tcp"],
    ),
    (
        "wasi:sockets/udp",
        &["wasi:io/poll", "wasi:sockets/network"],
    ),
    (
        "wasi:sockets/udp-create-socket",
        &["wasi:sockets/network", "wasi:sockets/udp"],
    ),
    (
        "wasi:http/types",
        &[
            "wasi:clocks/monotonic-clock",
            "wasi:io/streams",
            "wasi:io/error",
            "wasi:io/poll",
        ],
    ),
    ("wasi:http/outgoing-handler", &["wasi:http/types"]),
    ("wasi:config/store", &[]),
    ("wasi:io/error", &[]),
    ("wasi:io/poll", &[]),
    ("wasi:io/streams", &["wasi:io/error", "wasi:io/poll"]),
];

/// The `use`s above whose types are plain data (`duration`, a `u64`;
/// `datetime`, a record of integers): a host import carries its own copy of
/// them (`wit::own_plain_types`), so the interface used is not imported
/// for them.
const PLAIN_USES: &[(&str, &str)] = &[
    ("wasi:sockets/tcp", "wasi:clocks/monotonic-clock"),
    ("wasi:http/types", "wasi:clocks/monotonic-clock"),
    ("wasi:filesystem/types", "wasi:clocks/wall-clock"),
];

fn uses(interface: &str) -> &'static [&'static str] {
    USES.iter()
        .find(|(name, _)| *name == interface)
        .map_or(&[], |(_, deps)| *deps)
}

/// xorshift64*: small, seeded, enough to spread policies.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize].clone()
    }

    /// True once in `n`.
    fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }
}

// ---------------------------------------------------------------------------
// Random policies
// ---------------------------------------------------------------------------

/// A network rule the sweep may grant, and what it needs of the host, as
/// docs/network.md describes it.
struct NetRule {
    direction: &'static str,
    text: &'static str,
    tcp: bool,
    udp: bool,
    /// Some name is looked up by the host (a name, a pattern or `*` that is
    /// not remapped).
    lookup: bool,
    http: bool,
}

const fn net(
    direction: &'static str,
    text: &'static str,
    [tcp, udp, lookup, http]: [bool; 4],
) -> NetRule {
    NetRule {
        direction,
        text,
        tcp,
        udp,
        lookup,
        http,
    }
}

const NET_RULES: &[NetRule] = &[
    net(
        "outbound",
        "tcp://127.0.0.1:80",
        [true, false, false, false],
    ),
    net(
        "outbound",
        "tcp://example.com:443",
        [true, false, true, false],
    ),
    net("outbound", "udp://*:53", [false, true, true, false]),
    net(
        "outbound",
        "tcp://db.internal->10.0.0.1:5432",
        [true, false, false, false],
    ),
    net(
        "inbound",
        "tcp://localhost:8080",
        [true, false, false, false],
    ),
    net("inbound", "udp://*:5353", [false, true, false, false]),
    net("resolve", "*.example.com", [false, false, true, false]),
    net(
        "resolve",
        "db.internal->10.0.0.1",
        [false, false, false, false],
    ),
    net(
        "outbound",
        "https://api.example.com",
        [false, false, false, true],
    ),
];

/// Up to three rules, none of sockets (or HTTP) when the policy allows
/// sockets (or HTTP) as a whole, which rules cannot narrow.
fn random_network(rng: &mut Rng, sockets: Option<Access>, http: Option<Access>) -> Vec<usize> {
    if rng.one_in(2) {
        return Vec::new();
    }
    let mut picked: Vec<usize> = (0..1 + rng.next() % 3)
        .map(|_| (rng.next() % NET_RULES.len() as u64) as usize)
        .filter(|i| {
            let r = &NET_RULES[*i];
            if r.http {
                http != Some(Access::Allow)
            } else {
                sockets != Some(Access::Allow)
            }
        })
        .collect();
    picked.sort();
    picked.dedup();
    picked
}

fn network_policy(rules: &[usize]) -> Option<NetworkPolicy> {
    if rules.is_empty() {
        return None;
    }
    let mut text = String::new();
    for direction in ["outbound", "inbound", "resolve"] {
        let items: Vec<String> = rules
            .iter()
            .map(|i| &NET_RULES[*i])
            .filter(|r| r.direction == direction)
            .map(|r| format!("{:?}", r.text))
            .collect();
        text.push_str(&format!("{direction} = [{}]\n", items.join(", ")));
    }
    Some(toml::from_str(&text).expect("the sweep's rules parse"))
}

/// The sweep's rules in `policy`, found by their text.
fn net_rules(policy: &Policy) -> Vec<&'static NetRule> {
    let Some(network) = &policy.network else {
        return Vec::new();
    };
    let texts = network.describe();
    NET_RULES
        .iter()
        .filter(|r| {
            texts
                .iter()
                .any(|t| t == &format!("{} {}", r.direction, r.text))
        })
        .collect()
}

fn random_policy(seed: u64) -> Policy {
    let mut rng = Rng::new(seed);
    let access = [None, Some(Access::Allow), Some(Access::Deny)];
    let sockets = rng.pick(&access);
    let http = rng.pick(&access);
    let rules = random_network(&mut rng, sockets, http);
    Policy {
        network: network_policy(&rules),
        env: random_env(&mut rng),
        stdio: random_stdio(&mut rng),
        clocks: rng.pick(&[
            None,
            Some(ClocksPolicy::Allow),
            Some(ClocksPolicy::Deny),
            Some(ClocksPolicy::Virtual("2024-01-01T00:00:00Z".into())),
        ]),
        random: rng.pick(&[
            None,
            Some(RandomPolicy::Allow),
            Some(RandomPolicy::Deny),
            Some(RandomPolicy::Seed(7)),
        ]),
        exit: rng.pick(&access),
        sockets,
        http,
        fs: random_fs(&mut rng),
        config: random_config(&mut rng),
        debug: rng.one_in(5),
        // Other imports are the CLI cases' (`tests/cli/deny-import.toml`):
        // the guests import only WASI.
        imports: Default::default(),
        permissions: random_permissions(&mut rng),
        // Serving changes what the output exports: the HTTP tests'
        // (`tests/runtime.rs`).
        serve_http: None,
        // Listing reachable traps changes no output; refusing them is the
        // CLI cases' (`tests/cli/error-deny-reachable.toml`).
        deny_reachable: None,
    }
}

/// Declared permissions in one trial of three: each of WASI's with even
/// odds, sometimes none at all.
fn random_permissions(rng: &mut Rng) -> Option<PermissionsPolicy> {
    if !rng.one_in(3) {
        return None;
    }
    let declared = PERMISSIONS
        .iter()
        .filter(|_| rng.one_in(2))
        .map(|p| p.to_string())
        .collect();
    Some(PermissionsPolicy {
        declared,
        skip_validation: rng.one_in(6),
        catalogs: Vec::new(),
    })
}

/// The permissions, as docs/permissions.md lists them.
const PERMISSIONS: [&str; 8] = [
    "environment",
    "stdio",
    "filesystem",
    "networking",
    "clocks",
    "random",
    "exit",
    "config",
];

/// The permission an interface (unversioned) falls under, as
/// docs/permissions.md ("The permissions") says; `None` for `wasi:io`, which needs none.
fn permission_of(interface: &str) -> Option<&'static str> {
    let (package, name) = interface.split_once('/')?;
    Some(match (package, name) {
        ("wasi:io", _) => return None,
        ("wasi:cli", "environment") => "environment",
        ("wasi:cli", "exit") => "exit",
        ("wasi:cli", _) => "stdio",
        ("wasi:filesystem", _) => "filesystem",
        ("wasi:sockets" | "wasi:http", _) => "networking",
        ("wasi:clocks", _) => "clocks",
        ("wasi:random", _) => "random",
        ("wasi:config", _) => "config",
        _ => "a permission of its own",
    })
}

/// The imports that the declared permissions (if checked) do not cover.
/// An import with no function needs none: the output's import of an
/// interface has a function only where the guest imports one of it (the
/// adapter forwards what the component calls), or where the adapter calls
/// the host itself (stderr for `--debug`; the wall clock's `now` for the
/// times of an in-memory filesystem's files).
fn undeclared(policy: &Policy, imports: &BTreeSet<String>, guest: &Guest) -> Vec<String> {
    let Some(p) = policy.permissions.as_ref().filter(|p| !p.skip_validation) else {
        return Vec::new();
    };
    let memory_fs = policy.fs.as_ref().is_some_and(|fs| {
        fs.preopens
            .values()
            .any(|e| matches!(e, FsEntry::Tmpfs(_) | FsEntry::Overlay(_)))
    });
    let callable = |i: &str| {
        guest.calls.contains(i)
            || (i == "wasi:cli/stderr" && policy.debug)
            || (i == "wasi:clocks/wall-clock" && memory_fs)
    };
    imports
        .iter()
        .filter(|i| callable(i))
        .filter(|i| permission_of(i).is_some_and(|needed| !p.declared.iter().any(|d| d == needed)))
        .cloned()
        .collect()
}

/// A host filter for variables or config properties; `none` twice as often,
/// since it is the one that can seal the host off.
fn random_host(rng: &mut Rng) -> HostFilter {
    rng.pick(&[
        HostFilter::None,
        HostFilter::None,
        HostFilter::All,
        HostFilter::Allow(vec!["A".into()]),
        HostFilter::Deny(vec!["B".into()]),
    ])
}

fn random_env(rng: &mut Rng) -> Option<EnvPolicy> {
    if rng.one_in(6) {
        return None;
    }
    Some(EnvPolicy {
        host: random_host(rng),
        overrides: [("PROBE".to_string(), "stdout".to_string())]
            .into_iter()
            .collect(),
        args: rng.pick(&[
            None,
            Some(Args::Host),
            Some(Args::Virtual(vec!["app".into()])),
        ]),
        cwd: rng.pick(&[
            None,
            Some(Cwd::Host),
            Some(Cwd::None),
            Some(Cwd::Virtual("/app".into())),
        ]),
    })
}

fn random_stdio(rng: &mut Rng) -> Option<StdioPolicy> {
    if rng.one_in(4) {
        return None;
    }
    let modes = [StdioMode::Allow, StdioMode::Deny, StdioMode::Ignore];
    let stdin = [
        StdinPolicy::Mode(StdioMode::Allow),
        StdinPolicy::Mode(StdioMode::Deny),
        StdinPolicy::Mode(StdioMode::Ignore),
        StdinPolicy::Content("baked\n".into()),
    ];
    Some(StdioPolicy {
        stdin: rng.pick(&stdin),
        stdout: rng.pick(&modes),
        stderr: rng.pick(&modes),
    })
}

/// No filesystem policy, or host preopens on or off with some mix of
/// embedded preopens (text, a mounted fixture directory, a runtime file) and
/// a renamed host directory.
fn random_fs(rng: &mut Rng) -> Option<FsPolicy> {
    if rng.one_in(4) {
        return None;
    }
    let mut fs = FsPolicy {
        host_preopens: rng.one_in(2),
        preopens: IndexMap::new(),
    };
    if rng.one_in(2) {
        return Some(fs);
    }
    if rng.one_in(2) {
        let text = FsEntry::Source("embedded\n".into());
        fs.preopen("/etc", FsEntry::Dir([("motd".into(), text)].into()));
    }
    if rng.one_in(3) {
        let sub = harness::repo().join("tests/fixtures/data/sub");
        fs.preopen("/static", FsEntry::Virtualize(sub));
    }
    if rng.one_in(3) {
        let file = FsEntry::RuntimeFile(PathBuf::from("/host/data/greeting.txt"));
        fs.preopen(
            "/certs",
            FsEntry::Dir([("greeting.txt".into(), file)].into()),
        );
    }
    if rng.one_in(2) {
        fs.preopen("/data", FsEntry::RuntimeDir(PathBuf::from("/host/data")));
    }
    if rng.one_in(4) {
        fs.tmpfs("/tmp", Some(1 << 20));
    }
    if rng.one_in(5) {
        let sub = harness::repo().join("tests/fixtures/data/sub");
        fs.overlay("/app", sub, None);
    }
    Some(fs)
}

fn random_config(rng: &mut Rng) -> Option<ConfigPolicy> {
    if rng.one_in(3) {
        return None;
    }
    let properties = if rng.one_in(3) {
        [("region".to_string(), "eu-west".to_string())].into()
    } else {
        IndexMap::new()
    };
    Some(ConfigPolicy {
        host: random_host(rng),
        properties,
    })
}

// ---------------------------------------------------------------------------
// The model: what the output must import
// ---------------------------------------------------------------------------

/// The groups of interfaces a policy configures together (docs/cli.md,
/// "Flags").
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Subsystem {
    Env,
    Stdio,
    Clocks,
    Random,
    Exit,
    Sockets,
    Fs,
    Http,
    Config,
    Io,
}

fn subsystem(interface: &str) -> Subsystem {
    let package = interface.split_once('/').map_or(interface, |(p, _)| p);
    match (package, interface) {
        (_, "wasi:cli/environment") => Subsystem::Env,
        (_, "wasi:cli/exit") => Subsystem::Exit,
        ("wasi:cli", _) => Subsystem::Stdio,
        ("wasi:clocks", _) => Subsystem::Clocks,
        ("wasi:random", _) => Subsystem::Random,
        ("wasi:sockets", _) => Subsystem::Sockets,
        ("wasi:filesystem", _) => Subsystem::Fs,
        ("wasi:http", _) => Subsystem::Http,
        ("wasi:config", _) => Subsystem::Config,
        ("wasi:io", _) => Subsystem::Io,
        _ => panic!("the sweep does not know `{interface}`"),
    }
}

/// Whether the policy says anything about `subsystem` (absent: not
/// virtualized, the component's imports go straight to the host).
fn configured(policy: &Policy, subsystem: Subsystem) -> bool {
    match subsystem {
        Subsystem::Env => policy.env.is_some(),
        Subsystem::Stdio => policy.stdio.is_some(),
        Subsystem::Clocks => policy.clocks.is_some(),
        Subsystem::Random => policy.random.is_some(),
        Subsystem::Exit => policy.exit.is_some(),
        Subsystem::Sockets => policy.sockets.is_some() || net_rules(policy).iter().any(|r| !r.http),
        Subsystem::Fs => policy.fs.is_some(),
        Subsystem::Http => policy.http.is_some() || net_rules(policy).iter().any(|r| r.http),
        Subsystem::Config => policy.config.is_some(),
        // Never asked for: carried only as the types of the others.
        Subsystem::Io => false,
    }
}

/// Whether the environment ever asks the host: for variables (unless the
/// host filter is `none`), or for the arguments or the cwd when they are the
/// host's (by default they are, unless the host filter is `none`).
fn env_reads_host(env: &EnvPolicy) -> bool {
    let sealed = env.host == HostFilter::None;
    let args_host = env.args.as_ref().map_or(!sealed, |a| *a == Args::Host);
    let cwd_host = env.cwd.as_ref().map_or(!sealed, |c| *c == Cwd::Host);
    !sealed || args_host || cwd_host
}

/// Whether the filesystem needs the host's: its preopens pass through, or a
/// renamed host directory or a runtime file is opened through them.
fn fs_reads_host(fs: &FsPolicy) -> bool {
    fn runtime(entry: &FsEntry) -> bool {
        match entry {
            FsEntry::RuntimeDir(_) | FsEntry::RuntimeFile(_) => true,
            FsEntry::Dir(entries) => entries.values().any(runtime),
            FsEntry::Source(_) | FsEntry::Virtualize(_) => false,
            FsEntry::Tmpfs(_) | FsEntry::Overlay(_) => false,
        }
    }
    fs.host_preopens || fs.preopens.values().any(runtime)
}

/// Whether a call the component makes into `interface`, carried by the
/// adapter, reaches the host's `interface`. Interfaces that only carry types
/// (`wasi:io`, `terminal-input`, `terminal-output`) reach the host only as
/// the types of another that does.
fn passes_through(policy: &Policy, interface: &str) -> bool {
    let allowed = |access: Option<Access>| access != Some(Access::Deny);
    let stdio = policy.stdio.clone().unwrap_or_default();
    match subsystem(interface) {
        Subsystem::Env => policy.env.as_ref().is_none_or(env_reads_host),
        Subsystem::Stdio => match interface {
            "wasi:cli/stdin" | "wasi:cli/terminal-stdin" => {
                stdio.stdin == StdinPolicy::Mode(StdioMode::Allow)
            }
            "wasi:cli/stdout" | "wasi:cli/terminal-stdout" => stdio.stdout == StdioMode::Allow,
            "wasi:cli/stderr" | "wasi:cli/terminal-stderr" => stdio.stderr == StdioMode::Allow,
            _ => false,
        },
        // Virtual clocks and seeded randomness never ask the host.
        Subsystem::Clocks => policy
            .clocks
            .as_ref()
            .is_none_or(|c| *c == ClocksPolicy::Allow),
        Subsystem::Random => policy.random.is_none_or(|r| r == RandomPolicy::Allow),
        Subsystem::Exit => allowed(policy.exit),
        Subsystem::Sockets => {
            let rules: Vec<&NetRule> = net_rules(policy).into_iter().filter(|r| !r.http).collect();
            if rules.is_empty() {
                return allowed(policy.sockets);
            }
            let tcp = rules.iter().any(|r| r.tcp);
            let udp = rules.iter().any(|r| r.udp);
            let lookup = rules.iter().any(|r| r.lookup);
            match interface {
                "wasi:sockets/tcp" | "wasi:sockets/tcp-create-socket" => tcp,
                "wasi:sockets/udp" | "wasi:sockets/udp-create-socket" => udp,
                "wasi:sockets/ip-name-lookup" => lookup,
                _ => tcp || udp || lookup,
            }
        }
        Subsystem::Http => allowed(policy.http) || net_rules(policy).iter().any(|r| r.http),
        Subsystem::Fs => policy.fs.as_ref().is_none_or(fs_reads_host),
        Subsystem::Config => policy
            .config
            .as_ref()
            .is_none_or(|c| c.host != HostFilter::None),
        Subsystem::Io => false,
    }
}

/// `set` with every interface its members use, transitively.
fn close_forward(set: &mut BTreeSet<String>) {
    let mut todo: Vec<String> = set.iter().cloned().collect();
    while let Some(name) = todo.pop() {
        for dep in uses(&name) {
            if set.insert(dep.to_string()) {
                todo.push(dep.to_string());
            }
        }
    }
}

/// The interfaces the adapter carries (docs/architecture.md,
/// "Which interfaces the adapter carries"): what the policy configures and the component imports,
/// closed under `use` forwards (what they use) and backwards (every import of
/// the component that uses one of them).
fn carried(policy: &Policy, component: &BTreeSet<String>) -> BTreeSet<String> {
    let mut carried: BTreeSet<String> = component
        .iter()
        .filter(|i| configured(policy, subsystem(i)))
        .cloned()
        .collect();
    loop {
        let before = carried.len();
        close_forward(&mut carried);
        let users: Vec<String> = component
            .iter()
            .filter(|i| uses(i).iter().any(|d| carried.contains(*d)))
            .cloned()
            .collect();
        carried.extend(users);
        if carried.len() == before {
            return carried;
        }
    }
}

/// The carried interfaces whose calls reach the host: each one the
/// component calls whose setting lets it through.
fn passing(
    policy: &Policy,
    component: &BTreeSet<String>,
    carried: &BTreeSet<String>,
) -> BTreeSet<String> {
    carried
        .iter()
        .filter(|i| component.contains(*i) && passes_through(policy, i))
        .cloned()
        .collect()
}

/// What the adapter asks the host for: what passes through, the host's
/// stderr for `debug`, and whatever those use.
fn host_imports(policy: &Policy, passing: &BTreeSet<String>, adapter: bool) -> BTreeSet<String> {
    let mut host = passing.clone();
    if policy.debug && adapter {
        host.insert("wasi:cli/stderr".into());
    }
    let mut todo: Vec<String> = host.iter().cloned().collect();
    while let Some(name) = todo.pop() {
        for dep in uses(&name) {
            let plain = PLAIN_USES.contains(&(name.as_str(), *dep));
            if !plain && host.insert(dep.to_string()) {
                todo.push(dep.to_string());
            }
        }
    }
    host
}

/// Settings with content (variables, arguments, a cwd, embedded files,
/// properties) for an interface the adapter does not carry: refused, since
/// the component could never see them.
fn refused(policy: &Policy, carried: &BTreeSet<String>) -> Vec<&'static str> {
    let env_content = policy.env.as_ref().is_some_and(|env| {
        !env.overrides.is_empty()
            || matches!(env.args, Some(Args::Virtual(_)))
            || matches!(env.cwd, Some(Cwd::Virtual(_)))
    });
    let fs_content = policy.fs.as_ref().is_some_and(|fs| !fs.preopens.is_empty());
    let config_content = policy
        .config
        .as_ref()
        .is_some_and(|c| !c.properties.is_empty());
    let baked_stdin = policy
        .stdio
        .as_ref()
        .is_some_and(|s| !matches!(s.stdin, StdinPolicy::Mode(_)));
    let virtual_clock = matches!(policy.clocks, Some(ClocksPolicy::Virtual(_)));
    let seeded = matches!(policy.random, Some(RandomPolicy::Seed(_)));
    let socket_rules = net_rules(policy).iter().any(|r| !r.http);
    let http_rules = net_rules(policy).iter().any(|r| r.http);
    // Each content and the interfaces it may reach the component through.
    let receivers: [(bool, &[&'static str]); 8] = [
        (
            socket_rules,
            &[
                "wasi:sockets/network",
                "wasi:sockets/instance-network",
                "wasi:sockets/tcp",
                "wasi:sockets/tcp-create-socket",
                "wasi:sockets/udp",
                "wasi:sockets/udp-create-socket",
                "wasi:sockets/ip-name-lookup",
            ],
        ),
        (
            http_rules,
            &["wasi:http/types", "wasi:http/outgoing-handler"],
        ),
        (env_content, &["wasi:cli/environment"]),
        (fs_content, &["wasi:filesystem/preopens"]),
        (config_content, &["wasi:config/store"]),
        (baked_stdin, &["wasi:cli/stdin"]),
        (
            virtual_clock,
            &["wasi:clocks/monotonic-clock", "wasi:clocks/wall-clock"],
        ),
        (
            seeded,
            &[
                "wasi:random/random",
                "wasi:random/insecure",
                "wasi:random/insecure-seed",
            ],
        ),
    ];
    receivers
        .into_iter()
        .filter(|(content, via)| *content && !via.iter().any(|v| carried.contains(*v)))
        .map(|(_, via)| via[0])
        .collect()
}

/// What the output must import.
struct Expected {
    imports: BTreeSet<String>,
}

/// What the output must import, or which interfaces refused settings lack
/// (the library may name any one of them).
fn expected(policy: &Policy, component: &BTreeSet<String>) -> Result<Expected, Vec<&'static str>> {
    let carried = carried(policy, component);
    let lacking = refused(policy, &carried);
    if !lacking.is_empty() {
        return Err(lacking);
    }
    let passing = passing(policy, component, &carried);
    let mut imports: BTreeSet<String> = component.difference(&carried).cloned().collect();
    imports.extend(host_imports(policy, &passing, !carried.is_empty()));
    Ok(Expected { imports })
}

// ---------------------------------------------------------------------------
// Trials
// ---------------------------------------------------------------------------

/// A guest's bytes and unversioned imports.
struct Guest {
    name: &'static str,
    bytes: Vec<u8>,
    imports: BTreeSet<String>,
    /// The imports (unversioned) of which it imports some function.
    calls: BTreeSet<String>,
    /// The interfaces (unversioned) it imports at WASI 0.3.
    imports_0_3: BTreeSet<String>,
}

fn load(name: &'static str) -> Guest {
    let bytes = harness::guest(name);
    let imports = harness::unversioned_imports(&bytes).unwrap();
    let calls = wasi_virt::component_import_functions(&bytes)
        .unwrap()
        .into_iter()
        .filter(|(_, functions)| !functions.is_empty())
        .filter_map(|(name, _)| Some(name.split_once('@')?.0.to_string()))
        .collect();
    let imports_0_3 = wasi_virt::component_imports(&bytes)
        .unwrap()
        .into_iter()
        .filter_map(|i| Some(i.split_once("@0.3.")?.0.to_string()))
        .collect();
    Guest {
        name,
        bytes,
        imports: imports.into_iter().collect(),
        calls,
        imports_0_3,
    }
}

/// Virtualizes the guest with `policy` and compares the outcome with the
/// model's: the same imports, or a refusal naming the same interface.
fn sweep_one(policy: &Policy, guest: &Guest, instantiate: bool) -> Result<(), String> {
    let mut virt = WasiVirt::from_policy(policy.clone());
    virt.compose(guest.bytes.clone());
    match (expected(policy, &guest.imports), virt.finish()) {
        (Err(lacking), Err(e)) if lacking.iter().any(|r| format!("{e:#}").contains(r)) => Ok(()),
        (Err(lacking), Err(e)) => Err(format!("refused, but not for lack of {lacking:?}: {e:#}")),
        (Err(lacking), Ok(_)) => Err(format!(
            "accepted, but it sets content for {lacking:?}, which the adapter does not carry"
        )),
        (Ok(want), Err(e)) => {
            let undeclared = undeclared(policy, &want.imports, guest);
            let text = format!("{e:#}");
            match undeclared.is_empty() {
                true => Err(text),
                false
                    if text.contains(&format!("imports {} interface", undeclared.len()))
                        && text.contains("outside the declared permissions")
                        && undeclared.iter().all(|i| text.contains(&format!("  {i}@"))) =>
                {
                    Ok(())
                }
                false => Err(format!("refused, but not for {undeclared:?} alone: {text}")),
            }
        }
        (Ok(want), Ok(_)) if !undeclared(policy, &want.imports, guest).is_empty() => Err(format!(
            "accepted, but {:?} fall outside the declared permissions",
            undeclared(policy, &want.imports, guest)
        )),
        (Ok(want), Ok(out)) => {
            wasmparser::Validator::new()
                .validate_all(&out.bytes)
                .map_err(|e| format!("output invalid: {e}"))?;
            let got: BTreeSet<String> = harness::unversioned_imports(&out.bytes)
                .map_err(|e| format!("{e:#}"))?
                .into_iter()
                .collect();
            compare(&got, &want.imports)?;
            if instantiate {
                harness::instantiates(&out.bytes, &sweep_host())
                    .map_err(|e| format!("the output does not instantiate: {e:#}"))?;
            }
            standalone_one(policy, guest, instantiate)
        }
    }
}

/// The host the instantiated trials run in: every interface served, and the
/// directory the policies' runtime preopens name.
fn sweep_host() -> harness::Host {
    harness::Host {
        preopens: [("/host/data".into(), "tests/fixtures/data".into())].into(),
        http: true,
        network: true,
        ..Default::default()
    }
}

/// The same policy as a standalone adapter at the guest's version, composed
/// by each other tool. Declared permissions may refuse it (a standalone
/// adapter passes through every subsystem the policy lets through, for any
/// component), but nothing else may.
fn standalone_one(policy: &Policy, guest: &Guest, instantiate: bool) -> Result<(), String> {
    let version = harness::wasi_version_of(&guest.bytes).map_err(|e| format!("{e:#}"))?;
    let mut virt = WasiVirt::from_policy(policy.clone());
    virt.wasi_version(version.clone());
    let adapter = match virt.finish() {
        Ok(out) => out.bytes,
        Err(e)
            if policy.permissions.is_some()
                && format!("{e:#}").contains("outside the declared permissions") =>
        {
            return Ok(())
        }
        Err(e) => return Err(format!("the standalone adapter failed: {e:#}")),
    };
    let unversioned = |names: Vec<String>| -> BTreeSet<String> {
        names
            .iter()
            .filter_map(|n| wasi_virt::InterfaceName::parse(n))
            .map(|n| n.unversioned)
            .collect()
    };
    let err = |e: anyhow::Error| format!("{e:#}");
    let provided = unversioned(wasi_virt::component_exports(&adapter).map_err(err)?);
    let mut want: BTreeSet<String> = guest.imports.difference(&provided).cloned().collect();
    want.extend(unversioned(
        wasi_virt::component_imports(&adapter).map_err(err)?,
    ));
    let versions = [
        version.to_string(),
        wasi_virt::host_side_version(&version).to_string(),
    ];
    for composer in harness::Tool::ALL {
        let tool = composer.label();
        let out = composer
            .compose(&guest.bytes, &adapter)
            .map_err(|e| format!("{tool}: {e:#}"))?;
        wasmparser::Validator::new()
            .validate_all(&out)
            .map_err(|e| format!("{tool}: output invalid: {e}"))?;
        let imports = wasi_virt::component_imports(&out).map_err(err)?;
        let wasi_0_2 = |i: &&String| {
            wasi_virt::InterfaceName::parse(i).is_some_and(|n| n.wasi_0_2_version().is_some())
        };
        if let Some(odd) = imports
            .iter()
            .filter(wasi_0_2)
            .find(|i| !versions.iter().any(|v| i.ends_with(&format!("@{v}"))))
        {
            return Err(format!(
                "{tool}: the output imports `{odd}`, at neither {versions:?}"
            ));
        }
        compare(&unversioned(imports), &want).map_err(|e| format!("{tool}: {e}"))?;
        if instantiate {
            harness::instantiates(&out, &sweep_host())
                .map_err(|e| format!("{tool}: the output does not instantiate: {e:#}"))?;
        }
    }
    Ok(())
}

fn compare(got: &BTreeSet<String>, want: &BTreeSet<String>) -> Result<(), String> {
    if got == want {
        return Ok(());
    }
    Err(format!(
        "got  {got:?}\n  want {want:?}\n  only got:  {:?}\n  only want: {:?}",
        got.difference(want).collect::<Vec<_>>(),
        want.difference(got).collect::<Vec<_>>()
    ))
}

/// The guest must import every interface the model knows, and nothing of
/// WASI it does not: otherwise whole dimensions of the sweep could stop
/// mattering (or be modelled wrong) without any trial failing.
fn imports_every_interface(guest: &Guest) -> Result<(), String> {
    let known: BTreeSet<String> = USES.iter().map(|(i, _)| i.to_string()).collect();
    let wasi: BTreeSet<String> = guest
        .imports
        .iter()
        .filter(|i| i.starts_with("wasi:"))
        .cloned()
        .collect();
    compare(&wasi, &known).map_err(|e| format!("{} must import every interface: {e}", guest.name))
}

fn trial(guest: &Arc<Guest>, seed: u64) -> Trial {
    let guest = guest.clone();
    let name = format!("{}-{seed:04}", guest.name);
    Trial::test(name, move || {
        let policy = random_policy(seed);
        let instantiate = seed.is_multiple_of(INSTANTIATE_EVERY);
        sweep_one(&policy, &guest, instantiate).map_err(|e| format!("{policy:?}\n  {e}").into())
    })
}

/// One trial per seed.
fn trials_for(guest: Guest, seeds: Range<u64>) -> Vec<Trial> {
    let guest = Arc::new(guest);
    let mut trials = Vec::new();
    if guest.name == EVERY_INTERFACE {
        let guest = guest.clone();
        let name = format!("{EVERY_INTERFACE}-imports-every-interface");
        trials.push(Trial::test(name, move || {
            imports_every_interface(&guest).map_err(Failed::from)
        }));
    }
    trials.extend(seeds.map(|seed| trial(&guest, seed)));
    trials
}

/// The WASI 0.3 guests, and the seeds of their policies: `p3-mixed` (0.3
/// beside std's 0.2: environment, exit, stdio, clocks, random, filesystem,
/// sockets) and `p3-async` (a 0.3 `run` awaiting 0.3's waits).
const GUESTS_0_3: &[(&str, Range<u64>)] = &[("p3-mixed", 2000..2150), ("p3-async", 3000..3050)];

/// Whether the policy leaves the WASI 0.3 interface `interface` (unversioned)
/// to the host's own 0.3, by the rules of docs/wasi-versions.md: what the
/// adapter virtualizes at 0.3 answers through its 0.2 code (so it may be
/// the host's only where that reaches the host); a stdio
/// stream is the host's where it is allowed (a terminal resource where
/// every stream that hands it out is); the filesystem where it passes
/// whole; sockets and HTTP where they pass whole or network rules grant
/// them (the adapter then imports the host's own 0.3 sockets or HTTP).
fn host_0_3(policy: &Policy, interface: &str) -> bool {
    let stdio = policy.stdio.clone().unwrap_or_default();
    let stdin = stdio.stdin == StdinPolicy::Mode(StdioMode::Allow);
    let outputs = stdio.stdout == StdioMode::Allow && stdio.stderr == StdioMode::Allow;
    match interface {
        "wasi:cli/stdin" | "wasi:cli/terminal-input" | "wasi:cli/terminal-stdin" => stdin,
        "wasi:cli/stdout" => stdio.stdout == StdioMode::Allow,
        "wasi:cli/stderr" => stdio.stderr == StdioMode::Allow,
        "wasi:cli/terminal-output" | "wasi:cli/terminal-stdout" | "wasi:cli/terminal-stderr" => {
            outputs
        }
        "wasi:cli/types" => {
            stdin || stdio.stdout == StdioMode::Allow || stdio.stderr == StdioMode::Allow
        }
        i if i.starts_with("wasi:filesystem/") => {
            policy.fs.as_ref().is_none_or(|f| fs_0_3(f) == Some(true))
        }
        // Whole, or wrapped by the adapter under rules (which then imports
        // the host's 0.3 sockets itself).
        i if i.starts_with("wasi:sockets/") => {
            policy.sockets != Some(Access::Deny) || net_rules(policy).iter().any(|r| !r.http)
        }
        // Whole, or the host's own requests sent through the adapter's
        // client under outbound rules (which then imports the host's).
        i if i.starts_with("wasi:http/") => {
            policy.http != Some(Access::Deny) || net_rules(policy).iter().any(|r| r.http)
        }
        // Answered through its 0.2 counterpart: the host's only where that
        // reaches the host.
        "wasi:clocks/system-clock" => passes_through(policy, "wasi:clocks/wall-clock"),
        "wasi:clocks/types" => passes_through(policy, "wasi:clocks/monotonic-clock"),
        i => passes_through(policy, i),
    }
}

/// How WASI 0.3's filesystem is served under `fs`: the host's own
/// (`Some(true)`: passed whole, or only host preopens renamed, whose
/// descriptors are the host's), the adapter's (`Some(false)`: denied), or
/// refused (`None`: anything embedded or in memory).
fn fs_0_3(fs: &FsPolicy) -> Option<bool> {
    let renamed = !fs.preopens.is_empty()
        && (fs.preopens.values()).all(|e| matches!(e, FsEntry::RuntimeDir(_)));
    match (fs.host_preopens, fs.preopens.is_empty()) {
        (true, true) => Some(true),
        (false, true) => Some(false),
        (false, false) if renamed => Some(true),
        _ => None,
    }
}

/// Which refusal of a WASI 0.3 component the policy justifies: the text the
/// error must hold, for each rule of docs/wasi-versions.md it breaks.
fn refusals_0_3(policy: &Policy, guest: &Guest) -> Vec<&'static str> {
    let imports = |prefix: &str| guest.imports_0_3.iter().any(|i| i.starts_with(prefix));
    let stdio = policy.stdio.clone().unwrap_or_default();
    let mut why = Vec::new();
    if imports("wasi:cli/stdin")
        && matches!(stdio.stdin, StdinPolicy::Content(_) | StdinPolicy::File(_))
    {
        why.push("cannot read a baked stdin");
    }
    if imports("wasi:filesystem/") && policy.fs.as_ref().is_some_and(|f| fs_0_3(f).is_none()) {
        why.push("serves WASI 0.3's fs only");
    }
    // Sockets under network rules are served at 0.3 while no rule grants
    // inbound use, whatever the sockets' own setting.
    let inbound = |r: &&NetRule| !r.http && r.direction == "inbound";
    if imports("wasi:sockets/") && net_rules(policy).iter().any(inbound) {
        why.push("serves WASI 0.3's sockets under outbound rules only");
    }
    why
}

/// A WASI 0.3 guest virtualized with `policy`: refused only for a reason the
/// policy gives (and then for that reason), and otherwise valid, with every
/// WASI 0.3 import it keeps one the policy leaves to the host, and no
/// import at either version of a subsystem the policy denies.
fn sweep_0_3(policy: &Policy, guest: &Guest, instantiate: bool) -> Result<(), String> {
    let mut virt = WasiVirt::from_policy(policy.clone());
    virt.compose(guest.bytes.clone());
    let mut why = refusals_0_3(policy, guest);
    // The 0.2 model's refusals, on the interfaces it knows.
    let known: BTreeSet<String> = (guest.imports.iter())
        .filter(|i| USES.iter().any(|(u, _)| u == i))
        .cloned()
        .collect();
    if let Err(mut lacking) = expected(policy, &known) {
        // Sockets imported at 0.3 are what network rules for sockets need.
        let sockets_0_3 = guest
            .imports_0_3
            .iter()
            .any(|i| i.starts_with("wasi:sockets/"));
        lacking.retain(|l| !(sockets_0_3 && l.starts_with("wasi:sockets/")));
        why.extend(lacking);
    }
    let out = match virt.finish() {
        Err(e) if why.iter().any(|w| format!("{e:#}").contains(w)) => return Ok(()),
        Err(e) => return Err(format!("refused, but not for {why:?}: {e:#}")),
        Ok(_) if !why.is_empty() => return Err(format!("accepted, but the policy breaks {why:?}")),
        Ok(out) => out,
    };
    wasmparser::Validator::new()
        .validate_all(&out.bytes)
        .map_err(|e| format!("output invalid: {e}"))?;
    for import in wasi_virt::component_imports(&out.bytes).map_err(|e| format!("{e:#}"))? {
        let Some((interface, version)) = import.split_once('@') else {
            continue;
        };
        if version.starts_with("0.3.") && !host_0_3(policy, interface) {
            return Err(format!(
                "`{import}` is left to the host, which the policy does not allow"
            ));
        }
        if denies(policy, interface) {
            return Err(format!("`{import}` is imported, yet the policy denies it"));
        }
    }
    if instantiate {
        harness::instantiates(&out.bytes, &sweep_host())
            .map_err(|e| format!("the output does not instantiate: {e:#}"))?;
    }
    Ok(())
}

/// Whether the policy denies `interface`'s subsystem outright (no host
/// behind it at any version).
fn denies(policy: &Policy, interface: &str) -> bool {
    match subsystem(interface) {
        Subsystem::Clocks => policy.clocks == Some(ClocksPolicy::Deny),
        Subsystem::Random => policy.random == Some(RandomPolicy::Deny),
        Subsystem::Exit => policy.exit == Some(Access::Deny),
        Subsystem::Sockets => {
            policy.sockets == Some(Access::Deny) && net_rules(policy).iter().all(|r| r.http)
        }
        Subsystem::Fs => policy
            .fs
            .as_ref()
            .is_some_and(|f| !f.host_preopens && f.preopens.is_empty()),
        _ => false,
    }
}

fn trials_0_3(guest: Guest, seeds: Range<u64>) -> Vec<Trial> {
    let guest = Arc::new(guest);
    seeds
        .map(|seed| {
            let guest = guest.clone();
            Trial::test(format!("{}-{seed:04}", guest.name), move || {
                let mut policy = random_policy(seed);
                // Declared permissions are the main sweep's.
                policy.permissions = None;
                let instantiate = seed.is_multiple_of(INSTANTIATE_EVERY);
                sweep_0_3(&policy, &guest, instantiate)
                    .map_err(|e| format!("{policy:?}\n  {e}").into())
            })
        })
        .collect()
}

fn main() {
    let args = Arguments::from_args();
    let mut trials: Vec<Trial> = GUESTS
        .iter()
        .flat_map(|(name, seeds)| trials_for(load(name), seeds.clone()))
        .collect();
    for (name, seeds) in GUESTS_0_3 {
        trials.extend(trials_0_3(load(name), seeds.clone()));
    }
    libtest_mimic::run(&args, trials).exit();
}
