# Shared set-up of the end-to-end tests: a temp dir with fixture data and a tiny sweep.
set -euo pipefail
: "${TB_BIN:?}" "${TB_FIXTURE:?}"
WORK=$(mktemp -d /tmp/ternbench-e2e.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
export TERNBENCH_DATA="$WORK/data"
"$TB_FIXTURE" "$TERNBENCH_DATA/mnist" 600 200

cat > tiny.toml <<'TOML'
[sweep]
name = "tiny"
db = "results/tiny.sqlite"

[train]
dataset = "mnist"
method = ["fp", "twn"]
seed = [1, 2]
epochs = 2
batch_size = 32
lr = 0.05
TOML

fail() { echo "FAIL: $*" >&2; exit 1; }
# q DB SQL: one value from the sqlite3 shell (the real one, as a user would query).
q() { sqlite3 -batch -noheader "$1" "$2"; }

# slow_sweep SEEDS: a 12,000-image fixture and one.toml, one fp MLP run per seed (about a
# second each), with results in results/one.sqlite: long enough to act on a live writer.
slow_sweep() {
  "$TB_FIXTURE" "$TERNBENCH_DATA/mnist" 12000 200
  cat > one.toml <<TOML
[sweep]
name = "one"

[train]
dataset = "mnist"
method = "fp"
model = "custom"
layers = ["dense(64)", "relu", "dense(10)"]
epochs = 10
batch_size = 32
seed = [$1]
TOML
}
