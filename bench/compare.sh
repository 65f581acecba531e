#!/usr/bin/env bash
# ternbench vs PyTorch, side by side: training and inference images/s of mlp, lenet5 and vgg7
# at batch 64 and 128 with 1 and 2 threads, every quantized method's training cost against fp
# (TWN at both batch sizes, BinaryConnect, BWN, TTQ, SCA at 128), page faults per step, and
# GFLOP/s as a fraction of the measured FMA ceiling. Prints Markdown tables.
#
#   bench/compare.sh [--threads "1 2"] [--models mlp,lenet5,vgg7] [--torch-twn] [--out DIR]
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
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads_list="$2"; shift 2 ;;
    --models) models="$2"; shift 2 ;;
    --torch-twn) torch_methods="fp,twn"; shift ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

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
: > "$out/torch.jsonl"

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs"
  echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet 2>/dev/null || echo ' + uncommitted changes')"
  echo "torch: $("$py" -c 'import torch; print(torch.__version__)'), BLAS dir: ${blas_dir:-system libblas.so.3}"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/env.txt" >&2

start=$(date +%s)
for t in $threads_list; do
  echo "== threads $t: FMA ceiling" >&2
  OMP_NUM_THREADS=$t "$bin" --benchmark_filter="^fma_peak/t$t(/|\$)" \
    --benchmark_out="$out/tb_fma_t$t.json" --benchmark_out_format=json >/dev/null
  for m in ${models//,/ }; do
    extra=""
    [ "$m" = mlp ] && extra="|dense/mlp/b[0-9]+/t$t(/|\$)"
    echo "== threads $t, $m: ternbench" >&2
    # Repetitions of all cases in a random order: run in a fixed order (fp first), the later
    # cases met a warmer, busier machine and the quantized/fp ratios were biased down.
    OMP_NUM_THREADS=$t "$bin" --benchmark_filter="^((train|infer)/$m/[a-z]+/b[0-9]+/t$t(/|\$)$extra)" \
      --benchmark_enable_random_interleaving=true \
      --benchmark_out="$out/tb_${m}_t$t.json" --benchmark_out_format=json >/dev/null
    echo "== threads $t, $m: PyTorch" >&2
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
      ${blas_dir:+LD_LIBRARY_PATH="$blas_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"} \
      OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" \
      LD_PRELOAD="$jemalloc" MALLOC_CONF=oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1 \
      OMP_WAIT_POLICY=PASSIVE OPENBLAS_THREAD_TIMEOUT=4 \
      "$py" "$root/bench/pytorch_bench.py" --threads "$t" --models "$m" --methods "$torch_methods" \
      >> "$out/torch.jsonl"
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg); $(( $(date +%s) - start )) s" | tee -a "$out/env.txt" >&2

"$py" - "$out" <<'EOF' | tee "$out/table.md"
import glob, json, os, sys

out = sys.argv[1]
tb = {}  # (kind, model, method, batch, threads) -> counters of the median aggregate
for path in sorted(glob.glob(os.path.join(out, "tb_*.json"))):
    for b in json.load(open(path))["benchmarks"]:
        if b.get("aggregate_name", "median") != "median":
            continue
        parts = b["run_name"].split("/")
        if parts[0] == "fma_peak":
            key = ("fma_peak", "", "", 0, int(parts[1][1:]))
        elif parts[0] == "dense":
            key = ("dense", parts[1], "fp", int(parts[2][1:]), int(parts[3][1:]))
        else:
            key = (parts[0], parts[1], parts[2], int(parts[3][1:]), int(parts[4][1:]))
        tb[key] = b
pt = {}
for line in open(os.path.join(out, "torch.jsonl")):
    r = json.loads(line)
    pt[(r["model"], r["method"], r["batch"], r["threads"])] = r

def f(x, digits=0):
    if x is None:
        return "—"
    if x >= 10000:
        return f"{x / 1000:.1f}k"
    return f"{x:.{digits}f}" if digits else f"{x:.0f}" if x >= 100 else f"{x:.1f}"

def pct_of(g, peak):
    return f"{100 * g / peak:.0f}%" if g and peak else "—"

def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "—"

def tbv(kind, m, meth, b, t, counter):
    r = tb.get((kind, m, meth, b, t))
    return r.get(counter) if r else None

models = [m for m in ("mlp", "lenet5", "vgg7") if any(k[1] == m for k in tb)]
threads = sorted({k[4] for k in tb})
batches = sorted({k[3] for k in tb if k[0] == "train"})

print("### Training and inference, fp32 (images/s, median; ratio = ternbench / PyTorch)\n")
print("| model | batch | threads | ternbench train | PyTorch train | ratio | ternbench infer | PyTorch infer | ratio |")
print("|---|---|---|---|---|---|---|---|---|")
for m in models:
    for b in batches:
        for t in threads:
            tt, ti = tbv("train", m, "fp", b, t, "img_s"), tbv("infer", m, "fp", b, t, "img_s")
            p = pt.get((m, "fp", b, t), {})
            pt_, pi = p.get("train_ips"), p.get("infer_ips")
            print(f"| {m} | {b} | {t} | {f(tt)} | {f(pt_)} | {ratio(tt, pt_)} | {f(ti)} | {f(pi)} | {ratio(ti, pi)} |")

print("\n### TWN vs fp training (ternbench; target twn/fp >= 0.9), page faults per step after warm-up\n")
has_pt_twn = any(k[1] == "twn" for k in pt)
head = "| model | batch | threads | fp train | twn train | twn/fp | twn infer | faults/step (train fp, twn; infer fp, twn) |"
if has_pt_twn:
    head = head[:-1] + " PyTorch twn/fp | twn: ternbench / PyTorch |"
print(head)
print("|" + "---|" * (head.count("|") - 1))
for m in models:
    for b in batches:
        for t in threads:
            fp, tw = tbv("train", m, "fp", b, t, "img_s"), tbv("train", m, "twn", b, t, "img_s")
            faults = [tbv(k, m, meth, b, t, "faults_step") for k in ("train", "infer") for meth in ("fp", "twn")]
            fs = ", ".join("—" if x is None else f"{x:.2g}" for x in faults)
            row = f"| {m} | {b} | {t} | {f(fp)} | {f(tw)} | {ratio(tw, fp)} | {f(tbv('infer', m, 'twn', b, t, 'img_s'))} | {fs} |"
            if has_pt_twn:
                pf, ptw = pt.get((m, "fp", b, t), {}).get("train_ips"), pt.get((m, "twn", b, t), {}).get("train_ips")
                row += f" {ratio(ptw, pf)} | {ratio(tw, ptw)} |"
            print(row)

others = ["binaryconnect", "bwn", "ttq", "sca"]
if any(tbv("train", m, meth, 128, t, "img_s") for m in models for meth in others for t in threads):
    print("\n### Training cost of every quantized method against fp (ternbench, batch 128; target >= 0.9x)\n")
    print("Each step includes the method's quantizer, its backward rule, its regularizer (SCA's WDR)")
    print("and its after-step constraint (BinaryConnect's clip), as the trainer runs them.\n")
    head = "| model | threads | fp img/s | " + " | ".join(f"{x}/fp" for x in ["twn"] + others) + " |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for m in models:
        for t in threads:
            fp = tbv("train", m, "fp", 128, t, "img_s")
            cells = [ratio(tbv("train", m, x, 128, t, "img_s"), fp) for x in ["twn"] + others]
            print(f"| {m} | {t} | {f(fp)} | " + " | ".join(cells) + " |")

print("\n### GFLOP/s of training as a fraction of the measured FMA ceiling\n")
print("FLOPs: 2 per multiply-add of the dense and conv layers (forward, weight gradient, input")
print("gradient except the first layer's). Ceiling: fma_peak (16 independent FMA chains per")
print("thread, tb_bench_train) in this run, and 219 / 436 GFLOP/s (1 / 2 threads) as")
print("shared/notes/performance.md measured it on a quiet machine of this kind.\n")
print("| what | batch | threads | ternbench GFLOP/s | of measured ceiling | of 219/436 | PyTorch GFLOP/s | of measured ceiling | of 219/436 |")
print("|---|---|---|---|---|---|---|---|---|")
REF = {1: 219.0, 2: 436.0}  # performance.md, quiet machine
for t in threads:
    peak = tbv("fma_peak", "", "", 0, t, "gflops")
    print(f"| FMA ceiling (measured now) | — | {t} | {f(peak)} | 100% | {pct_of(peak, REF.get(t))} | — | — | — |")
for t in threads:
    peak = tbv("fma_peak", "", "", 0, t, "gflops")
    pct = lambda g: pct_of(g, peak)
    ref = lambda g: pct_of(g, REF.get(t))
    for b in batches:
        g = tbv("dense", "mlp", "fp", b, t, "gflops")
        if g is not None:
            print(f"| mlp dense layers only (fwd+bwd) | {b} | {t} | {f(g)} | {pct(g)} | {ref(g)} | — | — | — |")
    for m in models:
        for b in batches:
            g, ips = tbv("train", m, "fp", b, t, "gflops"), tbv("train", m, "fp", b, t, "img_s")
            p = pt.get((m, "fp", b, t), {}).get("train_ips")
            pg = p * g / ips if (g and ips and p) else None  # same FLOPs per image
            print(f"| {m} whole train step | {b} | {t} | {f(g)} | {pct(g)} | {ref(g)} | {f(pg)} | {pct(pg)} | {ref(pg)} |")

if 1 in threads:
    print("\n### One thread, per CPU second (images per CPU-second of the process: less sensitive to other load)\n")
    print("| model | batch | ternbench train | PyTorch train | ratio | ternbench infer | PyTorch infer | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    def cpu_ips(kind, m, b):
        r = tb.get((kind, m, "fp", b, 1))
        return b / (r["cpu_time"] * scale[r.get("time_unit", "ns")]) if r else None
    for m in models:
        for b in batches:
            p = pt.get((m, "fp", b, 1), {})
            tt, ti, pt_, pi = cpu_ips("train", m, b), cpu_ips("infer", m, b), p.get("train_ips_cpu"), p.get("infer_ips_cpu")
            print(f"| {m} | {b} | {f(tt)} | {f(pt_)} | {ratio(tt, pt_)} | {f(ti)} | {f(pi)} | {ratio(ti, pi)} |")
print()
EOF
echo "raw results: $out" >&2
