# `ternbench infer --engine ternary` runs each stored model with the multiplication-free
# kernels: the same predictions as the float model (so exactly the accuracy the run
# recorded), with latency, throughput and weight memory against float32. Also: a model the
# engine does not run and a bad --engine value each get one clear line and a non-zero exit.
source "$(dirname "$0")/common.sh"
cat > engine.toml <<'TOML'
[sweep]
name = "engine"
db = "results/engine.sqlite"

[train]
dataset = "mnist"
model = "custom"
layers = ["conv(6, kernel=5, padding=2)", "batchnorm", "relu", "maxpool(2)", "conv(8, kernel=3, stride=2)",
          "batchnorm", "relu", "flatten", "dense(32)", "batchnorm", "relu", "dense(10)"]
method = ["fp", "binaryconnect", "bwn", "twn", "ttq", "faraone"]
epochs = 2
batch_size = 32
lr = 0.05
test_limit = 150
faraone_stage1_epochs = 1
faraone_retrain_epochs = 1
faraone_target_sparsity = 0.9
TOML
"$TB_BIN" run engine.toml > run.log
[ "$(q results/engine.sqlite "select count(*) from runs where status='done'")" = 6 ] || { cat run.log; fail "every method must finish"; }
for key in $(q results/engine.sqlite "select run_key from runs"); do
  method=$(q results/engine.sqlite "select method from runs where run_key='$key'")
  out=$("$TB_BIN" infer --weights "results/engine-weights/$key.h5" --engine ternary --threads 2) ||
    fail "$method: infer --engine ternary failed: $out"
  echo "$out" | grep -q "^predictions 150 of 150 identical to the float model$" || { echo "$out"; fail "$method: predictions"; }
  got_acc=$(echo "$out" | sed -n 's/^test_acc //p')
  want_acc=$(q results/engine.sqlite "select printf('%.17g', test_acc) from runs where run_key='$key'")
  /usr/bin/python3 -c "import sys; sys.exit(0 if float('$got_acc') == float('$want_acc') else 1)" ||
    fail "$method: the engine's accuracy $got_acc is not the recorded $want_acc"
  for line in "^latency_batch1_us ternary [0-9.e+]* float [0-9.e+]* ([0-9.e+]*x)$" \
              "^throughput_batch64 ternary [0-9.e+]* float [0-9.e+]* images/s ([0-9.e+]*x)$" \
              "^weights ternary [0-9.e+.]* KiB float32 [0-9.e+.]* KiB ([0-9.e+]*x smaller)$"; do
    echo "$out" | grep -q "$line" || { echo "$out"; fail "$method: no line matching $line"; }
  done
  if [ "$method" = fp ]; then
    echo "$out" | grep -q "ternary conv" && fail "fp has no codes: every layer runs the float path"
  else
    echo "$out" | grep -q "^  conv0+bn0  ternary conv" || { echo "$out"; fail "$method: conv0 with bn0 folded runs ternary"; }
    echo "$out" | grep -q "^  dense1  float dense" || { echo "$out"; fail "$method: the fp32 last layer runs the float path"; }
  fi
done

# --db measures every finished run of the DB and records it; the report shows the columns.
"$TB_BIN" infer --engine ternary --threads 1 --db results/engine.sqlite > rec.log || { cat rec.log; fail "infer --db"; }
grep -q "^\[6/6\] " rec.log && grep -q "^recorded 6 measurements in results/engine.sqlite" rec.log ||
  { cat rec.log; fail "infer --db must measure the 6 runs with progress"; }
[ "$(q results/engine.sqlite "select count(*) from inference where predictions_identical = n_test and threads = 1")" = 6 ] ||
  fail "6 measurements with identical predictions"
[ "$(q results/engine.sqlite "select count(*) from results where infer_speedup_b64 > 0 and infer_memory_ratio > 0")" = 6 ] ||
  fail "the results view shows each run's ratios"
"$TB_BIN" report engine.toml --out rep > report.log || { cat report.log; fail "report"; }
grep -q "engine speed-up, batch 1 | engine speed-up, batch 64 | engine memory vs fp32" rep/report.md ||
  { cat rep/report.md; fail "the report shows the engine's columns"; }

key=$(q results/engine.sqlite "select run_key from runs where method='twn'")
set +e
"$TB_BIN" infer --db results/engine.sqlite > nodb.log 2>&1; rc_db=$?
"$TB_BIN" infer --weights "results/engine-weights/$key.h5" --engine fast > bad.log 2>&1; rc=$?
set -e
[ $rc -ne 0 ] && grep -q -- "--engine" bad.log || { cat bad.log; fail "a bad --engine value must be refused naming the flag"; }
[ $rc_db -ne 0 ] && grep -q -- "--db records the ternary engine's measurements; add --engine ternary" nodb.log &&
  [ "$(wc -l < nodb.log)" = 1 ] || { cat nodb.log; fail "--db without --engine ternary: one clear line"; }
echo "infer engine: OK"
