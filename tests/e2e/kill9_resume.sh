# kill -9 of mpirun and all its ranks at once mid-sweep (no signal handler runs, no run is
# recorded as interrupted), then `ternbench run` again: every run ends done exactly once,
# runs finished before the kill are not trained again, the metrics equal an uninterrupted
# sweep's, and no temporary file is left behind.
source "$(dirname "$0")/common.sh"
: "${MPIEXEC:?}"
"$TB_FIXTURE" "$TERNBENCH_DATA/mnist" 12000 200   # runs long enough for the kill to land mid-sweep

cat > kill.toml <<'TOML'
[sweep]
name = "kill"

[train]
dataset = "mnist"
method = ["fp", "twn"]
model = "custom"
layers = ["dense(64)", "relu", "dense(10)"]
epochs = 4
batch_size = 32
seed = [1, 2, 3, 4, 5, 6]
TOML
runs=12

"$TB_BIN" run kill.toml --db straight/kill.sqlite > straight.log

# In a session of its own: Open MPI gives every rank its own process group, so mpirun's
# group alone would miss the ranks; the session holds mpirun and all of them.
setsid "$MPIEXEC" -n 3 --oversubscribe "$TB_BIN" run kill.toml > run1.log 2>&1 &
sid=$!
done_before=0
for _ in $(seq 1 600); do
  if [ -f results/kill.sqlite ]; then
    done_before=$(q results/kill.sqlite "select count(*) from runs where status = 'done'" 2>/dev/null || echo 0)
    running=$(q results/kill.sqlite "select count(*) from runs where status = 'running'" 2>/dev/null || echo 0)
    [ "$done_before" -ge 2 ] && [ "$running" -ge 1 ] && break
  fi
  sleep 0.05
done
[ "$done_before" -ge 2 ] || { cat run1.log; fail "the sweep never reached 2 finished runs"; }
pids=$(pgrep -s "$sid")
[ "$(echo $pids | wc -w)" -ge 4 ] || fail "expected mpirun and 3 ranks in the session, got: $pids"
kill -9 $pids
set +e; wait "$sid"; rc=$?; set -e
[ $rc -eq 137 ] || fail "mpirun should have died of SIGKILL (137), got $rc"
for _ in $(seq 1 100); do pgrep -s "$sid" > /dev/null || break; sleep 0.05; done
! pgrep -s "$sid" > /dev/null || fail "processes of the killed job are still alive"

done_keys=$(q results/kill.sqlite "select run_key || ' ' || finished_at from runs where status = 'done' order by run_key")
n_done=$(echo "$done_keys" | wc -l)
left=$(q results/kill.sqlite "select count(*) from runs where status = 'running'")
[ "$n_done" -ge 2 ] && [ "$n_done" -lt $runs ] || fail "expected a partial sweep, got $n_done done"
[ "$left" -ge 1 ] || fail "a killed job leaves its runs in flight as running, got none"
echo "killed with $n_done runs done and $left running"

"$MPIEXEC" -n 3 --oversubscribe "$TB_BIN" run kill.toml > run2.log 2>&1 || { cat run2.log; fail "resume failed"; }
cat run2.log
grep -qE "$((runs - n_done)) runs? to train \($n_done already finished" run2.log || fail "resume must train only the unfinished runs"

[ "$(q results/kill.sqlite "select count(*) from runs")" = $runs ] || fail "expected $runs rows in runs"
[ "$(q results/kill.sqlite "select count(*) from runs where status = 'done'")" = $runs ] || fail "every run must be done"
[ "$(q results/kill.sqlite "select count(*) from epochs")" = $((runs * 4)) ] || fail "expected 4 epochs per run"
# Runs finished before the kill were not trained again: same finish time, first attempt.
for line in $(echo "$done_keys" | awk '{print $1 "|" $2}'); do
  key=${line%%|*}; at=${line#*|}
  [ "$(q results/kill.sqlite "select finished_at || ' ' || attempts from runs where run_key = '$key'")" = "$at 1" ] ||
    fail "run $key was trained again after the kill"
done
metrics="select run_key, epoch, quote(train_loss), quote(train_acc), quote(test_loss), quote(test_acc), quote(sparsity)
         from epochs order by run_key, epoch"
[ "$(q straight/kill.sqlite "$metrics")" = "$(q results/kill.sqlite "$metrics")" ] || fail "metrics differ from an uninterrupted sweep"
for f in straight/kill-weights/*.h5; do
  cmp -s "$f" "results/kill-weights/$(basename "$f")" || fail "weights of $(basename "$f") differ from an uninterrupted sweep"
done
leftovers=$(find results -name '*.tmp*' -o -name '*-journal')
[ -z "$leftovers" ] || fail "temporary files left behind: $leftovers"
[ "$(ls results/kill-weights | wc -l)" = $runs ] || fail "expected exactly $runs weight files"
echo "kill -9 resume: OK"
