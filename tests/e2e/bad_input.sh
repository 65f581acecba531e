# Bad input: one clear line naming file/line/key, a non-zero exit, nothing written.
source "$(dirname "$0")/common.sh"

expect_error() {  # expect_error <exit code> <pattern> <command...>
  local code=$1 pattern=$2; shift 2
  set +e; "$@" > out.log 2> err.log; local rc=$?; set -e
  [ $rc -eq $code ] || fail "expected exit $code, got $rc from: $* ($(cat err.log))"
  [ "$(wc -l < err.log)" -eq 1 ] || fail "expected one error line, got: $(cat err.log)"
  grep -q -- "$pattern" err.log || fail "error line lacks '$pattern': $(cat err.log)"
}

sed 's/^lr = 0.05/lrr = 0.05/' tiny.toml > typo.toml
expect_error 2 "typo.toml:11: train.lrr: unknown key; did you mean \"lr\"" "$TB_BIN" run typo.toml
sed 's/^epochs = 2/epochs = "two"/' tiny.toml > type.toml
expect_error 2 "type.toml:9: train.epochs" "$TB_BIN" run type.toml

# Sizes that could take the machine down are refused at parse time, before the DB exists.
{ cat tiny.toml; echo 'threads = 1000000'; } > threads.toml
expect_error 2 "threads.toml:12: train.threads: must be <= 256, got 1000000" "$TB_BIN" run threads.toml
{ cat tiny.toml; echo 'model = "custom"'; echo 'layers = ["dense(2000000000)"]'; } > huge.toml
expect_error 2 'huge.toml:13: train.layers: .*units 2000000000 is above the maximum of 65536' "$TB_BIN" run huge.toml
{ cat tiny.toml; echo 'model = "custom"'; echo 'layers = ["dense(64)", "relu", "dense(5)"]'; } > width.toml
expect_error 2 "width.toml:13: train.layers: the stack does not fit mnist .*dense(5): the last layer gives 5 outputs" \
  "$TB_BIN" run width.toml
# Three blocks of a million runs each: refused from the list lengths, before any expansion
# (expanding them took 48 s and 2.5 GB).
seeds=$(seq -s, 1 1000)
{ head -n 6 tiny.toml; for b in 1 2 3; do
    printf '[[train.block]]\nmethod = "fp"\nseed = [%s]\nlr = [%s]\n' "$seeds" "$seeds"; done; } > blocks.toml
expect_error 2 "blocks.toml:7: train.block\[0\]: the 3 blocks have 3000000 points in all, more than the 1000000 runs" \
  "$TB_BIN" plan blocks.toml
expect_error 2 "train.block\[0\] (line 7) 1000000 (seed 1000 x lr 1000)" "$TB_BIN" run blocks.toml
expect_error 2 "/dev/zero: the file has more than 4194304 bytes" "$TB_BIN" plan /dev/zero
# `run` takes threads from the sweep file only (they are part of each run's key): no flag
# overrides them (threads=N is an override of the file, by its rules).
expect_error 2 "ternbench run: unknown option --threads; see \`ternbench run --help\`" \
  "$TB_BIN" run tiny.toml --threads 1000000
[ ! -e results ] || fail "a bad config must not create results"

printf 'not an idx file at all' > "$TERNBENCH_DATA/mnist/train-labels-idx1-ubyte"
"$TB_BIN" run tiny.toml > run.log 2>&1 || true
grep -q "train-labels-idx1-ubyte" run.log || fail "corrupt data file not named: $(cat run.log)"

# An unknown flag is named with its subcommand, even beside another fault (a missing file).
expect_error 2 "^ternbench: error: ternbench run: unknown option --no-such-flag; see \`ternbench run --help\`$" \
  "$TB_BIN" run --no-such-flag=3 missing.toml
expect_error 2 "ternbench data fetch: unknown option --bar; see \`ternbench data fetch --help\`" \
  "$TB_BIN" data fetch --bar mnist
expect_error 2 "^ternbench: error: ternbench: unknown option --foo; see \`ternbench --help\`$" "$TB_BIN" --foo run tiny.toml
[ ! -e results ] || fail "a bad flag must not create results"
echo "bad input: OK"
