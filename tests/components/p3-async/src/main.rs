//! A WASI 0.3 command whose async `wasi:cli/run@0.3.0` awaits WASI 0.3's
//! async functions, as a 0.3 program does (a synchronous 0.2 `run` may not
//! wait). Its first argument says what to do: `sleep` waits 5 ms through
//! `wait-for`, then until 2 ms later through `wait-until`, then until a
//! moment already past, and prints whether each waited at least its time;
//! `sleep exact` prints the monotonic marks too (the same every run only
//! on a virtual clock); `stdio` reads stdin to its end and writes a line
//! through 0.3's stdout, then prints (through 0.2's) what each answered;
//! `http-types` builds fields, options, requests and responses through
//! WASI 0.3's `wasi:http/types` and prints what each step answered;
//! `http-send AUTHORITY PATH...` posts a body to each path there through
//! `client.send` and prints the response or the error, and then the
//! request's own result;
//! `net STEP...` runs each step through WASI 0.3's sockets (`connect
//! ADDR`, `udp ADDR`, `resolve NAME`, `listen ADDR`) and prints what each
//! answered; `fs STEP...` does the same through WASI 0.3's filesystem
//! (`ls`, `read PREOPEN PATH`, `write PREOPEN PATH`, `list PREOPEN PATH`).
wit_bindgen::generate!({ path: "wit", world: "app", generate_all });

use crate::wasi::cli::{stdin, stdout};
use crate::wasi::clocks::monotonic_clock;

struct App;

impl exports::wasi::cli::run::Guest for App {
    async fn run() -> Result<(), ()> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        match args.first().map(String::as_str) {
            Some("sleep") => sleep(args.get(1).is_some_and(|a| a == "exact")).await,
            Some("stdio") => stdio().await,
            Some("http-types") => http::types().await,
            Some("http-send") if args.len() >= 3 => {
                for path in &args[2..] {
                    http::send(&args[1], path).await;
                }
            }
            Some("fs") => {
                for step in &args[1..] {
                    fs::step(step).await;
                }
            }
            Some("net") => {
                for step in &args[1..] {
                    net::step(step).await;
                }
            }
            other => {
                eprintln!("usage: p3-async sleep [exact] | stdio | http-types | http-send AUTHORITY PATH... | net STEP... | fs STEP... (got {other:?})");
                return Err(());
            }
        }
        Ok(())
    }
}

export!(App);

mod fs;
mod http;
mod net;

/// The 0.2 `run` that std exports: a 0.3 host calls the 0.3 one.
fn main() {
    eprintln!("p3-async runs through WASI 0.3's `wasi:cli/run`");
    std::process::exit(2);
}

async fn sleep(exact: bool) {
    const MS: u64 = 1_000_000;
    let start = monotonic_clock::now();
    monotonic_clock::wait_for(5 * MS).await;
    let after_for = monotonic_clock::now();
    monotonic_clock::wait_until(after_for + 2 * MS).await;
    let after_until = monotonic_clock::now();
    monotonic_clock::wait_until(start).await;
    let after_past = monotonic_clock::now();
    println!(
        "wait-for 5 ms waited at least 5 ms: {}",
        after_for - start >= 5 * MS
    );
    println!(
        "wait-until 2 ms later reached it: {}",
        after_until >= after_for + 2 * MS
    );
    println!(
        "wait-until the past returned: {}",
        after_past >= after_until
    );
    if exact {
        println!("marks {start} {after_for} {after_until} {after_past}");
    }
}

/// Stdin read to its end and a line written through WASI 0.3's streams:
/// what each stream and its future answered.
async fn stdio() {
    let (data, done) = stdin::read_via_stream();
    let data = data.collect().await;
    println!("0.3 stdin: {} bytes, then {:?}", data.len(), done.await);
    let (mut tx, rx) = wit_stream::new();
    let done = stdout::write_via_stream(rx);
    let rest = tx.write_all(b"through 0.3 stdout\n".to_vec()).await;
    drop(tx);
    println!(
        "0.3 stdout: {} bytes not taken, then {:?}",
        rest.len(),
        done.await
    );
}
