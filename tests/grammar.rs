//! The network grammar (`--allow-outbound`, `--allow-inbound`,
//! `--allow-resolve`), through the library's public types: one trial per
//! example and per table row (`cargo test --test grammar malformed/`
//! filters by name).
//!
//! - `docs/` — every line of every fenced `rules` block in
//!   `docs/network.md` (`--allow-outbound RULE`, optionally followed by a
//!   `#` comment) parses, and its canonical form (`Display`) parses back to
//!   the same rule;
//! - `fields/` — `tests/grammar/fields.toml`: what particular rules compile
//!   to;
//! - `canonical/` — `tests/grammar/canonical.toml`: rules and the exact
//!   canonical form each prints;
//! - `malformed/` — `tests/grammar/malformed.toml`: rules that must not
//!   parse, and what the error says;
//! - and single trials: lists, a policy file's `[network]` table, and
//!   generated rules round-tripping.

use anyhow::{bail, ensure, Context, Result};
use libtest_mimic::{Arguments, Failed, Trial};
use serde::Deserialize;
use wasi_virt::{Inbound, NetworkPolicy, Outbound, Resolve, Rule};

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    trials.extend(or_failed("docs", doc_trials()));
    trials.extend(or_failed("fields", field_trials()));
    trials.extend(or_failed("canonical", canonical_trials()));
    trials.extend(or_failed("malformed", malformed_trials()));
    trials.push(trial("lists_split_where_a_scheme_follows", lists_split));
    trials.push(trial("a_policy_file_holds_the_same_strings", policy_file));
    trials.push(trial("generated_rules_round_trip", generated_round_trip));
    libtest_mimic::run(&args, trials).exit();
}

/// A trial that runs `check`.
fn trial(name: impl Into<String>, check: impl FnOnce() -> Result<()> + Send + 'static) -> Trial {
    Trial::test(name, move || {
        check().map_err(|e| Failed::from(format!("{e:#}")))
    })
}

/// The trials, or one trial named `name` that fails with why there are
/// none.
fn or_failed(name: &str, trials: Result<Vec<Trial>>) -> Vec<Trial> {
    match trials {
        Ok(trials) => trials,
        Err(e) => {
            let msg = format!("{e:#}");
            vec![Trial::test(name, move || Err(msg.into()))]
        }
    }
}

/// `text` parsed as a rule of `direction` (`outbound`, `inbound`,
/// `resolve`).
fn parse(direction: &str, text: &str) -> Result<Rule> {
    Ok(match direction {
        "outbound" => text.parse::<Outbound>()?.0,
        "inbound" => text.parse::<Inbound>()?.0,
        "resolve" => text.parse::<Resolve>()?.0,
        other => bail!("unknown direction `{other}`"),
    })
}

/// `text` parses, and its canonical form parses back to the same rule,
/// which prints the same again.
fn round_trips(direction: &str, text: &str) -> Result<()> {
    let rule = parse(direction, text).with_context(|| format!("`{text}`"))?;
    let canonical = rule.to_string();
    let again =
        parse(direction, &canonical).with_context(|| format!("`{text}` -> `{canonical}`"))?;
    ensure!(
        rule == again,
        "`{text}` -> `{canonical}`: {rule:?} != {again:?}"
    );
    ensure!(
        again.to_string() == canonical,
        "`{text}` -> `{canonical}` -> `{again}`"
    );
    Ok(())
}

fn read(path: &str) -> Result<String> {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&file).with_context(|| format!("failed to read `{}`", file.display()))
}

/// Every line of the `rules` blocks of `docs/network.md`.
fn doc_trials() -> Result<Vec<Trial>> {
    let text = read("docs/network.md")?;
    let mut trials = Vec::new();
    let mut in_rules = false;
    for (i, line) in text.lines().enumerate() {
        let fence = line.trim_start();
        if fence.starts_with("```") {
            in_rules = !in_rules && fence.trim_start_matches('`').trim() == "rules";
            continue;
        }
        if !in_rules || line.trim().is_empty() {
            continue;
        }
        let at = format!("docs/network.md:{}", i + 1);
        trials.push(match doc_line(line) {
            Ok((direction, rule)) => trial(format!("docs/{direction}/{rule}"), move || {
                round_trips(&direction, &rule).with_context(|| at)
            }),
            Err(e) => {
                let msg = format!("{at}: `{line}`: {e:#}");
                Trial::test(at, move || Err(msg.into()))
            }
        });
    }
    ensure!(
        !trials.is_empty(),
        "docs/network.md has no ```rules block with a rule"
    );
    Ok(trials)
}

/// A line of a `rules` block: `--allow-DIRECTION RULE`, then nothing or a
/// `#` comment.
fn doc_line(line: &str) -> Result<(String, String)> {
    let mut words = line.split_whitespace();
    let (Some(flag), Some(rule)) = (words.next(), words.next()) else {
        bail!("expected `--allow-outbound RULE`, `--allow-inbound RULE` or `--allow-resolve RULE`");
    };
    let direction = match flag {
        "--allow-outbound" => "outbound",
        "--allow-inbound" => "inbound",
        "--allow-resolve" => "resolve",
        other => bail!("`{other}` is not --allow-outbound, --allow-inbound or --allow-resolve"),
    };
    if let Some(rest) = words.next() {
        ensure!(rest.starts_with('#'), "after the rule, only a `#` comment");
    }
    Ok((direction.into(), rule.into()))
}

/// A row of `tests/grammar/fields.toml`: a rule and the fields it must
/// compile to.
#[derive(Deserialize, Clone)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Fields {
    direction: String,
    rule: String,
    kind: Option<String>,
    family: Option<String>,
    host: Option<String>,
    ports: Option<String>,
    to_host: Option<String>,
    to_port: Option<String>,
    methods: Option<String>,
    path: Option<String>,
}

fn field_trials() -> Result<Vec<Trial>> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        rule: Vec<Fields>,
    }
    let file: File = toml::from_str(&read("tests/grammar/fields.toml")?)
        .context("failed to parse `tests/grammar/fields.toml`")?;
    let trials = file.rule.into_iter().map(|row| {
        let name = format!("fields/{}/{}", row.direction, row.rule);
        trial(name, move || check_fields(&row))
    });
    Ok(trials.collect())
}

fn check_fields(row: &Fields) -> Result<()> {
    let rule = parse(&row.direction, &row.rule)?;
    let fields = [
        ("kind", &row.kind, format!("{:?}", rule.kind)),
        ("family", &row.family, format!("{:?}", rule.family)),
        ("host", &row.host, format!("{:?}", rule.host)),
        ("ports", &row.ports, format!("{:?}", rule.ports)),
        ("to-host", &row.to_host, format!("{:?}", rule.to_host)),
        ("to-port", &row.to_port, format!("{:?}", rule.to_port)),
        ("methods", &row.methods, rule.methods.clone()),
        ("path", &row.path, rule.path.clone()),
    ];
    let mut checked = 0;
    for (name, want, got) in fields {
        if let Some(want) = want {
            ensure!(
                got == *want,
                "`{}`: {name} is `{got}`, want `{want}`",
                row.rule
            );
            checked += 1;
        }
    }
    ensure!(checked > 0, "`{}`: the row checks no field", row.rule);
    Ok(())
}

/// The rows of a table file: `rows = [[a, b, c], ...]`.
fn rows(path: &str) -> Result<Vec<(String, String, String)>> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Table {
        rows: Vec<(String, String, String)>,
    }
    let table: Table =
        toml::from_str(&read(path)?).with_context(|| format!("failed to parse `{path}`"))?;
    Ok(table.rows)
}

fn canonical_trials() -> Result<Vec<Trial>> {
    let trials =
        rows("tests/grammar/canonical.toml")?
            .into_iter()
            .map(|(direction, text, canonical)| {
                trial(format!("canonical/{direction}/{text}"), move || {
                    let got = parse(&direction, &text)?.to_string();
                    ensure!(
                        got == canonical,
                        "`{text}` prints `{got}`, want `{canonical}`"
                    );
                    round_trips(&direction, &text)
                })
            });
    Ok(trials.collect())
}

fn malformed_trials() -> Result<Vec<Trial>> {
    let trials =
        rows("tests/grammar/malformed.toml")?
            .into_iter()
            .map(|(direction, text, want)| {
                trial(format!("malformed/{direction}/{text}"), move || {
                    let err = match parse(&direction, &text) {
                        Ok(rule) => bail!("`{text}` parsed as `{rule}`"),
                        Err(e) => format!("{e:#}"),
                    };
                    ensure!(err.contains(&want), "`{text}`: `{err}` lacks `{want}`");
                    ensure!(
                        err.contains(&format!("`{text}`")),
                        "`{err}` does not name the rule"
                    );
                    Ok(())
                })
            });
    Ok(trials.collect())
}

fn lists_split() -> Result<()> {
    let rules = Outbound::parse_list("tcp://*:80,443,udp://*:53,https://a.example")?;
    let texts: Vec<String> = rules.iter().map(|r| r.to_string()).collect();
    ensure!(
        texts == ["tcp://*:80,443", "udp://*:53", "https://a.example"],
        "{texts:?}"
    );
    let names = Resolve::parse_list("a.example,*.b.example")?;
    ensure!(names.len() == 2, "{} names", names.len());
    Ok(())
}

fn policy_file() -> Result<()> {
    let policy: NetworkPolicy = toml::from_str(
        r#"
        outbound = ["tcp://127.1:80", "https://api.example.com"]
        inbound = ["tcp://lo:8080"]
        resolve = ["*.example.com"]
        "#,
    )?;
    let described = policy.describe();
    ensure!(
        described
            == [
                "outbound tcp://127.0.0.1:80",
                "outbound https://api.example.com",
                "inbound tcp://localhost:8080",
                "resolve *.example.com",
            ],
        "{described:?}"
    );
    let err = match toml::from_str::<NetworkPolicy>(r#"outbound = ["tcp://x:99999"]"#) {
        Ok(_) => bail!("`tcp://x:99999` parsed"),
        Err(e) => e.to_string(),
    };
    ensure!(
        err.contains("invalid --allow-outbound rule `tcp://x:99999`"),
        "{err}"
    );
    Ok(())
}

/// Parts of generated rules, most of them valid somewhere.
const SCHEMES: &[&str] = &["tcp://", "udp://", "http://", "https://", "TCP://", ""];
const HOSTS: &[&str] = &[
    "example.com",
    "Example.COM.",
    "*.example.com",
    "*",
    "localhost",
    "lo",
    "127.0.0.1",
    "127.1",
    "0x7f.0.0.1",
    "10.0.0.0/8",
    "10.1.0.0/16",
    "[::1]",
    "[fd00::]/8",
    "[::ffff:10.0.0.1]",
    "db.internal",
    "a-b_c.d1",
    "0.0.0.0/0",
];
const REMAPS: &[&str] = &["", "->10.0.0.7", "->[::2]", "->127.1"];
const PORTS: &[&str] = &[
    "",
    ":80",
    ":*",
    ":0",
    ":80,443",
    ":21,35000-35999",
    ":1-65535",
    ":443",
];
const PORT_REMAPS: &[&str] = &["", "->8080", "->1"];
const FAMILIES: &[&str] = &["", "#ipv4-only", "#ipv6-only", "#GET", "#HEAD,GET", "#get"];
const PATHS: &[&str] = &[
    "",
    "",
    "/",
    "/v1/",
    "/v1",
    "/v1/*/status",
    "/**",
    "/v1/**",
    "/a%2fb",
    "/8",
    "/8/",
    "/%7e",
    "/./x",
    "/%41/%2a",
];

/// Thousands of generated rules: each that parses prints a canonical form
/// that parses to the same rule and prints the same again.
fn generated_round_trip() -> Result<()> {
    let mut state = 0x1234_5678_9abc_def1u64;
    let mut pick = |parts: &[&'static str]| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        parts[(state % parts.len() as u64) as usize]
    };
    let mut parsed = 0;
    for _ in 0..60_000 {
        let text = [
            pick(SCHEMES),
            pick(HOSTS),
            pick(REMAPS),
            pick(PORTS),
            pick(PORT_REMAPS),
            pick(PATHS),
            pick(FAMILIES),
        ]
        .concat();
        for direction in ["outbound", "inbound", "resolve"] {
            if parse(direction, &text).is_ok() {
                parsed += 1;
                round_trips(direction, &text)?;
            }
        }
    }
    ensure!(parsed > 2_000, "only {parsed} generated rules parsed");
    Ok(())
}
