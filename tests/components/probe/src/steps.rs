//! The probe's steps for stdio, clocks, random and exit; shared with
//! `probe-all`, which adds the other subsystems.
use std::io::{Read, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Runs step `name` with `arg`; false if it is not one of these.
pub fn run(name: &str, arg: &str) -> bool {
    match name {
        "stdout" => {
            let r = std::io::stdout()
                .write_all(b"stdout ok\n")
                .and_then(|()| std::io::stdout().flush());
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
            println!(
                "slept at least 5ms: {}",
                start.elapsed() >= Duration::from_millis(5)
            );
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
        _ => return false,
    }
    true
}
