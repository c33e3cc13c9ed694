//! Fixed answers (`src/adapter/fixed.rs`) against the adapter's code.
//!
//! For every mix of denied and ignored standard streams, with and without
//! the policy's variables, arguments and cwd, the `io-probe` guest (a
//! library component, since a denied stdout cannot carry its report) calls
//! every stream, poll, terminal, environment and socket-creating function
//! directly, and `wasi:config/store`'s. Its
//! transcript from the output made of fixed answers is the same as from the
//! output whose adapter's code was specialized
//! (`WasiVirt::fixed_answers(false)`), in wasmtime, and holds what the
//! policy says; the fixed one is the one `finish()` makes by default, and
//! the smaller. Denied sockets answer `access-denied` in both; denied exit,
//! clocks and randomness trap in both. The `p3-probe` guest does the same
//! at WASI 0.3 (environment, the streams and futures of stdio, terminals,
//! preopens, sockets), called as a WASI 0.3 host calls. A policy
//! with anything to decide at run time keeps the adapter's code.

#[path = "harness/mod.rs"]
mod harness;

use anyhow::Result;
use harness::Host;
use wasi_virt::{
    Access, Args, ClocksPolicy, ConfigPolicy, Cwd, EnvPolicy, FsPolicy, HostFilter, Policy,
    RandomPolicy, StdinPolicy, StdioMode, StdioPolicy, VirtResult, WasiVirt,
};

/// `io-probe` under `policy`, with fixed answers allowed, then without.
fn both(policy: &Policy) -> Result<(VirtResult, VirtResult)> {
    both_of(&harness::guest("io-probe"), policy)
}

/// `guest` under `policy`, with fixed answers allowed, then without.
fn both_of(guest: &[u8], policy: &Policy) -> Result<(VirtResult, VirtResult)> {
    let build = |fixed: bool| {
        let mut virt = WasiVirt::from_policy(policy.clone());
        virt.fixed_answers(fixed).compose(guest.to_vec());
        virt.finish()
    };
    Ok((build(true)?, build(false)?))
}

/// The transcript of `step`: the string `probe` returns (which the harness
/// renders quoted, as Rust writes a string's debug form).
fn probe(out: &VirtResult, step: &str) -> Result<String> {
    transcript(out, step, harness::call_export)
}

/// [`probe`] of a guest that waits on WASI 0.3's streams and futures.
fn probe_0_3(out: &VirtResult, step: &str) -> Result<String> {
    transcript(out, step, harness::call_export_0_3)
}

type Call = fn(&[u8], &Host, &str, &[String]) -> Result<String>;

fn transcript(out: &VirtResult, step: &str, call: Call) -> Result<String> {
    let said = call(&out.bytes, &Host::default(), "probe", &[step.to_string()])?;
    let quoted = said.strip_prefix('"').and_then(|s| s.strip_suffix('"'));
    let quoted = quoted.unwrap_or_else(|| panic!("not a string: {said}"));
    Ok(quoted.replace("\\n", "\n").replace("\\\"", "\""))
}

/// Every subsystem denied, the streams in the modes given, and the
/// environment sealed: empty, or with variables, arguments and a cwd.
fn policy(modes: [StdioMode; 3], with_env: bool) -> Policy {
    let mut env = EnvPolicy::default();
    env.deny_all();
    env.args = Some(Args::Virtual(Vec::new()));
    env.cwd = Some(Cwd::None);
    if with_env {
        env.overrides(&[("A", "1"), ("GREETING", "hello, world")]);
        env.args = Some(Args::Virtual(vec!["prog".into(), "--flag".into()]));
        env.cwd = Some(Cwd::Virtual("/work".into()));
    }
    let mut config = ConfigPolicy {
        host: HostFilter::None,
        ..ConfigPolicy::default()
    };
    if with_env {
        config.properties.insert("region".into(), "eu-west".into());
        config.properties.insert("tier".into(), "".into());
    }
    let [stdin, stdout, stderr] = modes;
    Policy {
        env: Some(env),
        stdio: Some(StdioPolicy {
            stdin: StdinPolicy::Mode(stdin),
            stdout,
            stderr,
        }),
        exit: Some(Access::Deny),
        clocks: Some(ClocksPolicy::Deny),
        random: Some(RandomPolicy::Deny),
        sockets: Some(Access::Deny),
        config: Some(config),
        ..Policy::default()
    }
}

#[test]
fn fixed_answers_answer_as_the_adapter_does() -> Result<()> {
    for (modes, with_env) in every_mix() {
        let (fixed, adapter) = both(&policy(modes, with_env))?;
        let what = format!("{modes:?}, variables {with_env}");
        fixed_and_not(&fixed, &adapter, &what);
        let streams = probe(&fixed, "streams")?;
        assert_eq!(streams, probe(&adapter, "streams")?, "{what}");
        check_streams(&streams, modes);
        let env = probe(&fixed, "env")?;
        assert_eq!(env, probe(&adapter, "env")?, "{what}");
        check_env(&env, with_env);
        let sockets = probe(&fixed, "sockets")?;
        assert_eq!(sockets, probe(&adapter, "sockets")?, "{what}");
        let denied = "tcp Err(\"access-denied\")\nudp Err(\"access-denied\")\nlookup Err(\"access-denied\")\n";
        assert_eq!(sockets, denied, "{what}");
        let config = probe(&fixed, "config:region,tier,regio,regions,")?;
        assert_eq!(
            config,
            probe(&adapter, "config:region,tier,regio,regions,")?
        );
        check_config(&config, with_env);
    }
    Ok(())
}

/// Every mix of denied and ignored standard streams, with and without
/// the policy's variables, arguments and cwd.
fn every_mix() -> impl Iterator<Item = ([StdioMode; 3], bool)> {
    let quiet = [StdioMode::Deny, StdioMode::Ignore];
    let modes = quiet.into_iter().flat_map(move |stdin| {
        let pairs = quiet.into_iter().flat_map(move |o| quiet.map(|e| (o, e)));
        pairs.map(move |(stdout, stderr)| [stdin, stdout, stderr])
    });
    modes.flat_map(|m| [(m, false), (m, true)])
}

/// `fixed` is made of fixed answers, `adapter` of the adapter's code, the
/// larger, and both import the same.
fn fixed_and_not(fixed: &VirtResult, adapter: &VirtResult, what: &str) {
    assert!(fixed.report.fixed_answers, "{what}: not fixed answers");
    assert!(!adapter.report.fixed_answers, "{what}");
    assert!(fixed.bytes.len() < adapter.bytes.len(), "{what}");
    assert_eq!(fixed.report.imports, adapter.report.imports, "{what}");
}

/// What the policy says the streams' transcript holds: the same output
/// as the adapter's is not enough if both are wrong.
fn check_streams(said: &str, [stdin, stdout, _]: [StdioMode; 3]) {
    let has = |line: &str| said.lines().any(|l| l == line);
    let read = match stdin {
        StdioMode::Deny => "stdin read: failed: stdin is denied by wasi-virt",
        _ => "stdin read: closed",
    };
    let write = match stdout {
        StdioMode::Deny => "stdout write: failed: stdout is denied by wasi-virt",
        _ => "stdout write: ok ()",
    };
    for line in [
        read,
        write,
        "poll: [0, 1, 2, 3]",
        "terminals: false false false",
    ] {
        assert!(has(line), "no `{line}` in:\n{said}");
    }
    if stdout == StdioMode::Ignore {
        assert!(has("stdout check-write: ok 1048576"), "{said}");
    }
}

/// What the policy says the configuration's transcript holds: its
/// properties, and the `upstream` error naming any other key (a prefix of
/// one, one it prefixes, the empty one).
fn check_config(said: &str, with_env: bool) {
    let denied = |key: &str| {
        format!(
            "get {key:?}: Err(Error::Upstream(\"host configuration is denied by wasi-virt; \
             `{key}` is not set by the policy\"))"
        )
    };
    let has = |line: &str| said.lines().any(|l| l == line);
    for key in ["regio", "regions", ""] {
        assert!(has(&denied(key)), "no `{}` in:\n{said}", denied(key));
    }
    if with_env {
        assert!(has(r#"get "region": Ok(Some("eu-west"))"#), "{said}");
        assert!(has(r#"get "tier": Ok(Some(""))"#), "{said}");
        let all = r#"get-all: Ok([("region", "eu-west"), ("tier", "")])"#;
        assert!(has(all), "{said}");
    } else {
        assert!(has(&denied("region")), "{said}");
        assert!(has("get-all: Ok([])"), "{said}");
    }
}

/// What the policy says the environment's transcript holds.
fn check_env(said: &str, with_env: bool) {
    let expected = match with_env {
        true => {
            "var A=1\nvar GREETING=hello, world\nargs [\"prog\", \"--flag\"]\ncwd Some(\"/work\")\n"
        }
        false => "args []\ncwd None\n",
    };
    assert_eq!(said, expected);
}

#[test]
fn a_key_longer_than_a_page_is_named_whole() -> Result<()> {
    let (fixed, adapter) = both(&policy([StdioMode::Deny; 3], true))?;
    let key = "k".repeat(70_000);
    let step = format!("config:{key}");
    let said = probe(&fixed, &step)?;
    assert_eq!(said, probe(&adapter, &step)?);
    assert!(said.contains(&format!("; `{key}` is not set by the policy")));
    Ok(())
}

#[test]
fn denied_calls_trap_with_fixed_answers_too() -> Result<()> {
    let (fixed, adapter) = both(&policy([StdioMode::Deny; 3], false))?;
    denied_steps_trap([&fixed, &adapter], harness::call_export);
    Ok(())
}

/// The steps `exit`, `clocks` and `random` trap in each of `outs`, called
/// by `call`.
fn denied_steps_trap(outs: [&VirtResult; 2], call: Call) {
    for step in ["exit", "clocks", "random"] {
        for out in outs {
            let trapped = transcript(out, step, call).expect_err(step);
            assert!(
                format!("{trapped:#}").contains("trapped"),
                "{step}: {trapped:#}"
            );
        }
    }
}

#[test]
fn a_policy_with_run_time_decisions_keeps_the_adapter_code() -> Result<()> {
    let denied = policy([StdioMode::Deny; 3], true);
    let mut host_stdout = denied.clone();
    host_stdout.stdio.as_mut().unwrap().stdout = StdioMode::Allow;
    let mut host_args = denied.clone();
    host_args.env.as_mut().unwrap().args = Some(Args::Host);
    let mut traced = denied.clone();
    traced.debug = true;
    let mut baked_stdin = denied.clone();
    baked_stdin.stdio.as_mut().unwrap().stdin = StdinPolicy::Content("typed".into());
    for (what, policy) in [
        ("host stdout", host_stdout),
        ("host arguments", host_args),
        ("--debug", traced),
        ("baked stdin", baked_stdin),
    ] {
        let mut virt = WasiVirt::from_policy(policy);
        virt.compose(harness::guest("io-probe"));
        let out = virt.finish()?;
        assert!(!out.report.fixed_answers, "{what}: fixed answers");
    }
    Ok(())
}

/// WASI 0.3's functions get fixed answers too. For every mix of denied
/// and ignored standard streams, with and without the policy's variables,
/// arguments and cwd, the `p3-probe` guest calls WASI 0.3's environment,
/// stdio (each stream's stream and future, twice), terminals, preopens and
/// sockets directly: its transcript through fixed answers is the one
/// through the adapter's code, and holds what the policy says. Its denied
/// exit, clocks and randomness trap in both.
#[test]
fn wasi_0_3_fixed_answers_answer_as_the_adapter_does() -> Result<()> {
    let guest = harness::guest("p3-probe");
    for (modes, with_env) in every_mix() {
        let mut policy = policy(modes, with_env);
        policy.config = None;
        policy.fs = Some(FsPolicy {
            host_preopens: false,
            ..FsPolicy::default()
        });
        let (fixed, adapter) = both_of(&guest, &policy)?;
        let what = format!("{modes:?}, variables {with_env}");
        fixed_and_not(&fixed, &adapter, &what);
        let mut said = Vec::new();
        for step in ["stdio", "env", "fs", "sockets"] {
            let transcript = probe_0_3(&fixed, step)?;
            assert_eq!(transcript, probe_0_3(&adapter, step)?, "{what}: {step}");
            said.push(transcript);
        }
        check_stdio_0_3(&said[0], modes);
        check_env(&said[1], with_env);
        assert_eq!(said[2], "preopens []\n", "{what}");
        let denied = "tcp Err(ErrorCode::AccessDenied)\nudp Err(ErrorCode::AccessDenied)\n\
                      lookup Err(ErrorCode::AccessDenied)\n";
        assert_eq!(said[3], denied, "{what}");
    }
    let mut denied = policy([StdioMode::Deny; 3], false);
    denied.config = None;
    let (fixed, adapter) = both_of(&guest, &denied)?;
    assert!(fixed.report.fixed_answers);
    denied_steps_trap([&fixed, &adapter], harness::call_export_0_3);
    Ok(())
}

/// What the policy says WASI 0.3's stdio transcript holds: a denied
/// stream's future answers `err(io)`, a quiet one's `ok`; stdin ends at
/// once, and what is written to stdout or stderr is not taken.
fn check_stdio_0_3(said: &str, modes: [StdioMode; 3]) {
    let done = |mode| match mode {
        StdioMode::Deny => "Err(ErrorCode::Io)",
        _ => "Ok(())",
    };
    let [stdin, stdout, stderr] = modes;
    let once = format!(
        "stdin: 0 bytes, then {}\nstdout: 12 bytes not taken, then {}\n\
         stderr: 12 bytes not taken, then {}\n",
        done(stdin),
        done(stdout),
        done(stderr)
    );
    assert_eq!(said, format!("{once}{once}terminals: false false false\n"));
}

/// Where some functions need the adapter's code (here HTTP's types, and
/// stdout passed to the host), the free functions whose answers stand
/// alone still get them in place of their code: `probe-all`, which calls
/// into every WASI 0.2 interface, prints the same through both, and its
/// output is the smaller.
#[test]
fn answers_beside_the_adapters_code_answer_as_it_does() -> Result<()> {
    let mut policy = policy([StdioMode::Deny, StdioMode::Allow, StdioMode::Deny], true);
    let steps = "touch,fs:/data/greeting.txt,tcp,http:127.0.0.1:9,http-with-options:127.0.0.1:9,\
                 config:region,config:zone";
    policy.env.as_mut().unwrap().overrides(&[("PROBE", steps)]);
    policy.clocks = Some(ClocksPolicy::Allow);
    policy.random = Some(RandomPolicy::Allow);
    policy.http = Some(Access::Deny);
    policy.fs = Some(FsPolicy {
        host_preopens: false,
        ..FsPolicy::default()
    });
    let (partial, adapter) = both_of(&harness::guest("probe-all"), &policy)?;
    assert!(!partial.report.fixed_answers && !adapter.report.fixed_answers);
    assert!(partial.bytes.len() < adapter.bytes.len());
    assert_eq!(partial.report.imports, adapter.report.imports);
    let said = harness::run_ok(&partial.bytes, &Host::default())?.stdout;
    assert_eq!(
        said,
        harness::run_ok(&adapter.bytes, &Host::default())?.stdout
    );
    let denied = "http error: ErrorCode::HttpRequestDenied";
    assert_eq!(said.lines().filter(|l| *l == denied).count(), 2, "{said}");
    for line in [
        "touch environment: 3",
        "touch arguments: 2",
        "touch cwd: Some(\"/work\")",
        "touch tcp error: access-denied",
        "touch lookup error: access-denied",
        "fs error: NotFound",
        "tcp error: access-denied",
        "http error: ErrorCode::HttpRequestDenied",
        "config region: Some(\"eu-west\")",
    ] {
        assert!(said.lines().any(|l| l == line), "no `{line}` in:\n{said}");
    }
    Ok(())
}
