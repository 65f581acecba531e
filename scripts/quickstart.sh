#!/usr/bin/env bash
# The main job on a fresh machine: install, build, fetch MNIST, run the quickstart sweep in
# one process, measure its networks with the ternary engine, write the report. Re-running it trains nothing new and rewrites the report.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target ternbench
bin=build/release/orchestrator/ternbench

"$bin" data fetch mnist
"$bin" run experiments/quickstart.toml
# Every trained network through the multiplication-free engine, against float32, recorded
# for the report's engine columns (docs/inference.md).
"$bin" infer --engine ternary --db results/quickstart.sqlite
"$bin" report experiments/quickstart.toml
