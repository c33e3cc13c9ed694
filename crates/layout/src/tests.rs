//! Round trips of a whole configuration through [`encode`] and
//! [`Config::parse`], one test per part, and the errors of a damaged one.

use super::*;
use alloc::vec;
use alloc::vec::Vec;

fn sample() -> ConfigSpec<'static> {
    ConfigSpec {
        flags: FLAG_DEBUG,
        env: sample_env(),
        stdio: [StdioMode::Ignore, StdioMode::Allow, StdioMode::Deny],
        allow: allow::CLOCKS | allow::HTTP,
        store: StoreSpec {
            host: HostFilterMode::Allow,
            host_names: vec!["region"],
            properties: vec![("db-url", "postgres://x")],
        },
        clock: Some(VirtualClock {
            seconds: 1_704_067_200,
            nanoseconds: 5,
        }),
        random_seed: Some(u64::MAX - 1),
        stdin: Some(b"line one\nline two\n"),
        call_names: CALL_NAMES,
        net: vec![sample_rule()],
        fs: sample_fs(),
    }
}

fn sample_env() -> EnvSpec<'static> {
    EnvSpec {
        host: HostFilterMode::Deny,
        host_names: vec!["SECRET", "TOKEN"],
        overrides: vec![("A", "1"), ("EMPTY", ""), ("ÜNICODE", "välue")],
        args: Source::Virtual(vec!["prog", "--flag"]),
        cwd: Source::Virtual(Some("/app")),
    }
}

fn sample_rule() -> net::RuleSpec<'static> {
    net::RuleSpec {
        kind: net::Kind::TcpOut,
        family: net::Family::V4,
        host: net::HostMatch::Name("db.internal"),
        ports: vec![(5432, 5432)],
        to_host: Some(core::net::IpAddr::V4(core::net::Ipv4Addr::new(
            172, 17, 0, 14,
        ))),
        to_port: Some(5433),
        methods: "",
        path: "",
    }
}

fn sample_fs() -> FsSpec<'static> {
    let node = |name, kind| NodeSpec { name, kind };
    FsSpec {
        remaps: vec![("/srv", "/host/srv")],
        preopens: vec![("/data", 0)],
        nodes: vec![
            node("", NodeKind::Dir { first: 1, count: 4 }),
            node(
                "a.txt",
                NodeKind::File {
                    segment: 0,
                    offset: 0,
                    len: 5,
                },
            ),
            node("sub", NodeKind::Dir { first: 3, count: 0 }),
            node("z", NodeKind::RuntimeFile("/host/z.txt")),
            node("zz", NodeKind::Link("sub/../a.txt")),
        ],
        memory: vec![
            Memory {
                name: "/tmp",
                lower: None,
                limit: 1 << 40,
            },
            Memory {
                name: "/app",
                lower: Some(2),
                limit: 99,
            },
        ],
    }
}

/// Checks `check` on the sample, encoded and decoded.
fn round_trip(check: impl FnOnce(Config<'_>)) {
    let bytes = encode(&sample());
    check(Config::parse(&bytes).unwrap());
}

#[test]
fn the_environment_round_trips() {
    round_trip(|c| {
        assert!(c.debug());
        assert_eq!(c.env.host, HostFilterMode::Deny);
        assert_eq!(
            c.env.host_names.iter().collect::<Vec<_>>(),
            ["SECRET", "TOKEN"]
        );
        assert!(c.env.host_names.contains("TOKEN"));
        assert!(!c.env.host_names.contains("TOK"));
        assert_eq!(
            c.env.overrides.iter().collect::<Vec<_>>(),
            [("A", "1"), ("EMPTY", ""), ("ÜNICODE", "välue")]
        );
        assert_eq!(c.env.overrides.get("EMPTY"), Some(""));
        match c.env.args {
            Source::Virtual(a) => assert_eq!(a.iter().collect::<Vec<_>>(), ["prog", "--flag"]),
            Source::Host => panic!("args should be virtual"),
        }
        assert_eq!(c.env.cwd, Source::Virtual(Some("/app")));
    });
}

#[test]
fn the_streams_allow_bits_and_store_round_trip() {
    round_trip(|c| {
        assert_eq!(
            c.stdio,
            [StdioMode::Ignore, StdioMode::Allow, StdioMode::Deny]
        );
        assert_eq!(c.stream(Stream::Stderr), StdioMode::Deny);
        assert_eq!(c.stdin, Some(&b"line one\nline two\n"[..]));
        assert!(c.allows(allow::CLOCKS) && c.allows(allow::HTTP));
        assert!(!c.allows(allow::RANDOM) && !c.allows(allow::CLOCKS | allow::RANDOM));
        assert_eq!(c.store.host, HostFilterMode::Allow);
        assert!(c.store.host_names.contains("region"));
        assert_eq!(c.store.properties.get("db-url"), Some("postgres://x"));
    });
}

#[test]
fn the_filesystem_tree_round_trips() {
    round_trip(|c| {
        assert_eq!(c.fs.preopens().collect::<Vec<_>>(), [("/data", 0)]);
        assert_eq!(
            c.fs.remaps.iter().collect::<Vec<_>>(),
            [("/srv", "/host/srv")]
        );
        assert_eq!(c.fs.node_count(), 5);
        let nodes: Vec<Node<'_>> = (0..5).map(|i| c.fs.node(i).unwrap()).collect();
        let names: Vec<&str> = nodes.iter().map(|n| n.name).collect();
        assert_eq!(names, ["", "a.txt", "sub", "z", "zz"]);
        let kinds: Vec<NodeKind<'_>> = nodes.iter().map(|n| n.kind).collect();
        let sample: Vec<NodeKind<'_>> = sample_fs().nodes.iter().map(|n| n.kind).collect();
        assert_eq!(kinds, sample);
        assert_eq!(nodes[4].kind, NodeKind::Link("sub/../a.txt"));
        assert_eq!(c.fs.node(5), None);
    });
}

#[test]
fn the_memory_preopens_round_trip() {
    round_trip(|c| {
        let memory: Vec<Memory<'_>> = c.fs.memory.iter().collect();
        assert_eq!(memory.len(), 2);
        assert_eq!(
            (memory[0].name, memory[0].lower, memory[0].limit),
            ("/tmp", None, 1 << 40)
        );
        assert_eq!(
            (memory[1].name, memory[1].lower, memory[1].limit),
            ("/app", Some(2), 99)
        );
        assert_eq!(c.fs.memory.get(1), Some(memory[1]));
    });
}

#[test]
fn the_clock_seed_and_call_names_round_trip() {
    round_trip(|c| {
        assert_eq!(
            c.clock,
            Some(VirtualClock {
                seconds: 1_704_067_200,
                nanoseconds: 5
            })
        );
        assert_eq!(c.random_seed, Some(u64::MAX - 1));
        assert_eq!(c.call_names.iter().collect::<Vec<_>>(), CALL_NAMES);
        assert_eq!(
            c.call_name(Call::GetEnvironment as u32),
            Some("wasi:cli/environment.get-environment")
        );
        assert_eq!(
            c.call_name(Call::RemapRefused as u32),
            Some("host directory to remap refused by the host")
        );
        assert_eq!(c.call_name(CALL_NAMES.len() as u32), None);
    });
}

#[test]
fn the_rules_round_trip() {
    round_trip(|c| {
        let rule = c.net.iter().next().unwrap();
        assert_eq!(c.net.len(), 1);
        assert_eq!(c.net.check(), Ok(()));
        assert_eq!(rule.host, net::HostMatch::Name("db.internal"));
        assert_eq!((rule.family, rule.to_port), (net::Family::V4, Some(5433)));
        assert_eq!(rule.ports.iter().collect::<Vec<_>>(), [(5432, 5432)]);
    });
}

#[test]
fn the_environment_and_flags_decode_alone() {
    for spec in [sample(), ConfigSpec::default()] {
        let bytes = encode(&spec);
        let whole = Config::parse(&bytes).unwrap();
        assert_eq!(Env::parse(&bytes), Ok(whole.env));
        assert_eq!(flags_of(&bytes), whole.flags);
    }
    // The prefix alone is enough, and a shorter one is refused.
    let bytes = encode(&sample());
    let env_end = (0..bytes.len())
        .find(|&n| Env::parse(&bytes[..n]).is_ok())
        .unwrap();
    assert!(env_end < bytes.len());
    assert_eq!(Env::parse(&bytes[..env_end - 1]), Err(Error::Truncated));
    assert_eq!(flags_of(&bytes[..3]), 0);
}

#[test]
fn fs_trees_that_point_outside_are_refused() {
    let mut spec = sample();
    spec.fs.nodes[0].kind = NodeKind::Dir { first: 1, count: 9 };
    assert_eq!(Config::parse(&encode(&spec)), Err(Error::Truncated));
    let mut spec = sample();
    spec.fs.preopens[0].1 = 5;
    assert_eq!(Config::parse(&encode(&spec)), Err(Error::Truncated));
}

#[test]
fn config_round_trip_defaults() {
    let bytes = encode(&ConfigSpec::default());
    let c = Config::parse(&bytes).unwrap();
    assert!(!c.debug());
    assert_eq!(c.env.host, HostFilterMode::All);
    assert!(c.env.host_names.is_empty() && c.env.overrides.is_empty());
    assert_eq!(c.env.args, Source::Host);
    assert_eq!(c.env.cwd, Source::Host);
    assert_eq!((c.clock, c.random_seed, c.stdin), (None, None, None));
    assert!(c.call_names.is_empty() && c.call_name(0).is_none());

    let mut spec = ConfigSpec::default();
    spec.env.cwd = Source::Virtual(None);
    spec.env.args = Source::Virtual(Vec::new());
    let bytes = encode(&spec);
    let c = Config::parse(&bytes).unwrap();
    assert_eq!(c.env.cwd, Source::Virtual(None));
    assert!(matches!(c.env.args, Source::Virtual(a) if a.is_empty()));
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = encode(&sample());
    for n in 0..bytes.len() {
        assert_eq!(Config::parse(&bytes[..n]), Err(Error::Truncated), "at {n}");
    }
}

#[test]
fn bad_utf8_and_tags_are_errors() {
    let mut spec = ConfigSpec::default();
    spec.env.host_names = vec!["ab"];
    let mut bytes = encode(&spec);
    let at = bytes.windows(2).position(|w| w == b"ab").unwrap();
    bytes[at] = 0xff;
    assert_eq!(Config::parse(&bytes), Err(Error::Utf8));

    let mut bytes = encode(&ConfigSpec::default());
    bytes[4] = 9;
    assert_eq!(Config::parse(&bytes), Err(Error::BadTag(9)));
}
