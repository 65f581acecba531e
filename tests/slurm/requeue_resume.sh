# A sweep submitted through slurm/sweep.sbatch to a private single-node Slurm (2 tasks:
# coordinator + 1 worker) and interrupted twice while runs are in flight:
#   1. `scontrol requeue` from outside (what an admin or a preemption does): Slurm sends
#      SIGTERM to every task and requeues the job itself;
#   2. USR1 to the batch shell only (`scancel --batch -s USR1`, what --signal=B:USR1@margin
#      sends before the time limit): the script passes it on and requeues the job itself.
# The job must end COMPLETED with every run done exactly once, runs finished before an
# interruption never trained again, and metrics and weight files bit-identical to the same
# sweep trained embedded. Skips (77) only when Slurm is not installed.
set -euo pipefail
if ! command -v slurmctld >/dev/null 2>&1; then
  echo "slurmctld not installed (scripts/setup.sh installs slurm-wlm and munge): skipping"
  exit 77
fi
: "${TB_SOURCE_DIR:?}"
source "$TB_SOURCE_DIR/tests/e2e/common.sh"   # WORK (cwd), TERNBENCH_DATA, fail, q
# The DB is read while rank 0 writes it (WAL): wait out a brief lock instead of failing.
q() { sqlite3 -batch -noheader -cmd '.timeout 5000' "$1" "$2"; }

SLURM_ROOT="$WORK/slurm"
# munged wants every directory above its socket traversable by all; mktemp -d made 700.
chmod 711 "$WORK"
embedded_pid="" log_shown=0
# Always stop the daemons; a leftover daemon fails the test even when the checks passed.
cleanup() {
  local status=$?
  set +e
  if [ "$status" -ne 0 ]; then
    if [ "$log_shown" -eq 0 ]; then
      echo "---- job log" >&2
      cat "$WORK"/ternbench-*.out >&2 2>/dev/null
    fi
    echo "---- slurmctld.log (tail)" >&2
    tail -n 30 "$SLURM_ROOT/log/slurmctld.log" >&2 2>/dev/null
    echo "---- slurmd.log (tail)" >&2
    tail -n 30 "$SLURM_ROOT/log/slurmd.log" >&2 2>/dev/null
  fi
  if [ -n "$embedded_pid" ] && kill -0 "$embedded_pid" 2>/dev/null; then
    kill "$embedded_pid"
    wait "$embedded_pid"
  fi
  if [ -d "$SLURM_ROOT/pids" ]; then
    "$TB_SOURCE_DIR/scripts/slurm_down.sh" "$SLURM_ROOT" || { echo "FAIL: slurm_down left daemons running" >&2; status=1; }
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT

# Runs of ~2 s (0.4 s per epoch here) so both interruptions land while a run is in flight.
"$TB_FIXTURE" "$TERNBENCH_DATA/mnist" 4000 1000 >/dev/null
cat > smoke.toml <<'TOML'
[sweep]
name = "smoke"
db = "results/smoke.sqlite"

[train]
dataset = "mnist"
method = ["fp", "twn"]
seed = [1, 2, 3]
epochs = 6
batch_size = 32
lr = 0.05
TOML
n_runs=6 n_epochs=6

"$TB_SOURCE_DIR/scripts/slurm_up.sh" "$SLURM_ROOT"
export SLURM_CONF="$SLURM_ROOT/slurm.conf"

# The reference: the same sweep in one process, trained while the Slurm job runs.
"$TB_BIN" run smoke.toml --db embedded/smoke.sqlite > embedded.log 2>&1 &
embedded_pid=$!

# sbatch passes the environment (TB_BIN, TERNBENCH_DATA, SLURM_CONF) to the job. -t 10:
# the script's own USR1 warning (300 s before the limit) comes after this test is over.
jid=$(sbatch --parsable -n 2 -t 10 "$TB_SOURCE_DIR/slurm/sweep.sbatch" smoke.toml)
log="ternbench-$jid.out"
echo "submitted job $jid"

deadline=$((SECONDS + 300))
db=results/smoke.sqlite
job_field() { scontrol show job "$jid" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }
done_count() { [ -f "$db" ] && q "$db" "select count(*) from runs where status='done'" || echo 0; }
# A run is in flight with at least one epoch stored (the interruption lands mid-run).
in_flight() { [ -f "$db" ] && [ "$(q "$db" "select count(*) from runs r where status='running'
  and exists (select 1 from epochs e where e.run_key = r.run_key)")" -ge 1 ]; }

# wait_mid_run N: until at least N runs are done, one is in flight and the job is running
# its restart number R.
wait_mid_run() {
  local want=$1 restart=$2
  until [ "$(job_field JobState)" = RUNNING ] && [ "$(job_field Restarts)" = "$restart" ] &&
    [ "$(done_count)" -ge "$want" ] && in_flight; do
    [ "$(done_count)" -lt "$n_runs" ] || fail "all runs finished before the interruption; make the runs longer"
    [ "$SECONDS" -lt "$deadline" ] || fail "timed out waiting for $want done runs and one in flight"
    sleep 0.2
  done
}

# wait_requeued R: until the interrupted run of the job is over and it waits for restart R.
wait_requeued() {
  local restart=$1
  until [ "$(job_field Restarts)" = "$restart" ] && [ "$(job_field JobState)" = PENDING ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "timed out waiting for the job to be requeued"
    case "$(job_field JobState)" in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY)
      fail "job ended ($(job_field JobState)) instead of being requeued" ;;
    esac
    sleep 0.2
  done
}

done_keys() { q "$db" "select run_key from runs where status='done' order by run_key"; }
in_flight_keys() { q "$db" "select run_key from runs where status not in ('done','diverged') order by run_key"; }

# 1. External requeue, after the first run is done.
wait_mid_run 1 0
done_before_1=$(done_keys)
echo "requeue after $(echo "$done_before_1" | wc -l) done runs"
scontrol requeue "$jid"
wait_requeued 1
status_after_1=$(q "$db" "select status, count(*) from runs group by status order by status" | tr '\n' ' ')
unfinished_after_1=$(q "$db" "select count(*) from runs where status not in ('done','diverged','interrupted')")
echo "after requeue 1 (job pending): $status_after_1"

# 2. USR1 to the batch shell, as --signal=B:USR1 does before the time limit.
wait_mid_run "$(($(echo "$done_before_1" | wc -l) + 1))" 1
done_before_2=$(done_keys)
echo "USR1 after $(echo "$done_before_2" | wc -l) done runs"
scancel --batch --signal=USR1 "$jid"
wait_requeued 2
status_after_2=$(q "$db" "select status, count(*) from runs group by status order by status" | tr '\n' ' ')
unfinished_after_2=$(q "$db" "select count(*) from runs where status not in ('done','diverged','interrupted')")
echo "after USR1 (job pending): $status_after_2"

# 3. The job's last restart finishes the sweep.
until [ "$(job_field JobState)" = COMPLETED ]; do
  case "$(job_field JobState)" in FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY)
    fail "job ended $(job_field JobState) (exit $(job_field ExitCode))" ;;
  esac
  [ "$SECONDS" -lt "$deadline" ] || fail "job not completed after 300 s"
  sleep 0.5
done
wait "$embedded_pid" || { cat embedded.log; fail "embedded reference run failed"; }
echo "---- job log"
cat "$log"
echo "----"
log_shown=1

# Every run done exactly once, under this job, and finished runs never trained again.
[ "$(q $db "select count(*) from runs")" = "$n_runs" ] || fail "expected $n_runs rows in runs"
[ "$(q $db "select count(*) from runs where status='done'")" = "$n_runs" ] || fail "not every run is done"
[ "$(q $db "select count(distinct run_key) from runs")" = "$n_runs" ] || fail "duplicate run keys"
[ "$(q $db "select count(*) from epochs")" = $((n_runs * n_epochs)) ] || fail "expected $n_epochs epochs per run"
[ "$(q $db "select count(*) from (select 1 from epochs group by run_key, epoch having count(*) > 1)")" = 0 ] \
  || fail "duplicate epoch rows"
[ "$(q $db "select count(*) from runs where slurm_job_id = '$jid'")" = "$n_runs" ] || fail "runs not stamped with job $jid"
[ "$(q $db "select run_key from runs order by run_key")" = "$(q embedded/smoke.sqlite "select run_key from runs order by run_key")" ] \
  || fail "run keys differ from the embedded sweep"
for k in $done_before_1; do
  [ "$(q $db "select attempts || ' ' || slurm_restart_count from runs where run_key='$k'")" = "1 0" ] \
    || fail "run $k finished before the requeue but was trained again"
done
for k in $done_before_2; do
  grep -qx "$k" <<<"$done_before_1" && continue
  # Finished before the second interruption, so in the original job or the first restart
  # (a run may finish between the query above and the requeue taking effect).
  [ "$(q $db "select slurm_restart_count <= 1 from runs where run_key='$k'")" = 1 ] \
    || fail "run $k finished before the second interruption but was trained again"
done
[ "$(q $db "select count(*) from runs where slurm_restart_count = 2")" -ge 1 ] || fail "no run finished after the second restart"

# Bit-identical to the uninterrupted embedded sweep: every epoch's metrics, every final
# metric, every weights file.
metrics="select run_key, epoch, quote(train_loss), quote(train_acc), quote(test_loss), quote(test_acc), quote(sparsity) from epochs order by run_key, epoch"
[ "$(q $db "$metrics")" = "$(q embedded/smoke.sqlite "$metrics")" ] || fail "epoch metrics differ from the embedded run"
final="select run_key, epochs_done, quote(train_loss), quote(test_acc), quote(sparsity), n_nonzero from runs order by run_key"
[ "$(q $db "$final")" = "$(q embedded/smoke.sqlite "$final")" ] || fail "final metrics differ from the embedded run"
for k in $(q $db "select run_key from runs"); do
  a=$(find results -name "$k.h5"); b=$(find embedded -name "$k.h5")
  [ -n "$a" ] && [ -n "$b" ] || fail "weights file of $k missing"
  cmp -s "$a" "$b" || fail "weights of $k differ from the embedded run"
done

# The log shows three starts of the same job, the requeue, and resumed sweeps.
[ "$(grep -c "sweep.sbatch: .* job $jid start" "$log")" = 3 ] || fail "log should show 3 starts of job $jid"
grep -q "DUE TO JOB REQUEUE" "$log" || fail "log lacks Slurm's requeue message"
grep -q "not requeueing: Slurm ended the job" "$log" || fail "after scontrol requeue the script must leave the requeue to Slurm"
grep -q "requeueing job $jid" "$log" || fail "after USR1 the script did not requeue the job"
[ "$(grep -c "runs to train (.* already finished" "$log")" -ge 2 ] || fail "restarted sweeps did not skip finished runs"

# What the orchestrator promises on a signal (checked last: the rest holds without it):
# every rank stops the run in flight and ternbench exits 75; the run is stored as
# interrupted, not left running.
[ "$(grep -c "ternbench exited with 75" "$log")" = 2 ] \
  || fail "ternbench must exit 75 after SIGTERM (scontrol requeue) and after USR1; log: $(grep 'ternbench exited' "$log" | tr '\n' ' ')"
[ "$unfinished_after_1" = 0 ] || fail "after SIGTERM the run in flight must be 'interrupted' in the DB: $status_after_1"
[ "$unfinished_after_2" = 0 ] || fail "after USR1 the run in flight must be 'interrupted' in the DB: $status_after_2"
echo "slurm requeue and resume: OK"
