# key=value overrides, --only and plan --list from the command line: an override gives the
# run keys of the edited file and the DB records the overridden config; bad overrides and
# filters are one line, exit 2, and leave the DB as it was; a sweep given wholly on the
# command line goes to results/cli.sqlite.
source "$(dirname "$0")/common.sh"
db=results/tiny.sqlite

# expect_refused CODE PATTERN CMD...: exit CODE, one line on stderr matching PATTERN.
expect_refused() {
  local want=$1 pattern=$2 rc=0
  shift 2
  "$TB_BIN" "$@" > out.log 2> err.log || rc=$?
  [ "$rc" = "$want" ] || fail "$* exited $rc, expected $want: $(cat err.log)"
  [ "$(wc -l < err.log)" = 1 ] || fail "$*: expected one line: $(cat err.log)"
  grep -qF -- "$pattern" err.log || fail "$*: expected '$pattern' in: $(cat err.log)"
}

# Refused before anything is written: no DB.
expect_refused 2 "command line: epochs=abc: expected an integer, got string" run tiny.toml epochs=abc
expect_refused 2 'command line: train.epoch=1: unknown key; did you mean "epochs"?' run tiny.toml train.epoch=1
expect_refused 2 "command line: --only metod=fp: unknown key \"metod\"; did you mean \"method\"?" \
  run tiny.toml --only metod=fp
[ ! -e $db ] || fail "a refused run created the DB"

# One run of the grid, overridden to one epoch.
# Each --only takes one value, so the sweep words may come after it.
"$TB_BIN" run --only method=twn tiny.toml epochs=1 --only seed=1 > run.log
[ "$(q $db "select count(*) from runs where status='done'")" = 1 ] || fail "expected 1 done run"
[ "$(q $db "select method || ' ' || seed from runs")" = "twn 1" ] || fail "wrong run trained"
q $db "select config_toml from runs" | grep -qx "epochs = 1" || fail "the DB must record the overridden config"
key=$(q $db "select run_key from runs")

# The file edited to epochs = 1 names the same run, done; the others are new.
sed 's/^epochs = 2$/epochs = 1/' tiny.toml > tiny1.toml
"$TB_BIN" plan tiny1.toml --list > plan.log
grep -qE "^  $key  method=twn +seed=1  done +skip" plan.log || fail "plan --list: $(cat plan.log)"
[ "$(grep -cE '^  [0-9a-f]{16}  .* new +will run' plan.log)" = 3 ] || fail "plan --list: 3 new runs: $(cat plan.log)"
"$TB_BIN" plan tiny.toml epochs=1 --only method=twn > plan2.log
grep -q "runs in the file:   2" plan2.log || fail "plan --only: $(cat plan2.log)"
grep -q "selected by --only:  2 of 4 runs" plan2.log || fail "plan --only: $(cat plan2.log)"
grep -q "in the DB but no longer in the file: 0" plan2.log || fail "plan --only: $(cat plan2.log)"
"$TB_BIN" status tiny.toml epochs=1 --only seed=1 --only method=twn > status.log
grep -q "1/1 done" status.log || fail "status --only: $(cat status.log)"
"$TB_BIN" report tiny.toml epochs=1 --only method=twn --format md --out rep > report.log
grep -q "^| mlp | twn " rep/report.md || fail "report --only: no twn row"
grep -q "^| mlp | fp " rep/report.md && fail "report --only: the fp runs were not selected"

# Bad filters and overrides on an existing DB leave it as it was.
before=$(sqlite3 $db .dump | sha256sum)
expect_refused 2 "command line: --only seed=7: no run of the sweep has seed = 7; its runs have 1, 2" \
  run tiny.toml epochs=1 --only seed=7
expect_refused 2 "command line: delta_factor=0.5: applies only to method twn, but method is fp" \
  run tiny.toml method=fp delta_factor=0.5
expect_refused 2 "command line: seed=[1,2: bad list" plan tiny.toml 'seed=[1,2'
expect_refused 2 "command line: --only method=fp: no run of the sweep has method = \"fp\"" \
  report tiny.toml method=twn --only method=fp
printf '[train]\n\nepochs = 0\n' > bad_set.toml
expect_refused 2 "bad_set.toml:3: train.epochs: must be >= 1, got 0" run tiny.toml --set-file bad_set.toml
[ "$(sqlite3 $db .dump | sha256sum)" = "$before" ] || fail "a refused command changed the DB"

# A set file is the same edit as the override.
printf '[train]\nepochs = 1\n' > one_epoch.toml
"$TB_BIN" plan tiny.toml --set-file one_epoch.toml --only method=twn --list > plan3.log
grep -qE "^  $key  seed=1  done +skip" plan3.log || fail "plan --set-file: $(cat plan3.log)"

expect_refused 2 "--only selects runs of a sweep; give the sweep file" report --db $db --only method=twn

# A sweep given wholly on the command line.
expect_refused 2 "give a sweep file, or a sweep on the command line" run
"$TB_BIN" run --model mlp --dataset mnist method=fp epochs=1 batch_size=32 train_limit=200 > cli.log
[ "$(q results/cli.sqlite "select sweep || ' ' || method || ' ' || status from runs")" = "cli fp done" ] \
  || fail "command-line sweep: $(cat cli.log)"
echo "sweep overrides ok"
