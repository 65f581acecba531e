# bench/compare_report.py on runs written by hand: one run's tables as compare.sh prints them,
# several runs' medians with each ratio's range taken run by run, and a directory that holds
# no run refused with its name.
set -euo pipefail
: "${TB_SOURCE_DIR:?}"
report="$TB_SOURCE_DIR/bench/compare_report.py"
WORK=$(mktemp -d /tmp/ternbench-compare.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# run DIR FP_IMG_S TWN_IMG_S TORCH_IMG_S: mlp, batch 64, 1 thread.
run() {
  mkdir -p "$1"
  cat > "$1/tb_mlp_t1.json" <<JSON
{"benchmarks": [
 {"run_name": "train/mlp/fp/b64/t1/real_time", "aggregate_name": "median", "img_s": $2, "faults_step": 0, "cpu_time": 640, "time_unit": "ms"},
 {"run_name": "train/mlp/fp/b64/t1/real_time", "aggregate_name": "mean", "img_s": 1},
 {"run_name": "train/mlp/twn/b64/t1/real_time", "aggregate_name": "median", "img_s": $3, "faults_step": 0, "cpu_time": 800, "time_unit": "ms"}
]}
JSON
  echo "{\"model\": \"mlp\", \"method\": \"fp\", \"batch\": 64, \"threads\": 1, \"train_ips\": $4}" > "$1/torch.jsonl"
}
run "$WORK/r1" 100 80 50
run "$WORK/r2" 120 108 100
run "$WORK/r3" 110 93.5 110

one=$(python3 "$report" "$WORK/r1")
grep -qF '| mlp | 64 | 1 | 100 | 80.0 | 0.80x | — | 0, 0, —, — |' <<<"$one" || fail "one run's TWN row: $one"
grep -qF '| mlp | 64 | 1 | 100 | 50.0 | 2.00x |' <<<"$one" || fail "one run's PyTorch row: $one"
grep -q 'runs\.' <<<"$one" && fail "one run announced as several: $one"

three=$(python3 "$report" "$WORK/r1" "$WORK/r2" "$WORK/r3")
grep -q '^3 runs\.' <<<"$three" || fail "three runs not announced: $three"
# twn/fp per run: 0.80, 0.90, 0.85. The median of the images/s (110, 93.5) would give 0.85
# as well, so the PyTorch ratios (2.00, 1.20, 1.00) tell the two apart: 1.20 run by run,
# against 110 / 100 = 1.10 from the medians.
grep -qF '| mlp | 64 | 1 | 110 | 93.5 | 0.85x (0.80-0.90) |' <<<"$three" || fail "three runs' TWN row: $three"
grep -qF '| mlp | 64 | 1 | 110 | 100 | 1.20x (1.00-2.00) |' <<<"$three" || fail "three runs' PyTorch row: $three"

mkdir "$WORK/empty"
if msg=$(python3 "$report" "$WORK/r1" "$WORK/empty" 2>&1); then fail "a directory without a run was accepted"; fi
grep -qF "$WORK/empty holds no tb_*.json" <<<"$msg" || fail "refusal does not name the directory: $msg"
echo "compare_report: ok"
