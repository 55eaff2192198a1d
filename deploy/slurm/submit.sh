#!/usr/bin/env bash
# Submits a kervan experiment to Slurm as a job array (one task per shard) plus a merge job that
# runs only after every shard succeeded. Prints the two job ids as shell assignments:
#   array_job=1234
#   merge_job=1235
# (everything else goes to stderr, so `eval "$(deploy/slurm/submit.sh)"` works).
#
# Settings, all from the environment (defaults in brackets):
#   KERVAN                kervan binary; must be visible at the same path on the compute nodes
#                         [`kervan` on PATH, else target/release/kervan of this repo]
#   KERVAN_WORK           shared work folder: shards/, logs/, result/ go here    [./kervan-work]
#   KERVAN_OUT            final merged folder                                    [$KERVAN_WORK/result]
#   KERVAN_COMMAND        run | compare | sweep                                  [run]
#   KERVAN_SCENARIO       scenario (run, sweep) or "BASE VARIANT..." (compare)   [ots-baseline]
#   KERVAN_SHARDS         number of shards = array tasks                         [4]
#   KERVAN_REPLICATIONS   --replications; empty keeps the scenario's own         []
#   KERVAN_SEED           --seed; empty keeps the scenario's own                 []
#   KERVAN_ARGS           extra kervan arguments, whitespace-separated           []
#                         (e.g. "--days 30" or "--vary fx.vol=0.5,1,2")
#   KERVAN_CPUS_PER_TASK  CPUs per shard; kervan gets --threads of the same      [4]
#   KERVAN_THREADS        override --threads                                     []
#   KERVAN_TIME           --time per shard (empty: the partition's default)      []
#   KERVAN_MEM            --mem per shard (empty: the partition's default)       []
#   KERVAN_MAX_PARALLEL   at most this many shards at once (array %limit)        []
#   KERVAN_ARRAY_TASKS    which shards to (re)run, e.g. "3" or "2,5"             [1-$KERVAN_SHARDS]
#   KERVAN_SBATCH_ARGS    extra sbatch options for both jobs, e.g.               []
#                         "--partition=long --account=proj42"
#
# Rerunning failed shards: run this again with the same settings and KERVAN_ARRAY_TASKS set to
# the failed indices; it submits only those tasks and a new merge of all N shard folders.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
note() { echo "submit.sh: $*" >&2; }
die() { note "error: $*"; exit 1; }

command -v sbatch >/dev/null || die "sbatch not found (is this a Slurm login node?)"

# Resolve the binary and folders to absolute paths now: the jobs start in another directory
# (the submit directory is not guaranteed to exist on the compute node) and cannot guess them.
if [[ -z ${KERVAN:-} ]]; then
  KERVAN=$(command -v kervan || true)
  [[ -n $KERVAN ]] || KERVAN=$repo/target/release/kervan
fi
[[ -x $KERVAN ]] || die "kervan binary '$KERVAN' is not executable (set KERVAN=/path/to/kervan)"
KERVAN=$(cd "$(dirname "$KERVAN")" && pwd)/$(basename "$KERVAN")
KERVAN_WORK=${KERVAN_WORK:-$PWD/kervan-work}
mkdir -p "$KERVAN_WORK/shards" "$KERVAN_WORK/logs"
KERVAN_WORK=$(cd "$KERVAN_WORK" && pwd)
KERVAN_OUT=${KERVAN_OUT:-$KERVAN_WORK/result}
[[ $KERVAN_OUT == /* ]] || KERVAN_OUT=$PWD/$KERVAN_OUT
KERVAN_COMMAND=${KERVAN_COMMAND:-run}
KERVAN_SCENARIO=${KERVAN_SCENARIO:-ots-baseline}
KERVAN_SHARDS=${KERVAN_SHARDS:-4}
KERVAN_CPUS_PER_TASK=${KERVAN_CPUS_PER_TASK:-4}
[[ $KERVAN_SHARDS =~ ^[1-9][0-9]*$ ]] || die "KERVAN_SHARDS must be a positive integer"
case $KERVAN_COMMAND in run|compare|sweep) ;; *) die "KERVAN_COMMAND must be run, compare or sweep" ;; esac
export KERVAN KERVAN_WORK KERVAN_OUT KERVAN_COMMAND KERVAN_SCENARIO KERVAN_SHARDS \
  KERVAN_REPLICATIONS KERVAN_SEED KERVAN_ARGS KERVAN_THREADS

tasks=${KERVAN_ARRAY_TASKS:-1-$KERVAN_SHARDS}
[[ -n ${KERVAN_MAX_PARALLEL:-} ]] && tasks+="%$KERVAN_MAX_PARALLEL"
read -ra site <<<"${KERVAN_SBATCH_ARGS:-}"
per_task=(--cpus-per-task="$KERVAN_CPUS_PER_TASK")
[[ -n ${KERVAN_TIME:-} ]] && per_task+=(--time="$KERVAN_TIME")
[[ -n ${KERVAN_MEM:-} ]] && per_task+=(--mem="$KERVAN_MEM")

# --export=ALL hands the KERVAN_* variables exported above to the jobs. (Listing them in
# --export=ALL,NAME=value instead would break on values containing commas, like --vary lists.)
# --parsable prints "jobid" or "jobid;cluster"; keep the id.
array_job=$(sbatch --parsable --export=ALL "${site[@]}" "${per_task[@]}" \
  --array="$tasks" --job-name=kervan-shard \
  --output="$KERVAN_WORK/logs/shard-%a.job-%A.out" \
  "$here/kervan-array.sbatch")
array_job=${array_job%%;*}

# afterok on an array job waits for all of its tasks and needs every one to exit 0.
# --kill-on-invalid-dep: if a shard fails the merge can never run; cancel it rather than leave
# it pending forever with Reason=DependencyNeverSatisfied.
merge_job=$(sbatch --parsable --export=ALL "${site[@]}" \
  --dependency="afterok:$array_job" --kill-on-invalid-dep=yes \
  --job-name=kervan-merge --cpus-per-task=1 \
  --output="$KERVAN_WORK/logs/merge.job-%j.out" \
  "$here/kervan-merge.sbatch")
merge_job=${merge_job%%;*}

note "array job $array_job: $KERVAN_COMMAND $KERVAN_SCENARIO, tasks $tasks of $KERVAN_SHARDS shards -> $KERVAN_WORK/shards/shard-K"
note "merge job $merge_job (afterok:$array_job) -> $KERVAN_OUT"
note "logs: $KERVAN_WORK/logs; watch: squeue -j $array_job,$merge_job"
echo "array_job=$array_job"
echo "merge_job=$merge_job"
