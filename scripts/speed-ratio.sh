#!/usr/bin/env bash
# Issue 9's speed target, whole process and side by side: `kervan run --threads 1` of the
# default year (payments.csv written) against the minimal five-event pipeline of
# examples/minimal_pipeline.rs on the same number of payments, alternated ROUNDS times. Prints
# the CPU time (user + sys) of each, fastest and median, payments per second per core, and the
# ratio of the two throughputs (the target: at least 0.5). docs/performance.md has the figures.
#
# Usage: scripts/speed-ratio.sh [ROUNDS] [KERVAN_BINARY]
#   ROUNDS         rounds of one run each (default 9)
#   KERVAN_BINARY  another build of kervan to time against the same reference (default: this
#                  checkout's target/release/kervan, built first)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-9}
cargo build --release --quiet --bin kervan --example minimal_pipeline
kervan=${2:-target/release/kervan}
reference=target/release/examples/minimal_pipeline

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kervan-speed.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
TIMEFORMAT='%U %S'

# The payments of the default year, from one untimed run.
"$kervan" run -q --threads 1 --out "$tmp/count" >/dev/null
payments=$(($(wc -l <"$tmp/count/payments.csv") - 1))
rm -rf "$tmp/count"

for round in $(seq "$rounds"); do
  { time "$kervan" run -q --threads 1 --out "$tmp/k" >/dev/null 2>&1; } 2>>"$tmp/kervan.times"
  { time "$reference" "$tmp/r" "$payments" >/dev/null 2>&1; } 2>>"$tmp/reference.times"
  rm -rf "$tmp/k" "$tmp/r"
  echo "round $round of $rounds done" >&2
done

# Fastest and median CPU seconds of a times file (lines "user sys").
stats() {
  awk '{ print $1 + $2 }' "$1" | sort -g | awk '{ v[NR] = $1 } END { print v[1], v[int((NR + 1) / 2)] }'
}
read -r k_min k_med < <(stats "$tmp/kervan.times")
read -r r_min r_med < <(stats "$tmp/reference.times")
awk -v n="$payments" -v rounds="$rounds" -v km="$k_min" -v kd="$k_med" -v rm="$r_min" -v rd="$r_med" 'BEGIN {
  printf "%d payments, %d rounds, CPU time (fastest; median)\n", n, rounds
  printf "kervan run, payments.csv:  %6.3f s  %4.0f k payments/s per core  (%.0f k)\n", km, n / km / 1000, n / kd / 1000
  printf "minimal 5-event pipeline:  %6.3f s  %4.0f k payments/s per core  (%.0f k)\n", rm, n / rm / 1000, n / rd / 1000
  printf "ratio kervan / reference:  %.3f  (%.3f)   target: at least 0.5\n", rm / km, rd / kd
}'
