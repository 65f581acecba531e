#!/usr/bin/env bash
# ternbench vs PyTorch, side by side: training and inference images/s of mlp, lenet5 and vgg7
# at batch 64 and 128 with 1 and 2 threads, every quantized method's training cost against fp
# (TWN at both batch sizes, BinaryConnect, BWN, TTQ, SCA at 128), page faults per step, and
# GFLOP/s as a fraction of the measured FMA ceiling. Prints Markdown tables.
#
#   bench/compare.sh [--threads "1 2"] [--models mlp,lenet5,vgg7] [--torch-twn] [--runs N] [--out DIR]
#
# --runs N measures everything N times, one whole pass after the other, into DIR/run1..N, and
# the tables show medians over the runs with each ratio's range (bench/compare_report.py,
# which also re-renders saved runs). On a machine whose speed drifts, a ratio near a target
# needs several runs before it says which side it is on.
#
# Its prerequisites come first: `scripts/setup.sh bench` (installs PyTorch, jemalloc and
# OpenBLAS as root, or prints the sudo command and stops), then the release preset's
# tb_bench_train is built (a no-op when it is up to date). For each thread count and model
# it runs build/release/bench/tb_bench_train and then bench/pytorch_bench.py, one after the
# other, so both see the same machine load.
#
# ternbench runs with OMP_NUM_THREADS=<threads> and nothing else changed. PyTorch runs as
# shared/notes/performance.md prescribes: Debian's /usr/bin/python3, OMP_NUM_THREADS =
# OPENBLAS_NUM_THREADS = torch.set_num_threads = <threads>, OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE unset, LD_PRELOAD=libjemalloc.so.2 with
# MALLOC_CONF=oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1, OMP_WAIT_POLICY=PASSIVE,
# OPENBLAS_THREAD_TIMEOUT=4. Debian's torch takes its GEMMs from libblas.so.3; when that is
# the reference (netlib) BLAS and OpenBLAS is installed beside it (libopenblas0-pthread), its
# directory goes first on PyTorch's LD_LIBRARY_PATH so PyTorch gets OpenBLAS as a researcher's
# machine would give it. Raw results (JSON) stay in --out (default build/release/bench/compare-<time>).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

threads_list="1 2"
models="mlp,lenet5,vgg7"
torch_methods="fp"
out=""
runs=1
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads_list="$2"; shift 2 ;;
    --models) models="$2"; shift 2 ;;
    --torch-twn) torch_methods="fp,twn"; shift ;;
    --out) out="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$runs" in
  ''|*[!0-9]*|0) echo "compare.sh: --runs takes a whole number of runs >= 1, not '$runs'" >&2; exit 2 ;;
esac

"$root/scripts/setup.sh" bench >&2
(cd "$root" && cmake --preset release >/dev/null && cmake --build --preset release -j"$(nproc)" --target tb_bench_train) >&2
bin="$root/build/release/bench/tb_bench_train"
py=/usr/bin/python3
if ! "$py" -c 'import torch' 2>/dev/null; then
  echo "compare.sh: $py cannot import torch (Debian: apt-get install python3-torch)" >&2
  exit 1
fi
jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
if [ ! -e "$jemalloc" ]; then
  echo "compare.sh: $jemalloc is missing (Debian: apt-get install libjemalloc2)" >&2
  exit 1
fi
blas_dir=""
if ! readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 | grep -q openblas; then
  if [ -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 ]; then
    blas_dir=/usr/lib/x86_64-linux-gnu/openblas-pthread
  else
    echo "compare.sh: WARNING: libblas.so.3 is the reference BLAS and OpenBLAS is not installed;" \
         "PyTorch's figures will be far too low (Debian: apt-get install libopenblas0-pthread)" >&2
  fi
fi

[ -n "$out" ] || out="$root/build/release/bench/compare-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs"
  echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet 2>/dev/null || echo ' + uncommitted changes')"
  echo "torch: $("$py" -c 'import torch; print(torch.__version__)'), BLAS dir: ${blas_dir:-system libblas.so.3}"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/env.txt" >&2

run_dirs=()
for run in $(seq "$runs"); do
  run_out="$out"
  [ "$runs" -eq 1 ] || run_out="$out/run$run"
  mkdir -p "$run_out"
  : > "$run_out/torch.jsonl"
  run_dirs+=("$run_out")
  [ "$runs" -eq 1 ] || echo "== run $run of $runs" >&2
  start=$(date +%s)
  for t in $threads_list; do
    echo "== threads $t: FMA ceiling" >&2
    OMP_NUM_THREADS=$t "$bin" --benchmark_filter="^fma_peak/t$t(/|\$)" \
      --benchmark_out="$run_out/tb_fma_t$t.json" --benchmark_out_format=json >/dev/null
    for m in ${models//,/ }; do
      extra=""
      [ "$m" = mlp ] && extra="|dense/mlp/b[0-9]+/t$t(/|\$)"
      echo "== threads $t, $m: ternbench" >&2
      # Repetitions of all cases in a random order: run in a fixed order (fp first), the later
      # cases met a warmer, busier machine and the quantized/fp ratios were biased down.
      OMP_NUM_THREADS=$t "$bin" --benchmark_filter="^((train|infer)/$m/[a-z]+/b[0-9]+/t$t(/|\$)$extra)" \
        --benchmark_enable_random_interleaving=true \
        --benchmark_out="$run_out/tb_${m}_t$t.json" --benchmark_out_format=json >/dev/null
      echo "== threads $t, $m: PyTorch" >&2
      env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        ${blas_dir:+LD_LIBRARY_PATH="$blas_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"} \
        OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" \
        LD_PRELOAD="$jemalloc" MALLOC_CONF=oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1 \
        OMP_WAIT_POLICY=PASSIVE OPENBLAS_THREAD_TIMEOUT=4 \
        "$py" "$root/bench/pytorch_bench.py" --threads "$t" --models "$m" --methods "$torch_methods" \
        >> "$run_out/torch.jsonl"
    done
  done
  echo "load average at end of run $run: $(cut -d' ' -f1-3 /proc/loadavg); $(( $(date +%s) - start )) s" | tee -a "$out/env.txt" >&2
done

"$py" "$root/bench/compare_report.py" "${run_dirs[@]}" | tee "$out/table.md"
echo "raw results: $out" >&2
