#!/usr/bin/env bash
# Sets up a fresh machine and runs wasi-virt's main job on the example
# component in examples/hello: build it for wasm32-wasip2, virtualize its
# environment, and run the result in wasmtime next to the original.
set -euo pipefail
cd "$(dirname "$0")"

rustup target add wasm32-wasip2 wasm32-unknown-unknown

cargo build --locked --release --target wasm32-wasip2 \
  --manifest-path examples/hello/Cargo.toml --target-dir examples/hello/target
hello=examples/hello/target/wasm32-wasip2/release/hello.wasm

cargo build --locked --profile example -p wasi-virt -p run-component --bins
wasi_virt=target/example/wasi-virt
run=target/example/run-component

echo "== wasi-virt: bake GREETING and NAME in, let LANG, the arguments and stdout through, deny the rest"
"$wasi_virt" "$hello" -e GREETING=Hello -e NAME=wasi-virt --allow-env=LANG --stdout=allow \
  -o target/hello.virt.wasm

echo
echo "== the original, on a host with a secret in its environment"
env -i SECRET=hunter2 LANG=C.UTF-8 "$run" "$hello" --flag
echo
echo "== the virtualized component, same host"
env -i SECRET=hunter2 LANG=C.UTF-8 "$run" target/hello.virt.wasm --flag
