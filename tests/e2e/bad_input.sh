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
[ ! -e results ] || fail "a bad config must not create results"

printf 'not an idx file at all' > "$TERNBENCH_DATA/mnist/train-labels-idx1-ubyte"
"$TB_BIN" run tiny.toml > run.log 2>&1 || true
grep -q "train-labels-idx1-ubyte" run.log || fail "corrupt data file not named: $(cat run.log)"

expect_error 2 "" "$TB_BIN" run --no-such-flag tiny.toml
echo "bad input: OK"
