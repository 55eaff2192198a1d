#!/usr/bin/env bash
# Proves the Slurm path of deploy/slurm/ for real on this one machine: brings up a private
# single-node Slurm cluster (munged + slurmctld + slurmd, all in a temp folder, on free loopback
# ports), submits an experiment through deploy/slurm/submit.sh (job array + afterok merge), waits
# for both jobs, runs the same experiment on one machine with `kervan run`, and compares the two
# output folders byte for byte. Exits non-zero if a job fails or any byte differs.
#
# Usage: scripts/slurm-local.sh [SCENARIO [SHARDS [REPLICATIONS]]]
# Environment (defaults in brackets):
#   KERVAN               kervan binary                          [target/release/kervan of this repo]
#   KERVAN_SCENARIO      scenario, if not given as argument 1   [ots-baseline]
#   KERVAN_SHARDS        shards / array tasks (argument 2)      [3]
#   KERVAN_REPLICATIONS  replications (argument 3)              [6]
#   KERVAN_DAYS          --days, to keep it quick               [30]
#   KERVAN_ARGS          more kervan arguments for both runs    []
#   KERVAN_SLURM_TIMEOUT seconds to wait for the jobs           [1800]
#   KERVAN_SLURM_KEEP=1  keep the temp folder even on success (it is always kept on failure)
#
# Must run as root: it may apt-get install slurm-wlm and munge, and the daemons run as root.
# Rerunnable: each run makes its own folder with mktemp and its own config, keys and state there,
# picks free ports, touches nothing under /etc, /run or /var (the packages' own munge key and
# services are left alone), stops only the daemons it started (by pid) and deletes only its
# own temp folder.
#
# Container quirks found on Debian 12 (slurm-wlm 22.05.8, munge 0.5.15) in a container without
# systemd, and what this script does about them:
#   - apt's postinst cannot start the services (policy-rc.d denies it): fine, we start our own.
#   - munged insists every directory above its socket be world-executable: mktemp -d makes 0700,
#     so the folder is chmod 755 (the key itself stays 0600).
#   - munged runs as root without --force; we give it its own key, socket, pid, log and seed
#     file, and Slurm finds that socket through AuthInfo=socket=...
#   - no cgroup plugins: ProctrackType=proctrack/linuxproc, TaskPlugin=task/none,
#     JobAcctGatherType=jobacct_gather/none, so no cgroup.conf and no dependence on the
#     container's cgroup mounts.
#   - no accounting database, so no sacct: the jobs' final states are read with
#     `scontrol show job` (MinJobAge keeps finished jobs visible for a day) and also written
#     to a jobcomp/filetxt log.
#   - slurmctld and slurmd run with -D (foreground) as children of this script, so their pids
#     are known exactly and nothing depends on pid files or systemd.
#   - SlurmUser=root and SlurmdUser=root: the state and spool folders are root's temp folder.
#   - ReturnToService=2: a node that was marked DOWN comes back as soon as slurmd registers.
#   - slurmd logs "mpi/pmix: can not load PMIx library" errors at start: harmless (no MPI here).
#   - slurmd warns "Node reconfigured socket/core boundaries" unless the node line repeats
#     the Boards/Sockets/Cores layout: we use the line `slurmd -C` prints.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

start=$EPOCHREALTIME
stamp() { printf '[%s %7.1fs]' "$(date +%T)" "$(echo "$EPOCHREALTIME - $start" | bc)"; }
log() { echo "$(stamp) $*"; }
die() { echo "$(stamp) FAIL: $*" >&2; exit 1; }
since() { echo "$EPOCHREALTIME - $1" | bc | xargs printf '%.1f'; }
indent() { sed 's/^/    /'; }

scenario=${1:-${KERVAN_SCENARIO:-ots-baseline}}
shards=${2:-${KERVAN_SHARDS:-3}}
reps=${3:-${KERVAN_REPLICATIONS:-6}}
days=${KERVAN_DAYS:-30}
timeout=${KERVAN_SLURM_TIMEOUT:-1800}
kervan=${KERVAN:-$repo/target/release/kervan}
[[ $kervan == /* ]] || kervan=$repo/$kervan
[[ -x $kervan ]] || die "kervan binary $kervan not found or not executable (build it, or set KERVAN)"
[[ $shards =~ ^[1-9][0-9]*$ && $reps =~ ^[1-9][0-9]*$ ]] || die "shards and replications must be positive integers"
((EUID == 0)) || die "run as root (installs packages, runs slurmctld/slurmd/munged as root)"
command -v bc >/dev/null || die "bc is needed for the timings"

log "kervan $kervan; experiment: run $scenario --replications $reps --days $days ${KERVAN_ARGS:-}; $shards shards"

# --- 1. packages -----------------------------------------------------------------------------
need=(slurmctld slurmd sbatch squeue sinfo scontrol scancel munged munge unmunge)
missing=()
for c in "${need[@]}"; do command -v "$c" >/dev/null || missing+=("$c"); done
if ((${#missing[@]})); then
  t=$EPOCHREALTIME
  log "installing slurm-wlm and munge (missing: ${missing[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
  log "installed in $(since "$t") s"
else
  log "slurm and munge already installed"
fi
# (not `sinfo --version`: every Slurm client wants a slurm.conf first, even for that)
log "versions: $(slurmctld -V), $(munged -V 2>&1 | head -1)"

# --- 2. private work folder, cleanup ------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/kervan-slurm-local.XXXXXX")
chmod 755 "$work" # munged: every directory above its socket must be world-executable
mkdir -p "$work/munge" "$work/state" "$work/spool" "$work/log"
log "work folder $work"

munged_pid="" ctld_pid="" slurmd_pid="" array_job="" merge_job=""
alive() { [[ -n $1 ]] && kill -0 "$1" 2>/dev/null; }
stop_pid() { # stop_pid NAME PID: TERM, wait up to 15 s, then KILL; only the pid we started
  alive "$2" || return 0
  kill -TERM "$2" 2>/dev/null || true
  for _ in $(seq 30); do alive "$2" || break; sleep 0.5; done
  if alive "$2"; then log "$1 ($2) ignored TERM; killing"; kill -KILL "$2" 2>/dev/null || true; fi
  wait "$2" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  set +e
  if alive "$ctld_pid"; then
    # Cancel our jobs first: slurmd leaves running job steps (slurmstepd) behind when it stops.
    if [[ -n $array_job$merge_job ]] && [[ -n $(squeue -h -j "${array_job:-0},${merge_job:-0}" 2>/dev/null) ]]; then
      log "cancelling jobs $array_job $merge_job"
      scancel "$array_job" "$merge_job" 2>/dev/null
      for _ in $(seq 30); do [[ -z $(squeue -h 2>/dev/null) ]] && break; sleep 1; done
    fi
  fi
  if [[ -n $ctld_pid$slurmd_pid$munged_pid ]]; then log "stopping slurmd, slurmctld, munged (pids ${slurmd_pid:--} ${ctld_pid:--} ${munged_pid:--})"; fi
  stop_pid slurmd "$slurmd_pid"
  stop_pid slurmctld "$ctld_pid"
  stop_pid munged "$munged_pid"
  if ((rc == 0)) && [[ ${KERVAN_SLURM_KEEP:-0} != 1 ]]; then
    rm -rf "$work"
    log "removed $work"
  else
    log "kept $work (logs in $work/log, $work/kervan/logs)"
  fi
  log "exit $rc after $(since "$start") s"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 3. munge ---------------------------------------------------------------------------------
bringup=$EPOCHREALTIME
if command -v mungekey >/dev/null; then
  mungekey --create --keyfile="$work/munge/munge.key"
else
  dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
fi
chmod 600 "$work/munge/munge.key"
sock=$work/munge/munge.sock
munged -F --key-file="$work/munge/munge.key" --socket="$sock" --pid-file="$work/munge/munged.pid" \
  --log-file="$work/log/munged.log" --seed-file="$work/munge/munged.seed" \
  >"$work/log/munged.out" 2>&1 &
munged_pid=$!
for _ in $(seq 50); do [[ -S $sock ]] && break; alive "$munged_pid" || break; sleep 0.2; done
[[ -S $sock ]] || { cat "$work/log/munged.out" "$work/log/munged.log" >&2; die "munged did not start"; }
munge -S "$sock" -n | unmunge -S "$sock" >/dev/null || die "munge credential round trip failed"
log "munged up (pid $munged_pid, socket $sock), credential round trip ok"

# --- 4. slurm.conf ----------------------------------------------------------------------------
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { local p=$1; while ! port_free "$p"; do p=$((p + 1)); done; echo "$p"; }
ctld_port=$(free_port 16817)
slurmd_port=$(free_port $((ctld_port + 1)))
# `slurmd -C` prints this machine's node line (name, CPUs, boards/sockets/cores, RealMemory)
# exactly as slurmd will report it at registration; a node configured with more CPUs or memory
# than it reports is drained.
node_line=$(slurmd -C 2>/dev/null | grep '^NodeName=')
node=${node_line#NodeName=}
node=${node%% *}
cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$node_line")
mem=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$node_line")
[[ -n $node && -n $cpus && -n $mem ]] || die "cannot read the node from 'slurmd -C': $node_line"
conf=$work/slurm.conf
cat >"$conf" <<EOF
# Written by kervan scripts/slurm-local.sh: a throwaway single-node cluster on loopback.
ClusterName=kervan-local
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$work/log/jobcomp.txt
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=86400
MailProg=/bin/true
$node_line NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$conf # sbatch, squeue, scontrol and the jobs themselves read this one
log "slurm.conf: node $node, CPUs=$cpus, RealMemory=${mem} MB, ports $ctld_port/$slurmd_port, select/cons_tres CR_Core"

# --- 5. daemons -------------------------------------------------------------------------------
slurmctld -D -f "$conf" >"$work/log/slurmctld.out" 2>&1 &
ctld_pid=$!
for _ in $(seq 60); do scontrol ping 2>/dev/null | grep -q 'is UP' && break; alive "$ctld_pid" || break; sleep 0.5; done
scontrol ping 2>/dev/null | grep -q 'is UP' || { tail -20 "$work/log/slurmctld.out" >&2; die "slurmctld did not come up"; }
log "slurmctld up (pid $ctld_pid)"
slurmd -D -f "$conf" >"$work/log/slurmd.out" 2>&1 &
slurmd_pid=$!
state=""
for _ in $(seq 120); do
  state=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
  [[ $state == idle ]] && break
  alive "$slurmd_pid" || break
  sleep 0.5
done
if [[ $state != idle ]]; then
  sinfo -R >&2 || true
  tail -20 "$work/log/slurmd.out" >&2
  die "node $node is '${state:-unknown}', not idle"
fi
log "slurmd up (pid $slurmd_pid); node $node idle; bring-up took $(since "$bringup") s"
sinfo | indent

# --- 6. submit through deploy/slurm/submit.sh ---------------------------------------------------
cluster=$work/kervan
jobs_start=$EPOCHREALTIME
# Every setting is given here, and those this script does not use are cleared, so that a
# KERVAN_SEED or KERVAN_THREADS left in the caller's environment cannot make the cluster run
# differ from the one-machine run. One CPU per shard: 2 cores here, so the array shows both
# parallel tasks and a task waiting for a free core. (fd 3 = this script's stdout: inside $()
# the notes of submit.sh on stderr would otherwise be swallowed.)
exec 3>&1
ids=$(KERVAN=$kervan KERVAN_WORK=$cluster KERVAN_OUT=$cluster/result KERVAN_COMMAND=run \
  KERVAN_SCENARIO=$scenario KERVAN_SHARDS=$shards KERVAN_REPLICATIONS=$reps KERVAN_SEED='' \
  KERVAN_ARGS="--days $days ${KERVAN_ARGS:-}" KERVAN_CPUS_PER_TASK=1 KERVAN_THREADS='' \
  KERVAN_ARRAY_TASKS='' KERVAN_MAX_PARALLEL='' KERVAN_TIME='' KERVAN_MEM='' KERVAN_SBATCH_ARGS='' \
  "$repo/deploy/slurm/submit.sh" 2> >(indent >&3))
array_job=$(sed -n 's/^array_job=//p' <<<"$ids")
merge_job=$(sed -n 's/^merge_job=//p' <<<"$ids")
[[ -n $array_job && -n $merge_job ]] || die "submit.sh printed no job ids: $ids"
log "submitted: array job $array_job ($shards tasks), merge job $merge_job (afterok:$array_job)"

# --- 7. wait ----------------------------------------------------------------------------------
last=""
while :; do
  now=$(squeue -h -j "$array_job,$merge_job" -o '%i:%T' 2>/dev/null | sort | tr '\n' ' ' || true)
  [[ $now != "$last" ]] && { log "queue: ${now:-empty}"; last=$now; }
  [[ -z $now ]] && break
  if (($(printf '%.0f' "$(since "$jobs_start")") > timeout)); then die "jobs still queued after $timeout s"; fi
  sleep 0.5
done
jobs_took=$(since "$jobs_start")
bad=0
while read -r line; do
  [[ -n $line ]] || continue
  id=$(grep -o '^JobId=[^ ]*' <<<"$line"); task=$(grep -o 'ArrayTaskId=[^ ]*' <<<"$line" || true)
  st=$(grep -o 'JobState=[^ ]*' <<<"$line"); ec=$(grep -o ' ExitCode=[^ ]*' <<<"$line")
  log "  $id ${task:-merge} $st$ec"
  [[ $st == JobState=COMPLETED && $ec == " ExitCode=0:0" ]] || bad=1
done < <(scontrol -o show job "$array_job"; scontrol -o show job "$merge_job")
ntasks=$(scontrol -o show job "$array_job" | grep -c 'ArrayTaskId=' || true)
[[ $ntasks == "$shards" ]] || bad=1
for f in "$cluster"/logs/*.out; do log "log ${f#"$cluster"/}:"; indent <"$f"; done
((bad == 0)) || die "a job did not complete (expected $shards tasks, saw $ntasks); see above"
log "array + merge finished in $jobs_took s (submit to last job done)"

# --- 8. the same experiment on one machine ------------------------------------------------------
read -ra extra <<<"${KERVAN_ARGS:-}"
single_start=$EPOCHREALTIME
log "one machine: $kervan run $scenario --replications $reps --days $days ${extra[*]} --out $work/single"
"$kervan" run "$scenario" --replications "$reps" --days "$days" "${extra[@]}" --out "$work/single" 2>&1 | indent
log "one machine took $(since "$single_start") s"

# --- 9. compare --------------------------------------------------------------------------------
log "files (sha256, path relative to each folder):"
(cd "$work/single" && find . -type f | sort | xargs sha256sum) | sed 's/^/    single   /'
(cd "$cluster/result" && find . -type f | sort | xargs sha256sum) | sed 's/^/    cluster  /'
if ! diff -r "$work/single" "$cluster/result" >"$work/log/diff.txt" 2>&1; then
  head -40 "$work/log/diff.txt" | indent
  die "the merged cluster output differs from the one-machine output"
fi
log "IDENTICAL: diff -r single/ cluster-merged/ is empty ($(find "$work/single" -type f | wc -l) files)"
log "timings: bring-up $(echo "$jobs_start - $bringup" | bc | xargs printf '%.1f') s (munged to idle node), array+merge $jobs_took s, one machine $(since "$single_start") s"
