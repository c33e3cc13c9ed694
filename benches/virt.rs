//! Benchmarks (not tests): `cargo bench --bench virt`. Prints figures and
//! ratios; asserts nothing about time.
//!
//! For env-only virtualization of the example component (examples/hello):
//! the median `finish()` time, the bytes virtualization adds, and the size of
//! the standalone adapter.

#[path = "../tests/harness/mod.rs"]
mod harness;

use std::time::{Duration, Instant};
use wasi_virt::WasiVirt;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn env_only() -> WasiVirt {
    let mut virt = WasiVirt::new();
    virt.env()
        .deny_all()
        .overrides(&[("GREETING", "Hello"), ("NAME", "bench")]);
    virt
}

fn main() {
    let dir = harness::build_wasm_workspace(&harness::repo().join("examples/hello"))
        .expect("failed to build examples/hello");
    let component = std::fs::read(dir.join("hello.wasm")).unwrap();

    let mut virt = env_only();
    virt.compose(component.clone());
    let out = virt.finish().unwrap(); // warm-up, and the output measured
    let runs = 30;
    let samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            virt.finish().unwrap();
            start.elapsed()
        })
        .collect();
    let compose_median = median(samples);

    let standalone = env_only();
    let adapter = standalone.finish().unwrap();
    let samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            standalone.finish().unwrap();
            start.elapsed()
        })
        .collect();
    let standalone_median = median(samples);

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
}
