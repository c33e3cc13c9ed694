#!/usr/bin/env bash
# The npm package's tests (npm/test/*.test.js, Node's test runner): installs
# the pinned tools (`npm ci`), builds the package (build.sh), and checks the
# JS API and the `npx wasi-virt` bin against the native CLI that build.sh
# builds (or $WASI_VIRT). Needs the guest components that `cargo test` builds.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
./build.sh
# The native CLI build.sh built (or $WASI_VIRT, which it used instead).
target="${CARGO_TARGET_DIR:-../target}"
export WASI_VIRT="${WASI_VIRT:-$(cd "$target" && pwd)/debug/wasi-virt}"
node --test test/*.test.js
