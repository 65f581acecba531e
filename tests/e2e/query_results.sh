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

# Functions with side effects are refused like writes.
expect_refused "SELECT hex(fts3_tokenizer('simple'))" "fts3_tokenizer() is not allowed"
expect_refused "SELECT load_extension('x.so')" "load_extension() is not allowed"

# expect_limit FLAG TEXT QUERY-ARGS...: exit 2, one line on stderr naming the limit (TEXT)
# and the flag that raises it, DB unchanged.
expect_limit() {
  local flag=$1 text=$2; shift 2
  set +e; "$TB_BIN" "$@" > limit.out 2> limit.err; rc=$?; set -e
  [ $rc -eq 2 ] || fail "$*: exit $rc, expected 2: $(cat limit.err)"
  [ "$(wc -l < limit.err)" = 1 ] || fail "$*: error is not one line: $(cat limit.err)"
  grep -qF -- "$text" limit.err && grep -qF -- "$flag" limit.err || fail "$*: message lacks '$text' or $flag: $(cat limit.err)"
  [ "$(sha256sum "$db" | cut -d' ' -f1)" = "$hash_before" ] || fail "$* changed the DB"
}
endless="WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)"
expect_limit --timeout "stopped at the time limit (0.5 s)" query "$endless SELECT count(*) FROM n" --db "$db" --timeout 0.5
expect_limit --max-memory "stopped at the memory limit (16 MiB)" query "SELECT length(randomblob(400000000))" \
  --db "$db" --max-memory 16
# On stdout, the rows before the limit stay written, whole; a json array is left unclosed.
expect_limit --max-rows "stopped at the row limit (3 rows)" query "$endless SELECT i FROM n" --db "$db" \
  --format csv --max-rows 3
printf 'i\n1\n2\n3\n' | diff - limit.out || fail "rows before the row limit: $(cat limit.out)"
expect_limit --max-rows "stopped at the row limit (2 rows)" query "SELECT run_key FROM results" --db "$db" \
  --format json --max-rows 2
[ "$(grep -c run_key limit.out)" = 2 ] || fail "json rows before the row limit: $(cat limit.out)"
/usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' limit.out 2> /dev/null \
  && fail "a stopped json array reads as whole: $(cat limit.out)"
# 0 lifts a limit; a result of exactly the limit is whole.
"$TB_BIN" query "$endless SELECT i FROM n LIMIT 20000" --db "$db" --format csv --max-rows 0 --timeout 0 \
  --max-memory 0 > unlimited.csv
[ "$(wc -l < unlimited.csv)" = 20001 ] || fail "--max-rows 0: $(wc -l < unlimited.csv) lines"
"$TB_BIN" query "SELECT run_key FROM results" --db "$db" --max-rows 4 > /dev/null || fail "4 rows under --max-rows 4"
set +e; "$TB_BIN" query "SELECT 1" --db "$db" --max-rows -1 > /dev/null 2> badflag.err; rc=$?; set -e
[ $rc -eq 2 ] && grep -q -- "--max-rows" badflag.err || fail "--max-rows -1: exit $rc, $(cat badflag.err)"

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

# An export stopped by a limit leaves -o as it was (here: the complete export above) and no
# temporary file; a new -o is not created.
old_export=$(sha256sum out/results.csv)
expect_limit --max-rows "stopped at the row limit (1 row)" export --db "$db" --max-rows 1 -o out/results.csv
[ "$(sha256sum out/results.csv)" = "$old_export" ] || fail "a stopped export changed out/results.csv"
expect_limit --max-rows "stopped at the row limit (3 rows)" export --db "$db" --view run_epochs --max-rows 3 \
  -o out/new/epochs.json
[ ! -e out/new ] || fail "a stopped export created its -o or its directory"
[ -z "$(ls out out/new 2>/dev/null | grep tmp)" ] || fail "a stopped export left a temporary file: $(ls -R out)"

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
