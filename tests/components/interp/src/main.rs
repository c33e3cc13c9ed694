//! Starts like an interpreter (CPython, QuickJS): before any work it reads
//! random bytes for its hash seed and the time. Then it runs the commands in
//! its arguments, one per argument, printing one line each:
//!
//! - `args`: the arguments; `cwd`: the initial cwd;
//! - `stdin`: reads stdin to the end;
//! - `seed`: the hash seed read at start-up;
//! - `wall`: the wall clock at start-up and now;
//! - `sleep:MS`: sleeps, and how far the monotonic clock moved;
//! - `random:N`, `insecure:N`: N bytes of each kind of randomness;
//! - `u64`: a random u64 and the insecure seed.
use std::io::Read;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let hash_seed = wasi::random::random::get_random_bytes(16);
    let started = SystemTime::now();
    let args: Vec<String> = std::env::args().collect();
    for command in args.iter().skip(1) {
        let (name, arg) = command.split_once(':').unwrap_or((command, ""));
        match name {
            "args" => println!("args: {args:?}"),
            "cwd" => println!("cwd: {:?}", wasi::cli::environment::initial_cwd()),
            "stdin" => {
                let mut text = String::new();
                match std::io::stdin().read_to_string(&mut text) {
                    Ok(n) => println!("stdin {n} bytes: {text:?}"),
                    Err(e) => println!("stdin error: {e}"),
                }
            }
            "seed" => println!("seed: {}", hex(&hash_seed)),
            "wall" => {
                let at = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap();
                let (start, now) = (at(started), at(SystemTime::now()));
                println!("wall at start: {}.{:09}", start.as_secs(), start.subsec_nanos());
                println!("wall now: {}.{:09}", now.as_secs(), now.subsec_nanos());
            }
            "sleep" => {
                let ms: u64 = arg.parse().expect("sleep:MS");
                let before = Instant::now();
                std::thread::sleep(Duration::from_millis(ms));
                let moved = before.elapsed();
                println!("slept {ms} ms: the monotonic clock moved {} ns", moved.as_nanos());
            }
            "random" => {
                let n = arg.parse().expect("random:N");
                println!("random: {}", hex(&wasi::random::random::get_random_bytes(n)));
            }
            "insecure" => {
                let n = arg.parse().expect("insecure:N");
                let bytes = wasi::random::insecure::get_insecure_random_bytes(n);
                println!("insecure: {}", hex(&bytes));
            }
            "u64" => {
                let value = wasi::random::random::get_random_u64();
                let (a, b) = wasi::random::insecure_seed::insecure_seed();
                println!("u64: {value:016x}; insecure seed: {a:016x} {b:016x}");
            }
            other => println!("unknown command {other}"),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
