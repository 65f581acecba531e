# A weights or checkpoint file that cannot be written stops the job with exit 1 and a line
# naming the file, under one process and under mpirun: the file system failed, not the
# run, so no run is recorded as failed and the next job, once the path is writable,
# finishes every run with the same results as a job that never failed.
source "$(dirname "$0")/common.sh"

"$TB_BIN" run tiny.toml --db clean/tiny.sqlite > clean.log 2>&1 || { cat clean.log; fail "clean run failed"; }

check_stop() {  # $1: label, $2...: the command that must stop
  local label=$1; shift
  mkdir -p "$label"
  : > "$label/tiny-weights"  # a file where the weights directory goes: every write under it fails
  set +e; "$@" > "$label.log" 2>&1; rc=$?; set -e
  cat "$label.log"
  [ $rc -eq 1 ] || fail "$label: a failed write must stop the job with exit 1, got $rc"
  grep -q "tiny-weights/.*cannot create directory" "$label.log" || fail "$label: the error must name the file"
  grep -q "run the sweep again" "$label.log" || fail "$label: the error must say how to go on"
  db=$label/tiny.sqlite
  [ "$(q "$db" "select count(*) from runs where status in ('failed', 'config_error')")" = 0 ] \
    || fail "$label: a write failure must not fail a run: $(q "$db" "select run_key, status, error from runs")"
  rm "$label/tiny-weights"
  "$TB_BIN" run tiny.toml --db "$db" > "$label.resume.log" 2>&1 || { cat "$label.resume.log"; fail "$label: resume failed"; }
  [ "$(q "$db" "select count(*) from runs where status='done'")" = 4 ] || fail "$label: the next job must finish every run"
  [ "$(q "$db" "select group_concat(run_key || ' ' || test_acc || ' ' || weights_sha256, ';') from (select * from runs order by run_key)")" = \
    "$(q clean/tiny.sqlite "select group_concat(run_key || ' ' || test_acc || ' ' || weights_sha256, ';') from (select * from runs order by run_key)")" ] \
    || fail "$label: the resumed job must give the clean job's results"
}

check_stop one "$TB_BIN" run tiny.toml --db one/tiny.sqlite
check_stop mpi "$MPIEXEC" -n 3 --oversubscribe "$TB_BIN" run tiny.toml --db mpi/tiny.sqlite
echo "write failure: OK"
