//! A command that imports WASI 0.3 (`wasi:cli/environment@0.3.0`,
//! `wasi:clocks/system-clock@0.3.0`, `wasi:random/random@0.3.0`) beside the
//! WASI 0.2 that std imports, as components built with wit-bindgen for
//! WASI 0.3 do. Its argument says what to call: `hello` calls none of the
//! 0.3 functions and prints std's view (0.2); `args`, `time` or `random`
//! calls that 0.3 function and prints what it answered.
wit_bindgen::generate!({ path: "wit", world: "app", generate_all });

use wasi::cli::environment;
use wasi::clocks::system_clock;
use wasi::random::random;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("hello") => println!("hello; 0.2 arguments {args:?}"),
        Some("args") => println!("0.3 arguments {:?}", environment::get_arguments()),
        Some("time") => println!("0.3 seconds {}", system_clock::now().seconds),
        Some("random") => println!("0.3 random {}", random::get_random_u64()),
        other => {
            eprintln!("usage: p3-mixed hello | args | time | random (got {other:?})");
            std::process::exit(2);
        }
    }
}
