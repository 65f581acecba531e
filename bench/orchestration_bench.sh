#!/bin/bash
# Orchestration overhead: a sweep of many trivial runs (custom ["dense(10)"], a few
# images, 1 epoch) through mpirun, so nearly all the time is the coordinator's hand-out
# and SQLite writes plus the workers' per-run fixed costs. Prints runs/s and the
# coordinator's CPU share. With --coordinator, also runs tb_bench_orchestrator: the runs/s
# rank 0 handles, SQLite writes included, when workers answer at once.
# See bench/RESULTS.md, "Orchestration overhead".
#
#   bench/orchestration_bench.sh --bin build/release/orchestrator/ternbench \
#       --fixture build/release/tests/e2e/tb_make_fixture \
#       [--coordinator build/release/bench/tb_bench_orchestrator] [--runs 10000] [--np 4] [--keep DIR]
set -euo pipefail

bin="" fixture="" coordinator="" runs=10000 np=4 keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --fixture) fixture=$2; shift 2 ;;
    --coordinator) coordinator=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --np) np=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "orchestration_bench.sh: unknown argument $1; see the usage at the top of the script" >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || { echo "orchestration_bench.sh: --bin: '$bin' is not an executable ternbench" >&2; exit 2; }
[ -x "$fixture" ] || { echo "orchestration_bench.sh: --fixture: '$fixture' is not the tb_make_fixture executable" >&2; exit 2; }
[ -z "$coordinator" ] || [ -x "$coordinator" ] ||
  { echo "orchestration_bench.sh: --coordinator: '$coordinator' is not the tb_bench_orchestrator executable" >&2; exit 2; }
bin=$(realpath "$bin"); fixture=$(realpath "$fixture")
[ -z "$coordinator" ] || coordinator=$(realpath "$coordinator")
mpirun=${MPIEXEC:-mpirun}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

work=${keep:-$(mktemp -d /tmp/ternbench-orch-bench.XXXXXX)}
mkdir -p "$work"
[ -n "$keep" ] || trap 'rm -rf "$work"' EXIT
cd "$work"
export TERNBENCH_DATA="$work/data"
"$fixture" "$TERNBENCH_DATA/mnist" 100 100 > /dev/null

{
  echo '[sweep]'
  echo 'name = "orch"'
  echo '[train]'
  echo 'dataset = "mnist"'
  echo 'method = "fp"'
  echo 'model = "custom"'
  echo 'layers = ["dense(10)"]'
  echo 'epochs = 1'
  echo 'batch_size = 10'
  echo 'train_limit = 10'
  echo 'test_limit = 10'
  echo "seed = [$(seq -s ', ' 1 "$runs")]"
} > orch.toml
rm -rf results

# rank 0's CPU time, sampled until it exits (utime + stime of /proc/PID/stat).
start=$(date +%s.%N)
"$mpirun" -n "$np" --oversubscribe "$bin" run orch.toml > run.log 2>&1 &
mpirun_pid=$!
rank0=""
for _ in $(seq 1 400); do
  for p in $(pgrep -P $mpirun_pid || true); do
    if tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=0; then rank0=$p; fi
  done
  [ -n "$rank0" ] && break
  sleep 0.02
done
ticks=0
if [ -n "$rank0" ]; then
  while t=$(awk '{print $14 + $15}' /proc/$rank0/stat 2>/dev/null) && [ -n "$t" ]; do ticks=$t; sleep 0.05; done
fi
wait $mpirun_pid || { tail -20 run.log; echo "orchestration_bench.sh: mpirun failed (log above)" >&2; exit 1; }
end=$(date +%s.%N)

done_runs=$(sqlite3 -batch -noheader results/orch.sqlite "select count(*) from runs where status = 'done'")
[ "$done_runs" = "$runs" ] || { tail -20 run.log; echo "orchestration_bench.sh: $done_runs of $runs runs done" >&2; exit 1; }
# Steady state from the DB: runs finished per second between the first and the last
# finish (finished_at has one-second resolution, so only meaningful for long sweeps).
read -r first last < <(sqlite3 -batch -noheader -separator ' ' results/orch.sqlite \
  "select min(strftime('%s', finished_at)), max(strftime('%s', finished_at)) from runs")
hz=$(getconf CLK_TCK)
awk -v n="$runs" -v s="$start" -v e="$end" -v f="$first" -v l="$last" -v t="$ticks" -v hz="$hz" -v np="$np" 'BEGIN {
  wall = e - s; span = l - f;
  printf "runs: %d through mpirun -n %d (1 coordinator + %d workers)\n", n, np, np - 1;
  printf "wall: %.2f s, end to end (mpirun start-up, sweep parsing, plan, training, DB)\n", wall;
  printf "throughput: %.0f runs/s end to end", n / wall;
  if (span > 0) printf ", %.0f runs/s between the first and last finished run", n / span;
  printf "\n";
  printf "coordinator CPU: %.2f s (%.0f%% of the wall time)\n", t / hz, 100 * t / hz / wall;
}'

if [ -n "$coordinator" ]; then
  echo "coordinator alone (tb_bench_orchestrator, 10,000 runs, 3 in-process workers answering at once):"
  "$coordinator" --benchmark_counters_tabular=true 2>&1 | grep -E "runs_per_second|BM_" || true
fi
