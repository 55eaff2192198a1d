#!/usr/bin/env bash
# Runs every bundled scenario as `kervan run NAME` does (its own seed, days and replications,
# payments.csv included) into a scratch folder and prints one line per output file:
# `SHA256  SCENARIO/FILE`. Two builds whose lines are identical wrote byte-identical outputs;
# docs/architecture.md keeps the lines from before and after the restructuring.
# manifest.toml records the command line, binary path included, so it is hashed without its
# `command = ` line; the marker .kervan-output (sizes and hashes of the others) is left out.
# Usage: scripts/output-hashes.sh [KERVAN_BINARY]   (default: builds target/release/kervan)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
if [[ -z $bin ]]; then
  cargo build --release --quiet
  bin=target/release/kervan
fi
scratch=$(mktemp -d "${TMPDIR:-/tmp}/kervan-hashes.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
for scenario in $("$bin" list | awk '{print $1}'); do
  "$bin" run "$scenario" --out "$scratch/$scenario" --quiet
  (
    cd "$scratch"
    find "$scenario" -type f -name '*.csv' | LC_ALL=C sort | xargs sha256sum
    echo "$(grep -v '^command = ' "$scenario/manifest.toml" | sha256sum | cut -d' ' -f1)  $scenario/manifest.toml (without its command line)"
  )
done
