# A directory given as the results DB ([sweep] db or --db) is one line naming the key or
# flag and the path, exit 2, with nothing created; a DB whose migration fails names the
# user's file (not the temporary copy a reader migrates) and is left unchanged.
source "$(dirname "$0")/common.sh"
mkdir -p results/dirdb

expect_bad() {  # expect_bad LOG PATTERN -- command...: exit 2, one line matching PATTERN
  local log=$1 pattern=$2
  shift 3
  set +e; "$@" > "$log.out" 2> "$log"; local rc=$?; set -e
  cat "$log"
  [ $rc -eq 2 ] || fail "$*: expected exit 2, got $rc"
  [ "$(wc -l < "$log")" -eq 1 ] || fail "$*: expected one line"
  grep -q -- "$pattern" "$log" || fail "$*: the message should match: $pattern"
}

sed 's|^db = .*|db = "results/dirdb"|' tiny.toml > dir.toml
expect_bad run.err '^ternbench: error: dir.toml: sweep.db: "results/dirdb" is a directory, not a results DB file; set db to the path of a file, such as db = "results/dirdb/tiny.sqlite"$' -- \
  "$TB_BIN" run dir.toml
expect_bad plan.err '^ternbench: error: dir.toml: sweep.db: "results/dirdb" is a directory' -- "$TB_BIN" plan dir.toml
expect_bad status.err '^ternbench: error: dir.toml: sweep.db: "results/dirdb" is a directory' -- "$TB_BIN" status dir.toml
expect_bad run-db.err '^ternbench: error: --db: results/dirdb is a directory, not a results DB file; give the path of a file, such as results/dirdb/tiny.sqlite$' -- \
  "$TB_BIN" run tiny.toml --db results/dirdb
expect_bad status-db.err '^ternbench: error: --db: results/dirdb is a directory' -- "$TB_BIN" status --db results/dirdb
for cmd in query export report; do
  args=(--db results/dirdb)
  [ $cmd = query ] && args+=("select 1")
  expect_bad $cmd.err '^ternbench: error: results/dirdb: is a directory, not a results DB file; give --db (or \[sweep\] db in the sweep file) the path of a file' -- \
    "$TB_BIN" $cmd "${args[@]}"
done
[ -z "$(ls -A results/dirdb)" ] || fail "nothing may be created in the directory: $(ls -A results/dirdb)"
[ ! -e results/tiny.sqlite ] || fail "no DB may be created"

# A schema-2 DB holding an epoch of a run it lacks (written with foreign keys off): the
# migration's foreign key check fails, for writers in place and for readers in their copy.
sqlite3 old.sqlite < "$TB_SOURCE_DIR/tests/fixtures/results_v2.sql"
sqlite3 old.sqlite "insert into epochs(run_key, epoch) values('no such run', 1)"
before=$(sha256sum old.sqlite)
for cmd in status query run; do
  case $cmd in
    status) args=(status --db old.sqlite) ;;
    query) args=(query --db old.sqlite "select count(*) from results") ;;
    run) args=(run tiny.toml --db old.sqlite) ;;
  esac
  set +e; "$TB_BIN" "${args[@]}" > $cmd.out 2> $cmd.err; rc=$?; set -e
  cat $cmd.err
  [ $rc -eq 1 ] || fail "$cmd: a DB that cannot be migrated should exit 1, got $rc"
  grep -q "^ternbench: error: old.sqlite: migration to schema version [0-9]* broke foreign keys; the DB is unchanged" $cmd.err ||
    fail "$cmd: the error should name old.sqlite"
  ! grep -q "ternbench-[0-9]*-" $cmd.err || fail "$cmd: the error names the temporary copy"
  [ "$(sha256sum old.sqlite)" = "$before" ] || fail "$cmd changed old.sqlite"
done
grep -q "(while upgrading a temporary copy from schema 2 to read it; the file itself is unchanged)" query.err ||
  fail "a reader should say it upgraded a copy"
echo "DB paths: OK"
