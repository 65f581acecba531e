#!/usr/bin/env bash
# mpirun for ternbench jobs that a wrapper or scheduler stops with SIGTERM and requeues on
# exit code 75:
#
#   scripts/mpirun.sh -n 9 ternbench run experiments/my-sweep.toml
#
# Open MPI's mpirun cannot forward SIGTERM (or SIGINT): it kills the ranks itself and exits 1,
# so ternbench never gets to record its runs and exit 75. It does forward SIGUSR1, which
# ternbench takes as the same stop request. This script turns SIGTERM, SIGINT and SIGHUP into
# SIGUSR1 for mpirun and exits with mpirun's status: 75 when the ranks stopped on it, and
# whatever ternbench returned otherwise. A second signal is passed on too, and ternbench then
# leaves at once (128 + signal), as it does without mpirun. MPIEXEC names another mpirun.
set -uo pipefail

# mpirun in a process group of its own, so a terminal's Ctrl-C reaches this script only and
# not mpirun as well. Its stdin is not the terminal: a background group that reads the
# terminal would be stopped.
set -m
"${MPIEXEC:-mpirun}" "$@" </dev/null &
launcher=$!

signals=0
# shellcheck disable=SC2317  # runs from the trap
on_stop() {
  signals=$((signals + 1))
  kill -USR1 "$launcher" 2>/dev/null || true
}
trap on_stop TERM INT HUP

# wait returns early (status > 128) when a trap runs; wait again until mpirun has ended.
while :; do
  seen=$signals rc=0
  wait "$launcher" || rc=$?
  [ "$signals" -ne "$seen" ] || break
done
exit "$rc"
