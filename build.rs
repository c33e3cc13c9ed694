//! Resolves the WIT in `wit/` once, at build time, and packs it for the
//! library to read at run time (`src/wit/pack.rs` says why and how).

#[allow(dead_code)]
#[path = "src/wit/pack.rs"]
mod pack;
#[path = "src/wit/packages.rs"]
mod packages;

use std::path::Path;

fn main() {
    println!("cargo::rerun-if-changed=wit");
    println!("cargo::rerun-if-changed=src/wit/pack.rs");
    println!("cargo::rerun-if-changed=src/wit/packages.rs");
    let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("wit");
    let read = |path: &str| {
        std::fs::read_to_string(wit.join(path))
            .map_err(|e| format!("failed to read `wit/{path}`: {e}"))
    };
    let resolve = packages::resolve(read).unwrap_or_else(|e| panic!("{e}"));
    let out = Path::new(&std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("wit.pack");
    std::fs::write(&out, pack::write(&resolve))
        .unwrap_or_else(|e| panic!("failed to write `{}`: {e}", out.display()));
}
