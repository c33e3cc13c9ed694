//! A command for `--serve-http` (`tests/serve/cgi-*.toml`, run by
//! `tests/serve.rs`): its first argument (the query's first search word)
//! chooses what it writes to stdout; with no argument but the path, it
//! says so and prints `QUERY_STRING`.
//!
//! - `args`: each argument on a line;
//! - `env`: the CGI variables and `GREETING`, `NAME=value` lines;
//! - `cat FILE...`: the files;
//! - `sum`: the length of stdin and a checksum of it;
//! - `headers`: a CGI header block (201, JSON, a header of its own), then
//!   a body;
//! - `fail`: half a header block, then exit code 3;
//! - `trap`: half a header block, then a panic;
//! - `mixed`: `out 1`, `err 2`, `out 3` on stdout, stderr, stdout;
//! - `interim`: a header block with an interim status, `103`.
use std::io::{Read as _, Write as _};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut out = std::io::stdout();
    match args.get(1).map(String::as_str) {
        Some("args") => {
            for arg in &args {
                println!("{arg}");
            }
        }
        Some("env") => {
            for name in [
                "REQUEST_METHOD",
                "PATH_INFO",
                "QUERY_STRING",
                "CONTENT_TYPE",
                "CONTENT_LENGTH",
                "SERVER_PROTOCOL",
                "HTTP_X_TEST",
                "HTTP_X_REMOTE_USER",
                "HTTP_PROXY",
                "GREETING",
            ] {
                println!("{name}={}", std::env::var(name).unwrap_or_default());
            }
        }
        Some("cat") => {
            for file in &args[2..] {
                out.write_all(&std::fs::read(file).unwrap()).unwrap();
            }
        }
        Some("sum") => {
            let mut stdin = std::io::stdin();
            let mut buffer = vec![0; 64 * 1024];
            let (mut len, mut sum) = (0u64, 0u64);
            loop {
                let n = stdin.read(&mut buffer).unwrap();
                if n == 0 {
                    break;
                }
                for &b in &buffer[..n] {
                    sum = sum.wrapping_mul(31).wrapping_add(b as u64);
                }
                len += n as u64;
            }
            println!("{len} bytes, sum {sum}");
        }
        Some("headers") => {
            print!("Status: 201 Created\r\nContent-Type: application/json\r\nX-Cgi: yes\r\n\r\n");
            println!("{{\"made\": true}}");
        }
        Some("fail") => {
            print!("Status: 200 OK\nContent-Type: text/plain\n");
            out.flush().unwrap();
            std::process::exit(3);
        }
        Some("trap") => {
            print!("Status: 200 OK\nContent-Type: text/plain\n");
            out.flush().unwrap();
            panic!("the command trapped");
        }
        Some("interim") => {
            print!("Status: 103 Early Hints\nContent-Type: text/plain\n\nnot an answer\n");
        }
        None => println!(
            "no arguments; QUERY_STRING={}",
            std::env::var("QUERY_STRING").unwrap_or_default()
        ),
        Some("mixed") => {
            print!("out 1\n");
            out.flush().unwrap();
            eprint!("err 2\n");
            print!("out 3\n");
            out.flush().unwrap();
        }
        _ => println!(
            "usage: ?args | ?env | ?cat+FILE | ?sum | ?headers | ?fail | ?trap | ?mixed | ?interim"
        ),
    }
}
