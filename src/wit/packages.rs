//! The WIT packages in `wit/` and how they are resolved: `build.rs`
//! resolves them with this file and packs the result (`src/wit/pack.rs`);
//! the library's tests resolve them again to check the packed copy.

use wit_parser::{Resolve, SourceMap};

/// The WIT packages, one entry per package: its files, relative to `wit/`.
pub const PACKAGES: &[&[&str]] = &[
    &["deps/io.wit"],
    &["deps/clocks.wit"],
    &["deps/random.wit"],
    &["deps/filesystem.wit"],
    &["deps/sockets.wit"],
    &["deps/cli.wit"],
    &["deps/http.wit"],
    &["deps/serve.wit"],
    // The WASI 0.3 interfaces the adapter also serves (`wit/p3/`).
    &["p3/deps/clocks.wit"],
    &["p3/deps/random.wit"],
    &["p3/deps/cli.wit"],
    &["p3/deps/filesystem.wit"],
    &["p3/deps/sockets.wit"],
    &["p3/deps/http.wit"],
    &["p3/deps/p3-http.wit"],
    &["p3/deps/p3-fs.wit"],
    &["deps/config/world.wit", "deps/config/store.wit"],
];

/// Parses and resolves [`PACKAGES`], each file's text given by `read`
/// (from its path relative to `wit/`).
pub fn resolve(read: impl Fn(&str) -> Result<String, String>) -> Result<Resolve, String> {
    let mut resolve = Resolve::default();
    let mut groups = Vec::new();
    for files in PACKAGES {
        let mut map = SourceMap::default();
        for path in files.iter() {
            map.push(path.as_ref(), without_comments(&read(path)?));
        }
        let group = map
            .parse()
            .map_err(|(_, e)| format!("failed to parse the WIT `wit/{}`: {e:#}", files[0]))?;
        groups.push(group);
    }
    // `push_groups` orders packages by their dependencies; the last one
    // pushed stands in as the "main" package.
    let main = groups.pop().ok_or("no WIT packages are listed")?;
    resolve
        .push_groups(main, groups)
        .map_err(|e| format!("failed to resolve the WIT in `wit/`: {e:#}"))?;
    Ok(resolve)
}

/// `text` with each comment line (`//` and `///` docs: the WIT in `wit/`
/// has no other comments) left empty, so that errors keep their line
/// numbers. Nothing reads the docs.
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if !line.trim_start().starts_with("//") {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}
