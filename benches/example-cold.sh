#!/usr/bin/env bash
# Times ./example.sh on a fresh clone of this checkout's HEAD, cold: nothing
# built (the clone has its own, empty, target directories), with the crates
# already downloaded (the same cargo home). Prints the goal row.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone --quiet "$root" "$work/wasi-virt"
start=$(date +%s.%N)
if ! (cd "$work/wasi-virt" && env -u CARGO_TARGET_DIR ./example.sh >"$work/log" 2>&1); then
  cat "$work/log" >&2
  echo "error: ./example.sh failed on a fresh clone" >&2
  exit 1
fi
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v cores="$(nproc)" 'BEGIN {
  t = e - s; r = t / 300
  printf "example.sh on a fresh clone, cold, %d cores: %.1f s\n", cores, t
  printf "goal | %-50s | %10s | %10s | <= %-9s | %5.2fx  %s\n", \
    "./example.sh, fresh clone, cold", "unmeasured", sprintf("%.1f s", t), "300 s", r, \
    (r <= 1 ? "met" : "not met")
}'
