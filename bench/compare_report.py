#!/usr/bin/env python3
"""The Markdown tables of bench/compare.sh, from one or more of its runs.

    bench/compare_report.py DIR [DIR ...]

Each DIR holds one run: tb_*.json (Google Benchmark, tb_bench_train) and torch.jsonl
(bench/pytorch_bench.py). With one DIR the tables show that run. With several, each figure
is the median over the runs, and each ratio is taken within a run (both sides measured in
the same minutes) and shown as the median over the runs with the lowest and highest in
brackets: on a machine whose speed drifts, one run can put a ratio on either side of a target.
"""
import glob
import json
import os
import statistics
import sys

REF = {1: 219.0, 2: 436.0}  # GFLOP/s of the FMA ceiling, shared/notes/performance.md, quiet machine
OTHERS = ["binaryconnect", "bwn", "ttq", "sca"]
TIME_SCALE = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


class Run:
    def __init__(self, out):
        self.tb = {}  # (kind, model, method, batch, threads) -> counters of the median aggregate
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
                self.tb[key] = b
        self.pt = {}
        torch = os.path.join(out, "torch.jsonl")
        if os.path.exists(torch):
            for line in open(torch):
                r = json.loads(line)
                self.pt[(r["model"], r["method"], r["batch"], r["threads"])] = r

    def tbv(self, kind, m, meth, b, t, counter):
        r = self.tb.get((kind, m, meth, b, t))
        return r.get(counter) if r else None

    def ptv(self, m, meth, b, t, field):
        return self.pt.get((m, meth, b, t), {}).get(field)

    def cpu_ips(self, kind, m, b):
        r = self.tb.get((kind, m, "fp", b, 1))
        return b / (r["cpu_time"] * TIME_SCALE[r.get("time_unit", "ns")]) if r else None


def f(x, digits=0):
    if x is None:
        return "—"
    if x >= 10000:
        return f"{x / 1000:.1f}k"
    return f"{x:.{digits}f}" if digits else f"{x:.0f}" if x >= 100 else f"{x:.1f}"


def pct_of(g, peak):
    return f"{100 * g / peak:.0f}%" if g and peak else "—"


def main(dirs):
    runs = [Run(d) for d in dirs]

    def med(fn):
        vals = [v for v in (fn(r) for r in runs) if v is not None]
        return statistics.median(vals) if vals else None

    def ratio(num, den):
        vals = []
        for r in runs:
            a, b = num(r), den(r)
            if a and b:
                vals.append(a / b)
        if not vals:
            return "—"
        s = f"{statistics.median(vals):.2f}x"
        return s if len(runs) == 1 else s + f" ({min(vals):.2f}-{max(vals):.2f})"

    keys = set().union(*(r.tb for r in runs))
    models = [m for m in ("mlp", "lenet5", "vgg7") if any(k[1] == m for k in keys)]
    threads = sorted({k[4] for k in keys})
    batches = sorted({k[3] for k in keys if k[0] == "train"})

    if len(runs) > 1:
        print(f"{len(runs)} runs. Figures: the median over the runs. Ratios: each run's own, as the median")
        print("over the runs (lowest-highest).\n")

    print("### Training and inference, fp32 (images/s, median; ratio = ternbench / PyTorch)\n")
    print("| model | batch | threads | ternbench train | PyTorch train | ratio | ternbench infer | PyTorch infer | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for m in models:
        for b in batches:
            for t in threads:
                tt = lambda r: r.tbv("train", m, "fp", b, t, "img_s")
                ti = lambda r: r.tbv("infer", m, "fp", b, t, "img_s")
                pt_ = lambda r: r.ptv(m, "fp", b, t, "train_ips")
                pi = lambda r: r.ptv(m, "fp", b, t, "infer_ips")
                print(f"| {m} | {b} | {t} | {f(med(tt))} | {f(med(pt_))} | {ratio(tt, pt_)} "
                      f"| {f(med(ti))} | {f(med(pi))} | {ratio(ti, pi)} |")

    print("\n### TWN vs fp training (ternbench; target twn/fp >= 0.9), page faults per step after warm-up\n")
    has_pt_twn = any(k[1] == "twn" for r in runs for k in r.pt)
    head = "| model | batch | threads | fp train | twn train | twn/fp | twn infer | faults/step (train fp, twn; infer fp, twn) |"
    if has_pt_twn:
        head = head[:-1] + " PyTorch twn/fp | twn: ternbench / PyTorch |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for m in models:
        for b in batches:
            for t in threads:
                fp = lambda r: r.tbv("train", m, "fp", b, t, "img_s")
                tw = lambda r: r.tbv("train", m, "twn", b, t, "img_s")
                faults = [med(lambda r: r.tbv(k, m, meth, b, t, "faults_step"))
                          for k in ("train", "infer") for meth in ("fp", "twn")]
                fs = ", ".join("—" if x is None else f"{x:.2g}" for x in faults)
                twi = med(lambda r: r.tbv("infer", m, "twn", b, t, "img_s"))
                row = f"| {m} | {b} | {t} | {f(med(fp))} | {f(med(tw))} | {ratio(tw, fp)} | {f(twi)} | {fs} |"
                if has_pt_twn:
                    pf = lambda r: r.ptv(m, "fp", b, t, "train_ips")
                    ptw = lambda r: r.ptv(m, "twn", b, t, "train_ips")
                    row += f" {ratio(ptw, pf)} | {ratio(tw, ptw)} |"
                print(row)

    if any(med(lambda r: r.tbv("train", m, x, 128, t, "img_s")) for m in models for x in OTHERS for t in threads):
        print("\n### Training cost of every quantized method against fp (ternbench, batch 128; target >= 0.9x)\n")
        print("Each step includes the method's quantizer, its backward rule, its regularizer (SCA's WDR)")
        print("and its after-step constraint (BinaryConnect's clip), as the trainer runs them.\n")
        head = "| model | threads | fp img/s | " + " | ".join(f"{x}/fp" for x in ["twn"] + OTHERS) + " |"
        print(head)
        print("|" + "---|" * (head.count("|") - 1))
        for m in models:
            for t in threads:
                fp = lambda r: r.tbv("train", m, "fp", 128, t, "img_s")
                cells = [ratio(lambda r, x=x: r.tbv("train", m, x, 128, t, "img_s"), fp) for x in ["twn"] + OTHERS]
                print(f"| {m} | {t} | {f(med(fp))} | " + " | ".join(cells) + " |")

    print("\n### GFLOP/s of training as a fraction of the measured FMA ceiling\n")
    print("FLOPs: 2 per multiply-add of the dense and conv layers (forward, weight gradient, input")
    print("gradient except the first layer's). Ceiling: fma_peak (16 independent FMA chains per")
    print("thread, tb_bench_train) in this run, and 219 / 436 GFLOP/s (1 / 2 threads) as")
    print("shared/notes/performance.md measured it on a quiet machine of this kind.\n")
    print("| what | batch | threads | ternbench GFLOP/s | of measured ceiling | of 219/436 | PyTorch GFLOP/s | of measured ceiling | of 219/436 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for t in threads:
        peak = med(lambda r: r.tbv("fma_peak", "", "", 0, t, "gflops"))
        print(f"| FMA ceiling (measured now) | — | {t} | {f(peak)} | 100% | {pct_of(peak, REF.get(t))} | — | — | — |")
    for t in threads:
        peak = med(lambda r: r.tbv("fma_peak", "", "", 0, t, "gflops"))
        pct = lambda g: pct_of(g, peak)
        ref = lambda g: pct_of(g, REF.get(t))
        for b in batches:
            g = med(lambda r: r.tbv("dense", "mlp", "fp", b, t, "gflops"))
            if g is not None:
                print(f"| mlp dense layers only (fwd+bwd) | {b} | {t} | {f(g)} | {pct(g)} | {ref(g)} | — | — | — |")
        for m in models:
            for b in batches:
                g = med(lambda r: r.tbv("train", m, "fp", b, t, "gflops"))

                def torch_gflops(r):  # the same FLOPs per image
                    g, ips, p = (r.tbv("train", m, "fp", b, t, "gflops"), r.tbv("train", m, "fp", b, t, "img_s"),
                                 r.ptv(m, "fp", b, t, "train_ips"))
                    return p * g / ips if (g and ips and p) else None

                pg = med(torch_gflops)
                print(f"| {m} whole train step | {b} | {t} | {f(g)} | {pct(g)} | {ref(g)} | {f(pg)} | {pct(pg)} | {ref(pg)} |")

    if 1 in threads:
        print("\n### One thread, per CPU second (images per CPU-second of the process: less sensitive to other load)\n")
        print("| model | batch | ternbench train | PyTorch train | ratio | ternbench infer | PyTorch infer | ratio |")
        print("|---|---|---|---|---|---|---|---|")
        for m in models:
            for b in batches:
                tt = lambda r: r.cpu_ips("train", m, b)
                ti = lambda r: r.cpu_ips("infer", m, b)
                pt_ = lambda r: r.ptv(m, "fp", b, 1, "train_ips_cpu")
                pi = lambda r: r.ptv(m, "fp", b, 1, "infer_ips_cpu")
                print(f"| {m} | {b} | {f(med(tt))} | {f(med(pt_))} | {ratio(tt, pt_)} "
                      f"| {f(med(ti))} | {f(med(pi))} | {ratio(ti, pi)} |")
    print()


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(0 if len(sys.argv) > 1 else 2)
    missing = [d for d in sys.argv[1:] if not glob.glob(os.path.join(d, "tb_*.json"))]
    if missing:
        print(f"compare_report.py: {missing[0]} holds no tb_*.json: give the directories compare.sh "
              "wrote (--out, or its run<N> subdirectories)", file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1:])
