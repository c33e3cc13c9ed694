#!/usr/bin/env bash
# Runs each fuzz target (fuzz/fuzz_targets) for a bounded time with
# cargo-fuzz on the nightly toolchain, starting from and adding to the
# committed corpus in fuzz/corpus. Not part of CI or ./test.sh.
#
#   ./fuzz.sh                # every target, 60 seconds each
#   ./fuzz.sh rules 600      # one target, ten minutes
#
# Needs `rustup toolchain install nightly` and `cargo install cargo-fuzz`.
# A crash is saved under fuzz/artifacts/TARGET/; turn it into a regression
# test beside the code it found a fault in, then fix the fault.
set -euo pipefail
cd "$(dirname "$0")"

targets=(config rules http_paths paths finish sockets memfs)
if [ $# -ge 1 ]; then targets=("$1"); fi
seconds=${2:-60}

# The `finish` target embeds the guests, built as ./test.sh builds them.
rustup target add wasm32-wasip2 >/dev/null
cargo build --release --locked --target wasm32-wasip2 \
  --manifest-path tests/components/Cargo.toml --target-dir tests/components/target

for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target"
  echo "== $target: $seconds s"
  # No sanitizer: the code under test has no `unsafe` (crates/layout, src/),
  # and AddressSanitizer would cost about four times the executions.
  (cd fuzz && cargo +nightly fuzz run --sanitizer none "$target" "corpus/$target" -- \
      -max_total_time="$seconds" -print_final_stats=1 2>&1) |
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+== ERROR|SUMMARY|Test unit written)' || true
done
