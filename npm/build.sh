#!/usr/bin/env bash
# Builds what the npm package ships, into npm/dist/ (not committed):
#   dist/lib/  the library component (crates/component), sealed by wasi-virt
#              itself so that it imports nothing, transpiled by jco to ESM:
#              index.js loads it, in Node or in a browser, with no WASI shim;
#   dist/cli/  the CLI (src/bin/wasi-virt) as a command component, sealed to
#              what a CLI needs, transpiled by jco to run on
#              @bytecodealliance/preview2-shim: bin/wasi-virt.js runs it.
# Both are built for wasm32-wasip2 with the `npm` profile (root Cargo.toml),
# in the target directory CARGO_TARGET_DIR names, or the repository's
# target/. The native CLI that seals them is the debug build there, or
# $WASI_VIRT if set. Runs `npm ci` first if jco is not installed.
set -euo pipefail
npm_dir="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$npm_dir")"
target="${CARGO_TARGET_DIR:-$root/target}"
cd "$root"

rustup target add wasm32-wasip2
cargo build --locked --target wasm32-wasip2 --profile npm \
  -p wasi-virt-component -p wasi-virt --lib --bin wasi-virt
if [ -z "${WASI_VIRT:-}" ]; then
  cargo build --locked --bin wasi-virt
  WASI_VIRT="$target/debug/wasi-virt"
fi
built="$target/wasm32-wasip2/npm"
work="$target/npm"
mkdir -p "$work"

# The library needs no clock, randomness or files of the host: a virtual
# clock and a seeded generator stand in for what std asks for (HashMap
# seeds), and everything else is denied.
"$WASI_VIRT" "$built/wasi_virt_component.wasm" --quiet \
  --clock=virtual:2026-01-01T00:00:00Z --random-seed 1 -o "$work/wasi-virt-lib.wasm"
# ...so that it imports nothing at all: no WASI shim needed, in a browser too.
"$WASI_VIRT" inspect --json "$work/wasi-virt-lib.wasm" | node -e '
  const i = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const left = [...i.permissions, ...i.carriers, ...i.ungoverned];
  if (left.length) {
    console.error("error: the sealed library component still imports:", JSON.stringify(left));
    process.exit(1);
  }'
# The CLI: its arguments, environment, stdio, exit and the host's
# directories, as tests/component_cli.rs seals it; no clock, randomness,
# sockets or HTTP of the host.
"$WASI_VIRT" "$built/wasi-virt.wasm" --quiet --allow-args --allow-env --allow-stdio \
  --allow-exit --allow-fs --clock=virtual:2026-01-01T00:00:00Z --random-seed 1 \
  -o "$work/wasi-virt-cli.wasm"

cd "$npm_dir"
[ -x node_modules/.bin/jco ] || npm ci --no-audit --no-fund
rm -rf dist
npx --no-install jco transpile "$work/wasi-virt-lib.wasm" --name wasi-virt -o dist/lib --quiet
npx --no-install jco transpile "$work/wasi-virt-cli.wasm" --name wasi-virt -o dist/cli --quiet
