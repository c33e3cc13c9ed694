//! The network rules' deciding code, as the adapter runs it: the host-name
//! reader against the host's own (the `url` crate, which wasmtime-wasi's
//! lookups use), and matching over generated addresses and ports.
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use wasi_virt_layout::net::{self, host_literal, HostMatch, Kind, Literal, Lookup, RuleSpec};
use wasi_virt_layout::{encode, Config, ConfigSpec};

mod gen;
mod table;
use gen::Gen;
use table::every_row;

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

/// Names in every form a host reads: addresses in each notation, names,
/// and what is neither.
const NAMES: &[&str] = &[
    "127.0.0.1",
    "127.1",
    "0x7f.0.0.1",
    "0x7f.1",
    "017700000001",
    "2130706433",
    "0x7F000001",
    "127.0.0.1.",
    "127.0.0.1..",
    "1.2.3.4.5",
    "256.0.0.1",
    "1.256",
    "0x100000000",
    "4294967296",
    "4294967295",
    "0x",
    "0x.0x.0x.0x",
    "00",
    "09",
    "1.2.3.09",
    "[::1]",
    "::1",
    "[::ffff:127.0.0.1]",
    "::ffff:127.0.0.1",
    "[1::2::3]",
    "[127.0.0.1]",
    "localhost",
    "LOCALHOST",
    "Example.COM.",
    "example.com",
    "example.com.",
    "a..b",
    ".",
    "..",
    "",
    "a_b.example",
    "-a.example",
    "exa mple",
    "xn--bcher-kva.example",
    "bücher.example",
    "example.1",
    "example.0x1",
    "1.example",
    "example.0x",
    "example.0xg",
    "%31%32%37.0.0.1",
    "a@b",
    "a:b",
    "a/b",
    "a#b",
    "99999999999999999999999999999999999999",
];

/// Labels that generated names are made of.
const LABELS: &[&str] = &[
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

#[test]
fn names_are_read_as_the_host_reads_them() {
    every_row(NAMES, |name| check_against_host(name));
}

#[test]
fn generated_names_are_read_as_the_host_reads_them() {
    let mut g = Gen(0x5eed_1234_abcd_9876);
    for _ in 0..20_000 {
        let n = 1 + g.below(5);
        let mut name = (0..n).map(|_| g.pick(LABELS)).collect::<Vec<_>>().join(".");
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

#[test]
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

#[test]
fn name_patterns_match_whole_labels() {
    let below = HostMatch::Below("example.com");
    let rows = [
        ("a.example.com", true),
        ("a.b.example.com", true),
        ("example.com", false),
        ("aexample.com", false),
        (".example.com", false),
        ("example.com.evil", false),
        ("a.example.co", false),
        ("A.Example.COM", true),
    ];
    every_row(&rows, |&(name, want)| {
        assert_eq!(below.matches_name(name), want, "{name}");
    });
    assert!(HostMatch::Name("example.com").matches_name("example.com"));
    assert!(!HostMatch::Name("example.com").matches_name("a.example.com"));
}

#[test]
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

/// Request targets the adapter normalizes, and those it refuses, with why.
#[test]
fn request_targets_are_normalized_or_refused() {
    let normalized = [
        ("/", "/"),
        ("/v1/items", "/v1/items"),
        ("/v1/./items", "/v1/items"),
        ("/v1/x/../items", "/v1/items"),
        ("/v1/../../admin", "/admin"),
        ("/v1/..", "/"),
        ("/v1/.", "/v1/"),
        ("/v1/items/", "/v1/items/"),
        ("/%7e%41%2d/%3a%2A", "/~A-/%3A%2A"),
        ("/v1/a%2e", "/v1/a."),
        ("/v1/.well-known", "/v1/.well-known"),
        ("/V1/Items", "/V1/Items"),
    ];
    every_row(&normalized, |&(target, path)| {
        assert_eq!(
            http_path::normalize(target).map(|n| n.path),
            Ok(path.into()),
            "{target}"
        );
    });
    let with_query = http_path::normalize("/v1/x/../y?x=/../admin#").map(|n| n.target());
    assert_eq!(with_query, Err(Refusal::Fragment));
    let normal = http_path::normalize("/v1/?x=/../admin&y=%2f").unwrap();
    assert_eq!(
        (normal.path.as_str(), normal.query),
        ("/v1/", Some("x=/../admin&y=%2f"))
    );
    assert_eq!(normal.target(), "/v1/?x=/../admin&y=%2f");
    let refused = [
        ("", Refusal::NotOrigin),
        ("v1/items", Refusal::NotOrigin),
        ("*", Refusal::NotOrigin),
        ("api.example.com:443", Refusal::NotOrigin),
        ("http://api.example.com/v1/", Refusal::NotOrigin),
        ("?/v1/", Refusal::NotOrigin),
        ("/v1/%2fadmin", Refusal::EncodedSlash),
        ("/v1/%2F", Refusal::EncodedSlash),
        ("/v1/%5cadmin", Refusal::Backslash),
        ("/v1\\..\\admin", Refusal::Backslash),
        ("/v1/%2e%2e/admin", Refusal::EncodedDot),
        ("/v1/.%2E/admin", Refusal::EncodedDot),
        ("/v1/%2e", Refusal::EncodedDot),
        ("/v1/\0", Refusal::Nul),
        ("/v1/%00", Refusal::Nul),
        ("/v1/?a=%00", Refusal::Nul),
        ("/v1//admin", Refusal::EmptySegment),
        ("//v1/", Refusal::EmptySegment),
        ("/v1/..;/admin", Refusal::Parameter),
        ("/v1/..%3B/admin", Refusal::Parameter),
        ("/v1/%zz", Refusal::BadEscape),
        ("/v1/%4", Refusal::BadEscape),
        ("/v1/a b", Refusal::NotPrintable),
        ("/v1/\u{e9}", Refusal::NotPrintable),
        ("/v1/#x", Refusal::Fragment),
    ];
    every_row(&refused, |&(target, why)| {
        assert_eq!(http_path::normalize(target), Err(why), "{target:?}");
        assert!(
            http_model::refused(target),
            "the model lets `{target:?}` through"
        );
    });
}

/// Path patterns match on segment boundaries; `*` is one non-empty segment.
#[test]
fn http_path_patterns_match_on_segments() {
    let rows = [
        ("", "/anything", true),
        ("/v1/", "/v1/", true),
        ("/v1/", "/v1/items", true),
        ("/v1/", "/v1/a/b/c", true),
        ("/v1/", "/v1", false),
        ("/v1/", "/v1x", false),
        ("/v1/", "/v1x/", false),
        ("/v1/", "/", false),
        ("/v1", "/v1", true),
        ("/v1", "/v1/", false),
        ("/v1", "/v1/x", false),
        ("/v1/*/status", "/v1/42/status", true),
        ("/v1/*/status", "/v1/42/status/", false),
        ("/v1/*/status", "/v1/status", false),
        ("/v1/*/status", "/v1/a/b/status", false),
        ("/v1/*/", "/v1/42/x", true),
        ("/v1/*/", "/v1/42", false),
        ("/v1/*", "/v1/", false),
    ];
    every_row(&rows, |&(pattern, path, want)| {
        assert_eq!(
            http_path::matches(pattern, path),
            want,
            "{pattern} vs {path}"
        );
        assert_eq!(
            http_model::granted(pattern, path, false),
            want,
            "model: {pattern} vs {path}"
        );
    });
    assert!(http_path::method_granted("", "BREW"));
    assert!(http_path::method_granted("GET,HEAD", "HEAD"));
    assert!(!http_path::method_granted("GET,HEAD", "get"));
    assert!(!http_path::method_granted("GET,HEAD", "POST"));
}

/// `Rules::http` as the adapter asks it: scheme, host, port, method and
/// path must all match one rule.
#[test]
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

/// Segments that generated request targets are made of.
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

/// Path patterns that generated targets are checked against.
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
/// (`crates/layout/tests/http_model.rs`): the adapter refuses exactly what the model
/// refuses, normalizes to the model's path, and every path it grants is
/// granted under every server reading of what it sends.
#[test]
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
