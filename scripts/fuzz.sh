#!/usr/bin/env bash
# Fuzzes scenario loading and validation (fuzz/fuzz_targets/load_scenario.rs) with cargo-fuzz on
# the stable toolchain: installs cargo-fuzz if missing, seeds the corpus from the bundled
# scenarios/*.toml, runs the target on ONE job (one core) for SECONDS (default 600) and prints
# libFuzzer's final stats. Findings land in fuzz/artifacts/load_scenario/ (crash-*, timeout-*,
# oom-*); the full libFuzzer output goes to a log beside them. See docs/fuzzing.md.
#
# Usage: scripts/fuzz.sh [SECONDS] [-- EXTRA_LIBFUZZER_FLAGS...]
#   KERVAN_FUZZ_FORK=1 (default)  -fork=1 with -ignore_crashes/-ignore_timeouts/-ignore_ooms: one
#                                 worker process at a time, and the run goes on after a finding,
#                                 so it lasts SECONDS and collects every finding
#   KERVAN_FUZZ_FORK=0            one plain libFuzzer process; it stops at the first finding
#   KERVAN_FUZZ_LOG=FILE          where libFuzzer's output goes (relative to the repository;
#                                 default fuzz/artifacts/fuzz-<UTC time>.log)
#
# cargo-fuzz builds with nightly-only flags (-Zsanitizer=address); RUSTC_BOOTSTRAP=1 makes the
# stable compiler accept them. That is why the fuzz target is not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

CARGO_FUZZ_VERSION=0.13.2
seconds=${1:-600}
if [[ $# -gt 0 ]]; then shift; fi
if [[ ${1:-} == "--" ]]; then shift; fi
if ! [[ $seconds =~ ^[0-9]+$ ]] || [[ $seconds -eq 0 ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS] [-- LIBFUZZER_FLAGS...]" >&2
  exit 2
fi

export RUSTC_BOOTSTRAP=1
# The machine is shared: build on one core (the fuzzing itself is one process at a time).
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1}

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --version "=$CARGO_FUZZ_VERSION" --locked
fi
echo "$(cargo fuzz --version); $(rustc -V)" >&2

target=load_scenario
corpus=$root/fuzz/corpus/$target
artifacts=$root/fuzz/artifacts/$target
mkdir -p "$corpus" "$artifacts"
log=${KERVAN_FUZZ_LOG:-fuzz/artifacts/fuzz-$(date -u +%Y%m%dT%H%M%SZ).log}
[[ $log == /* ]] || log=$root/$log
mkdir -p "$(dirname "$log")"

# Everything runs from an empty scratch directory, so that relative names in fuzz inputs cannot
# reach the repository; cargo-fuzz is pointed at the project with --fuzz-dir, and every path
# handed to libFuzzer is absolute.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/kervan-fuzz-cwd.XXXXXX")
before=$(mktemp)
trap 'rm -f "$before"; rm -rf "$scratch"' EXIT
cd "$scratch"
fuzz=(cargo fuzz run --fuzz-dir "$root/fuzz" "$target")

cargo fuzz build --fuzz-dir "$root/fuzz" "$target" >&2

# Seeds: each bundled scenario as written, with `extends` resolved, and with `--set` lines
# (the target writes them when KERVAN_FUZZ_WRITE_SEEDS is set, then exits).
KERVAN_FUZZ_WRITE_SEEDS=$corpus "${fuzz[@]}" "$corpus" >&2

ls -1 "$artifacts" | sort >"$before"

mode=()
if [[ ${KERVAN_FUZZ_FORK:-1} != 0 ]]; then
  mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
fi
echo "fuzzing $target for ${seconds}s on one job (${mode[*]:-single process}); log: $log" >&2
# No -jobs/-workers: those start extra processes. libFuzzer exits non-zero on a finding: print
# the figures first, then pass its status on.
status=0
"${fuzz[@]}" "$corpus" -- \
  "${mode[@]}" \
  -dict="$root/fuzz/scenario.dict" \
  -max_total_time="$seconds" \
  -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
  -print_final_stats=1 \
  "$@" >"$log" 2>&1 || status=$?

echo "--- final stats line:"
grep -E '^#[0-9]+' "$log" | tail -n 1 || true
grep -E '^stat::' "$log" || true
echo "--- corpus: $(find "$corpus" -type f | wc -l) files, $(du -sk "$corpus" | cut -f1) KiB"
echo "--- new artifacts in $artifacts:"
ls -1 "$artifacts" | sort | comm -13 "$before" - || true
echo "--- libFuzzer exit status: $status (log: $log)"
exit "$status"
