# The same sweep trained in one process and under mpirun -np 2, 3 and 4 gives the same
# metrics in the DB and byte-identical weight files: neither the number of workers nor the
# longest-first hand-out order changes a run. Then the coordinator rank must use a small
# share of one core while it waits for workers (it must not spin).
source "$(dirname "$0")/common.sh"
: "${MPIEXEC:?}"

# Blocks and a zip, with train_limit in the zip so the runs' costs differ and the
# hand-out order is not the file order.
cat > ranks.toml <<'TOML'
[sweep]
name = "ranks"

[train]
dataset = "mnist"
model = "custom"
layers = ["dense(32)", "relu", "dense(10)"]
epochs = 2
batch_size = 32
seed = [1, 2]

[[train.block]]
method = "fp"
[train.block.zip]
lr = [0.1, 0.05, 0.02]
train_limit = [200, 600, 400]

[[train.block]]
method = "twn"
delta_factor = [0.5, 0.7]
TOML

"$TB_BIN" plan ranks.toml | grep -q "blocks:             2; no duplicates across blocks" || fail "plan must list the blocks"
"$TB_BIN" run ranks.toml --db embedded/ranks.sqlite > embedded.log
for np in 2 3 4; do
  "$MPIEXEC" -n $np --oversubscribe "$TB_BIN" run ranks.toml --db np$np/ranks.sqlite > np$np.log 2>&1 ||
    { cat np$np.log; fail "mpirun -n $np failed"; }
done

# Everything a run computed; not when, where or on which rank.
runs="select run_key, status, config_toml, seed, epochs_done, quote(train_loss), quote(train_acc),
      quote(test_loss), quote(test_acc), quote(sparsity), quote(bits_per_weight), n_weights, n_nonzero,
      weights_path, attempts from runs order by run_key"
epochs="select run_key, epoch, quote(train_loss), quote(train_acc), quote(test_loss), quote(test_acc),
        quote(sparsity) from epochs order by run_key, epoch"
layers="select * from layers order by 1, 2"
[ "$(q embedded/ranks.sqlite "select count(*) from runs where status = 'done'")" = 10 ] || fail "expected 10 done runs"
for np in 2 3 4; do
  db=np$np/ranks.sqlite
  [ "$(q "$db" "select count(*) from runs where status = 'done'")" = 10 ] || fail "-n $np: expected 10 done runs"
  for what in runs epochs layers; do
    [ "$(q embedded/ranks.sqlite "${!what}")" = "$(q "$db" "${!what}")" ] || fail "-n $np: $what differ from the embedded run"
  done
  q "$db" "select min(rank) >= 1 from runs" | grep -qx 1 || fail "-n $np: rank 0 must not train"
  # sha256 of every weights file, by name.
  (cd embedded/ranks-weights && sha256sum *.h5) > embedded.sha
  (cd np$np/ranks-weights && sha256sum *.h5) > np$np.sha
  [ "$(wc -l < np$np.sha)" = 10 ] || fail "-n $np: expected 10 weight files"
  cmp -s embedded.sha np$np.sha || { diff embedded.sha np$np.sha; fail "-n $np: weight files differ"; }
done
echo "rank counts: identical results embedded and with -n 2, 3, 4"

# --- Coordinator CPU while it waits ---------------------------------------------------
# The workers are stopped (SIGSTOP) for a known time in the middle of a run, so rank 0 has
# nothing to do but wait; its CPU time over that window must be a small share of it.
cat > slow.toml <<'TOML'
[sweep]
name = "slow"

[train]
dataset = "mnist"
method = "fp"
model = "custom"
layers = ["dense(128)", "relu", "dense(10)"]
epochs = 2
batch_size = 32
seed = [1, 2, 3, 4, 5, 6, 7, 8]
TOML
"$MPIEXEC" -n 3 --oversubscribe "$TB_BIN" run slow.toml > slow.log 2>&1 &
mpirun_pid=$!
rank0="" workers=""
for _ in $(seq 1 200); do
  rank0="" workers=""
  for p in $(pgrep -P $mpirun_pid || true); do
    r=$(tr '\0' '\n' < /proc/$p/environ 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')
    case "$r" in 0) rank0=$p ;; [0-9]*) workers="$workers $p" ;; esac
  done
  [ -n "$rank0" ] && [ "$(echo $workers | wc -w)" = 2 ] && break
  sleep 0.05
done
[ -n "$rank0" ] || fail "cannot find the rank 0 process of mpirun"
for _ in $(seq 1 1200); do
  [ -f results/slow.sqlite ] && [ "$(q results/slow.sqlite "select count(*) from runs where status = 'running'" 2>/dev/null || echo 0)" -ge 1 ] && break
  sleep 0.05
done
kill -STOP $workers
ticks() { awk '{print $14 + $15}' /proc/$rank0/stat; }
cpu0=$(ticks); t0=$(date +%s.%N)
sleep 4
cpu1=$(ticks); t1=$(date +%s.%N)
kill -CONT $workers
wait $mpirun_pid || { cat slow.log; fail "mpirun of the timed sweep failed"; }
hz=$(getconf CLK_TCK)
read -r share wall cpu < <(awk -v c0="$cpu0" -v c1="$cpu1" -v t0="$t0" -v t1="$t1" -v hz="$hz" \
  'BEGIN { w = t1 - t0; c = (c1 - c0) / hz; printf "%.4f %.2f %.2f\n", c / w, w, c }')
echo "coordinator CPU: ${cpu} s over ${wall} s of waiting (share ${share})"
awk -v s="$share" 'BEGIN { exit !(s < 0.10) }' || fail "coordinator used ${share} of a core while waiting (limit 0.10)"
[ "$(q results/slow.sqlite "select count(*) from runs where status = 'done'")" = 8 ] || fail "timed sweep: expected 8 done runs"
echo "coordinator CPU: OK"
