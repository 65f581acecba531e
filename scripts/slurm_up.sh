#!/usr/bin/env bash
# Starts a private single-node Slurm (munged, slurmctld, slurmd) with every file under ROOT,
# for trying slurm/sweep.sbatch and for tests/slurm. Nothing under /etc is read or written:
# clients find the cluster through SLURM_CONF=ROOT/slurm.conf (ROOT/env.sh exports it).
#
#   scripts/slurm_up.sh ROOT        # then: source ROOT/env.sh; sbatch ...; scripts/slurm_down.sh ROOT
#
# Needs the Debian packages slurm-wlm and munge (scripts/setup.sh installs them) and root:
# slurmd must run as root to start job steps. Daemons run in the background; their PIDs go
# to ROOT/pids/<name>.bg, which scripts/slurm_down.sh uses to stop exactly these processes.
# Ports: 6817/6818 unless taken (e.g. by another private cluster), then the next free pair.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 ROOT" >&2
  exit 2
fi
mkdir -p "$1"
ROOT=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)

for cmd in munged munge unmunge slurmctld slurmd scontrol sinfo; do
  command -v "$cmd" >/dev/null 2>&1 || {
    echo "slurm_up: $cmd not found; install slurm-wlm and munge (scripts/setup.sh)" >&2
    exit 1
  }
done
if [ "$(id -u)" -ne 0 ]; then
  echo "slurm_up: must run as root (slurmd starts job steps as the submitting user)" >&2
  exit 1
fi
for f in "$ROOT"/pids/*.bg; do
  [ -e "$f" ] || continue
  if kill -0 "$(cat "$f")" 2>/dev/null; then
    echo "slurm_up: $ROOT already has a running daemon ($f); run scripts/slurm_down.sh $ROOT first" >&2
    exit 1
  fi
done

mkdir -p "$ROOT"/{munge,state,spool,log,pids}
# munged refuses a socket that others cannot reach: every directory on the way needs x for
# all ("Socket is inaccessible: execute permissions for all required"); 711 is enough.
chmod 711 "$ROOT" "$ROOT/munge"
d=$(dirname "$ROOT")
while [ "$d" != / ]; do
  if [ "$(( $(stat -c %#a "$d") & 1 ))" -eq 0 ]; then
    echo "slurm_up: munged needs execute permission for all on $d (e.g. chmod o+x $d; mktemp -d makes 700)" >&2
    exit 1
  fi
  d=$(dirname "$d")
done

# If anything below fails, stop what was already started rather than leave daemons behind.
started=0 up=0
cleanup_unless_up() {
  if [ "$up" -eq 0 ] && [ "$started" -eq 1 ]; then
    echo "slurm_up: bring-up failed; stopping the daemons started so far" >&2
    "$here/slurm_down.sh" "$ROOT" >&2 || true
  fi
}
trap cleanup_unless_up EXIT

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ctld_port=6817
while port_in_use "$ctld_port" || port_in_use "$((ctld_port + 1))"; do
  ctld_port=$((ctld_port + 10))
  if [ "$ctld_port" -gt 7000 ]; then
    echo "slurm_up: no free port pair between 6817 and 7000" >&2
    exit 1
  fi
done
slurmd_port=$((ctld_port + 1))

# The node must be declared exactly as slurmd sees it (CPUs, sockets, cores, memory), or
# slurmctld drains it ("Low RealMemory", "Low socket*core*thread count").
node_hw=$(slurmd -C | head -n 1 | sed 's/^NodeName=[^ ]* //')

if [ ! -s "$ROOT/munge/munge.key" ]; then
  dd if=/dev/urandom of="$ROOT/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$ROOT/munge/munge.key"
fi

# cred_expire=10 and sched_interval=5 make a requeued job start again after ~15 s instead
# of 2-3 minutes (the default EligibleTime after a requeue is cred_expire + 1 = 121 s).
cat > "$ROOT/slurm.conf" <<EOF
# Private single-node Slurm written by scripts/slurm_up.sh; every path is under $ROOT.
ClusterName=tbprivate
SlurmctldHost=localhost
AuthType=auth/munge
AuthInfo=socket=$ROOT/munge/munge.socket.2,cred_expire=10
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
StateSaveLocation=$ROOT/state
SlurmdSpoolDir=$ROOT/spool
SlurmctldPidFile=$ROOT/pids/slurmctld.pid
SlurmdPidFile=$ROOT/pids/slurmd.pid
SlurmctldLogFile=$ROOT/log/slurmctld.log
SlurmdLogFile=$ROOT/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=5
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
ReturnToService=2
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$ROOT/log/jobcomp.txt
JobAcctGatherType=jobacct_gather/none
KillWait=30
MinJobAge=300
NodeName=localhost $node_hw State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF

cat > "$ROOT/env.sh" <<EOF
# Source this to use the private cluster in $ROOT: sbatch, squeue, scontrol, srun.
export SLURM_CONF=$ROOT/slurm.conf
EOF
export SLURM_CONF="$ROOT/slurm.conf"

# start NAME CMD...: runs a daemon in the foreground mode of its own (-F/-D) as a background
# job, so $! is the daemon itself. Output goes to a file: a daemon holding the caller's
# stdout open would keep ctest (or a pipe) waiting until it exits.
start() {
  local name=$1
  shift
  "$@" </dev/null >>"$ROOT/log/$name.out" 2>&1 &
  echo $! > "$ROOT/pids/$name.bg"
  started=1
}

# wait_for NAME WHAT SECONDS CMD...: polls CMD until it succeeds; gives up at once when the
# daemon NAME has exited (a bad config kills it within a second).
wait_for() {
  local name=$1 what=$2 secs=$3
  shift 3
  local end=$((SECONDS + secs)) why=""
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$ROOT/pids/$name.bg")" 2>/dev/null; then
      why="$name exited"
    elif [ "$SECONDS" -ge "$end" ]; then
      why="$what not ready after ${secs} s"
    else
      sleep 0.2
      continue
    fi
    echo "slurm_up: $why; logs in $ROOT/log:" >&2
    for f in "$ROOT"/log/*; do
      echo "---- $f" >&2
      tail -n 15 "$f" >&2
    done
    return 1
  done
}

munge_ok() { munge -S "$ROOT/munge/munge.socket.2" -n | unmunge -S "$ROOT/munge/munge.socket.2"; }
ctld_up() { scontrol ping | grep -q UP; }
node_idle() { sinfo -h -o %T | grep -qx idle; }

start munged munged -F --key-file="$ROOT/munge/munge.key" --socket="$ROOT/munge/munge.socket.2" \
  --pid-file="$ROOT/munge/munged.pid" --log-file="$ROOT/log/munged.log" --seed-file="$ROOT/munge/munged.seed"
wait_for munged munged 20 munge_ok
start slurmctld slurmctld -D -f "$SLURM_CONF"
wait_for slurmctld slurmctld 30 ctld_up
start slurmd slurmd -D -N localhost -f "$SLURM_CONF"
wait_for slurmd "node localhost" 60 node_idle
up=1

echo "slurm_up: private Slurm up in $ROOT (slurmctld port $ctld_port): node localhost $node_hw"
echo "slurm_up: use it with: source $ROOT/env.sh   (or export SLURM_CONF=$SLURM_CONF)"
