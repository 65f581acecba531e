# The read-only commands (plan, status, query, export, report, and run with nothing left to
# train) on a DB in a directory they cannot write (run as an unprivileged user: root ignores
# directory permissions, and a read-only mount needs privileges a container lacks): they work
# and leave the directory as it was, whatever state a writer left the DB in: at rest (one
# file), in WAL mode without a -wal (older ternbench versions), with the -wal and -shm of a
# killed writer, with a -wal alone, and at an older schema version (read through a migrated
# temporary copy). A run with runs left to train says it cannot write the DB.
source "$(dirname "$0")/common.sh"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
if ! as_nobody "$TB_BIN" --help > /dev/null 2>&1; then
  echo "SKIP: cannot run $TB_BIN as an unprivileged user (setpriv, or the binary's directory is not readable)"
  exit 77
fi
chmod 755 "$WORK"
"$TB_BIN" run tiny.toml > run.log
db=results/tiny.sqlite
out=$(mktemp -d /tmp/ternbench-e2e-out.XXXXXX)
trap 'rm -rf "$WORK" "$out"' EXIT
chown 65534 "$out"
! as_nobody touch results/probe 2> /dev/null || fail "results/ should not be writable by the unprivileged user"

# Every read-only command in state $1 (runs in the DB $2, status line $3, runs plan would
# train $4): exit 0, right answers, no file created or changed.
check_read_only() {
  local state=$1 runs=$2 status=$3 to_train=$4
  local before after
  before=$(ls -l --time-style=full-iso results; sha256sum results/*.sqlite*)
  as_nobody "$TB_BIN" status --db $db > "$out/status" || fail "$state: status failed"
  grep -q "^results: $status" "$out/status" || fail "$state: status: $(cat "$out/status")"
  as_nobody "$TB_BIN" plan tiny.toml > "$out/plan" || fail "$state: plan failed"
  grep -q "to train: *$to_train " "$out/plan" || fail "$state: plan: $(cat "$out/plan")"
  [ "$(as_nobody "$TB_BIN" query --db $db --format csv "select count(*) as n from results")" = "$(printf 'n\n%s' $runs)" ] ||
    fail "$state: query"
  as_nobody "$TB_BIN" export --db $db --format csv > "$out/export" || fail "$state: export failed"
  [ "$(wc -l < "$out/export")" = $((runs + 1)) ] || fail "$state: export should have $runs rows"
  as_nobody "$TB_BIN" report --db $db -o "$out/report-$state" --format md > /dev/null || fail "$state: report failed"
  [ -s "$out/report-$state/report.md" ] || fail "$state: no report"
  # run needs no write when nothing is left to train, and otherwise says why it cannot.
  set +e; as_nobody "$TB_BIN" run tiny.toml > "$out/run" 2>&1; local rc=$?; set -e
  if [ "$to_train" = 0 ]; then
    [ $rc -eq 0 ] && grep -q "^tiny: all 4 runs already finished in $db; nothing to train$" "$out/run" ||
      fail "$state: run: $(cat "$out/run")"
  else
    [ $rc -eq 1 ] && grep -q "^ternbench: error: $db: cannot write the results DB (the file or its directory is read-only), and $to_train runs are left to train" "$out/run" ||
      fail "$state: run: $(cat "$out/run")"
  fi
  after=$(ls -l --time-style=full-iso results; sha256sum results/*.sqlite*)
  [ "$before" = "$after" ] || fail "$state: the read-only commands changed results/:
$before
---
$after"
  echo "$state: OK ($(ls results | tr '\n' ' '))"
}

[ "$(ls results)" = "$(printf 'tiny-weights\ntiny.sqlite')" ] || fail "a finished DB should be one file: $(ls results)"
check_read_only "at rest" 4 "4/4 done, 0 running" 0

sqlite3 $db "pragma journal_mode = wal" > /dev/null  # as an older ternbench left its DBs
[ ! -e $db-wal ] || fail "setup: the sqlite3 shell left a -wal"
check_read_only "wal without -wal" 4 "4/4 done, 0 running" 0

# A writer killed after committing to the WAL: its -wal and -shm stay behind.
sqlite3 $db "pragma journal_mode = wal" \
  "update runs set error = 'killed writer' where run_key = (select min(run_key) from runs)" \
  '.system kill -9 $PPID' > /dev/null 2>&1 || true
[ -e $db-wal ] && [ -e $db-shm ] || fail "setup: the killed writer should leave its -wal and -shm"
check_read_only "killed writer" 4 "4/4 done, 0 running" 0
as_nobody "$TB_BIN" query --db $db --format csv "select count(*) from runs where error = 'killed writer'" | tail -1 |
  grep -qx 1 || fail "the reader should see what the killed writer committed to its WAL"

rm $db-shm
check_read_only "-wal without -shm" 4 "4/4 done, 0 running" 0
as_nobody "$TB_BIN" query --db $db --format csv "select count(*) from runs where error = 'killed writer'" | tail -1 |
  grep -qx 1 || fail "a -wal without its -shm should still be read"

rm -f $db $db-wal
sqlite3 $db < "$TB_SOURCE_DIR/tests/fixtures/results_v2.sql"
check_read_only "schema 2" 3 "2/3 done, 0 running, 0 failed" 4
echo "read-only directory: OK"
