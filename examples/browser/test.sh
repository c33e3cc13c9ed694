#!/usr/bin/env bash
# The browser example's test (README.md): installs Debian's chromium when
# /usr/bin/chromium is missing, builds the guest component and the page's
# npm dependencies, and runs test/page.test.mjs, which serves the
# repository on loopback and drives headless Chromium through the page.
# The wasi-virt package the page imports (npm/) is built by npm/build.sh
# when npm/dist/lib/ is missing.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }
fi
rustup target add wasm32-wasip2
cargo build --locked --release --target wasm32-wasip2 --manifest-path guest/Cargo.toml \
  --target-dir guest/target
if [ ! -d ../../npm/dist/lib ]; then
  ../../npm/build.sh
fi
npm ci --no-audit --no-fund
node --test test/page.test.mjs
