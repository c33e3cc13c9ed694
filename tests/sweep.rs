//! The encapsulation sweep: random policies applied to the `probe` guest.
//! Each output must validate, and its WASI imports must equal, exactly, the
//! set this file computes from the policy on its own terms (what each
//! setting lets through), without asking the library.
//!
//! One trial per policy; the seed is fixed, so failures reproduce.

#[path = "harness/mod.rs"]
mod harness;

use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};
use wasi_virt::{
    Access, Args, ConfigPolicy, EnvPolicy, FsPolicy, HostFilter, Policy, StdioMode, StdioPolicy,
    WasiVirt,
};

const POLICIES: u64 = 120;

/// xorshift64*: small, seeded, enough to spread policies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }
}

fn random_policy(seed: u64) -> Policy {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let access = [None, Some(Access::Allow), Some(Access::Deny)];
    let modes = [StdioMode::Allow, StdioMode::Deny, StdioMode::Ignore];
    let env = match rng.next() % 6 {
        0 => None,
        1 => Some(HostFilter::None),
        2 => Some(HostFilter::All),
        3 => Some(HostFilter::Allow(vec!["A".into()])),
        4 => Some(HostFilter::Deny(vec!["B".into()])),
        _ => Some(HostFilter::None),
    };
    Policy {
        env: env.map(|host| EnvPolicy {
            args: if rng.next() % 4 == 0 {
                Some(Args::Host)
            } else {
                None
            },
            overrides: [("PROBE".to_string(), "stdout".to_string())]
                .into_iter()
                .collect(),
            host,
            cwd: None,
        }),
        stdio: if rng.next() % 4 == 0 {
            None
        } else {
            Some(StdioPolicy {
                stdin: rng.pick(&modes),
                stdout: rng.pick(&modes),
                stderr: rng.pick(&modes),
            })
        },
        clocks: rng.pick(&access),
        random: rng.pick(&access),
        exit: rng.pick(&access),
        sockets: rng.pick(&access),
        http: rng.pick(&access),
        fs: match rng.next() % 3 {
            0 => None,
            1 => Some(FsPolicy::default()),
            _ => Some(FsPolicy {
                host_preopens: false,
                ..FsPolicy::default()
            }),
        },
        // The probe does not import wasi:config; its policy must not matter.
        config: if rng.next() % 2 == 0 {
            None
        } else {
            Some(ConfigPolicy {
                host: HostFilter::None,
                properties: Default::default(),
            })
        },
        debug: rng.next() % 5 == 0,
    }
}

/// What the output must import, from the meaning of each setting.
fn expected_imports(policy: &Policy, component: &BTreeSet<String>) -> BTreeSet<String> {
    let allowed = |a: Option<Access>| a != Some(Access::Deny);
    let stdio = policy.stdio.unwrap_or_default();
    let streams = ["wasi:cli/stdin", "wasi:cli/stdout", "wasi:cli/stderr"];

    // Which interfaces the adapter carries. Any stream or pollable from the
    // adapter means all of the component's streams and pollables must be.
    let mut carried: BTreeSet<&str> = BTreeSet::new();
    if policy.env.is_some() {
        carried.insert("wasi:cli/environment");
    }
    if policy.stdio.is_some() {
        carried.extend(streams);
        carried.extend([
            "wasi:cli/terminal-input",
            "wasi:cli/terminal-output",
            "wasi:cli/terminal-stdin",
            "wasi:cli/terminal-stdout",
            "wasi:cli/terminal-stderr",
        ]);
    }
    if policy.clocks.is_some() {
        carried.extend(["wasi:clocks/monotonic-clock", "wasi:clocks/wall-clock"]);
    }
    if policy.random.is_some() {
        carried.extend([
            "wasi:random/random",
            "wasi:random/insecure",
            "wasi:random/insecure-seed",
        ]);
    }
    if policy.exit.is_some() {
        carried.insert("wasi:cli/exit");
    }
    carried.retain(|i| component.contains(*i));
    let io_bearing = [
        "wasi:cli/stdin",
        "wasi:cli/stdout",
        "wasi:cli/stderr",
        "wasi:clocks/monotonic-clock",
        "wasi:io/error",
        "wasi:io/poll",
        "wasi:io/streams",
    ];
    if carried.iter().any(|i| io_bearing.contains(i)) {
        carried.extend(io_bearing.iter().filter(|i| component.contains(**i)));
    }

    // What the component still asks the host for directly.
    let mut out: BTreeSet<String> = component
        .iter()
        .filter(|i| !carried.contains(i.as_str()))
        .cloned()
        .collect();

    // What the adapter asks the host for, to pass calls through.
    let mut host = |name: &str, when: bool| {
        if when {
            out.insert(name.to_string());
        }
    };
    let carries = |i: &str| carried.contains(i);
    if let Some(env) = &policy.env {
        let sealed = env.host == HostFilter::None && env.args != Some(Args::Host);
        host(
            "wasi:cli/environment",
            carries("wasi:cli/environment") && !sealed,
        );
    }
    let passes = |i: usize, mode: StdioMode| carries(streams[i]) && mode == StdioMode::Allow;
    let stdin = passes(0, stdio.stdin);
    let stdout = passes(1, stdio.stdout);
    let stderr = passes(2, stdio.stderr);
    host("wasi:cli/stdin", stdin);
    host("wasi:cli/stdout", stdout);
    host("wasi:cli/stderr", stderr || policy.debug);
    host(
        "wasi:cli/terminal-stdin",
        carries("wasi:cli/terminal-stdin") && stdio.stdin == StdioMode::Allow,
    );
    host(
        "wasi:cli/terminal-stdout",
        carries("wasi:cli/terminal-stdout") && stdio.stdout == StdioMode::Allow,
    );
    host(
        "wasi:cli/terminal-stderr",
        carries("wasi:cli/terminal-stderr") && stdio.stderr == StdioMode::Allow,
    );
    host(
        "wasi:cli/terminal-input",
        carries("wasi:cli/terminal-stdin") && stdio.stdin == StdioMode::Allow,
    );
    host(
        "wasi:cli/terminal-output",
        (carries("wasi:cli/terminal-stdout") && stdio.stdout == StdioMode::Allow)
            || (carries("wasi:cli/terminal-stderr") && stdio.stderr == StdioMode::Allow),
    );
    let host_streams = stdin || stdout || stderr || policy.debug;
    let clocks = allowed(policy.clocks);
    host("wasi:io/streams", host_streams);
    host("wasi:io/error", host_streams);
    host(
        "wasi:io/poll",
        host_streams || (carries("wasi:clocks/monotonic-clock") && clocks),
    );
    for clock in ["wasi:clocks/monotonic-clock", "wasi:clocks/wall-clock"] {
        host(clock, carries(clock) && clocks);
    }
    for r in [
        "wasi:random/random",
        "wasi:random/insecure",
        "wasi:random/insecure-seed",
    ] {
        host(r, carries(r) && allowed(policy.random));
    }
    host(
        "wasi:cli/exit",
        carries("wasi:cli/exit") && allowed(policy.exit),
    );
    out
}

fn main() {
    let args = Arguments::from_args();
    let probe: Arc<OnceLock<(Vec<u8>, BTreeSet<String>)>> = Arc::new(OnceLock::new());
    let trials = (0..POLICIES)
        .map(|seed| {
            let probe = probe.clone();
            Trial::test(format!("sweep-{seed:03}"), move || {
                let (bytes, imports) = probe.get_or_init(|| {
                    let bytes = harness::guest("probe");
                    let imports = harness::unversioned_imports(&bytes).unwrap();
                    (bytes, imports.into_iter().collect())
                });
                let policy = random_policy(seed);
                let mut virt = WasiVirt::from_policy(policy.clone());
                virt.compose(bytes.clone());
                let out = virt
                    .finish()
                    .map_err(|e| Failed::from(format!("{policy:?}: {e:#}")))?;
                wasmparser::Validator::new()
                    .validate_all(&out.bytes)
                    .map_err(|e| Failed::from(format!("{policy:?}: output invalid: {e}")))?;
                let got: BTreeSet<String> = harness::unversioned_imports(&out.bytes)
                    .unwrap()
                    .into_iter()
                    .collect();
                let want = expected_imports(&policy, imports);
                if got != want {
                    return Err(format!(
                        "{policy:?}\n  got  {got:?}\n  want {want:?}\n  only got:  {:?}\n  only want: {:?}",
                        got.difference(&want).collect::<Vec<_>>(),
                        want.difference(&got).collect::<Vec<_>>()
                    )
                    .into());
                }
                Ok(())
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
