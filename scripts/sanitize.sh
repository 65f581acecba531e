#!/usr/bin/env bash
# The sanitizer stage of scripts/test.sh: one clang build (preset `asan`) with
# AddressSanitizer + UBSan that halt at the first finding, then the unit tests and each fuzz
# target for TB_FUZZ_SECONDS (default 25) on its committed corpus (docs/testing.md).
# Extra arguments go to ctest, e.g. `scripts/sanitize.sh -L fuzz` for the fuzz runs only.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$SECONDS
cmake --preset asan -DTB_FUZZ_SECONDS="${TB_FUZZ_SECONDS:-25}" >/dev/null
cmake --build --preset asan -j"$(nproc)" --target tb_sanitize_build  # no e2e binaries
echo "sanitize: build took $((SECONDS - start)) s"
ctest --preset asan -j"$(nproc)" "$@"  # labels unit and fuzz; last: CI reads its closing line
