# `run --rerun`: every run of the sweep trains again into the same DB, each previous result
# kept in superseded_runs (and its weights file beside the new one), the new numbers bit for
# bit those of the first training; killed mid-rerun, a plain `run` finishes the rerun instead
# of taking the superseded rows for done. plan and status warn of results of another commit.
source "$(dirname "$0")/common.sh"
"$TB_FIXTURE" "$TERNBENCH_DATA/mnist" 4000 200   # runs long enough for the kill to land mid-rerun

cat > rr.toml <<'TOML'
[sweep]
name = "rr"

[train]
dataset = "mnist"
method = ["fp", "twn"]
model = "custom"
layers = ["dense(64)", "relu", "dense(10)"]
epochs = 3
batch_size = 32
seed = [1, 2]
TOML
db=results/rr.sqlite
numbers="select run_key, printf('%.17g %.17g %.17g %.17g', test_acc, train_loss, test_loss, sparsity), weights_sha256"

"$TB_BIN" status rr.toml | grep -q "^rr: 0/4 done, 0 running, 0 failed (not started: no results DB at $db yet)$" ||
  fail "status before the first run: $("$TB_BIN" status rr.toml)"
"$TB_BIN" run rr.toml > run1.log
first=$(q $db "$numbers from runs order by run_key")

# A result of another commit: plan and status say so, and how to train it again.
q $db "update runs set git_commit = '0123456789abcdef' where run_key = (select min(run_key) from runs)"
"$TB_BIN" plan rr.toml > plan.log
grep -q "code version:       1 finished run was trained by another commit than this binary's (0123456789ab 1); \`ternbench run --rerun\`" plan.log ||
  fail "plan should warn of the other commit: $(cat plan.log)"
"$TB_BIN" status rr.toml > status.log
grep -q "^warning: 1 finished run was trained by another commit" status.log || fail "status should warn: $(cat status.log)"
"$TB_BIN" plan rr.toml --rerun | grep -q "to train:           4 (new 0, interrupted or unfinished 0, failed and retried 0, rerun 4)" ||
  fail "plan --rerun should train all 4 again"

# Rerun, killed while it trains.
"$TB_BIN" run rr.toml --rerun > rerun1.log 2>&1 &
pid=$!
for _ in $(seq 1 400); do
  [ "$(q $db "select count(*) from superseded_runs" 2>/dev/null || echo 0)" = 4 ] &&
    [ "$(q $db "select count(*) from runs where status = 'running'" 2>/dev/null || echo 0)" = 1 ] && break
  sleep 0.05
done
kill -9 $pid
wait $pid || true
left=$(q $db "select count(*) from runs where status <> 'done'")
[ "$left" -ge 1 ] || { cat rerun1.log; fail "the kill should land mid-rerun"; }
grep -q "4 results set aside for the rerun" rerun1.log || fail "run --rerun should say what it set aside: $(cat rerun1.log)"
# What was set aside is the first training's result, its weights file kept under another name.
[ "$(q $db "$numbers from superseded_runs order by run_key")" = "$first" ] || fail "superseded rows differ from the first results"
q $db "select weights_kept || ' ' || weights_sha256 from superseded_runs" | while read -r kept sha; do
  [ "$(sha256sum "results/$kept" | cut -d' ' -f1)" = "$sha" ] || fail "kept weights $kept are not the superseded result's"
done

# The next plain run finishes the rerun.
"$TB_BIN" run rr.toml > resume.log
grep -qE "^rr: $left runs? to train" resume.log || fail "plain run should train the $left runs the rerun left: $(cat resume.log)"
[ "$(q $db "$numbers from runs order by run_key")" = "$first" ] || fail "a rerun with the same binary must give the same numbers"
[ "$(q $db "select count(*) || ' ' || sum(superseded) from results")" = "4 4" ] || fail "results: one current row per run"
[ "$(q $db "select count(*) from runs where git_commit = '0123456789abcdef'")" = 0 ] || fail "rerun rows record this commit"

# A rerun that is not interrupted supersedes again and keeps both earlier results.
"$TB_BIN" run rr.toml --rerun > rerun2.log
[ "$(q $db "select count(*) from superseded_runs")" = 8 ] || fail "two reruns should keep 8 superseded results"
[ "$(ls results/rr-weights/*.superseded-2.h5 | wc -l)" = 4 ] || fail "second rerun's kept weights: $(ls results/rr-weights)"
[ "$(q $db "$numbers from runs order by run_key")" = "$first" ] || fail "second rerun moved the numbers"

# Stopped by a signal after a run of the rerun finished: the runs it says are left are those
# not trained again yet, not every run the rerun selected.
"$TB_BIN" run rr.toml --rerun > rerun3.log 2>&1 &
pid=$!
for _ in $(seq 1 400); do
  [ "$(q $db "select count(*) from runs where status = 'done'" 2>/dev/null || echo 0)" -ge 1 ] &&
    [ "$(q $db "select count(*) from runs where status = 'running'" 2>/dev/null || echo 0)" = 1 ] && break
  sleep 0.05
done
kill -TERM $pid
set +e; wait $pid; rc=$?; set -e
[ $rc -eq 75 ] || { cat rerun3.log; fail "a stopped rerun should exit 75, got $rc"; }
left=$(q $db "select count(*) from runs where status <> 'done'")
[ "$left" -lt 4 ] || { cat rerun3.log; fail "the stop should land after a run finished"; }
grep -qE "^rr: stopped early \(signal\); $left runs? left" rerun3.log ||
  fail "a stopped rerun should count the $left runs left: $(cat rerun3.log)"
"$TB_BIN" run rr.toml > resume3.log
"$TB_BIN" run rr.toml | grep -q "^rr: all 4 runs already finished" || fail "after the rerun nothing is left to train"
echo "OK"
