//! Reading what a component imports, and refusing what is not a component.

use anyhow::{bail, Context, Result};
use wasmparser::{Encoding, Parser, Payload, Validator};

/// Whether `bytes` start like the WebAssembly text format: after white
/// space and `;;` comments, a `(`.
fn looks_like_text(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    loop {
        rest = rest.trim_ascii_start();
        match rest.strip_prefix(b";;") {
            Some(comment) => {
                let end = comment
                    .iter()
                    .position(|b| *b == b'\n')
                    .unwrap_or(comment.len());
                rest = &comment[end..];
            }
            None => return rest.starts_with(b"("),
        }
    }
}

/// Checks that `bytes` is a valid WebAssembly component, with a message that
/// says what it is instead.
pub fn validate_component(bytes: &[u8]) -> Result<()> {
    if !bytes.starts_with(b"\0asm") {
        if looks_like_text(bytes) {
            bail!(
                "this is WebAssembly text (WAT), not a binary; assemble it first, for example \
                 with `wasm-tools parse app.wat -o app.wasm`"
            );
        }
        bail!("not a WebAssembly binary (no `\\0asm` header)");
    }
    match Parser::new(0).parse_all(bytes).next() {
        Some(Ok(Payload::Version {
            encoding: Encoding::Component,
            ..
        })) => {}
        Some(Ok(Payload::Version {
            encoding: Encoding::Module,
            ..
        })) => bail!(
            "this is a core WebAssembly module, not a component; build for `wasm32-wasip2` \
             or wrap it with `wasm-tools component new`"
        ),
        Some(Err(e)) => return Err(e).context("not a valid WebAssembly binary"),
        _ => bail!("not a valid WebAssembly binary"),
    }
    Validator::new()
        .validate_all(bytes)
        .context("the component failed to validate")?;
    Ok(())
}

/// The names of a component's top-level imports, in order.
pub fn component_imports(bytes: &[u8]) -> Result<Vec<String>> {
    top_level_names(bytes, true)
}

/// The names of a component's top-level exports, in order.
pub fn component_exports(bytes: &[u8]) -> Result<Vec<String>> {
    top_level_names(bytes, false)
}

fn top_level_names(bytes: &[u8], imports: bool) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(s) if depth == 0 && imports => {
                for import in s {
                    out.push(import?.name.full_name().into_owned());
                }
            }
            Payload::ComponentExportSection(s) if depth == 0 && !imports => {
                for export in s {
                    out.push(export?.name.full_name().into_owned());
                }
            }
            _ => {}
        }
    }
    Ok(out)
}
