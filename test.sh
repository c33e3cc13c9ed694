#!/usr/bin/env bash
# Sets up a fresh machine and runs every test: adds the wasm targets (wasip1
# for the core-module cases), checks that lib/ is what virtual-adapter/
# builds, then `cargo test`, which builds the guest components in
# tests/components for wasm32-wasip2 and runs every case in tests/cases in
# wasmtime, and (tests/install.rs) installs wasi-virt with
# `cargo install --offline` into a temporary root and checks what
# `cargo package` would ship. Last, that the fuzz targets (fuzz/, run by
# fuzz.sh on nightly) still compile against the crates they drive: after the
# tests, because the `finish` target embeds guests that the tests build.
# Between them, npm/test.sh builds the library and CLI components for the
# npm package and runs its tests with Node's test runner. Last,
# examples/browser/test.sh runs the browser example in headless Chromium
# (Debian's `chromium`, installed when it is missing).
set -euo pipefail
cd "$(dirname "$0")"

rustup target add wasm32-wasip2 wasm32-wasip1 wasm32-unknown-unknown
./build-adapter.sh --check
cargo test --locked
npm/test.sh
cargo check --quiet --locked --manifest-path fuzz/Cargo.toml --bins
examples/browser/test.sh
