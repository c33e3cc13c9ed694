//! Prints the arguments and environment variables it sees through std, one
//! per line, variables sorted. (std does not read `initial-cwd`; the
//! `lib-export` guest asks for it directly.)
fn main() {
    for (i, arg) in std::env::args().enumerate() {
        println!("arg {i}: {arg}");
    }
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    vars.sort();
    for (k, v) in vars {
        println!("env {k}={v}");
    }
}
