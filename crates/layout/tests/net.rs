//! The network rules' deciding code, as the adapter runs it: the host-name
//! reader against the host's own (the `url` crate, which wasmtime-wasi's
//! lookups use), and matching over generated addresses and ports.
//!
//! The tables are data files in `tests/net/*.toml`, one trial per row
//! (`cargo test -p wasi-virt-layout --test net refused/` filters by name);
//! the other checks are one trial each.
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use libtest_mimic::{Arguments, Failed, Trial};
use std::panic::{catch_unwind, UnwindSafe};
use wasi_virt_layout::net::{self, host_literal, HostMatch, Kind, Literal, Lookup, RuleSpec};
use wasi_virt_layout::{encode, Config, ConfigSpec};

mod gen;
use gen::Gen;

fn main() {
    let args = Arguments::from_args();
    let mut trials = table_trials();
    let checks: [(&str, fn()); 7] = [
        (
            "generated_names_are_read_as_the_host_reads_them",
            generated_names_are_read_as_the_host_reads_them,
        ),
        (
            "ports_and_networks_match_exactly_what_they_cover",
            ports_and_networks_match_exactly_what_they_cover,
        ),
        ("lookups_follow_the_rules", lookups_follow_the_rules),
        (
            "request_queries_are_kept_and_fragments_refused",
            request_queries_are_kept_and_fragments_refused,
        ),
        (
            "http_rules_grant_method_and_path_together",
            http_rules_grant_method_and_path_together,
        ),
        (
            "generated_http_targets_agree_with_the_model",
            generated_http_targets_agree_with_the_model,
        ),
        ("every_table_has_rows", every_table_has_rows),
    ];
    trials.extend(checks.map(|(name, check)| trial(name, check)));
    libtest_mimic::run(&args, trials).exit();
}

/// A trial that runs `check`, which panics to fail.
fn trial(name: impl Into<String>, check: impl FnOnce() + Send + UnwindSafe + 'static) -> Trial {
    Trial::test(name, move || {
        catch_unwind(check).map_err(|panic| {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Failed::from(msg)
        })
    })
}

/// The rows of `tests/net/NAME.toml`: its array `key`.
fn table<T: serde::de::DeserializeOwned>(name: &str, key: &str) -> Vec<T> {
    let file = format!("{}/tests/net/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut table: toml::Table = text.parse().unwrap_or_else(|e| panic!("{file}: {e}"));
    let rows = table
        .remove(key)
        .unwrap_or_else(|| panic!("{file}: no `{key}`"));
    rows.try_into().unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// One trial per row of each table.
fn table_trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    for name in table::<String>("names", "names") {
        trials.push(trial(format!("names/{name:?}"), move || {
            check_against_host(&name)
        }));
    }
    for (pattern, name, want) in table::<(String, String, bool)>("name_patterns", "rows") {
        trials.push(trial(
            format!("name_patterns/{pattern} {name}"),
            move || {
                let host = match pattern.strip_prefix("*.") {
                    Some(below) => HostMatch::Below(below),
                    None => HostMatch::Name(&pattern),
                };
                assert_eq!(host.matches_name(&name), want, "{pattern} vs {name}");
            },
        ));
    }
    for (target, path) in table::<(String, String)>("normalized", "rows") {
        trials.push(trial(format!("normalized/{target:?}"), move || {
            let got = http_path::normalize(&target).map(|n| n.path);
            assert_eq!(got, Ok(path), "{target:?}");
        }));
    }
    for (target, why) in table::<(String, String)>("refused", "rows") {
        trials.push(trial(format!("refused/{target:?}"), move || {
            let got = http_path::normalize(&target).map(|n| n.path);
            assert_eq!(format!("{got:?}"), format!("Err({why})"), "{target:?}");
            assert!(
                http_model::refused(&target),
                "the model lets `{target:?}` through"
            );
        }));
    }
    trials.extend(pattern_trials());
    trials
}

/// The rows of the HTTP path-pattern and method tables.
fn pattern_trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    for (pattern, path, want) in table::<(String, String, bool)>("path_patterns", "rows") {
        trials.push(trial(
            format!("path_patterns/{pattern} {path}"),
            move || {
                assert_eq!(
                    http_path::matches(&pattern, &path),
                    want,
                    "{pattern} vs {path}"
                );
                assert_eq!(
                    http_model::granted(&pattern, &path, false),
                    want,
                    "model: {pattern} vs {path}"
                );
            },
        ));
    }
    for (methods, method, want) in table::<(String, String, bool)>("methods", "rows") {
        trials.push(trial(format!("methods/{methods} {method}"), move || {
            assert_eq!(
                http_path::method_granted(&methods, &method),
                want,
                "{method} against `{methods}`"
            );
        }));
    }
    trials
}

/// No table was left empty (a table that lost its rows would pass).
fn every_table_has_rows() {
    assert!(!table::<String>("names", "names").is_empty());
    for name in ["name_patterns", "path_patterns", "methods"] {
        assert!(
            !table::<(String, String, bool)>(name, "rows").is_empty(),
            "{name}"
        );
    }
    for name in ["normalized", "refused"] {
        assert!(
            !table::<(String, String)>(name, "rows").is_empty(),
            "{name}"
        );
    }
}

/// How the host reads `name` in a lookup (wasmtime-wasi's
/// `resolve_addresses`): an address, a name to look up, or an error.
fn host_reading(name: &str) -> Result<Option<IpAddr>, ()> {
    match url::Host::parse(name) {
        Ok(url::Host::Ipv4(ip)) => Ok(Some(IpAddr::V4(ip))),
        Ok(url::Host::Ipv6(ip)) => Ok(Some(IpAddr::V6(ip))),
        Ok(url::Host::Domain(_)) => Ok(None),
        Err(_) => name
            .parse::<Ipv6Addr>()
            .map(|ip| Some(IpAddr::V6(ip)))
            .map_err(|_| ()),
    }
}

fn check_against_host(name: &str) {
    let host = host_reading(name);
    match (host_literal(name), host) {
        (Literal::Ip(ip), Ok(Some(want))) => assert_eq!(ip, want, "`{name}`"),
        (Literal::Name(key), Ok(None)) => {
            // A plain name: the host looks up the same name, up to case and
            // one trailing dot.
            let domain = url::Host::parse(name).unwrap().to_string();
            assert_eq!(
                domain.trim_end_matches('.'),
                key.to_ascii_lowercase(),
                "`{name}`"
            );
            assert!(!name.ends_with(".."), "`{name}`");
        }
        // The host maps or refuses an opaque name; either way only `*`
        // lets it through, and the host decides.
        (Literal::Opaque, _) => {}
        (Literal::Invalid, Err(())) => {}
        (got, want) => panic!("`{name}`: read as {got:?}, the host reads {want:?}"),
    }
}

/// Generated dotted names, each read as the host reads it.
fn generated_names_are_read_as_the_host_reads_them() {
    let parts = [
        "0",
        "1",
        "9",
        "00",
        "07",
        "08",
        "010",
        "0x",
        "0x0",
        "0xff",
        "0x100",
        "0XfF",
        "255",
        "256",
        "65535",
        "65536",
        "16777216",
        "4294967295",
        "a",
        "b1",
        "x",
        "-",
        "_",
        "",
        "A",
        "0x1g",
        "1e3",
        "localhost",
        "example",
        "com",
    ];
    let mut g = Gen(0x5eed_1234_abcd_9876);
    for _ in 0..20_000 {
        let n = 1 + g.below(5);
        let mut name = (0..n).map(|_| g.pick(&parts)).collect::<Vec<_>>().join(".");
        if g.below(6) == 0 {
            name.push('.');
        }
        check_against_host(&name);
    }
}

fn rules(specs: Vec<RuleSpec<'static>>) -> Vec<u8> {
    encode(&ConfigSpec {
        net: specs,
        ..ConfigSpec::default()
    })
}

fn rule(kind: Kind, host: HostMatch<'static>, ports: &[(u16, u16)]) -> RuleSpec<'static> {
    RuleSpec {
        kind,
        family: net::Family::Any,
        host,
        ports: ports.to_vec(),
        to_host: None,
        to_port: None,
        methods: "",
        path: "",
    }
}

fn ports_and_networks_match_exactly_what_they_cover() {
    let mut g = Gen(0xfeed_beef_0000_0001);
    for _ in 0..2_000 {
        let lo = g.below(65536) as u16;
        let hi = lo.saturating_add(g.below(300) as u16);
        let a = [
            g.below(256) as u8,
            g.below(256) as u8,
            g.below(256) as u8,
            g.below(256) as u8,
        ];
        let prefix = g.below(33) as u8;
        let net_ip = IpAddr::V4(Ipv4Addr::from(a));
        let bytes = rules(vec![rule(
            Kind::TcpOut,
            HostMatch::Net(net_ip, prefix),
            &[(lo, hi)],
        )]);
        let config = Config::parse(&bytes).unwrap();
        for _ in 0..20 {
            let port = if g.below(2) == 0 {
                lo.wrapping_add(g.below(400) as u16).wrapping_sub(50)
            } else {
                g.below(65536) as u16
            };
            let mut b = a;
            b[g.below(4)] ^= 1 << g.below(8);
            let ip = if g.below(2) == 0 {
                Ipv4Addr::from(a)
            } else {
                Ipv4Addr::from(b)
            };
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            let inside = u32::from(ip) & mask == u32::from(Ipv4Addr::from(a)) & mask;
            let want = inside && lo <= port && port <= hi;
            let got = config
                .net
                .outbound(Kind::TcpOut, IpAddr::V4(ip), port, |_| false);
            assert_eq!(
                got.is_some(),
                want,
                "{ip}:{port} against {net_ip}/{prefix}:{lo}-{hi}"
            );
            // The same address mapped into IPv6 is the same address.
            let mapped = net::canonical(IpAddr::V6(ip.to_ipv6_mapped()));
            assert_eq!(
                config.net.outbound(Kind::TcpOut, mapped, port, |_| false),
                got
            );
            // Other kinds never match a TCP rule.
            assert_eq!(
                config
                    .net
                    .outbound(Kind::UdpOut, IpAddr::V4(ip), port, |_| false),
                None
            );
        }
    }
}

fn lookups_follow_the_rules() {
    let ip = IpAddr::V4(Ipv4Addr::new(172, 17, 0, 14));
    let mut remap = rule(
        Kind::TcpOut,
        HostMatch::Name("db.internal"),
        &[(5432, 5432)],
    );
    remap.to_host = Some(ip);
    let mut v6 = rule(Kind::Resolve, HostMatch::Below("example.com"), &[]);
    v6.family = net::Family::V6;
    let bytes = rules(vec![
        remap,
        v6,
        rule(Kind::Resolve, HostMatch::Name("a.example.com"), &[]),
        rule(Kind::TcpIn, HostMatch::Loopback, &[(80, 80)]),
    ]);
    let config = Config::parse(&bytes).unwrap();
    config.net.check().unwrap();
    let net = config.net;
    assert_eq!(net.resolve(Some("db.internal")), Lookup::Local(ip));
    assert_eq!(
        net.resolve(Some("b.example.com")),
        Lookup::Host {
            v4: false,
            v6: true
        }
    );
    assert_eq!(
        net.resolve(Some("a.example.com")),
        Lookup::Host { v4: true, v6: true }
    );
    assert_eq!(net.resolve(Some("example.com")), Lookup::Denied);
    assert_eq!(net.resolve(None), Lookup::Denied);
    let needs = net.needs();
    assert!(needs.tcp && needs.lookup && !needs.udp && !needs.http);
    // Inbound rules are addresses, never names.
    assert_eq!(
        net.inbound(Kind::TcpIn, IpAddr::V4(Ipv4Addr::LOCALHOST), 80),
        Some(80)
    );
    assert_eq!(
        net.inbound(Kind::TcpIn, IpAddr::V4(Ipv4Addr::UNSPECIFIED), 80),
        None
    );
    assert_eq!(
        net.inbound(Kind::TcpIn, IpAddr::V6(Ipv6Addr::LOCALHOST), 80),
        Some(80)
    );
    assert_eq!(
        net.inbound(Kind::UdpIn, IpAddr::V4(Ipv4Addr::LOCALHOST), 80),
        None
    );
    // A connect matches a name rule only for an address that name resolved to.
    let to = net.outbound(Kind::TcpOut, ip, 5432, |h| h.matches_name("db.internal"));
    assert_eq!(to, Some((ip, 5432)));
    assert_eq!(net.outbound(Kind::TcpOut, ip, 5432, |_| false), None);
    // Only remapped names: no lookup reaches the host.
    let only_local = rules(vec![{
        let mut r = rule(Kind::Resolve, HostMatch::Name("db"), &[]);
        r.to_host = Some(ip);
        r
    }]);
    assert_eq!(
        Config::parse(&only_local).unwrap().net.needs(),
        net::Needs::default()
    );
}

mod http_model;
use net::http_path::{self, Refusal};

/// A target's query is kept as sent, and a fragment refused.
fn request_queries_are_kept_and_fragments_refused() {
    let with_query = http_path::normalize("/v1/x/../y?x=/../admin#").map(|n| n.target());
    assert_eq!(with_query, Err(Refusal::Fragment));
    let normal = http_path::normalize("/v1/?x=/../admin&y=%2f").unwrap();
    assert_eq!(
        (normal.path.as_str(), normal.query),
        ("/v1/", Some("x=/../admin&y=%2f"))
    );
    assert_eq!(normal.target(), "/v1/?x=/../admin&y=%2f");
}

/// `Rules::http` as the adapter asks it: scheme, host, port, method and
/// path must all match one rule.
fn http_rules_grant_method_and_path_together() {
    let bytes = rules(vec![
        RuleSpec {
            methods: "GET,HEAD",
            path: "/v1/",
            ..rule(
                Kind::Https,
                HostMatch::Name("api.example.com"),
                &[(443, 443)],
            )
        },
        RuleSpec {
            path: "/v2/*/status",
            ..rule(Kind::Http, HostMatch::Any, &[(80, 80)])
        },
    ]);
    let config = Config::parse(&bytes).unwrap();
    let host = host_literal("api.example.com");
    let ask = |https, port, method, path| config.net.http(https, host, port, method, path);
    assert!(ask(true, 443, "GET", "/v1/items"));
    assert!(ask(true, 443, "HEAD", "/v1/"));
    assert!(!ask(true, 443, "POST", "/v1/items"));
    assert!(!ask(true, 443, "GET", "/v2/1/status"));
    assert!(!ask(true, 443, "GET", "/v1"));
    assert!(ask(false, 80, "POST", "/v2/1/status"));
    assert!(!ask(false, 80, "POST", "/v1/items"));
    assert!(!ask(false, 443, "GET", "/v1/items"));
}

/// The segments generated targets are made of.
const PIECES: &[&str] = &[
    "v1",
    "V1",
    "v1x",
    "admin",
    ".",
    "..",
    "%2e",
    "%2E%2e",
    ".%2e",
    "%2f",
    "%2F",
    "%5c",
    "\\",
    ";x",
    "..;",
    "%3b",
    "%3B",
    "",
    "%7e",
    "~",
    "%41",
    "%zz",
    "%",
    "%00",
    "*",
    "a%20b",
    "status",
    "items",
    "?x=/../admin",
    "?",
    "#",
    "%252e%252e",
    "a.json",
    "%3F",
];

/// The path patterns generated targets are matched against.
const PATTERNS: &[&str] = &[
    "",
    "/v1/",
    "/v1",
    "/v1/*/status",
    "/v1/*/",
    "/admin",
    "/~A/",
    "/%3F",
];

/// Generated targets against generated patterns, checked against the model
/// (`tests/http_model`): the adapter refuses exactly what the model
/// refuses, normalizes to the model's path, and every path it grants is
/// granted under every server reading of what it sends.
fn generated_http_targets_agree_with_the_model() {
    let mut g = Gen(0x0123_4567_89ab_cdef);
    let (mut allowed, mut refused) = (0, 0);
    for _ in 0..50_000 {
        let n = 1 + g.below(5);
        let mut target: String = (0..n).map(|_| ["/", g.pick(PIECES)].concat()).collect();
        if g.below(10) == 0 {
            target.remove(0);
        }
        match http_path::normalize(&target) {
            Err(_) => {
                refused += 1;
                assert!(
                    http_model::refused(&target),
                    "`{target}` refused, the model takes it"
                );
            }
            Ok(normal) => {
                assert!(
                    !http_model::refused(&target),
                    "`{target}` taken, the model refuses it"
                );
                assert_eq!(normal.path, http_model::normal(&target), "`{target}`");
                for pattern in PATTERNS {
                    if http_path::matches(pattern, &normal.path) {
                        allowed += 1;
                        check_readings(pattern, &normal.target(), &target);
                    }
                }
            }
        }
    }
    assert!(
        allowed > 5_000 && refused > 5_000,
        "{allowed} allowed, {refused} refused"
    );
}

fn check_readings(pattern: &str, sent: &str, target: &str) {
    let path = sent.split('?').next().unwrap();
    for (i, reading) in http_model::readings(path).iter().enumerate() {
        let decoded = i == 1 || i == 4;
        assert!(
            http_model::granted(pattern, reading, decoded),
            "`{target}` sent as `{sent}` is read as `{reading}`, outside `{pattern}`"
        );
    }
}
