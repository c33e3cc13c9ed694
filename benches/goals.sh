#!/usr/bin/env bash
# Runs every benchmark and ends with one table of the performance goals:
# each measure's figure when the goal was set, now, the goal, and now/goal.
#
#   benches/goals.sh            everything (the cold example.sh run takes minutes)
#   benches/goals.sh --no-cold  without the cold example.sh run
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo bench --locked --bench virt | tee -a "$log"
cargo bench --locked --bench fs | tee -a "$log"
cargo bench --locked --bench serve | tee -a "$log"
if [ "${1:-}" != --no-cold ]; then
  benches/example-cold.sh | tee -a "$log"
fi
echo
echo "== performance goals"
printf 'goal | %-50s | %10s | %10s | %-12s | now/goal\n' measure "at filing" now goal
grep '^goal |' "$log"
