#!/usr/bin/env bash
# Runs every bundled design (each bundled scenario but ots-observers) as one `kervan compare`
# (same trade, same seed, the same random streams, REPLICATIONS each) and prints a Markdown
# table of each rail's cost, speed, dollar use and prefunded liquidity: the means over
# replications from summary.csv, with the 95 % interval half-width of the headline cost.
# Usage: scripts/compare-bundled.sh [OUT_DIR [REPLICATIONS]]   (default: kervan-out/bundled, 10)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-kervan-out/bundled}
reps=${2:-10}
cargo build --release --quiet
bin=target/release/kervan
# The designs only: ots-observers adds trade (TM and HU as members) and the what-ifs add shocks,
# so they are not the same job.
# shellcheck disable=SC2046
"$bin" compare $("$bin" list | awk '$1 != "ots-observers" && $1 !~ /^whatif-/ {print $1}') --replications "$reps" --no-payments --quiet --out "$out"
echo "| scenario | rail | payments | cost bps (per \$ delivered) | ±95% | fees | spread | drift | liquidity | float | bps median | bps p95 | latency h median | within 1 h | same day | within 1 business day | USD bought \$m | peak prefunding \$m |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
awk -F, '
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  $col["corridor"] == "*" && $col["rail"] != "*" {
    k = $col["variant"] SUBSEP $col["rail"]
    if (!(k in seen)) { seen[k] = 1; order[++n] = k }
    mean[k, $col["metric"]] = $col["mean"]; hw[k, $col["metric"]] = $col["ci95_half_width"]
  }
  END {
    for (i = 1; i <= n; i++) {
      k = order[i]; split(k, p, SUBSEP)
      printf "| %s | %s | %.0f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f | %.1f%% | %.1f%% | %.1f%% | %.1f | %.1f |\n", p[1], p[2], mean[k, "payments"], mean[k, "cost_bps"], hw[k, "cost_bps"], mean[k, "fees_bps"], mean[k, "spread_bps"], mean[k, "drift_bps"], mean[k, "liquidity_bps"], mean[k, "float_bps"], mean[k, "cost_bps_median"], mean[k, "cost_bps_p95"], mean[k, "latency_h_median"], 100 * mean[k, "within_1h_share"], 100 * mean[k, "same_day_share"], 100 * mean[k, "within_1bd_share"], mean[k, "usd_bought_usd"] / 1e6, mean[k, "peak_prefunding_usd"] / 1e6
    }
  }' "$out/summary.csv"
