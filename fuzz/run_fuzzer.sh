#!/usr/bin/env bash
# Runs one fuzz target for a fixed time: every committed input of <corpus> first (the seeds
# and past crash inputs, so a fixed bug stays fixed), then mutations of them. New inputs go
# to <work>/corpus, never into the committed corpus. A finding fails the run and is saved as
# <work>/crash-<sha1> (or leak-, timeout-, oom-), which `<fuzzer> <file>` replays.
# Usage: run_fuzzer.sh <fuzzer> <corpus dir> <work dir> <seconds>
set -euo pipefail
fuzzer=$1 corpus=$2 work=$3 seconds=$4

mkdir -p "$work/corpus"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-/usr/lib/llvm-14/bin/llvm-symbolizer}
# -timeout: one input taking this long is a finding (a reader that hangs on a bad file).
# -rss_limit_mb: libFuzzer's default; an input that makes a reader allocate more is a finding.
# fuzz/<target>.dict, where there is one: tokens libFuzzer inserts whole.
dict=$(dirname "$(dirname "$corpus")")/$(basename "$corpus").dict
extra=()
[ -f "$dict" ] && extra+=(-dict="$dict")
rc=0
"$fuzzer" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 "${extra[@]}" \
  -artifact_prefix="$work/" "$work/corpus" "$corpus" || rc=$?
[ "$rc" -eq 0 ] && exit 0
newest=$(ls -t "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null | head -1 || true)
echo "$(basename "$fuzzer"): FINDING (exit $rc); replay with: $fuzzer $newest" >&2
exit "$rc"
