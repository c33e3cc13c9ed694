//! A command that imports WASI interfaces no subsystem of wasi-virt governs
//! (`wasi:logging/logging`, `wasi:keyvalue/store`, `wasi:clocks/timezone`)
//! beside std's WASI. Its arguments say what to call: `hello` calls none of
//! them; `log`, `store` or `timezone` calls that one, then prints.
wit_bindgen::generate!({ path: "wit", world: "app", generate_all });

use wasi::clocks::{timezone, wall_clock::Datetime};
use wasi::keyvalue::store;
use wasi::logging::logging;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["hello"] => println!("hello without extras"),
        ["log"] => {
            logging::log(logging::Level::Info, "extras", "hello");
            println!("logged");
        }
        ["store"] => match store::open("default") {
            Ok(bucket) => println!("opened; key: {:?}", bucket.get("key")),
            Err(e) => println!("open failed: {e:?}"),
        },
        ["timezone"] => {
            let when = Datetime { seconds: 0, nanoseconds: 0 };
            println!("offset {}", timezone::utc_offset(when));
        }
        other => {
            eprintln!("usage: wasi-extras hello | log | store | timezone (got {other:?})");
            std::process::exit(2);
        }
    }
}
