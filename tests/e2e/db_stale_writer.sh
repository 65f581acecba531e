# A writer killed with kill -9 leaves its run `running` and its lease behind: `status` shows
# that run as stale (not running, no ETA) and names the dead writer; the next `run` takes
# the lease over and trains it again, and every run ends done.
source "$(dirname "$0")/common.sh"
slow_sweep "1, 2, 3, 4"
db=results/one.sqlite

"$TB_BIN" run one.toml > first.log 2>&1 &
first=$!
# Stopped first, so that the kill lands while a run is recorded as running (not between two).
for _ in $(seq 1 400); do
  if [ "$(q $db "select count(*) from runs where status = 'done'" 2>/dev/null || echo 0)" -ge 1 ]; then
    kill -STOP $first
    [ "$(q $db "select count(*) from runs where status = 'running'")" = 1 ] && break
    kill -CONT $first
  fi
  sleep 0.02
done
kill -9 $first
set +e; wait $first; rc=$?; set -e
[ $rc -eq 137 ] || fail "the writer should have died of SIGKILL (137), got $rc"
[ "$(q $db "select count(*) from runs where status = 'running'")" = 1 ] || fail "the killed run should be left running"
n_done=$(q $db "select count(*) from runs where status = 'done'")

"$TB_BIN" status one.toml > status.log
cat status.log
grep -q "^one: $n_done/4 done, 0 running, 0 failed" status.log || fail "status should count no run as running"
grep -q ", 1 stale (left running by \`ternbench run one.toml\` (pid $first on host $(hostname) since 20.*which is gone: process $first is gone; \`ternbench run\` trains them again)$" status.log ||
  fail "status should show the killed run as stale and name its dead writer"
! grep -q ETA status.log || fail "nothing is running: status should show no ETA"

"$TB_BIN" run one.toml > second.log 2>&1 || { cat second.log; fail "the next run failed"; }
cat second.log
grep -q "^$db: taking over from \`ternbench run one.toml\` (pid $first on host $(hostname) since .*which ended without finishing (process $first is gone); its unfinished runs are trained again$" second.log ||
  fail "the next run should say whose lease it takes over"
grep -qE "$((4 - n_done)) runs? to train \($n_done already finished" second.log || fail "the next run should train the rest, the stale run included"
[ "$(q $db "select count(*) from runs where status = 'done'")" = 4 ] || fail "every run should be done"
[ "$(q $db "select count(*) from writer")" = 0 ] || fail "the lease should be released"
"$TB_BIN" status one.toml | grep -q "^one: 4/4 done, 0 running, 0 failed, [0-9.]* runs/h$" || fail "status after the sweep"
echo "stale writer: OK"
