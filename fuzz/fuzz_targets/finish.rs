//! `finish()` over arbitrary policies and components: no panic, ever;
//! every output validates; what a policy denies is never imported; and
//! with declared (checked) permissions, every import falls under them.
//!
//! The first byte picks the component: the `probe-all` guest (it imports
//! every WASI 0.2 interface), the `p3-mixed` guest (WASI 0.3 beside 0.2:
//! what a policy denies is imported at neither version), or the `probe`
//! guest with some of its bytes flipped (mutated components must be
//! refused or virtualized cleanly).
//! The guests are built by `../fuzz.sh` before this target is.
#![no_main]

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use wasi_virt::{
    Access, Args, ClocksPolicy, ConfigPolicy, Cwd, EnvPolicy, FsEntry, FsPolicy, HostFilter,
    Outbound, Permission, PermissionsPolicy, Policy, RandomPolicy, Resolve, StdinPolicy, StdioMode,
    StdioPolicy, WasiVirt,
};

const PROBE_ALL: &[u8] =
    include_bytes!("../../tests/components/target/wasm32-wasip2/release/probe-all.wasm");
const PROBE: &[u8] =
    include_bytes!("../../tests/components/target/wasm32-wasip2/release/probe.wasm");
const P3_MIXED: &[u8] =
    include_bytes!("../../tests/components/target/wasm32-wasip2/release/p3-mixed.wasm");

/// Short texts from an alphabet that reaches the parsers' corners.
fn text(u: &mut Unstructured) -> Result<String> {
    const PIECES: &[&str] = &[
        "a",
        "B",
        "0",
        "=",
        "/",
        ".",
        "..",
        "*",
        ":",
        "@",
        "%",
        " ",
        "\0",
        "é",
        "-",
        "_",
        "tcp://",
        "udp://",
        "http://",
        "https://",
        "127.0.0.1",
        "[::1]",
        ":80",
        ":1-9",
        "->",
        "example.com",
        "#ipv4-only",
        "/8",
        "localhost",
        "2024-01-01T00:00:00Z",
        "ocre:gpio/",
    ];
    let n = u.int_in_range(0..=5)?;
    let mut s = String::new();
    for _ in 0..n {
        s.push_str(u.choose(PIECES)?);
    }
    Ok(s)
}

fn texts(u: &mut Unstructured, max: usize) -> Result<Vec<String>> {
    let n = u.int_in_range(0..=max)?;
    (0..n).map(|_| text(u)).collect()
}

fn host_filter(u: &mut Unstructured) -> Result<HostFilter> {
    Ok(match u.int_in_range(0..=3)? {
        0 => HostFilter::None,
        1 => HostFilter::All,
        2 => HostFilter::Allow(texts(u, 3)?),
        _ => HostFilter::Deny(texts(u, 3)?),
    })
}

fn access(u: &mut Unstructured) -> Result<Option<Access>> {
    Ok(*u.choose(&[None, Some(Access::Allow), Some(Access::Deny)])?)
}

fn mode(u: &mut Unstructured) -> Result<StdioMode> {
    Ok(*u.choose(&[StdioMode::Allow, StdioMode::Deny, StdioMode::Ignore])?)
}

/// A filesystem policy: host preopens or not, and up to two preopens
/// (tmpfs, embedded, or a host directory), drawn in that order.
fn fs_policy(u: &mut Unstructured) -> Result<FsPolicy> {
    let mut fs = FsPolicy::default();
    if u.arbitrary()? {
        fs.deny_host_preopens();
    }
    for _ in 0..u.int_in_range(0..=2)? {
        let guest = format!("/{}", text(u)?);
        match u.int_in_range(0..=2)? {
            0 => {
                fs.tmpfs(&guest, u.arbitrary::<Option<u16>>()?.map(u64::from));
            }
            1 => {
                let names = texts(u, 3)?;
                let tree = names
                    .into_iter()
                    .map(|n| (n, FsEntry::Source("x".into())))
                    .collect();
                fs.preopen(&guest, FsEntry::Dir(tree));
            }
            _ => {
                fs.host_preopen(&guest, "/data");
            }
        }
    }
    Ok(fs)
}

fn env_policy(u: &mut Unstructured) -> Result<EnvPolicy> {
    Ok(EnvPolicy {
        host: host_filter(u)?,
        overrides: texts(u, 3)?.into_iter().zip(texts(u, 3)?).collect(),
        args: match u.int_in_range(0..=2)? {
            0 => None,
            1 => Some(Args::Host),
            _ => Some(Args::Virtual(texts(u, 3)?)),
        },
        cwd: match u.int_in_range(0..=2)? {
            0 => None,
            1 => Some(Cwd::Host),
            _ => Some(Cwd::Virtual(text(u)?)),
        },
    })
}

fn stdio_policy(u: &mut Unstructured) -> Result<StdioPolicy> {
    let stdin = match u.int_in_range(0..=1)? {
        0 => StdinPolicy::Mode(mode(u)?),
        _ => StdinPolicy::Content(text(u)?),
    };
    Ok(StdioPolicy {
        stdin,
        stdout: mode(u)?,
        stderr: mode(u)?,
    })
}

fn policy(u: &mut Unstructured) -> Result<Policy> {
    let mut p = Policy::default();
    if u.arbitrary()? {
        p.env = Some(env_policy(u)?);
    }
    if u.arbitrary()? {
        p.stdio = Some(stdio_policy(u)?);
    }
    p.clocks = match u.int_in_range(0..=3)? {
        0 => None,
        1 => Some(ClocksPolicy::Allow),
        2 => Some(ClocksPolicy::Deny),
        _ => Some(ClocksPolicy::Virtual(text(u)?)),
    };
    p.random = match u.int_in_range(0..=3)? {
        0 => None,
        1 => Some(RandomPolicy::Allow),
        2 => Some(RandomPolicy::Deny),
        _ => Some(RandomPolicy::Seed(u.arbitrary()?)),
    };
    p.exit = access(u)?;
    p.sockets = access(u)?;
    p.http = access(u)?;
    if u.arbitrary()? {
        p.config = Some(ConfigPolicy {
            host: host_filter(u)?,
            properties: texts(u, 3)?.into_iter().zip(texts(u, 3)?).collect(),
        });
    }
    if u.arbitrary()? {
        p.fs = Some(fs_policy(u)?);
    }
    for rule in texts(u, 2)? {
        if let Ok(r) = rule.parse::<Outbound>() {
            p.network().outbound.push(r);
        }
        if let Ok(r) = rule.parse::<Resolve>() {
            p.network().resolve.push(r);
        }
    }
    if u.ratio(1, 3)? {
        p.permissions = Some(PermissionsPolicy {
            declared: texts(u, 3)?
                .into_iter()
                .chain(
                    wasi_virt::WASI_PERMISSIONS
                        .iter()
                        .filter(|_| u.arbitrary().unwrap_or(false))
                        .map(|s| s.to_string()),
                )
                .collect(),
            skip_validation: u.ratio(1, 5)?,
            ..Default::default()
        });
    }
    if u.ratio(1, 8)? {
        p.imports.deny = texts(u, 2)?;
    }
    p.debug = u.ratio(1, 6)?;
    Ok(p)
}

/// Interfaces (unversioned prefixes) that a policy's setting forbids the
/// output to import.
fn forbidden(p: &Policy) -> Vec<&'static str> {
    let mut out = Vec::new();
    if p.exit == Some(Access::Deny) {
        out.push("wasi:cli/exit");
    }
    if p.random == Some(RandomPolicy::Deny) || matches!(p.random, Some(RandomPolicy::Seed(_))) {
        out.push("wasi:random/");
    }
    let rules = p
        .network
        .as_ref()
        .is_some_and(|n| n.rules().next().is_some());
    if p.sockets == Some(Access::Deny) && !rules {
        out.push("wasi:sockets/");
    }
    if p.http == Some(Access::Deny) && !rules {
        out.push("wasi:http/outgoing-handler");
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(which) = u.arbitrary::<u8>() else {
        return;
    };
    let component = if which % 4 == 0 {
        let mut bytes = PROBE.to_vec();
        for _ in 0..u.int_in_range(1..=8).unwrap_or(1) {
            let at = u.choose_index(bytes.len()).unwrap_or(0);
            bytes[at] ^= u.arbitrary::<u8>().unwrap_or(1).max(1);
        }
        bytes
    } else if which % 4 == 1 {
        P3_MIXED.to_vec()
    } else {
        PROBE_ALL.to_vec()
    };
    let Ok(policy) = policy(&mut u) else {
        return;
    };
    let mut virt = WasiVirt::from_policy(policy.clone());
    virt.compose(component);
    let Ok(out) = virt.finish() else {
        return;
    };
    if let Err(e) = wasmparser::Validator::new().validate_all(&out.bytes) {
        panic!("the output does not validate: {e}\npolicy: {policy:?}");
    }
    let imports = wasi_virt::component_imports(&out.bytes).expect("imports of a valid output");
    for import in &imports {
        for prefix in forbidden(&policy) {
            assert!(
                !import.starts_with(prefix),
                "`{import}` is imported, but the policy forbids it\npolicy: {policy:?}"
            );
        }
    }
    if let Some(p) = policy.permissions.as_ref().filter(|p| !p.skip_validation) {
        let declared: Vec<_> = p
            .declared
            .iter()
            .filter_map(|d| Permission::parse_declared(d).ok())
            .collect();
        for import in &imports {
            if let Some(needed) = Permission::of_interface(import) {
                assert!(
                    declared.iter().any(|d| d.covers(&needed)),
                    "`{import}` needs `{needed}`, which was not declared\npolicy: {policy:?}"
                );
            }
        }
    }
});
