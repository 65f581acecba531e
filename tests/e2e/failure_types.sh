# A run that diverges is recorded as diverged and one the trainer refuses as config_error,
# while the others finish; neither is retried, and plan/status report them.
source "$(dirname "$0")/common.sh"

cat > mixed.toml <<'TOML'
[sweep]
name = "mixed"

[train]
dataset = "mnist"
method = "fp"
lr = [0.05, 1e9]
lr_schedule = "multistep"
lr_milestones = [[1], [50]]     # 50 is past the last epoch: the trainer refuses it
epochs = 2
batch_size = 32
TOML

set +e; "$TB_BIN" run mixed.toml > run1.log 2>&1; rc=$?; set -e
cat run1.log
[ $rc -eq 4 ] || fail "a sweep with failed runs exits 4, got $rc"
db=results/mixed.sqlite
[ "$(q $db "select count(*) from runs where lr=0.05 and status='done'")" = 1 ] || fail "the good run must finish"
[ "$(q $db "select count(*) from runs where status='diverged'")" = 1 ] || fail "huge lr must be recorded as diverged"
[ "$(q $db "select count(*) from runs where status='config_error' and config_toml like '%[50]%'")" = 2 ] \
  || fail "a milestone past the last epoch is a config error"
q $db "select error from runs where status='config_error' limit 1" | grep -q . || fail "config errors carry their message"
q $db "select versions from runs where status='done'" | grep -q "eigen=3.4" || fail "provenance: versions missing"
[ "$(q $db "select attempts from runs where status='done'")" = 1 ] || fail "first attempt is 1"

"$TB_BIN" run mixed.toml > run2.log 2>&1
grep -q "nothing to train (2 failed and not retried" run2.log || fail "rerun must not retry config errors: $(cat run2.log)"

"$TB_BIN" plan mixed.toml > plan.log
cat plan.log
grep -q "config errors:      2" plan.log || fail "plan must count config errors"
grep -q "finished:           2 (done 1, diverged 1)" plan.log || fail "plan must count done and diverged runs"

"$TB_BIN" status mixed.toml > status.log
grep -q "^mixed: 2/4 done, 0 running, 2 failed" status.log || fail "status line: $(cat status.log)"
echo "failure types: OK"
