# Weights files cannot be edited silently. The checksums of files ternbench wrote (fp and
# quantized) match docs/weights.md's recipe, computed in Python (weights_checksum.py); an
# edit with h5py (a file attribute, a dataset attribute, the version, the codes even with
# the checksums recomputed) and a FIFO make `infer` exit 2 with one line naming the file
# and the item, print nothing else and write nothing. A version-2 file still infers.
source "$(dirname "$0")/common.sh"
py() { /usr/bin/python3 "$@"; }
checksums="$TB_SOURCE_DIR/tests/e2e/weights_checksum.py"
# The model and data of tests/fixtures/weights_v2/twn.h5, so its twn run is that run.
cat > w.toml <<'TOML'
[sweep]
name = "w"
db = "results/w.sqlite"

[train]
dataset = "mnist"
model = "custom"
layers = ["maxpool(4)", "flatten", "dense(6)", "batchnorm", "relu", "dense(10)"]
method = ["twn", "fp"]
quantize_last = true
epochs = 1
batch_size = 32
lr = 0.05
test_limit = 100
TOML
"$TB_BIN" run w.toml > run.log || { cat run.log; fail "the sweep must run"; }
db=results/w.sqlite
twn="results/w-weights/$(q $db "select run_key from runs where method='twn'").h5"
fp="results/w-weights/$(q $db "select run_key from runs where method='fp'").h5"
py "$checksums" verify "$twn" "$fp" > verify.log || { cat verify.log; fail "the documented checksum must match ternbench's files"; }

# Copies of the twn file, each edited with h5py; codes.h5 gets its checksums recomputed
# by the recipe, as an editor who read the doc would.
py - "$twn" "$checksums" <<'PY'
import os, shutil, sys, h5py, numpy as np
sys.path.insert(0, os.path.dirname(sys.argv[2]))
import weights_checksum

def edited(name):
    shutil.copy(sys.argv[1], name + ".h5")
    return h5py.File(name + ".h5", "r+")

with edited("config") as f:
    f.attrs["config_toml"] = f.attrs["config_toml"].replace('dataset = "mnist"', 'dataset = "fashion"')
with edited("encoding") as f:
    f["dense0/W_codes"].attrs["encoding"] = "binary"
with edited("version") as f:
    f.attrs["schema_version"] = np.int32(2)
with edited("codes") as f:
    f["dense0/W_codes"][0] ^= 1
    f.attrs["checksums"] = weights_checksum.checksum_lines(f)
PY
# refused <file> <pattern> [infer flags]: exit 2, one line naming the file and the pattern,
# no output, and the directory (results DB included) unchanged.
refused() {
  local file=$1 pattern=$2; shift 2
  find . -type f ! -name '*.log' ! -name '*.sha' -exec sha256sum {} + | sort > before.sha
  set +e; timeout 20 "$TB_BIN" infer --weights "$file" "$@" > out.log 2> err.log; local rc=$?; set -e
  [ $rc -eq 2 ] || fail "$file: expected exit 2, got $rc ($(cat err.log))"
  [ "$(wc -l < err.log)" -eq 1 ] || fail "$file: expected one error line, got: $(cat err.log)"
  grep -q -- "^ternbench: error: $file: .*$pattern" err.log || fail "$file: the error lacks '$pattern': $(cat err.log)"
  [ ! -s out.log ] || fail "$file: a refused file must print nothing: $(cat out.log)"
  find . -type f ! -name '*.log' ! -name '*.sha' -exec sha256sum {} + | sort > after.sha
  cmp -s before.sha after.sha || fail "$file: a refused file must write nothing: $(diff before.sha after.sha)"
}

refused config.h5 "checksum mismatch in attribute config_toml"
refused config.h5 "checksum mismatch in attribute config_toml" --engine ternary --db $db
set +e; py "$checksums" verify config.h5 > verify.log; rc=$?; set -e
[ $rc -eq 1 ] && grep -q "checksum mismatch in @config_toml" verify.log || fail "the recipe must catch the edit: $(cat verify.log)"
refused encoding.h5 "checksum mismatch in attribute encoding of dense0/W_codes"
refused version.h5 "schema_version is 2, but the file carries attribute checksums"
# Codes that disagree with W under valid checksums: the float model refuses them as the
# engine does.
py "$checksums" verify codes.h5 > /dev/null || fail "signed by the recipe, the checksums must match"
refused codes.h5 "dense0/W_codes decodes to .* where dense0/W holds"
refused codes.h5 "dense0/W_codes decodes to .* where dense0/W holds" --engine ternary --db $db

mkfifo fifo.h5
refused fifo.h5 "is a FIFO, not a weights file"

# A file of the previous version, written by it, is read and evaluates as the run recorded.
out=$("$TB_BIN" infer --weights "$TB_SOURCE_DIR/tests/fixtures/weights_v2/twn.h5") || fail "a version-2 file must infer"
got=$(echo "$out" | sed -n 's/^test_acc //p')
py -c "import sqlite3, sys
want = sqlite3.connect('$db').execute(\"select test_acc from runs where run_key = '6e8272843c4d36ef'\").fetchone()
sys.exit(0 if want == (float('$got'),) else 1)" || fail "the version-2 file must give the test_acc its run recorded: $out"
echo "weights tamper: OK"
