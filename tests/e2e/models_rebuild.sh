# docs/models.md suffices to rebuild a stored model without ternbench: rebuild_model.py reads
# only the weights file (its layer_stack attribute and tensors) and the IDX test files, and
# gets the accuracy and loss `ternbench infer` gives, for models that use every kind of layer
# (padding, strides, pooling, batch norm on images and features, global average pooling,
# residual blocks with and without projection) with quantized and float layers.
source "$(dirname "$0")/common.sh"
cat > stacks.toml <<'TOML'
[sweep]
name = "stacks"
db = "results/stacks.sqlite"

[train]
dataset = "mnist"
epochs = 3
batch_size = 10
lr = 0.2
train_limit = 60
test_limit = 30

[[train.block]]
model = "custom"
method = "twn"
layers = [["conv(6, kernel=3, stride=2, padding=1)", "batchnorm", "relu", "maxpool(3, stride=2)",
           "conv(8, kernel=2)", "relu", "dropout(0.2)", "dense(12)", "batchnorm", "relu", "dense(10)"],
          ["conv(4, kernel=5, padding=2)", "relu", "gap", "dense(10)"]]

[[train.block]]
model = ["lenet5", "resnet20"]
method = "fp"
normalize = true
TOML
"$TB_BIN" run stacks.toml > run.log || { cat run.log; fail "run"; }
[ "$(q results/stacks.sqlite "select count(*) from runs where status='done'")" = 4 ] || fail "four runs must finish"
for key in $(q results/stacks.sqlite "select run_key from runs order by model, run_key"); do
  file="results/stacks-weights/$key.h5"
  want=$("$TB_BIN" infer --weights "$file")
  got=$(/usr/bin/python3 "$TB_SOURCE_DIR/tests/e2e/rebuild_model.py" "$file" "$TERNBENCH_DATA/mnist") ||
    fail "$key: the rebuild failed"
  /usr/bin/python3 - "$want" "$got" <<'PY' || fail "$key: NumPy rebuild gives '$got', ternbench infer '$want'"
import sys
def values(text):
    return {k: float(v) for k, v, *_ in (l.split() for l in text.splitlines()) if k in ("test_acc", "test_loss")}
want, got = values(sys.argv[1]), values(sys.argv[2])
# Same predictions; the loss to float32 rounding (ternbench sums in float, NumPy in double).
sys.exit(0 if want["test_acc"] == got["test_acc"] and abs(want["test_loss"] - got["test_loss"]) <= 1e-4 * want["test_loss"] else 1)
PY
done
# layers.bits is each layer's total as deployed (docs/schema.md), not bits per weight: the
# encoding of its precision, and runs.bits_per_weight is their sum over the weights' count.
db=results/stacks.sqlite
[ "$(q $db "select count(*) from layers where precision = 'ternary' and bits > 2 * n")" -ge 2 ] ||
  fail "ternary layers must count 2 bits per weight plus scales: $(q $db "select layer, n, bits from layers")"
[ "$(q $db "select count(*) from layers where bits != case precision when 'fp32' then bits_fp32
  when 'binary' then bits_binary else bits_ternary_2bit end")" = 0 ] || fail "layers.bits is not the layer's size"
[ "$(q $db "select count(*) from runs r where abs(r.bits_per_weight - (select sum(bits) / sum(n) from layers l
  where l.run_key = r.run_key)) > 1e-12 * r.bits_per_weight")" = 0 ] || fail "bits_per_weight is not sum(bits) / sum(n)"
echo "models rebuild: OK"
