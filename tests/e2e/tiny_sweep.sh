# A 4-run sweep in one process: DB rows, weights readable by h5py, rerun trains nothing,
# the report has fp and twn rows.
source "$(dirname "$0")/common.sh"

"$TB_BIN" run tiny.toml > run1.log
cat run1.log
grep -q "4 runs to train" run1.log || fail "first run did not plan 4 runs"

db=results/tiny.sqlite
[ "$(q $db "select count(*) from runs where status='done'")" = 4 ] || fail "expected 4 done runs"
[ "$(q $db "select count(*) from epochs")" = 8 ] || fail "expected 8 epoch rows"
[ "$(q $db "select count(*) from layers where run_key in (select run_key from runs where method='twn')")" = 6 ] \
  || fail "expected 3 layer rows per twn run"
[ "$(q $db "select count(*) from layers where precision='ternary'")" = 4 ] \
  || fail "twn must quantize dense0 and dense1 and keep the last layer fp32"
q $db "select min(test_acc) > 0.5 from runs" | grep -qx 1 || fail "fixture is learnable; accuracy too low"
q $db "select max(sparsity) > 0.2 from runs where method='twn'" | grep -qx 1 || fail "twn runs have no zeros"
[ "$(q $db "pragma user_version")" -ge 1 ] || fail "schema version not set"

# Every weights file exists, h5py reads it with the model's shapes.
for w in $(q $db "select weights_path from runs"); do
  [ -f "results/$w" ] || fail "missing weights file results/$w"
  /usr/bin/python3 - "results/$w" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    assert f["dense0/W"].shape == (500, 784), f["dense0/W"].shape
    assert f["dense1/W"].shape == (300, 500)
    assert f["dense2/W"].shape == (10, 300)
    assert f["dense2/b"].shape == (10,) or f["dense2/b"].shape == (10, 1)
    assert len(f.attrs["run_key"]) == 16
PY
done
ls results/*weights* | grep -q tmp && fail "temporary weights files left behind"

"$TB_BIN" run tiny.toml > run2.log
grep -q "nothing to train" run2.log || fail "second run should train nothing: $(cat run2.log)"

"$TB_BIN" report tiny.toml > report.log
report=results/tiny-report/report.md
[ -f $report ] || fail "report file missing"
grep -q "| mlp | fp | " $report || fail "no fp row in report"
grep -q "| mlp | twn | " $report || fail "no twn row in report"
grep -q "| 2 |" $report || fail "rows must average 2 seeds"
echo "e2e tiny sweep: OK"
