//! Exercises the subsystems named in `PROBE` (comma-separated, in order) and
//! reports each on stdout, one line per step, so a case can see how far it
//! got and what each call returned. `PROBE` is baked in by the case's policy,
//! so the probe never needs the host's environment.
//!
//! Steps: `stdout`, `stderr`, `stdin`, `clocks`, `sleep`, `random`,
//! `exit:N`, `write:N` (N MiB to stdout, for the benchmark). Before a call
//! that may trap, the probe prints `calling <step>`.
mod steps;

fn main() {
    let probe = std::env::var("PROBE").unwrap_or_default();
    for step in probe.split(',').filter(|s| !s.is_empty()) {
        let (name, arg) = step.split_once(':').unwrap_or((step, ""));
        if !steps::run(name, arg) {
            println!("unknown step {name}");
        }
    }
    println!("done");
}
