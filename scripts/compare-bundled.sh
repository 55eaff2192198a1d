#!/usr/bin/env bash
# Runs every bundled scenario (same trade, same seed) and prints a Markdown table of each rail's
# cost, speed, dollar use and prefunded liquidity, from the rails.csv files it writes.
# Usage: scripts/compare-bundled.sh [OUT_DIR]   (default: kervan-out/compare)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-kervan-out/compare}
cargo build --release --quiet
bin=target/release/kervan
mkdir -p "$out"
echo "| scenario | rail | payments | cost bps (per \$ delivered) | fees | spread | drift | liquidity | float | bps median | bps p95 | latency h median | within 1 h | same day | within 1 business day | USD bought \$m | peak prefunding \$m |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for scenario in $("$bin" list | awk '{print $1}'); do
  "$bin" run "$scenario" --out "$out/$scenario" --no-payments --quiet
  awk -F, -v s="$scenario" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    {
      d = $col["settled_value_usd"]; b = d > 0 ? 1e4 / d : 0
      printf "| %s | %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f | %.1f%% | %.1f%% | %.1f%% | %.1f | %.1f |\n", s, $col["rail"], $col["payments"], $col["cost_bps_weighted"], $col["fees_usd"] * b, $col["spread_usd"] * b, $col["drift_usd"] * b, $col["liquidity_usd"] * b, $col["float_usd"] * b, $col["cost_bps_median"], $col["cost_bps_p95"], $col["latency_h_median"], 100 * $col["within_1h_share"], 100 * $col["same_day_share"], 100 * $col["within_1bd_share"], $col["usd_bought"] / 1e6, $col["liquidity_peak_usd"] / 1e6
    }' "$out/$scenario/rails.csv"
done
