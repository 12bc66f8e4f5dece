#!/usr/bin/env bash
# make test-cluster: the cluster path (scheduler=slurm:N) against a real SLURM. Starts a single-node
# cluster on this machine when none is running (slurmctld + slurmd on localhost, one partition of
# its cores; munge for authentication; Debian's slurm-wlm packages, installed with apt when absent
# and this is root), runs one Zemouri notebook at its smoke profile with scheduler=slurm:2 and again
# with local:2, each into its own results folder and cache, checks that the jobs went through
# sbatch (SLURM's job completion log lists them) and that both runs give the same fingerprints and
# tables bit for bit, then stops what it started. Where SLURM cannot be installed it says so in one
# line and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
NOTEBOOK=${NOTEBOOK:-02_latent_space}
ROOT=$PWD/build/slurm
HOST=$(hostname -s)

if ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null &&
     DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       slurmctld slurmd slurm-client munge >"${TMPDIR:-/tmp}/avalib-slurm-apt.log" 2>&1; then
    echo "test-cluster: installed slurm-wlm and munge with apt"
  else
    echo "test-cluster: skipped: SLURM (slurmctld, slurmd, sbatch, munged) is not installed and apt cannot install it here"
    exit 0
  fi
fi

rm -rf "$ROOT" && mkdir -p "$ROOT"/{state,spool,jobs,munge,run}
export SLURM_CONF=$ROOT/slurm.conf
CPUS=$(nproc)
MEMORY=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
cat >"$SLURM_CONF" <<CONF
ClusterName=avalib
SlurmctldHost=$HOST
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$ROOT/munge/munge.socket
StateSaveLocation=$ROOT/state
SlurmdSpoolDir=$ROOT/spool
SlurmctldPidFile=$ROOT/run/slurmctld.pid
SlurmdPidFile=$ROOT/run/slurmd.pid
SlurmctldLogFile=$ROOT/slurmctld.log
SlurmdLogFile=$ROOT/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
JobCompType=jobcomp/filetxt
JobCompLoc=$ROOT/jobcomp.log
AccountingStorageType=accounting_storage/none
MpiDefault=none
NodeName=$HOST CPUs=$CPUS RealMemory=$MEMORY State=UNKNOWN
PartitionName=avalib Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF

started=()
stop() {
  for pidfile in "${started[@]}"; do
    [[ -f $pidfile ]] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
}
trap stop EXIT
munged --force --socket="$ROOT/munge/munge.socket" --pid-file="$ROOT/run/munged.pid" \
  --log-file="$ROOT/munged.log" --seed-file="$ROOT/munge/seed"
started+=("$ROOT/run/munged.pid")
slurmctld -f "$SLURM_CONF"
started+=("$ROOT/run/slurmctld.pid")
slurmd -f "$SLURM_CONF"
started+=("$ROOT/run/slurmd.pid")
for _ in $(seq 60); do
  sinfo -h -o "%T" 2>/dev/null | grep -q idle && break
  sleep 1
done
sinfo -h -o "%T" | grep -q idle || { echo "test-cluster: the node never became idle"; tail -20 "$ROOT"/slurm*.log; exit 1; }
echo "test-cluster: single-node SLURM up ($HOST, $CPUS CPUs): $(sinfo -h -o '%P %D %T')"

run() {   # scheduler, folder: the notebook at smoke into build/slurm/<folder>, its own cache
  AVALIB_RESULTS_DIR=$ROOT/$2/results AVALIB_CACHE_DIR=$ROOT/$2/cache DASK_CONFIG=$PWD/cluster \
    "$PY" -m avalib.runs "$NOTEBOOK" --profile smoke -p scheduler "$1"
}
run slurm:2 on-slurm
for _ in $(seq 30); do           # a job is logged when it ends: the workers are cancelled at the end
  [[ -s $ROOT/jobcomp.log ]] && ! squeue -h | grep -q . && break
  sleep 1
done
jobs=$(grep -c "JobId=" "$ROOT/jobcomp.log" 2>/dev/null || true)
[[ ${jobs:-0} -ge 1 ]] || { echo "test-cluster: SLURM's job completion log lists no job"; exit 1; }
echo "test-cluster: $jobs SLURM jobs ran the workers ($ROOT/jobcomp.log)"
run local:2 on-local
"$PY" -m avalib.verify --runs "$ROOT/on-slurm/results/$NOTEBOOK" "$ROOT/on-local/results/$NOTEBOOK"
