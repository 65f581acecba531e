# `ternbench infer` rebuilds each stored model from its packed codes, scales, biases and
# batch-norm tensors, and gets exactly the test accuracy and loss the run recorded. Also:
# h5py reads the codes; a damaged or foreign weights file gets one clear line and exit 2.
source "$(dirname "$0")/common.sh"
cat > methods.toml <<'TOML'
[sweep]
name = "methods"
db = "results/methods.sqlite"

[train]
dataset = "mnist"
model = "custom"
layers = ["dense(32)", "batchnorm", "relu", "dense(10)"]
method = ["binaryconnect", "bwn", "twn", "ttq", "sca", "faraone"]
quantize_last = true
epochs = 2
batch_size = 32
lr = 0.05
test_limit = 150
faraone_stage1_epochs = 1
faraone_retrain_epochs = 1
TOML
"$TB_BIN" run methods.toml > run.log
[ "$(q results/methods.sqlite "select count(*) from runs where status='done'")" = 6 ] || { cat run.log; fail "every method must finish"; }
for key in $(q results/methods.sqlite "select run_key from runs"); do
  file="results/methods-weights/$key.h5"
  out=$("$TB_BIN" infer --weights "$file")
  got_acc=$(echo "$out" | sed -n 's/^test_acc //p')
  got_loss=$(echo "$out" | sed -n 's/^test_loss //p')
  method=$(q results/methods.sqlite "select method from runs where run_key='$key'")
  # Exact double comparison: the DB's REALs read by Python's sqlite3, infer's 17 digits parsed.
  /usr/bin/python3 - "$key" "$got_acc" "$got_loss" <<'PY' || fail "$method: infer gives $got_acc / $got_loss, not what the run recorded"
import sqlite3, sys
key, acc, loss = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
want = sqlite3.connect("results/methods.sqlite").execute(
    "select test_acc, test_loss from runs where run_key = ?", (key,)).fetchone()
sys.exit(0 if (acc, loss) == want else 1)
PY
  echo "$out" | grep -q "(150 test images)" || fail "infer must use the run's test_limit"
done

# The codes are readable without ternbench (h5py) and hold one entry per weight.
key=$(q results/methods.sqlite "select run_key from runs where method='twn'")
/usr/bin/python3 - "results/methods-weights/$key.h5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    c = f["dense0/W_codes"]
    assert c.dtype == np.uint8 and c.attrs["encoding"] == "ternary_2bit", c.attrs["encoding"]
    rows, cols = int(c.attrs["rows"]), int(c.attrs["cols"])
    bits = np.unpackbits(c[...], bitorder="little").reshape(-1, 2)[: rows * cols]
    codes = (bits[:, 0].astype(np.int8) - bits[:, 1].astype(np.int8)).reshape(rows, cols)
    W = f["dense0/W"][...]
    s = f["dense0/W_scales"][...]
    assert (s[0] * codes == W).all(), "codes x scale must equal the deployed weights"
    assert f.attrs["checksums"] and f["dense0/W"].attrs["precision"] == "ternary"
PY

# A flipped byte in a tensor: the checksum catches it; a foreign file is refused.
cp "results/methods-weights/$key.h5" damaged.h5
/usr/bin/python3 -c "
import h5py
with h5py.File('damaged.h5', 'r+') as f:
    f['dense0/b'][0] = f['dense0/b'][0] + 1
"
set +e
"$TB_BIN" infer --weights damaged.h5 > bad.log 2>&1; rc=$?
echo "not hdf5" > foreign.h5
"$TB_BIN" infer --weights foreign.h5 > foreign.log 2>&1; rc2=$?
set -e
[ $rc -eq 2 ] && grep -q "damaged.h5: checksum mismatch in dataset dense0/b" bad.log || { cat bad.log; fail "a damaged file must be refused"; }
[ "$(wc -l < bad.log)" = 1 ] || fail "one line for a damaged file"
[ $rc2 -eq 2 ] && grep -q "foreign.h5" foreign.log || { cat foreign.log; fail "a foreign file must be refused naming it"; }
echo "infer reproduces: OK"
