# One live writer per results DB: a second `ternbench run` on a DB that a live run is
# writing exits 2 at once with one line naming the holder (PID, host, since when) and
# trains nothing; `merge --force` may not replace that DB either. The first run finishes,
# every run trained exactly once, and the DB it leaves at rest is one file.
source "$(dirname "$0")/common.sh"
slow_sweep "1, 2, 3, 4, 5, 6"
db=results/one.sqlite

"$TB_BIN" run one.toml > first.log 2>&1 &
first=$!
for _ in $(seq 1 400); do
  [ "$(q $db "select count(*) from writer" 2>/dev/null)" = 1 ] &&
    [ "$(q $db "select count(*) from runs where status = 'running'" 2>/dev/null)" = 1 ] && break
  sleep 0.02
done
[ "$(q $db "select pid from writer")" = "$first" ] || fail "the first run should hold the writer lease"

set +e
"$TB_BIN" run one.toml > second.log 2> second.err
rc=$?
"$TB_BIN" merge $db -o $db --force > merge.log 2> merge.err
merge_rc=$?
set -e
kill -0 $first 2> /dev/null || fail "the first run ended before the second one was refused; make the sweep longer"
cat second.err
[ $rc -eq 2 ] || fail "a second writer should exit 2, got $rc"
[ "$(wc -l < second.err)" -eq 1 ] || fail "the refusal should be one line"
grep -q "^ternbench: error: $db: in use by \`ternbench run one.toml\` (pid $first on host $(hostname) since 20" second.err ||
  fail "the refusal should name the DB and the holder's command, PID, host and start"
grep -q "wait for it to finish or stop it (kill $first on $(hostname)), or give this run another DB with --db" second.err ||
  fail "the refusal should say what to do"
[ ! -s second.log ] || fail "the refused run printed: $(cat second.log)"
cat merge.err
[ $merge_rc -eq 2 ] || fail "merge --force onto a live DB should exit 2, got $merge_rc"
grep -q "^ternbench: error: ternbench merge: -o: $db is in use by \`ternbench run one.toml\` (pid $first" merge.err ||
  fail "merge should name the holder"

wait $first || { cat first.log; fail "the first run failed"; }
[ "$(grep -c '^\[[0-9]/6\] mnist custom fp' first.log)" = 6 ] || fail "the first run should train all 6 runs"
[ "$(q $db "select count(*) from runs where status = 'done' and attempts = 1")" = 6 ] ||
  fail "every run should be done after exactly one attempt"
[ "$(q $db "select count(*) from epochs")" = 60 ] || fail "expected 10 epochs per run"
[ "$(q $db "select count(*) from writer")" = 0 ] || fail "the finished run should release its lease"
[ "$(ls results)" = "$(printf 'one-weights\none.sqlite')" ] || fail "the DB at rest should be one file: $(ls results)"
[ "$(q $db "pragma journal_mode")" = delete ] || fail "the DB at rest should be in rollback-journal mode"
echo "one writer: OK"
