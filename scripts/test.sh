#!/usr/bin/env bash
# Builds everything with warnings as errors and runs the whole test suite (unit, MPI and
# end-to-end tests), then the sanitizer stage (scripts/sanitize.sh: the unit tests under
# ASan + UBSan and a short run of each fuzz target). Extra arguments go to the first
# stage's ctest and skip the second, e.g. `scripts/test.sh -L unit` for a quick check.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
start=$SECONDS
cmake --preset ci >/dev/null
cmake --build --preset ci -j"$(nproc)"
ctest --preset ci -j"$(nproc)" "$@"
echo "test: ci stage took $((SECONDS - start)) s"
[ $# -eq 0 ] || exit 0
scripts/sanitize.sh
