# A run stopped mid-run (SIGTERM) continues from the checkpoint of its last finished epoch,
# and ends with the epochs and the weight file of a run that was never stopped. Also: a
# damaged checkpoint is ignored (the run starts over) and a finished run leaves none behind.
source "$(dirname "$0")/common.sh"
"$TB_FIXTURE" "$TERNBENCH_DATA/mnist" 12000 200   # ~0.5 s per epoch: time to interrupt
cat > one.toml <<'TOML'
[sweep]
name = "one"
db = "results/one.sqlite"

[train]
dataset = "mnist"
method = "faraone"
seed = 3
epochs = 4
batch_size = 32
lr = 0.05
faraone_stage1_epochs = 4
faraone_retrain_epochs = 4
TOML

"$TB_BIN" run one.toml --db straight/one.sqlite > straight.log
key=$(q straight/one.sqlite "select run_key from runs")
[ -f "straight/one-weights/$key.h5" ] || fail "no weights file"
[ ! -e "straight/one-weights/$key.ckpt.h5" ] || fail "a finished run must not leave its checkpoint"

"$TB_BIN" run one.toml > run1.log 2>&1 &
pid=$!
# Interrupt once the stage-1 epochs are in and stage 3 has begun.
for _ in $(seq 1 1200); do
  [ "$(q results/one.sqlite "select count(*) from epochs" 2>/dev/null || echo 0)" -ge 5 ] && break
  sleep 0.05
done
kill -TERM $pid
set +e; wait $pid; rc=$?; set -e
[ $rc -eq 75 ] || { cat run1.log; fail "SIGTERM must exit 75, got $rc"; }
[ -f "results/one-weights/$key.ckpt.h5" ] || fail "an interrupted run must keep its checkpoint"
done_before=$(q results/one.sqlite "select count(*) from epochs")

"$TB_BIN" run one.toml > run2.log 2>&1
grep -q "resuming from its checkpoint after epoch $done_before" run2.log ||
  { cat run2.log; fail "the rerun must resume after epoch $done_before"; }
[ ! -e "results/one-weights/$key.ckpt.h5" ] || fail "the checkpoint must go once the run is done"
metrics="select epoch, stage, quote(train_loss), quote(test_loss), quote(test_acc), quote(sparsity) from epochs order by epoch"
[ "$(q straight/one.sqlite "$metrics")" = "$(q results/one.sqlite "$metrics")" ] || fail "resumed epochs differ"
layers="select stage, epoch, layer, precision, n, n_zero, n_pos, n_neg, quote(sparsity), quote(scale), quote(delta)
  from epoch_layers order by stage, epoch, layer"
[ "$(q results/one.sqlite "select count(*) from epoch_layers")" = 24 ] || fail "expected 8 epochs x 3 layer rows"
[ "$(q straight/one.sqlite "$layers")" = "$(q results/one.sqlite "$layers")" ] || fail "resumed epoch layers differ"
stages="select stage, quote(test_acc), quote(sparsity) from stages order by ordinal"
[ "$(q straight/one.sqlite "$stages")" = "$(q results/one.sqlite "$stages")" ] || fail "resumed stages differ"
cmp "straight/one-weights/$key.h5" "results/one-weights/$key.h5" || fail "resumed weights file differs"

# A damaged checkpoint: the run starts over and still ends identical.
rm -rf results
"$TB_BIN" run one.toml > run3.log 2>&1 &
pid=$!
for _ in $(seq 1 1200); do
  [ "$(q results/one.sqlite "select count(*) from epochs" 2>/dev/null || echo 0)" -ge 2 ] && break
  sleep 0.05
done
kill -TERM $pid
set +e; wait $pid; set -e
printf 'garbage' > "results/one-weights/$key.ckpt.h5"
"$TB_BIN" run one.toml > run4.log 2>&1
grep -q "ignoring checkpoint" run4.log || { cat run4.log; fail "a damaged checkpoint must be reported"; }
[ "$(q straight/one.sqlite "$metrics")" = "$(q results/one.sqlite "$metrics")" ] || fail "restarted run differs"
echo "checkpoint resume: OK"
