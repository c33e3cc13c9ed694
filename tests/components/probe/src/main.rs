//! Exercises the subsystems named in `PROBE` (comma-separated, in order) and
//! reports each on stdout, one line per step, so a case can see how far it
//! got and what each call returned. `PROBE` is baked in by the case's policy,
//! so the probe never needs the host's environment.
//!
//! Steps: `stdout`, `stderr`, `stdin`, `clocks`, `sleep`, `random`,
//! `exit:N`, `write:N` (N MiB to stdout, for the benchmark). Before a call that may trap, the probe prints `calling <step>`.
use std::io::{Read, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let steps = std::env::var("PROBE").unwrap_or_default();
    for step in steps.split(',').filter(|s| !s.is_empty()) {
        let (name, arg) = step.split_once(':').unwrap_or((step, ""));
        match name {
            "stdout" => {
                let r = std::io::stdout().write_all(b"stdout ok\n").and_then(|()| std::io::stdout().flush());
                if let Err(e) = r {
                    eprintln!("stdout error: {e}");
                }
            }
            "stderr" => {
                let r = std::io::stderr().write_all(b"stderr ok\n");
                if let Err(e) = r {
                    println!("stderr error: {e}");
                }
            }
            "stdin" => {
                let mut buf = String::new();
                match std::io::stdin().read_to_string(&mut buf) {
                    Ok(n) => println!("stdin {n} bytes: {buf:?}"),
                    Err(e) => println!("stdin error: {e}"),
                }
            }
            "clocks" => {
                println!("calling clocks");
                let start = Instant::now();
                let wall = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
                let later = Instant::now();
                println!("monotonic ok: {}", later >= start);
                println!("wall clock after 2020: {}", wall.as_secs() > 1_577_836_800);
            }
            "sleep" => {
                println!("calling sleep");
                let start = Instant::now();
                std::thread::sleep(Duration::from_millis(5));
                println!("slept at least 5ms: {}", start.elapsed() >= Duration::from_millis(5));
            }
            "random" => {
                println!("calling random");
                use std::hash::{BuildHasher, RandomState};
                let a = RandomState::new().hash_one(1u8);
                let b = RandomState::new().hash_one(1u8);
                println!("random ok: {}", a != b);
            }
            "exit" => {
                println!("calling exit {arg}");
                std::process::exit(arg.parse().unwrap_or(0));
            }
            "write" => {
                let chunk = vec![b'x'; 64 << 10];
                let mut out = std::io::stdout().lock();
                for _ in 0..arg.parse::<usize>().unwrap_or(1) * 16 {
                    out.write_all(&chunk).unwrap();
                }
                out.flush().unwrap();
            }
            other => println!("unknown step {other}"),
        }
    }
    println!("done");
}
