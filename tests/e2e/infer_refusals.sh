# `ternbench infer` never downloads (a missing dataset is one line with the fetch command,
# exit 2, nothing created), and `infer --db` records nothing into a DB that a live sweep is
# writing (exit 2, naming it); once the sweep ends, it measures, holding the writer lease
# while it writes, and gives the lease up.
source "$(dirname "$0")/common.sh"
slow_sweep "1, 2, 3"
db=results/one.sqlite

"$TB_BIN" run one.toml > first.log 2>&1 &
first=$!
for _ in $(seq 1 400); do
  [ "$(q $db "select count(*) from runs where status = 'done'" 2>/dev/null || echo 0)" -ge 1 ] && break
  sleep 0.02
done
set +e
"$TB_BIN" infer --db $db --engine ternary > busy.log 2> busy.err
rc=$?
set -e
kill -0 $first 2> /dev/null || fail "the sweep ended before infer was refused; make it longer"
cat busy.err
[ $rc -eq 2 ] || fail "infer --db on a DB being written should exit 2, got $rc"
[ "$(wc -l < busy.err)" = 1 ] || fail "expected one line"
grep -q "ternbench infer: --db: $db is in use by \`ternbench run one.toml\` (pid $first" busy.err ||
  fail "the message should name the DB and the live writer"
wait $first
[ "$(q $db "select count(*) from inference")" = 0 ] || fail "nothing may be recorded while the sweep writes"

"$TB_BIN" infer --db $db --engine ternary > infer.log
[ "$(q $db "select count(*) from inference")" = 3 ] || fail "every finished run should be measured"
[ "$(q $db "select count(*) from writer")" = 0 ] || fail "infer should give the writer lease up"

# No data where the run's dataset should be: refused, and nothing fetched or created.
key=$(q $db "select run_key from runs limit 1")
mkdir empty
set +e
TERNBENCH_DATA="$WORK/empty" "$TB_BIN" infer --weights "results/one-weights/$key.h5" > nodata.log 2> nodata.err
rc=$?
set -e
cat nodata.err
[ $rc -eq 2 ] || fail "infer without its dataset should exit 2, got $rc"
[ "$(wc -l < nodata.err)" = 1 ] || fail "expected one line"
grep -qF "$WORK/empty/mnist: no such directory; run "'`ternbench data fetch mnist`' nodata.err || fail "the message should give the fetch command"
[ -z "$(ls -A empty)" ] || fail "infer must not fetch or create anything under the data root"
echo OK
