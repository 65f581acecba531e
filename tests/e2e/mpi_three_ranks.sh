# mpirun -np 3 (coordinator + 2 workers) gives bit-identical metrics and weight files to
# the one-process run.
source "$(dirname "$0")/common.sh"
: "${MPIEXEC:?}"

"$TB_BIN" run tiny.toml --db embedded/tiny.sqlite > embedded.log
"$MPIEXEC" -n 3 --oversubscribe "$TB_BIN" run tiny.toml --db mpi/tiny.sqlite > mpi.log 2>&1 || { cat mpi.log; fail "mpirun failed"; }
cat mpi.log

metrics="select run_key, epoch, quote(train_loss), quote(train_acc), quote(test_loss), quote(test_acc), quote(sparsity) from epochs order by run_key, epoch"
[ "$(q embedded/tiny.sqlite "$metrics")" = "$(q mpi/tiny.sqlite "$metrics")" ] || fail "epoch metrics differ"
[ "$(q mpi/tiny.sqlite "select count(*) from epochs")" = 8 ] || fail "expected 8 epochs"
ranks=$(q mpi/tiny.sqlite "select count(distinct rank) from runs")
[ "$ranks" -ge 1 ] || fail "no worker ranks recorded"
q mpi/tiny.sqlite "select min(rank) >= 1 from runs" | grep -qx 1 || fail "rank 0 must not train"
# Weight files are byte-identical (no timestamps in them), wherever the run was trained.
for k in $(q mpi/tiny.sqlite "select run_key from runs"); do
  a=$(find embedded -name "$k.h5"); b=$(find mpi -name "$k.h5")
  [ -n "$a" ] && [ -n "$b" ] || fail "weights file of $k missing"
  cmp -s "$a" "$b" || fail "weights of $k differ between embedded and mpirun"
done
echo "mpi three ranks: OK"
