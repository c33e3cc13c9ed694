#!/usr/bin/env bash
# Rebuilds lib/virtual_adapter.wasm, the prebuilt virtual adapter, from
# virtual-adapter/.
#
#   ./build-adapter.sh          rebuild and copy into lib/
#   ./build-adapter.sh --check  rebuild and fail if lib/ differs (CI)
#
# The build must be byte-for-byte reproducible from any checkout path, so:
# the toolchain is pinned and source paths are remapped. The adapter is
# linked with `--emit-relocs`; crates/adapter-refs then writes what its
# functions and data objects refer to into a section of its own and strips
# every other custom section but the component type (names, debug info,
# the linker's), which gives lib/.
set -euo pipefail

PINNED_RUSTC=1.95.0
root=$(cd "$(dirname "$0")" && pwd)
cd "$root"

check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

found=$(rustc --version | awk '{print $2}')
if [ "$found" != "$PINNED_RUSTC" ]; then
  echo "error: the adapter is built with rustc $PINNED_RUSTC, but \`rustc\` is $found;" \
       "install it with \`rustup toolchain install $PINNED_RUSTC\` and run \`RUSTUP_TOOLCHAIN=$PINNED_RUSTC $0\`" >&2
  exit 1
fi
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

cargo_home=${CARGO_HOME:-$HOME/.cargo}
RUSTFLAGS="--remap-path-prefix=$root=/wasi-virt --remap-path-prefix=$cargo_home=/cargo -C link-arg=--emit-relocs" \
  cargo build --quiet -p wasi-virt-adapter --profile adapter --locked \
  --target wasm32-unknown-unknown

linked="$root/target/wasm32-unknown-unknown/adapter/wasi_virt_adapter.wasm"
built="$root/target/wasm32-unknown-unknown/adapter/virtual_adapter.wasm"
cargo run --quiet --locked --release -p wasi-virt-adapter-refs -- "$linked" "$built"
committed=lib/virtual_adapter.wasm
if [ "$check" = 1 ]; then
  if ! cmp -s "$built" "$committed"; then
    echo "error: $committed differs from what virtual-adapter/ builds;" \
         "run ./build-adapter.sh and commit lib/" >&2
    exit 1
  fi
  echo "lib/ is up to date ($(wc -c <"$committed") bytes)"
else
  mkdir -p lib
  cp "$built" "$committed"
  echo "wrote $committed ($(wc -c <"$committed") bytes)"
fi
