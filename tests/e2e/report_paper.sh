# Paper specs end to end: `reproduce` runs a spec's sweep through the same path as `run`,
# then renders verdicts; a second `reproduce` trains nothing; `report --paper` renders
# alone; the shipped specs evaluate against a real DB; bad input exits 2 with one line.
source "$(dirname "$0")/common.sh"

cat > tiny_paper.toml <<'TOML'
[paper]
name = "tiny_paper"
title = "Tiny paper"
sweep = "tiny.toml"
min_seeds = 2

[[table]]
id = "acc"
title = "Accuracy (%)"
where = { dataset = "mnist" }
metric = "100 * test_acc"
  [[table.row]]
  label = "fp"
  where = { method = "fp" }
  [[table.row]]
  label = "twn"
  where = { method = "twn" }
  [[table.row]]
  label = "ttq"
  where = { method = "ttq" }
  [[table.column]]
  label = "accuracy"
  [[table.reference]]
  row = "fp"
  column = "accuracy"
  value = 0.0
  tolerance = 0.1
  source = "an impossible number, so the verdict must be deviates"

[[claim]]
id = "twn_sparse"
text = "twn has zeros"
kind = "value"
where = { method = "twn" }
metric = "sparsity"
above = 0.0

[[claim]]
id = "twn_vs_fp"
text = "twn within 100 points of fp"
kind = "within"
where = { method = "twn" }
metric = "100 * test_acc"
baseline = { where = { method = "fp" } }
max_gap = 100
TOML

"$TB_BIN" reproduce tiny_paper.toml --out paper > rep1.log
cat rep1.log
grep -q "4 runs to train" rep1.log || fail "reproduce did not run the sweep"
grep -q "tiny_paper: 2 reproduced, 1 deviates, 1 missing, 1 no reference" rep1.log || fail "expected 2 reproduced verdicts"
md=paper/report.md
for f in report.md report.tex report.html cells.csv; do [ -s paper/$f ] || fail "paper/$f missing"; done
grep -q "^| fp | .*; expected 0.00 ± 0.10 (an impossible number, so the verdict must be deviates): \*\*deviates\*\* |" $md \
  || fail "fp row should deviate: $(grep '^| fp' $md)"
# No reference: the measurement alone, nothing repeated after it.
grep -q "^| twn | [0-9.]* ± [0-9.]* (n=2) |$" $md || fail "twn row: $(grep '^| twn' $md)"
grep -q "no verified published number" $md && fail "a cell without a reference still says so"
grep -q "^| ttq | –: \*\*missing\*\* |" $md || fail "ttq row should be missing"
grep -q "ttq / accuracy: no runs match dataset=mnist, method=ttq" $md || fail "missing reason not given"
grep -q "| twn has zeros | – | .* | > 0.00 | \*\*reproduced\*\* |" $md || fail "predicate claim not reproduced"
# cells.csv traces every cell to its runs.
[ "$(tail -n +2 paper/cells.csv | wc -l)" = 2 ] || fail "expected 2 cells in cells.csv"
for k in $(q results/tiny.sqlite "select run_key from runs"); do grep -q "$k" paper/cells.csv || fail "run $k not traced"; done

"$TB_BIN" reproduce tiny_paper.toml --out paper > rep2.log
grep -q "nothing to train" rep2.log || fail "second reproduce should train nothing: $(cat rep2.log)"
"$TB_BIN" report --paper tiny_paper.toml --out paper2 --format md > rep3.log
cmp paper/report.md paper2/report.md || fail "report --paper and reproduce render differently"
[ ! -e paper2/report.html ] || fail "--format md wrote HTML"

# The shipped specs run their SQL on a real DB (their sweeps are not here: every cell missing).
for spec in sca_claims faraone_compression baselines; do
  "$TB_BIN" report --paper "$TB_SOURCE_DIR/experiments/papers/$spec.toml" --db results/tiny.sqlite --out "s-$spec" \
    > "s-$spec.log" || { cat "s-$spec.log"; fail "shipped spec $spec does not render"; }
  grep -q "0 reproduced, 0 deviates" "s-$spec.log" || fail "$spec: tiny DB cannot reproduce anything: $(cat s-$spec.log)"
done

# Bad input: one line, exit 2.
set +e
"$TB_BIN" report --paper no_such_spec > bad1.log 2>&1; rc1=$?
"$TB_BIN" report tiny.toml --format md,pdf > bad2.log 2>&1; rc2=$?
printf '[paper]\nname = "x"\ntitle = "x"\nsweep = "tiny.toml"\n[[claim]]\nid = "a"\ntext = "t"\nkind = "value"\nmetric = "nope + 1"\n' > badsql.toml
"$TB_BIN" report --paper badsql.toml > bad3.log 2>&1; rc3=$?
set -e
[ $rc1 = 2 ] && grep -q "experiments/papers/no_such_spec.toml: cannot read the paper spec" bad1.log || fail "missing spec: rc $rc1 $(cat bad1.log)"
# A mistyped name where the specs are: the message lists them, and nothing is written.
set +e
(cd "$TB_SOURCE_DIR" && "$TB_BIN" report --paper sca_claim --out "$WORK/typo") > bad4.log 2>&1; rc4=$?
set -e
[ $rc4 = 2 ] && grep -q "experiments/papers/sca_claim.toml: no such paper spec; the specs in experiments/papers/ are: .*sca_claims" bad4.log \
  || fail "mistyped spec: rc $rc4 $(cat bad4.log)"
[ "$(wc -l < bad4.log)" = 1 ] && [ ! -e typo ] || fail "mistyped spec: not one line, or something written"
# report --paper before any run: no DB yet -> the error names reproduce; an empty DB -> a hint.
sed 's/tiny.toml/fresh.toml/' tiny_paper.toml > fresh_paper.toml
sed 's/results\/tiny.sqlite/results\/fresh.sqlite/' tiny.toml > fresh.toml
set +e
"$TB_BIN" report --paper fresh_paper.toml --out fresh > bad5.log 2>&1; rc5=$?
set -e
[ $rc5 = 1 ] && grep -q "results/fresh.sqlite: no results DB here yet; run \`ternbench reproduce fresh_paper.toml\`" bad5.log \
  || fail "report --paper without a DB: rc $rc5 $(cat bad5.log)"
[ ! -e fresh ] && [ ! -e results/fresh.sqlite ] || fail "report --paper without a DB wrote something"
cp results/tiny.sqlite results/fresh.sqlite
q results/fresh.sqlite "PRAGMA foreign_keys = OFF; DELETE FROM runs;"
"$TB_BIN" report --paper fresh_paper.toml --out fresh > ok5.log 2> hint5.log
grep -q "no runs of this spec yet; \`ternbench reproduce fresh_paper.toml\` trains them" hint5.log \
  || fail "no hint to reproduce on an empty DB: $(cat hint5.log)"
grep -q "tiny_paper: 0 reproduced, 0 deviates, 5 missing" ok5.log || fail "empty DB report: $(cat ok5.log)"
[ $rc2 = 2 ] && grep -q 'unknown format "pdf"' bad2.log || fail "bad format: rc $rc2 $(cat bad2.log)"
[ $rc3 = 2 ] && grep -q "badsql.toml: claim a metric: .*no such column: nope" bad3.log || fail "bad SQL: rc $rc3 $(cat bad3.log)"
for f in bad1.log bad2.log bad3.log; do [ "$(wc -l < $f)" = 1 ] || fail "$f is not one line: $(cat $f)"; done
echo "e2e report paper: OK"
