# `ternbench query` and `ternbench export` through the real binary, on the DB of a real tiny
# sweep: the four formats, bound filters, refused statements that leave the DB unchanged.
source "$(dirname "$0")/common.sh"

"$TB_BIN" run tiny.toml > run.log
db=results/tiny.sqlite
hash_before=$(sha256sum "$db" | cut -d' ' -f1)

# The DB comes from the sweep file, as for `ternbench status`.
"$TB_BIN" query "SELECT method, count(*) AS n FROM results GROUP BY method ORDER BY method" tiny.toml > table.out
printf 'method  n\n------  -\nfp      2\ntwn     2\n' | diff - table.out || fail "table output"

"$TB_BIN" query "SELECT run_key, method, seed FROM results ORDER BY seed, run_key" --db "$db" \
  --format csv --method twn > twn.csv
[ "$(head -1 twn.csv)" = "run_key,method,seed" ] || fail "csv header: $(head -1 twn.csv)"
[ "$(grep -c ',twn,' twn.csv)" = 2 ] && [ "$(wc -l < twn.csv)" = 3 ] || fail "--method twn: $(cat twn.csv)"

"$TB_BIN" query "SELECT run_key, seed, test_acc, error, status, dataset, sweep FROM results" --db "$db" --format json \
  --status done --dataset mnist --sweep tiny > runs.json
/usr/bin/python3 - runs.json <<'PY' || fail "json output"
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 4, rows
for r in rows:
    assert isinstance(r["seed"], int) and isinstance(r["test_acc"], float), r
    assert r["error"] is None, r
PY

"$TB_BIN" query "SELECT method, seed FROM results ORDER BY method, seed" --db "$db" --format markdown > md.out
printf '| method | seed |\n|---|---:|\n| fp | 1 |\n| fp | 2 |\n| twn | 1 |\n| twn | 2 |\n' | diff - md.out \
  || fail "markdown output"

# A filter value is a bound parameter: a quote in it matches nothing and breaks nothing.
"$TB_BIN" query "SELECT run_key, method FROM results" --db "$db" --format csv --method "fp' OR '1'='1" > quote.csv
[ "$(cat quote.csv)" = "run_key,method" ] || fail "quoted filter value matched rows: $(cat quote.csv)"

# expect_refused SQL TEXT: exit 2, one line on stderr naming TEXT and the SQL, DB unchanged.
expect_refused() {
  set +e; "$TB_BIN" query "$1" --db "$db" > refused.out 2> refused.err; rc=$?; set -e
  [ $rc -eq 2 ] || fail "query \"$1\": exit $rc, expected 2"
  [ "$(wc -l < refused.err)" = 1 ] || fail "query \"$1\": error is not one line: $(cat refused.err)"
  grep -qF -- "$2" refused.err || fail "query \"$1\": message lacks '$2': $(cat refused.err)"
  grep -qF -- "in \"$1\"" refused.err || fail "query \"$1\": message does not quote the SQL: $(cat refused.err)"
  [ "$(sha256sum "$db" | cut -d' ' -f1)" = "$hash_before" ] || fail "query \"$1\" changed the DB"
}
expect_refused "SELECT acc FROM results" "query: no such column: acc"
expect_refused "INSERT INTO runs(run_key) VALUES('x')" "INSERT into runs is not allowed"
expect_refused "DROP TABLE runs" "DROP TABLE runs is not allowed"
expect_refused "ATTACH 'other.sqlite' AS o" "ATTACH other.sqlite is not allowed"
expect_refused "PRAGMA journal_mode=DELETE" "PRAGMA journal_mode = DELETE is not allowed"
expect_refused "SELECT 1; DELETE FROM runs" "only one statement is allowed"
[ ! -e other.sqlite ] || fail "ATTACH created a file"
[ "$(q "$db" "select count(*) from runs")" = 4 ] || fail "runs lost"

set +e; "$TB_BIN" query "SELECT 1" > /dev/null 2> nodb.err; rc=$?; set -e
[ $rc -eq 2 ] && grep -q "give a sweep file or --db PATH" nodb.err || fail "query without a DB: exit $rc, $(cat nodb.err)"

# export: a whole view, atomically, readable by the csv and json modules.
"$TB_BIN" export tiny.toml --format csv -o out/results.csv > export.log
grep -q "wrote 4 rows of results to out/results.csv" export.log || fail "export message: $(cat export.log)"
"$TB_BIN" export --db "$db" --format json --view run_epochs -o out/epochs.json > /dev/null
"$TB_BIN" export --db "$db" --view run_layers > layers.csv
ls out | grep -q tmp && fail "export left a temporary file"
/usr/bin/python3 - out/results.csv out/epochs.json layers.csv <<'PY' || fail "exported views"
import csv, json, sys
runs = list(csv.DictReader(open(sys.argv[1])))
assert len(runs) == 4 and {r["method"] for r in runs} == {"fp", "twn"}, runs
assert all(float(r["test_acc"]) > 0.5 for r in runs), runs
for col in ("ratio_bitmap", "sca_alpha", "test_acc_continuous", "weights_path"):
    assert col in runs[0], col
epochs = json.load(open(sys.argv[2]))
assert len(epochs) == 8 and all(e["stage"] == "train" for e in epochs), epochs
layers = list(csv.DictReader(open(sys.argv[3])))
assert len(layers) == 12 and sum(l["precision"] == "ternary" for l in layers) == 4, layers
PY
[ "$(sha256sum "$db" | cut -d' ' -f1)" = "$hash_before" ] || fail "export changed the DB"

# Per-epoch layer rows, through the sqlite3 shell: every weight matrix of every epoch, and the
# last epoch's rows are the finished model's.
[ "$(q "$db" "select count(*) from run_epoch_layers")" = 24 ] || fail "expected 4 runs x 2 epochs x 3 layers"
[ "$(q "$db" "select count(*) from run_epoch_layers where n_zero + n_pos + n_neg <> n")" = 0 ] \
  || fail "epoch layer counts do not add up to n"
last=$(q "$db" "select count(*) from run_layers l join run_epoch_layers e on e.run_key = l.run_key
  and e.layer = l.layer and e.epoch = 2 where e.precision = l.precision and e.n = l.n
  and e.n_zero = l.n_zero and e.n_pos = l.n_pos and e.n_neg = l.n_neg and e.sparsity = l.sparsity
  and e.scale = l.scale and e.delta = l.delta")
[ "$last" = 12 ] || fail "last epoch's layer rows differ from the final layers ($last of 12 agree)"
"$TB_BIN" export --db "$db" --view run_epoch_layers > epoch_layers.csv
[ "$(head -1 epoch_layers.csv | cut -d, -f8-12)" = "stage,epoch,layer,precision,n" ] \
  || fail "run_epoch_layers header: $(head -1 epoch_layers.csv)"
[ "$(wc -l < epoch_layers.csv)" = 25 ] || fail "run_epoch_layers export: $(wc -l < epoch_layers.csv) lines"
echo "e2e query/export: OK"
