#!/usr/bin/python3
"""PyTorch reference for bench/train_bench.cpp: training and inference images/s of the same
models (mlp, lenet5, vgg7), float32, SGD momentum 0.9, CrossEntropyLoss.

Run it the way bench/compare.sh does (see /work/shared/notes/performance.md): Debian's
/usr/bin/python3, OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = --threads, OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE unset, LD_PRELOAD=libjemalloc.so.2 with
MALLOC_CONF=oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1, OMP_WAIT_POLICY=PASSIVE,
OPENBLAS_THREAD_TIMEOUT=4.

Timing: synthetic random inputs and labels made once (no data loading), --warmup untimed
steps, then --windows timed windows of enough steps to last about --window-sec each; the
figure is the median over the windows. One JSON object per line on stdout.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
from torch import nn

SHAPES = {"mlp": (1, 28, 28), "lenet300": (1, 28, 28), "lenet5": (1, 28, 28), "vgg7": (3, 32, 32)}


class TwnQuant(torch.autograd.Function):
    """TWN (Li & Liu 2016): delta = 0.7 mean|W|, alpha = mean of |W| above delta; straight-through gradient."""

    @staticmethod
    def forward(ctx, w):
        a = w.abs()
        delta = 0.7 * a.mean()
        mask = (a > delta).to(w.dtype)
        alpha = (a * mask).sum() / mask.sum().clamp(min=1.0)
        return alpha * torch.sign(w) * mask

    @staticmethod
    def backward(ctx, g):
        return g


class TwnLinear(nn.Linear):
    def forward(self, x):
        return nn.functional.linear(x, TwnQuant.apply(self.weight), self.bias)


class TwnConv2d(nn.Conv2d):
    def forward(self, x):
        return self._conv_forward(x, TwnQuant.apply(self.weight), self.bias)


def build(model, method):
    """Same layer order as core/src/core/model/model_builder.cpp; twn quantizes every weight layer but the last
    (ternbench's defaults quantize_first = true, quantize_last = false)."""
    if model == "mlp":
        dims = [(784, 500), (500, 300), (300, 10)]
    elif model == "lenet300":
        dims = [(784, 300), (300, 100), (100, 10)]
    else:
        dims = None
    layers = []
    if dims is not None:
        layers.append(nn.Flatten())
        for i, (a, b) in enumerate(dims):
            last = i == len(dims) - 1
            layers.append((nn.Linear if (method == "fp" or last) else TwnLinear)(a, b))
            if not last:
                layers.append(nn.ReLU())
        return nn.Sequential(*layers)

    conv = nn.Conv2d if method == "fp" else TwnConv2d
    lin = nn.Linear if method == "fp" else TwnLinear
    if model == "lenet5":
        return nn.Sequential(
            conv(1, 32, 5), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            conv(32, 64, 5), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), lin(64 * 4 * 4, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, 10))
    if model == "vgg7":
        layers, c = [], 3
        for width in (128, 256, 512):
            for _ in range(2):
                layers += [conv(c, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
                c = width
            layers.append(nn.MaxPool2d(2))
        layers += [nn.Flatten(), lin(512 * 4 * 4, 1024), nn.BatchNorm1d(1024), nn.ReLU(), nn.Linear(1024, 10)]
        return nn.Sequential(*layers)
    raise SystemExit(f"unknown model {model}")


def timed_windows(step, batch, warmup, windows, window_sec):
    """Images/s of each window after `warmup` untimed steps (wall clock, and per CPU second of all
    threads: a load-insensitive figure for one thread); steps per window from one timed step."""
    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    step()
    one = time.perf_counter() - t0
    n = max(1, int(round(window_sec / max(one, 1e-9))))
    rates, cpu_rates = [], []
    for _ in range(windows):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            step()
        rates.append(n * batch / (time.perf_counter() - t0))
        cpu_rates.append(n * batch / max(time.process_time() - c0, 1e-9))
    return rates, cpu_rates, n


def run(model_name, method, batch, args):
    torch.manual_seed(1)
    c, h, w = SHAPES[model_name]
    model = build(model_name, method)
    x = torch.rand(batch, c, h, w)
    y = torch.randint(0, 10, (batch,))
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def train_step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    model.train()
    train_rates, train_cpu, train_n = timed_windows(train_step, batch, args.warmup, args.windows, args.window_sec)

    model.eval()

    def infer_step():
        with torch.no_grad():
            model(x)

    infer_rates, infer_cpu, infer_n = timed_windows(infer_step, batch, args.warmup, args.windows, args.window_sec)
    return {
        "impl": "pytorch", "torch": torch.__version__, "model": model_name, "method": method, "batch": batch,
        "threads": torch.get_num_threads(),
        "train_ips": statistics.median(train_rates), "infer_ips": statistics.median(infer_rates),
        "train_ips_cpu": statistics.median(train_cpu), "infer_ips_cpu": statistics.median(infer_cpu),
        "train_windows": [round(r, 2) for r in train_rates], "infer_windows": [round(r, 2) for r in infer_rates],
        "train_steps_per_window": train_n, "infer_steps_per_window": infer_n,
    }


def loaded_blas():
    """Path of the BLAS library this process loaded (Debian's torch links libblas.so.3, which is
    the reference netlib BLAS unless OpenBLAS provides it): the figures mean little without OpenBLAS."""
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "blas" in line.rsplit("/", 1)[-1]}
    return ",".join(sorted(os.path.realpath(p) for p in paths)) or "unknown"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--models", default="mlp,lenet5,vgg7")
    p.add_argument("--methods", default="fp", help="fp and/or twn, comma-separated")
    p.add_argument("--batches", default="64,128")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps before the windows")
    p.add_argument("--windows", type=int, default=5)
    p.add_argument("--window-sec", type=float, default=0.5)
    p.add_argument("--slow-windows", type=int, default=3, help="windows for vgg7")
    p.add_argument("--slow-warmup", type=int, default=1, help="warm-up steps for vgg7")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    env = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE",
                                          "LD_PRELOAD", "MALLOC_CONF", "OMP_WAIT_POLICY")}
    if env["OMP_NUM_THREADS"] != str(args.threads) or env["OPENBLAS_CORETYPE"]:
        print(f"warning: environment differs from performance.md's fair setting: {env}", file=sys.stderr)
    blas = loaded_blas()
    if "openblas" not in blas:
        print(f"warning: PyTorch is not using OpenBLAS ({blas}): its GEMMs run at a few GFLOP/s; install "
              "libopenblas0-pthread or put its directory on LD_LIBRARY_PATH", file=sys.stderr)
    for model_name in args.models.split(","):
        for method in args.methods.split(","):
            for batch in (int(b) for b in args.batches.split(",")):
                a = argparse.Namespace(**vars(args))
                if model_name == "vgg7":
                    a.windows, a.warmup = args.slow_windows, args.slow_warmup
                r = run(model_name, method, batch, a)
                r["blas"] = blas
                print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
