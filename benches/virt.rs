//! Benchmarks (not tests): `cargo bench --bench virt`. Prints figures and
//! ratios; asserts nothing about time.
//!
//! - `--allow-all -e X=1` on a preview1 program, beside the environment
//!   alone: what the policy leaves to the host costs nothing.
//! - Env-only and deny-all virtualization of the example component
//!   (examples/hello): the median `finish()` time, the bytes virtualization
//!   adds, and the size of the standalone adapter.
//! - The cost of an allowed passthrough call: 16 MiB written to stdout in
//!   64 KiB writes by the `probe` guest, through the adapter and without it.
//! - What network rules cost in bytes: the `net-probe` guest with sockets
//!   denied, then with one, two and ten rules.
//! - Serving HTTP: the bytes a served output adds (`http-server` with its
//!   log and a mount; `cgi-app` under `--serve-http`), and the median time
//!   of a request over loopback to each, beside the served component
//!   unvirtualized.

#[path = "../tests/harness/mod.rs"]
mod harness;

#[allow(dead_code)]
mod goals;

use harness::{median, ms};

use std::time::{Duration, Instant};
use wasi_virt::WasiVirt;

fn env_only() -> WasiVirt {
    let mut virt = WasiVirt::new();
    virt.env()
        .deny_all()
        .overrides(&[("GREETING", "Hello"), ("NAME", "bench")]);
    virt
}

fn median_finish(virt: &WasiVirt, runs: usize) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                virt.finish().unwrap();
                start.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let dir = harness::build_wasm_workspace(&harness::repo().join("examples/hello"))
        .expect("failed to build examples/hello");
    let component = std::fs::read(dir.join("hello.wasm")).unwrap();

    let mut virt = env_only();
    virt.compose(component.clone());
    let out = virt.finish().unwrap(); // warm-up, and the output measured
    let runs = 30;
    let compose_median = median_finish(&virt, runs);

    let standalone = env_only();
    let adapter = standalone.finish().unwrap();
    let standalone_median = median_finish(&standalone, runs);

    let added = out.bytes.len() as i64 - component.len() as i64;
    println!("env-only virtualization of examples/hello ({runs} runs each)");
    println!(
        "  finish(), composed:        median {:>8.2} ms",
        compose_median.as_secs_f64() * 1e3
    );
    println!(
        "  finish(), standalone:      median {:>8.2} ms",
        standalone_median.as_secs_f64() * 1e3
    );
    println!("  component:                 {:>8} bytes", component.len());
    println!("  virtualized component:     {:>8} bytes", out.bytes.len());
    println!(
        "  added by virtualization:   {:>8} bytes ({:+.1}%)",
        added,
        added as f64 * 100.0 / component.len() as f64
    );
    println!(
        "  standalone adapter:        {:>8} bytes",
        adapter.bytes.len()
    );
    println!(
        "  WASI imports: {} before, {} after",
        wasi_virt::component_imports(&component).unwrap().len(),
        out.report.imports.len()
    );
    let env_only_added = added;

    let deny_all_hello_added = deny_all_hello(&component, runs);

    let (allow_all_one_var, env_only_p1) = left_to_the_host();
    let (deny_all_added, cli_wall) = every_interface();
    let (p3_deny_added, p3_cli_wall) = wasi_0_3();
    network_rules();
    serving();
    passthrough_overhead();

    println!("goals (`benches/goals.sh` prints these with the mount and example.sh rows)");
    goals::ENV_ONLY_BYTES.print(env_only_added as f64);
    goals::ALLOW_ALL_ONE_VAR_BYTES
        .within(env_only_p1 as f64 + 4096.0)
        .print(allow_all_one_var as f64);
    goals::DENY_ALL_HELLO_BYTES.print(deny_all_hello_added as f64);
    goals::DENY_ALL_BYTES.print(deny_all_added as f64);
    goals::CLI_WALL.print(cli_wall);
    goals::P3_DENY_ALL_BYTES.print(p3_deny_added as f64);
    goals::P3_CLI_WALL.print(p3_cli_wall);
}

/// WASI 0.3 outputs: the bytes deny-all and env-only add to the guests
/// that import WASI 0.3 (`p3-mixed`, 0.2 and 0.3 side by side; `p3-async`,
/// a 0.3 `run`), beside the same figures for `examples/hello` above, and
/// the CLI's wall time for deny-all with two variables on `p3-mixed`.
fn wasi_0_3() -> (i64, f64) {
    println!("WASI 0.3 outputs (bytes added by virtualization)");
    println!("  guest        component   deny-all   -e X=1 --stdout=allow");
    let mut mixed_deny = 0;
    for name in ["p3-mixed", "p3-async"] {
        let guest = harness::guest(name);
        let mut deny = WasiVirt::new();
        deny.deny_all().compose(guest.clone());
        let denied = deny.finish().unwrap().bytes.len() as i64 - guest.len() as i64;
        let mut env = WasiVirt::new();
        env.deny_all().compose(guest.clone());
        env.env().overrides(&[("X", "1")]);
        env.stdio().stdout = wasi_virt::StdioMode::Allow;
        let env_added = env.finish().unwrap().bytes.len() as i64 - guest.len() as i64;
        println!(
            "  {name:<10} {:>10} B {denied:>8} B {env_added:>10} B",
            guest.len()
        );
        if name == "p3-mixed" {
            mixed_deny = denied;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p3-mixed.wasm"), harness::guest("p3-mixed")).unwrap();
    let args = ["p3-mixed.wasm", "-e", "A=1", "-e", "B=2", "-o", "out.wasm"];
    let wall = cli_median(dir.path(), &args, 30);
    println!(
        "  CLI process, p3-mixed deny-all + 2 variables: median {wall:>6.2} ms wall (30 runs)"
    );
    (mixed_deny, wall)
}

/// The median wall time, in ms, of `runs` runs of the CLI with `args` in
/// `dir`, after one warm-up run.
fn cli_median(dir: &std::path::Path, args: &[&str], runs: usize) -> f64 {
    let run = || {
        let start = Instant::now();
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_wasi-virt"))
            .args(args)
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        start.elapsed()
    };
    run();
    ms(median((0..runs).map(|_| run()).collect()))
}

/// Deny-all on `examples/hello` (`component`): the median `finish()` of
/// `runs`, the bytes added and the WASI imports left. Returns the bytes
/// added.
fn deny_all_hello(component: &[u8], runs: usize) -> i64 {
    let mut deny = WasiVirt::new();
    deny.deny_all().compose(component.to_vec());
    let denied = deny.finish().unwrap();
    let deny_median = median_finish(&deny, runs);
    let added = denied.bytes.len() as i64 - component.len() as i64;
    println!("deny-all virtualization of examples/hello ({runs} runs)");
    println!(
        "  finish(), composed:        median {:>8.2} ms",
        ms(deny_median)
    );
    println!(
        "  added by virtualization:   {:>8} bytes ({:+.1}%)",
        added,
        added as f64 * 100.0 / component.len() as f64
    );
    println!(
        "  WASI imports: {} before, {} after",
        wasi_virt::component_imports(component).unwrap().len(),
        denied.report.imports.len()
    );
    added
}

/// What the policy leaves to the host stays with the host: the bytes
/// `--allow-all -e X=1` adds to a preview1 program made a component with
/// the preview1 adapter, beside the environment alone (`-e X=1` with
/// nothing else virtualized). Returns both.
fn left_to_the_host() -> (i64, i64) {
    let module = harness::wasip1_guest("fs-p1");
    let component = harness::wasip1_command("fs-p1").unwrap();
    let added = |virt: &mut WasiVirt| {
        virt.env().overrides(&[("X", "1")]);
        let out = virt.compose(module.clone()).finish().unwrap();
        out.bytes.len() as i64 - component.len() as i64
    };
    let env_only = added(&mut WasiVirt::new());
    let allow_all = added(WasiVirt::new().allow_all());
    println!("what the policy leaves to the host (fs-p1, a preview1 program)");
    println!("  component:                 {:>8} bytes", component.len());
    println!("  added, -e X=1 alone:       {:>8} bytes", env_only);
    println!("  added, --allow-all -e X=1: {:>8} bytes", allow_all);
    (allow_all, env_only)
}

/// What serving HTTP costs: bytes added, and the median of `runs` GET
/// requests over loopback to the harness's host (a fresh instance each, as
/// `wasmtime serve` does).
fn serving() {
    let runs = 40;
    let time = |bytes: &[u8], host: &harness::Host, target: &str| {
        let server = harness::HttpServer::start(bytes, host).unwrap();
        let once = || {
            let start = Instant::now();
            let r = harness::http_request(server.addr, "GET", target, &[], b"").unwrap();
            assert_eq!(r.status, 200, "{}", server.logs());
            start.elapsed()
        };
        once();
        median((0..runs).map(|_| once()).collect())
    };
    let (server, host, served) = harness::http_server_both_ways();
    let target = "/file?/data/greeting.txt";
    let direct = time(&server, &host, target);
    let through = time(&served, &harness::Host::default(), target);
    println!("serving http-server (stdout allowed, /data embedded; {runs} requests each)");
    println!("  component:                 {:>8} bytes", server.len());
    println!(
        "  added by virtualization:   {:>8} bytes",
        served.len() as i64 - server.len() as i64
    );
    println!(
        "  GET {target}: median {:.2} ms virtualized, {:.2} ms as it was (ratio {:.2})",
        ms(through),
        ms(direct),
        ms(through) / ms(direct)
    );

    let command = harness::guest("cgi-app");
    let mut virt = WasiVirt::new();
    virt.deny_all();
    virt.serve_http();
    virt.compose(command.clone());
    let served = virt.finish().unwrap();
    let target = "/app?args+a+b";
    let through = time(&served.bytes, &harness::Host::default(), target);
    println!("serving cgi-app under --serve-http, deny-all ({runs} requests)");
    println!("  component:                 {:>8} bytes", command.len());
    println!(
        "  added by virtualization:   {:>8} bytes",
        served.bytes.len() as i64 - command.len() as i64
    );
    println!("  GET {target}: median {:.2} ms", ms(through));
}

/// The bytes network rules add to the deny-all output of `net-probe`. A
/// remapped name needs no host import, so it measures the rule engine
/// (behind the adapter's `net` hook, dead without rules); a TCP rule adds
/// the host's TCP imports; further TCP rules only their encoded form; a UDP
/// rule and a looked-up name add those imports.
fn network_rules() {
    let guest = harness::guest("net-probe");
    let size = |outbound: &[&str], resolve: &[&str]| {
        let mut virt = WasiVirt::new();
        virt.deny_all().compose(guest.clone());
        for rule in outbound {
            let parsed = wasi_virt::Outbound::parse_list(rule).unwrap();
            virt.network().outbound.extend(parsed);
        }
        for rule in resolve {
            let parsed = wasi_virt::Resolve::parse_list(rule).unwrap();
            virt.network().resolve.extend(parsed);
        }
        virt.finish().unwrap().bytes.len() as i64
    };
    let tcp: Vec<String> = (0..10)
        .map(|i| format!("tcp://10.{i}.0.0/16:80,443,8000-8999"))
        .collect();
    let tcp: Vec<&str> = tcp.iter().map(String::as_str).collect();
    let remap = ["db.internal->10.0.0.7"];
    let none = size(&[], &[]);
    let engine = size(&[], &remap);
    let one = size(&tcp[..1], &remap);
    let ten = size(&tcp, &remap);
    let udp = size(&[tcp[0], "udp://10.0.0.53:53"], &remap);
    let lookup = size(&tcp[..1], &[remap[0], "*.example.com"]);
    println!("network rules on net-probe (deny-all otherwise)");
    println!("  no rules (sockets denied): {none:>8} bytes");
    println!(
        "  a remapped name:           {engine:>8} bytes  (+{} the rule engine; no host import)",
        engine - none
    );
    println!(
        "  + 1 TCP rule:              {one:>8} bytes  (+{} with the host's TCP imports)",
        one - engine
    );
    println!(
        "  + 10 TCP rules:            {ten:>8} bytes  (+{:.0} a rule after the first)",
        (ten - one) as f64 / 9.0
    );
    println!(
        "  + 1 TCP + 1 UDP rule:      {udp:>8} bytes  (+{} for UDP's imports)",
        udp - one
    );
    println!(
        "  + 1 TCP rule + a lookup:   {lookup:>8} bytes  (+{} for name lookup's imports)",
        lookup - one
    );
}

/// Deny-all on `probe-all`, which imports every WASI 0.2 interface: the
/// bytes the adapter adds, and the whole CLI process (two variables and a
/// three-file mount as well; deny-all is the CLI's default), median wall
/// time after a warm-up run. Answers both figures.
fn every_interface() -> (i64, f64) {
    let guest = harness::guest("probe-all");
    let mut deny = WasiVirt::new();
    deny.deny_all().compose(guest.clone());
    let out = deny.finish().unwrap();
    println!("deny-all virtualization of probe-all (every WASI 0.2 interface)");
    println!("  component:                 {:>8} bytes", guest.len());
    let added = out.bytes.len() as i64 - guest.len() as i64;
    println!("  added by virtualization:   {added:>8} bytes");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("probe-all.wasm"), &guest).unwrap();
    std::fs::create_dir(dir.path().join("m")).unwrap();
    for i in 0..3 {
        std::fs::write(
            dir.path().join(format!("m/f{i}.txt")),
            format!("file {i}\n"),
        )
        .unwrap();
    }
    let args = [
        "probe-all.wasm",
        "-e",
        "A=1",
        "-e",
        "B=2",
        "--mount",
        "/m=m",
        "-o",
        "out.wasm",
    ];
    let runs = 30;
    let wall = cli_median(dir.path(), &args, runs);
    println!(
        "  CLI process, + 2 variables and a 3-file mount: median {wall:>6.2} ms wall ({runs} runs)"
    );
    (added, wall)
}

/// 16 MiB to stdout, directly and through an allowed (passthrough) stdout.
fn passthrough_overhead() {
    let probe = harness::guest("probe");
    let mut virt = WasiVirt::new();
    virt.stdio();
    virt.compose(probe.clone());
    let through = virt.finish().unwrap().bytes;
    let host = harness::Host {
        env: [("PROBE".to_string(), "write:16".to_string())]
            .into_iter()
            .collect(),
        ..Default::default()
    };
    let time = |bytes: &[u8]| {
        let component = harness::compile(bytes).unwrap();
        let samples: Vec<Duration> = (0..7)
            .map(|_| {
                let start = Instant::now();
                let out = harness::run_compiled(&component, &host).unwrap();
                let elapsed = start.elapsed();
                // 16 MiB, then the probe's closing "done\n".
                assert_eq!(out.stdout.len(), (16 << 20) + 5, "{:?}", out.end);
                elapsed
            })
            .collect();
        median(samples)
    };
    let direct = time(&probe);
    let adapted = time(&through);
    println!("passthrough stdout: 16 MiB in 64 KiB writes (median of 7, instantiate + run)");
    println!("  direct to the host:        {:>8.2} ms", ms(direct));
    println!("  through the adapter:       {:>8.2} ms", ms(adapted));
    println!(
        "  ratio:                     {:>8.2}x",
        adapted.as_secs_f64() / direct.as_secs_f64()
    );
}
