# A SIGTERM to the launcher of an MPI sweep ends it with the requeue code 75, with the runs in
# flight recorded as interrupted: through scripts/mpirun.sh (plain mpirun exits 1 on SIGTERM),
# and through plain mpirun on SIGUSR1. Each rerun finishes the sweep exactly once.
source "$(dirname "$0")/common.sh"
: "${MPIEXEC:?}"
"$TB_FIXTURE" "$TERNBENCH_DATA/mnist" 6000 200   # so a run takes long enough to be hit
sed -i 's/^epochs = 2/epochs = 4/' tiny.toml

# stop_mid_sweep DB SIGNAL LAUNCHER...: starts the sweep, signals the launcher once a run is
# done and another has started, and checks what is left.
stop_mid_sweep() {
  local db=$1 sig=$2
  shift 2
  "$@" -n 3 --oversubscribe "$TB_BIN" run tiny.toml --db "$db" > "$db.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 600); do
    [ -f "$db" ] && [ "$(q "$db" "select count(*) from runs where status='done'" 2>/dev/null || echo 0)" -ge 1 ] && break
    sleep 0.1
  done
  sleep 0.3
  kill -"$sig" $pid
  local rc=0
  wait $pid || rc=$?
  cat "$db.log"
  [ $rc -eq 75 ] || fail "$* stopped by SIG$sig must exit 75 (requeue), got $rc"
  [ "$(q "$db" "select count(*) from runs where status='running'")" = 0 ] || fail "$*: no run may be left running"
  [ "$(q "$db" "select count(*) from runs where status='interrupted'")" -ge 1 ] || fail "$*: the runs in flight must be interrupted"
  "$MPIEXEC" -n 3 --oversubscribe "$TB_BIN" run tiny.toml --db "$db" > "$db.rerun.log" 2>&1 \
    || { cat "$db.rerun.log"; fail "$*: the rerun failed"; }
  [ "$(q "$db" "select count(*) from runs where status='done'")" = 4 ] || fail "$*: every run done after the rerun"
}

stop_mid_sweep wrapped.sqlite TERM "$TB_SOURCE_DIR/scripts/mpirun.sh"
stop_mid_sweep usr1.sqlite USR1 "$MPIEXEC"

metrics="select run_key, epoch, quote(train_loss), quote(test_acc), quote(sparsity) from epochs order by run_key, epoch"
[ "$(q wrapped.sqlite "$metrics")" = "$(q usr1.sqlite "$metrics")" ] || fail "the two stopped sweeps differ after resuming"
echo "mpi signal exit: OK"
