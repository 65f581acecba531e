#!/usr/bin/env bash
# Stops the private Slurm that scripts/slurm_up.sh started in ROOT: cancels its jobs, then
# stops slurmd, slurmctld and munged by the PIDs saved in ROOT/pids/*.bg (SIGTERM, then
# SIGKILL after 20 s) and checks that each one is gone. Other Slurm or munge daemons on the
# machine are never touched. Safe to run twice. ROOT itself is left for its logs.
#
#   scripts/slurm_down.sh ROOT
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 ROOT" >&2
  exit 2
fi
ROOT=$(cd "$1" && pwd)
export SLURM_CONF="$ROOT/slurm.conf"

# alive PID NAME: the process exists, is not a zombie (this sandbox's init reaps late) and
# is still the daemon we started (the PID was not reused by something else).
alive() {
  local pid=$1 name=$2 state
  [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f1) || return 1
  [ "$state" != Z ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$name"
}

pid_of() { [ -s "$ROOT/pids/$1.bg" ] && cat "$ROOT/pids/$1.bg"; }

# Jobs first: slurmstepd and the job's tasks are not children we hold PIDs of, so they must
# end through Slurm while slurmctld and slurmd still run. Waits out KillWait (30 s).
if ctld=$(pid_of slurmctld) && alive "$ctld" slurmctld && scontrol ping 2>/dev/null | grep -q UP; then
  jobs=$(squeue -h -o %i 2>/dev/null || true)
  if [ -n "$jobs" ]; then
    echo "slurm_down: cancelling jobs $(tr '\n' ' ' <<<"$jobs")"
    # shellcheck disable=SC2086  # one argument per job id
    scancel $jobs || true
    end=$((SECONDS + 60))
    while [ -n "$(squeue -h -o %i 2>/dev/null || true)" ] && [ "$SECONDS" -lt "$end" ]; do sleep 1; done
    [ -z "$(squeue -h -o %i 2>/dev/null || true)" ] || echo "slurm_down: jobs still listed after 60 s" >&2
  fi
fi

status=0
for name in slurmd slurmctld munged; do
  pid=$(pid_of "$name") || continue
  if alive "$pid" "$name"; then
    kill -TERM "$pid" 2>/dev/null || true
    end=$((SECONDS + 20))
    while alive "$pid" "$name" && [ "$SECONDS" -lt "$end" ]; do sleep 0.2; done
    if alive "$pid" "$name"; then
      echo "slurm_down: $name ($pid) ignored SIGTERM for 20 s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      sleep 1
    fi
  fi
  if alive "$pid" "$name"; then
    echo "slurm_down: $name ($pid) is still running" >&2
    status=1
  else
    echo "slurm_down: $name ($pid) stopped"
    rm -f "$ROOT/pids/$name.bg"
  fi
done

# A job step that outlived its slurmd keeps its socket in the spool dir.
leftover=$(find "$ROOT/spool" -maxdepth 1 -type s -name 'localhost_*' 2>/dev/null || true)
if [ -n "$leftover" ]; then
  echo "slurm_down: job step sockets left in $ROOT/spool (a slurmstepd may still run): $leftover" >&2
fi
exit "$status"
