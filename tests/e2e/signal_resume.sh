# SIGTERM mid-sweep: clean exit with the requeue code 75, the run in flight recorded as
# interrupted, and a rerun finishes every run exactly once with the metrics of an
# uninterrupted sweep.
source "$(dirname "$0")/common.sh"
"$TB_FIXTURE" "$TERNBENCH_DATA/mnist" 6000 200   # bigger, so a run takes long enough to be hit
sed -i 's/^epochs = 2/epochs = 4/' tiny.toml

"$TB_BIN" run tiny.toml --db straight/tiny.sqlite > straight.log

"$TB_BIN" run tiny.toml > run1.log 2>&1 &
pid=$!
# Wait until the first run is done and the second has started, then interrupt.
for _ in $(seq 1 600); do
  [ -f results/tiny.sqlite ] && [ "$(q results/tiny.sqlite "select count(*) from runs where status='done'" 2>/dev/null || echo 0)" -ge 1 ] && break
  sleep 0.1
done
sleep 0.3
kill -TERM $pid
set +e; wait $pid; rc=$?; set -e
cat run1.log
[ $rc -eq 75 ] || fail "SIGTERM must exit 75 (requeue), got $rc"
grep -q "run the same command again to resume" run1.log || fail "no resume hint"
[ "$(q results/tiny.sqlite "select count(*) from runs where status='running'")" = 0 ] || fail "no run may be left running"
q results/tiny.sqlite "select count(*) from runs where status='interrupted'" | grep -qx 1 || fail "the run in flight must be interrupted"

"$TB_BIN" run tiny.toml > run2.log
grep -q "runs to train" run2.log || fail "rerun must resume"
[ "$(q results/tiny.sqlite "select count(*) from runs where status='done'")" = 4 ] || fail "every run done after resume"
metrics="select run_key, epoch, quote(train_loss), quote(test_acc), quote(sparsity) from epochs order by run_key, epoch"
[ "$(q straight/tiny.sqlite "$metrics")" = "$(q results/tiny.sqlite "$metrics")" ] || fail "resumed sweep differs from an uninterrupted one"
echo "signal resume: OK"
