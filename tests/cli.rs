//! The `wasi-virt` binary: help, good runs, and bad input. Bad input must
//! give an `error:` line, a non-zero exit, and leave no output behind (nor
//! touch an existing one).

#[path = "harness/mod.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn wasi_virt(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wasi-virt"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("failed to run wasi-virt")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs an invocation that must succeed; its stdout.
fn succeeds(args: &[&str], dir: &Path) -> String {
    let out = wasi_virt(args, dir);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

fn env_args_guest(dir: &Path) -> PathBuf {
    let path = dir.join("env-args.wasm");
    std::fs::write(&path, harness::guest("env-args")).unwrap();
    path
}

/// Runs a failing invocation and checks the failure contract.
fn assert_fails(args: &[&str], dir: &Path, want_in_stderr: &str) {
    let out_path = dir.join("out.wasm");
    let _ = std::fs::remove_file(&out_path);
    let out = wasi_virt(args, dir);
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success(),
        "{args:?} succeeded; stderr: {stderr}"
    );
    assert!(
        stderr.starts_with("error:"),
        "{args:?}: stderr does not start with `error:`: {stderr}"
    );
    assert!(
        stderr.contains(want_in_stderr),
        "{args:?}: want `{want_in_stderr}` in: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert!(!out_path.exists(), "{args:?} left an output file behind");
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "{args:?} left temporary files: {leftovers:?}"
    );
}

#[test]
fn help_lists_every_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = wasi_virt(&["--help"], dir.path());
    assert!(out.status.success());
    let help = text(&out.stdout);
    for flag in [
        "[COMPONENT]",
        "-o, --out <OUT>",
        "-e, --env <KEY=VALUE>",
        "--allow-env[=<NAMES>]",
        "--deny-env=<NAMES>",
        "--allow-args",
        "--wasi-version <VERSION>",
        "--policy <FILE>",
        "--allow-all",
        "--allow-stdio [<BOOL>]",
        "--stdio <MODE>",
        "--stdin <MODE>",
        "--stdout <MODE>",
        "--stderr <MODE>",
        "--allow-clocks [<BOOL>]",
        "--allow-random [<BOOL>]",
        "--allow-exit [<BOOL>]",
        "--allow-sockets [<BOOL>]",
        "--allow-http [<BOOL>]",
        "--allow-fs",
        "--mount <GUEST=HOSTDIR>",
        "--preopen <GUEST=HOSTPATH>",
        "-c, --config <NAME=VALUE>",
        "--allow-config[=<NAMES>]",
        "--debug",
        "wasm-tools compose",
    ] {
        assert!(help.contains(flag), "help lacks `{flag}`:\n{help}");
    }
}

#[test]
fn composes_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    env_args_guest(dir.path());
    let stdout = succeeds(
        &[
            "env-args.wasm",
            "-e",
            "GREETING=hello world",
            "-e",
            "X=a=b",
            "--stdout=allow",
            "-o",
            "out.wasm",
        ],
        dir.path(),
    );
    assert!(
        stdout.contains("wrote out.wasm (virtualized component"),
        "{stdout}"
    );
    assert!(stdout.contains("WASI 0.2.6"), "{stdout}");
    assert!(
        stdout.contains("\n  env: host variables none; 2 set"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n  stdio: stdin deny, stdout allow, stderr deny\n"),
        "{stdout}"
    );
    assert!(stdout.contains("\n  exit: deny\n"), "{stdout}");
    // Only what stdout needs is left: the stream, and the types it uses.
    let left: Vec<&str> = stdout
        .split_once("WASI imports left (")
        .map(|(_, rest)| rest.lines().skip(1).map(str::trim).collect())
        .unwrap_or_default();
    assert_eq!(
        left,
        [
            "wasi:io/error@0.2.6",
            "wasi:io/poll@0.2.6",
            "wasi:io/streams@0.2.6",
            "wasi:cli/stdout@0.2.6",
            "wasi:cli/terminal-output@0.2.6",
            "wasi:cli/terminal-stdout@0.2.6"
        ],
        "{stdout}"
    );

    let bytes = std::fs::read(dir.path().join("out.wasm")).unwrap();
    let host = harness::Host {
        env: [("SECRET".to_string(), "s".to_string())]
            .into_iter()
            .collect(),
        args: vec!["prog".into(), "arg".into()],
        ..Default::default()
    };
    let run = harness::run_ok(&bytes, &host).unwrap();
    assert_eq!(run.stdout, "env GREETING=hello world\nenv X=a=b\n");
}

#[test]
fn policy_file_refined_by_flags() {
    let dir = tempfile::tempdir().unwrap();
    env_args_guest(dir.path());
    std::fs::write(
        dir.path().join("policy.toml"),
        "[env]\nhost = \"none\"\noverrides = { FROM_FILE = \"1\" }\n",
    )
    .unwrap();
    let out = wasi_virt(
        &[
            "env-args.wasm",
            "--policy",
            "policy.toml",
            "--allow-env=LANG",
            "--allow-stdio",
            "-e",
            "FROM_FLAG=2",
            "-o",
            "out.wasm",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bytes = std::fs::read(dir.path().join("out.wasm")).unwrap();
    let host = harness::Host {
        env: [("LANG", "C"), ("SECRET", "s")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        args: vec!["prog".into()],
        ..Default::default()
    };
    let run = harness::run_ok(&bytes, &host).unwrap();
    assert_eq!(
        run.stdout,
        "arg 0: prog\nenv FROM_FILE=1\nenv FROM_FLAG=2\nenv LANG=C\n"
    );
}

#[test]
fn standalone_adapter_uses_the_asked_version() {
    let dir = tempfile::tempdir().unwrap();
    let out = wasi_virt(
        &["-e", "A=1", "--wasi-version", "0.2.3", "-o", "virt.wasm"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("standalone virtual adapter"));
    assert!(text(&out.stdout).contains("WASI imports left: none"));
    let bytes = std::fs::read(dir.path().join("virt.wasm")).unwrap();
    // Without a component, every subsystem is carried, at the asked version;
    // `exit-with-code` (0.2.12) is not part of 0.2.3.
    let mut exports = wasi_virt::component_exports(&bytes).unwrap();
    exports.sort();
    let mut want: Vec<String> = [
        "wasi:cli/environment",
        "wasi:cli/exit",
        "wasi:cli/stderr",
        "wasi:cli/stdin",
        "wasi:cli/stdout",
        "wasi:cli/terminal-input",
        "wasi:cli/terminal-output",
        "wasi:cli/terminal-stderr",
        "wasi:cli/terminal-stdin",
        "wasi:cli/terminal-stdout",
        "wasi:clocks/monotonic-clock",
        "wasi:clocks/wall-clock",
        "wasi:io/error",
        "wasi:io/poll",
        "wasi:io/streams",
        "wasi:random/insecure",
        "wasi:random/insecure-seed",
        "wasi:random/random",
        "wasi:sockets/instance-network",
        "wasi:sockets/ip-name-lookup",
        "wasi:sockets/network",
        "wasi:sockets/tcp",
        "wasi:sockets/tcp-create-socket",
        "wasi:sockets/udp",
        "wasi:sockets/udp-create-socket",
    ]
    .iter()
    .map(|n| format!("{n}@0.2.3"))
    .collect();
    want.push("wasi:http/types@0.2.3".to_string());
    want.push("wasi:filesystem/types@0.2.3".to_string());
    want.push("wasi:filesystem/preopens@0.2.3".to_string());
    want.push("wasi:http/outgoing-handler@0.2.3".to_string());
    // wasi:config is a draft with a version of its own.
    want.push("wasi:config/store@0.2.0-rc.1".to_string());
    want.sort();
    assert_eq!(exports, want);
    assert!(wasi_virt::component_imports(&bytes).unwrap().is_empty());
}

#[test]
fn bad_input_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    env_args_guest(d);
    std::fs::write(d.join("notes.txt"), "not wasm at all").unwrap();
    // The smallest valid core module.
    std::fs::write(d.join("core.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(d.join("broken.wasm"), b"\0asm\x0d\0\x01\0\x07").unwrap();
    std::fs::write(d.join("bad-field.toml"), "[env]\nhosts = \"all\"\n").unwrap();
    std::fs::write(d.join("bad-syntax.toml"), "[env\n").unwrap();

    let cases: &[(&[&str], &str)] = &[
        (&["notes.txt", "-o", "out.wasm"], "not a WebAssembly binary"),
        (
            &["core.wasm", "-o", "out.wasm"],
            "core WebAssembly module, not a component",
        ),
        (
            &["broken.wasm", "-o", "out.wasm"],
            "failed to load the component",
        ),
        (
            &["missing.wasm", "-o", "out.wasm"],
            "failed to read component `missing.wasm`",
        ),
        (
            &["env-args.wasm", "-e", "NOEQUALS", "-o", "out.wasm"],
            "has no `=`",
        ),
        (
            &["env-args.wasm", "-e", "=v", "-o", "out.wasm"],
            "empty name",
        ),
        (
            &["env-args.wasm", "--deny-env=", "-o", "out.wasm"],
            "--deny-env",
        ),
        (
            &["env-args.wasm", "--allow-env=A,,B", "-o", "out.wasm"],
            "--allow-env",
        ),
        (
            &[
                "env-args.wasm",
                "--allow-env",
                "--deny-env=A",
                "-o",
                "out.wasm",
            ],
            "cannot be used with",
        ),
        (
            &["env-args.wasm", "--wasi-version", "two", "-o", "out.wasm"],
            "--wasi-version",
        ),
        (
            &["env-args.wasm", "--wasi-version", "0.3.0", "-o", "out.wasm"],
            "not a 0.2.x release",
        ),
        (
            &[
                "env-args.wasm",
                "--policy",
                "bad-field.toml",
                "-o",
                "out.wasm",
            ],
            "unknown field `hosts`",
        ),
        (
            &[
                "env-args.wasm",
                "--policy",
                "bad-syntax.toml",
                "-o",
                "out.wasm",
            ],
            "failed to parse policy",
        ),
        (
            &["env-args.wasm", "--policy", "nope.toml", "-o", "out.wasm"],
            "failed to read policy `nope.toml`",
        ),
        (&["env-args.wasm"], "--out"),
        (
            &["env-args.wasm", "-o", "no-such-dir/out.wasm"],
            "no-such-dir",
        ),
    ];
    for (args, want) in cases {
        assert_fails(args, d, want);
    }
}

#[test]
fn failure_keeps_an_existing_output() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not wasm").unwrap();
    std::fs::write(dir.path().join("out.wasm"), "previous output").unwrap();
    let out = wasi_virt(&["notes.txt", "-o", "out.wasm"], dir.path());
    assert!(!out.status.success());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.wasm")).unwrap(),
        "previous output"
    );
}

fn probe_guest(dir: &Path) {
    std::fs::write(dir.join("probe.wasm"), harness::guest("probe")).unwrap();
    std::fs::write(dir.join("probe-all.wasm"), harness::guest("probe-all")).unwrap();
}

#[test]
fn no_flags_means_no_wasi_imports() {
    let dir = tempfile::tempdir().unwrap();
    probe_guest(dir.path());
    let out = wasi_virt(&["probe-all.wasm", "-o", "out.wasm"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("WASI imports left: none"));
    let bytes = std::fs::read(dir.path().join("out.wasm")).unwrap();
    // probe-all uses every subsystem.
    let before = harness::unversioned_imports(&harness::guest("probe-all")).unwrap();
    for used in [
        "wasi:cli/environment",
        "wasi:cli/stdout",
        "wasi:clocks/monotonic-clock",
        "wasi:random/insecure-seed",
        "wasi:cli/exit",
        "wasi:filesystem/preopens",
        "wasi:sockets/tcp-create-socket",
        "wasi:http/outgoing-handler",
        "wasi:config/store",
    ] {
        assert!(
            before.iter().any(|i| i == used),
            "probe-all does not import {used}: {before:?}"
        );
    }
    assert_eq!(
        wasi_virt::component_imports(&bytes).unwrap(),
        Vec::<String>::new()
    );
    // It still runs: its first println! fails, so std panics (a trap).
    let run = harness::run_command(&bytes, &harness::Host::default()).unwrap();
    assert!(matches!(run.end, harness::End::Trap(_)), "{:?}", run.end);
}

#[test]
fn allow_all_then_narrow() {
    let dir = tempfile::tempdir().unwrap();
    probe_guest(dir.path());
    let stdout = succeeds(
        &[
            "probe.wasm",
            "--allow-all",
            "--allow-random=false",
            "--stderr",
            "ignore",
            "-o",
            "out.wasm",
        ],
        dir.path(),
    );
    assert!(
        stdout.contains("\n  stdio: stdin allow, stdout allow, stderr ignore\n"),
        "{stdout}"
    );
    assert!(stdout.contains("\n  clocks: allow\n"), "{stdout}");
    assert!(stdout.contains("\n  random: deny\n"), "{stdout}");
    let imports =
        harness::unversioned_imports(&std::fs::read(dir.path().join("out.wasm")).unwrap()).unwrap();
    assert!(
        imports.iter().any(|i| i == "wasi:clocks/monotonic-clock"),
        "{imports:?}"
    );
    assert!(
        !imports.iter().any(|i| i.starts_with("wasi:random/")),
        "{imports:?}"
    );
    assert!(
        !imports.iter().any(|i| i == "wasi:cli/stderr"),
        "{imports:?}"
    );

    let host = harness::Host {
        env: [("PROBE".to_string(), "clocks,stderr".to_string())]
            .into_iter()
            .collect(),
        ..Default::default()
    };
    let run = harness::run_ok(&std::fs::read(dir.path().join("out.wasm")).unwrap(), &host).unwrap();
    assert_eq!(
        run.stdout,
        "calling clocks\nmonotonic ok: true\nwall clock after 2020: true\ndone\n"
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn debug_flag_traces_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    probe_guest(dir.path());
    let out = wasi_virt(
        &[
            "probe.wasm",
            "--stdout",
            "allow",
            "--allow-random",
            "true",
            "--debug",
            "-e",
            "PROBE=random",
            "-o",
            "out.wasm",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("debug: virtualized calls are traced"));
    let run = harness::run_ok(
        &std::fs::read(dir.path().join("out.wasm")).unwrap(),
        &harness::Host::default(),
    )
    .unwrap();
    assert_eq!(run.stdout, "calling random\nrandom ok: true\ndone\n");
    assert!(
        run.stderr
            .lines()
            .any(|l| l == "wasi-virt: wasi:random/insecure-seed.insecure-seed"),
        "{}",
        run.stderr
    );
}

#[test]
fn config_properties_from_flags() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("reader.wasm"),
        harness::guest("config-reader"),
    )
    .unwrap();
    let stdout = succeeds(
        &[
            "reader.wasm",
            "-c",
            "db-url=postgres://db",
            "--allow-config=region",
            "-e",
            "CONFIG_KEYS=db-url,region,secret",
            "--stdout=allow",
            "-o",
            "out.wasm",
        ],
        dir.path(),
    );
    assert!(
        stdout.contains("\n  config: host properties only region; 1 set\n"),
        "{stdout}"
    );
    let host = harness::Host {
        config: [("region", "eu"), ("secret", "s")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    };
    let run = harness::run_ok(&std::fs::read(dir.path().join("out.wasm")).unwrap(), &host).unwrap();
    assert_eq!(
        run.stdout,
        "get db-url: postgres://db\nget region: eu\nget secret: none\nall db-url=postgres://db\nall region=eu\n"
    );
}

#[test]
fn mount_errors_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("reader.wasm"), harness::guest("fs-reader")).unwrap();
    std::fs::write(d.join("notes.txt"), "a file").unwrap();
    std::fs::create_dir(d.join("tree")).unwrap();
    std::fs::write(d.join("tree/ok.txt"), "ok").unwrap();
    std::fs::create_dir(d.join("dangling")).unwrap();
    std::os::unix::fs::symlink(d.join("nowhere"), d.join("dangling/link")).unwrap();
    std::fs::create_dir(d.join("escaping")).unwrap();
    std::os::unix::fs::symlink(d.join("notes.txt"), d.join("escaping/link")).unwrap();

    let cases: &[(&[&str], &str)] = &[
        (
            &["reader.wasm", "--mount", "/d=missing", "-o", "out.wasm"],
            "failed to read mount `/d=missing`",
        ),
        (
            &["reader.wasm", "--mount", "/d=notes.txt", "-o", "out.wasm"],
            "is a file; --mount takes a directory",
        ),
        (
            &[
                "reader.wasm",
                "--mount",
                "/d=tree",
                "--mount",
                "/d=tree",
                "-o",
                "out.wasm",
            ],
            "`/d` is mounted twice",
        ),
        (
            &[
                "reader.wasm",
                "--mount",
                "/d=tree",
                "--preopen",
                "/d=/x",
                "-o",
                "out.wasm",
            ],
            "`/d` is given twice",
        ),
        (
            &["reader.wasm", "--mount", "nodelimiter", "-o", "out.wasm"],
            "is not GUEST=HOSTPATH",
        ),
        (
            &["reader.wasm", "--mount", "/d=dangling", "-o", "out.wasm"],
            "points to nothing",
        ),
        (
            &["reader.wasm", "--mount", "/d=escaping", "-o", "out.wasm"],
            "points outside the mounted directory",
        ),
        (
            &["env-args.wasm", "--mount", "/d=tree", "-o", "out.wasm"],
            "does not import `wasi:filesystem/preopens`",
        ),
    ];
    env_args_guest(d);
    for (args, want) in cases {
        assert_fails(args, d, want);
    }
}

#[test]
fn mount_and_preopen_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("reader.wasm"), harness::guest("fs-reader")).unwrap();
    let fixtures = harness::repo().join("tests/fixtures/data");
    let mount = format!("/static={}", fixtures.join("sub").display());
    let stdout = succeeds(
        &[
            "reader.wasm",
            "--mount",
            &mount,
            "--preopen",
            "/srv=/host/data",
            "-e",
            "FS_FILE=/srv/greeting.txt",
            "-e",
            "FS_DIR=/static",
            "--stdout=allow",
            "-o",
            "out.wasm",
        ],
        d,
    );
    assert!(
        stdout.contains("fs: no host preopens; /static embedded; /srv = host /host/data"),
        "{stdout}"
    );
    let host = harness::Host {
        preopens: [("/host/data".to_string(), fixtures.display().to_string())]
            .into_iter()
            .collect(),
        ..Default::default()
    };
    let run = harness::run_ok(&std::fs::read(d.join("out.wasm")).unwrap(), &host).unwrap();
    assert_eq!(
        run.stdout,
        "read /srv/greeting.txt: hello from a host file\nlist /static: inner.txt\n"
    );
}
