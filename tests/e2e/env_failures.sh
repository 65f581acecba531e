# Failures of the environment never spend a run's attempts: jobs stopped by a checkpoint
# that cannot be written (in one process or under mpirun) leave the run at 0 attempts
# however often they are repeated,
# config_error runs (which older versions also recorded for unreadable data) are re-queued
# by --retry-failed, as `plan` and `run` say, and a run out of memory fails without
# counting an attempt.
source "$(dirname "$0")/common.sh"

sed -e 's/^seed = \[1, 2\]/seed = 1/' -e 's/^method = .*/method = "fp"/' tiny.toml > one.toml
db=results/tiny.sqlite
mkdir results
: > results/tiny-weights  # a file where the weights directory goes: every checkpoint write fails
for i in 1 2 3 4; do
  launch=()
  [ $((i % 2)) -eq 1 ] || launch=("$MPIEXEC" -n 2 --oversubscribe)  # the worker rank fails, rank 0 records
  set +e; "${launch[@]}" "$TB_BIN" run one.toml > "full$i.log" 2>&1; rc=$?; set -e
  [ $rc -eq 1 ] || { cat "full$i.log"; fail "job $i: a failed checkpoint write must stop the job with exit 1, got $rc"; }
  grep -q "tiny-weights/.*run the sweep again" "full$i.log" || fail "job $i: the error must name the file: $(cat "full$i.log")"
done
[ "$(q $db "select status || ' ' || attempts from runs")" = "running 0" ] ||
  fail "jobs stopped by a write failure must not count attempts: $(q $db "select status, attempts from runs")"
rm results/tiny-weights
"$TB_BIN" run one.toml > resumed.log 2>&1 || { cat resumed.log; fail "the job after freeing the path failed"; }
[ "$(q $db "select status || ' ' || attempts from runs")" = "done 1" ] ||
  fail "the run must finish at its first attempt: $(q $db "select status, attempts from runs")"

# Two runs recorded as config_error the way older versions recorded a directory read as data.
"$TB_BIN" run tiny.toml > tiny.log 2>&1 || { cat tiny.log; fail "tiny sweep failed"; }
q $db "update runs set status = 'config_error', error = 'std::bad_alloc', attempts = 1 where seed = 2"
"$TB_BIN" run tiny.toml > again.log 2>&1
grep -q "nothing to train (2 failed and not retried; see \`ternbench plan tiny.toml\`; --retry-failed re-queues them)" again.log ||
  fail "run must say how to re-queue config errors: $(cat again.log)"
"$TB_BIN" plan tiny.toml > plan.log
grep -q "config errors:      2 (not retried; fix the sweep file, or --retry-failed re-queues them)" plan.log ||
  fail "plan must say how to re-queue config errors: $(cat plan.log)"
"$TB_BIN" plan tiny.toml --retry-failed > plan-retry.log
grep -q "to train:           2 (new 0, interrupted or unfinished 0, failed and retried 2)" plan-retry.log ||
  fail "plan --retry-failed must count the config errors it re-queues: $(cat plan-retry.log)"
grep -q "config errors:      0" plan-retry.log || fail "plan --retry-failed: $(cat plan-retry.log)"
"$TB_BIN" run tiny.toml --retry-failed > retry.log 2>&1 || { cat retry.log; fail "run --retry-failed failed"; }
[ "$(q $db "select group_concat(status || ' ' || attempts, ',') from (select * from runs where seed = 2)")" = "done 2,done 2" ] ||
  fail "--retry-failed must train config_error runs: $(q $db "select seed, status, attempts from runs")"
# Out of memory: a run whose network does not fit under the address-space limit (48 M
# parameters, within the sweep file's maxima, with their gradients and momentum under 600 MB) fails without counting an attempt, job after job, while the
# run beside it trains. Every command on this sweep runs under the limit: unlimited, the
# cost model would build the network to count its multiply-adds.
cat > oom.toml <<'TOML'
[sweep]
name = "oom"
db = "results/oom.sqlite"

[train]
dataset = "mnist"
method = "fp"
model = "custom"
layers = [["flatten", "dense(10)"], ["flatten", "dense(60000)", "relu", "dense(10)"]]
epochs = 1
batch_size = 32
TOML
(
  ulimit -v 600000
  for i in 1 2; do
    set +e; "$TB_BIN" run oom.toml > "oom$i.log" 2>&1; rc=$?; set -e
    [ $rc -eq 4 ] || { cat "oom$i.log"; fail "oom job $i: a run out of memory fails (exit 4), got $rc"; }
  done
)
[ "$(q results/oom.sqlite "select group_concat(status || ' ' || attempts, ',') from (select * from runs order by status)")" = "done 1,failed 0" ] ||
  fail "a run out of memory must fail without counting attempts: $(q results/oom.sqlite "select status, attempts, error from runs")"
q results/oom.sqlite "select error from runs where status = 'failed'" | grep -q "^out of memory" ||
  fail "the error must say out of memory: $(q results/oom.sqlite "select error from runs")"
echo "environment failures: OK"
