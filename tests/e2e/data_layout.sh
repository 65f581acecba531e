# The directory diagram of docs/data.md is the layout ternbench reads: the four IDX names it
# lists are what a dataset directory holds (the fixture writer makes exactly those), `run`
# reads them under each MNIST-family name, and the CIFAR-10 names are the ones it asks for.
source "$(dirname "$0")/common.sh"
diagram=$(awk '/^<root>\/$/ {on = 1} on && /^```/ {exit} on' "$TB_SOURCE_DIR/docs/data.md")
names=$(echo "$diagram" | sed -n '/^  mnist\//,+1p' | tr -s ' ' '\n' | grep idx | sort)
[ "$(echo "$names" | wc -l)" -eq 4 ] || fail "the diagram's mnist/ lines must name four files: $diagram"
[ "$names" = "$(ls "$TERNBENCH_DATA/mnist" | sort)" ] || fail "diagram names '$names' are not the dataset's files"
for d in mnist-10k fashion-mnist; do
  echo "$diagram" | grep -q "^  $d/ *the same four file names$" || fail "diagram lacks $d/: $diagram"
  mkdir -p "root/$d"
  for n in $names; do cp "$TERNBENCH_DATA/mnist/$n" "root/$d/$n"; done
done
cat > layout.toml <<'TOML'
[sweep]
name = "layout"
db = "results/layout.sqlite"

[train]
dataset = ["mnist-10k", "fashion-mnist"]
model = "custom"
layers = ["dense(10)"]
method = "fp"
epochs = 1
train_limit = 50
test_limit = 20
TOML
TERNBENCH_DATA=root "$TB_BIN" run layout.toml > run.log 2>&1 || { cat run.log; fail "run on the diagram's layout"; }
[ "$(q results/layout.sqlite "select count(*) from runs where status='done'")" = 2 ] || fail "both datasets must train"

echo "$diagram" | grep -q "^  cifar10/ *data_batch_1.bin ... data_batch_5.bin  test_batch.bin" || fail "cifar10 line: $diagram"
sed 's/^dataset = .*/dataset = "cifar10"/; s/layout\.sqlite/cifar.sqlite/' layout.toml > cifar.toml
mkdir -p root/cifar10
set +e; TERNBENCH_DATA=root "$TB_BIN" run cifar.toml > cifar.log 2>&1; rc=$?; set -e
[ $rc -eq 2 ] && grep -q "root/cifar10/data_batch_1.bin: missing.*data_batch_1.bin .. data_batch_5.bin and test_batch.bin" cifar.log ||
  fail "cifar10 names: rc $rc, $(cat cifar.log)"
echo "data layout: OK"
