# Warm starts (init_from): fp -> twn and fp -> sca through an init_from table. The sources
# train first, the dependents start from their weights; the same bytes come out in one
# process, under mpirun -n 3, and after a kill -9 in the middle of the dependent level. A
# source that diverges blocks its dependents (not failed, no attempt used), and bad
# init_from values stop the sweep with one line.
source "$(dirname "$0")/common.sh"
: "${MPIEXEC:?}"
"$TB_FIXTURE" "$TERNBENCH_DATA/mnist" 12000 200   # long enough dependents for the kill to land

cat > warm.toml <<'TOML'
[sweep]
name = "warm"

[train]
dataset = "mnist"
model = "custom"
layers = ["dense(256)", "relu", "dense(10)"]
epochs = 4
batch_size = 32
seed = [1, 2]

[[train.block]]
method = "twn"
init_from = { method = "fp", epochs = 2 }

[[train.block]]
method = "sca"
sca_alpha = [0.3, 0.6]
init_from = { method = "fp", epochs = 2 }
TOML
runs=8   # 2 fp sources (added by init_from), 2 twn, 4 sca

"$TB_BIN" plan warm.toml > plan.log
grep -q "runs in the file:   $runs" plan.log || { cat plan.log; fail "plan must count the sources"; }
grep -q "2 sources added by init_from tables" plan.log || { cat plan.log; fail "plan must name the added sources"; }
grep -q "level 0: 2 runs" plan.log && grep -q "level 1: 6 runs" plan.log || { cat plan.log; fail "plan must show the levels"; }

"$TB_BIN" run warm.toml --db embedded/warm.sqlite > embedded.log || { cat embedded.log; fail "embedded run failed"; }
db=embedded/warm.sqlite
[ "$(q $db "select count(*) from runs where status = 'done'")" = $runs ] || fail "expected $runs done runs"
[ "$(q $db "select count(*) from runs where init_from is not null")" = 6 ] || fail "6 runs must record their source"
# Every dependent names an fp run of its seed, and its canonical config carries that key.
q $db "select count(*) from runs d join runs s on s.run_key = d.init_from
       where s.method = 'fp' and s.seed = d.seed and s.epochs_done = 2
         and instr(d.config_toml, 'init_from = \"' || s.run_key || '\"') > 0" | grep -qx 6 ||
  fail "dependents must start from the fp run of their seed"
# Sources finish before their dependents start.
q $db "select count(*) from runs d join runs s on s.run_key = d.init_from where s.finished_at > d.started_at" |
  grep -qx 0 || fail "a dependent started before its source finished"
# A warm start changes the run: a twn run from scratch with the same settings differs.
cat > cold.toml <<'TOML'
[sweep]
name = "cold"
[train]
dataset = "mnist"
model = "custom"
layers = ["dense(256)", "relu", "dense(10)"]
epochs = 4
batch_size = 32
seed = 1
method = "twn"
TOML
"$TB_BIN" run cold.toml --db cold/cold.sqlite > cold.log
[ "$(q cold/cold.sqlite "select quote(test_loss) from runs")" != \
  "$(q $db "select quote(test_loss) from runs where method = 'twn' and seed = 1")" ] || fail "the warm start had no effect"

"$MPIEXEC" -n 3 --oversubscribe "$TB_BIN" run warm.toml --db np3/warm.sqlite > np3.log 2>&1 ||
  { cat np3.log; fail "mpirun -n 3 failed"; }
runs_sql="select run_key, status, init_from, data_sha256, config_toml, quote(train_loss), quote(test_loss),
          quote(test_acc), quote(sparsity), n_nonzero from runs order by run_key"
epochs_sql="select run_key, stage, epoch, quote(train_loss), quote(test_loss) from epochs order by 1, 2, 3"
for what in runs_sql epochs_sql; do
  [ "$(q $db "${!what}")" = "$(q np3/warm.sqlite "${!what}")" ] || fail "-n 3: $what differ from the embedded run"
done
(cd embedded/warm-weights && sha256sum *.h5) > embedded.sha
(cd np3/warm-weights && sha256sum *.h5) > np3.sha
cmp -s embedded.sha np3.sha || { diff embedded.sha np3.sha; fail "-n 3: weight files differ"; }
echo "warm start: identical results embedded and with -n 3"

# --- kill -9 in the middle of the dependent level ---------------------------------------
setsid "$MPIEXEC" -n 3 --oversubscribe "$TB_BIN" run warm.toml > kill1.log 2>&1 &
sid=$!
hit=0
for _ in $(seq 1 1200); do
  if [ -f results/warm.sqlite ]; then
    n=$(q results/warm.sqlite "select count(*) from runs where status = 'running' and init_from is not null" 2>/dev/null || echo 0)
    e=$(q results/warm.sqlite "select count(*) from epochs e join runs r using(run_key) where r.init_from is not null" 2>/dev/null || echo 0)
    [ "$n" -ge 1 ] && [ "$e" -ge 1 ] && { hit=1; break; }
  fi
  sleep 0.02
done
[ $hit = 1 ] || { cat kill1.log; fail "the sweep never reached a dependent run's first epoch"; }
kill -9 $(pgrep -s "$sid")
set +e; wait "$sid"; set -e
for _ in $(seq 1 100); do pgrep -s "$sid" > /dev/null || break; sleep 0.05; done
"$MPIEXEC" -n 3 --oversubscribe "$TB_BIN" run warm.toml > kill2.log 2>&1 || { cat kill2.log; fail "resume failed"; }
for what in runs_sql epochs_sql; do
  [ "$(q $db "${!what}")" = "$(q results/warm.sqlite "${!what}")" ] || fail "after kill -9: $what differ"
done
(cd results/warm-weights && sha256sum *.h5) > killed.sha
cmp -s embedded.sha killed.sha || { diff embedded.sha killed.sha; fail "after kill -9: weight files differ"; }
echo "warm start: kill -9 in the dependent level resumed to identical results"

# --- a source that does not finish blocks its dependents --------------------------------
cat > diverge.toml <<'TOML'
[sweep]
name = "diverge"
[train]
dataset = "mnist"
model = "custom"
layers = ["dense(64)", "relu", "dense(10)"]
epochs = 2
method = "twn"
init_from = { method = "fp", lr = 1e30 }
TOML
set +e; "$TB_BIN" run diverge.toml > diverge.log 2>&1; rc=$?; set -e
[ $rc = 4 ] || { cat diverge.log; fail "a sweep with blocked runs must exit 4, got $rc"; }
d=results/diverge.sqlite
[ "$(q $d "select status from runs where method = 'fp'")" = diverged ] || fail "the fp source should diverge"
[ "$(q $d "select status || ' ' || attempts from runs where method = 'twn'")" = "blocked 0" ] ||
  fail "its dependent must be blocked without using an attempt"
q $d "select error from runs where method = 'twn'" | grep -q "init_from source .* ended diverged" ||
  fail "the blocked run must say why"
grep -q "blocked" diverge.log || fail "the run log must show the blocked run"
# Still blocked on the next job, again without an attempt: its source is a result.
set +e; "$TB_BIN" run diverge.toml > diverge2.log 2>&1; rc=$?; set -e
[ $rc = 4 ] && [ "$(q $d "select status || ' ' || attempts from runs where method = 'twn'")" = "blocked 0" ] ||
  { cat diverge2.log; fail "a blocked run stays blocked while its source is diverged"; }

# --- bad init_from values: one line, exit 2, nothing written -----------------------------
bad() {  # bad NAME EXPECTED-TEXT TOML-LINES...
  local name=$1 want=$2; shift 2
  printf '[sweep]\nname = "%s"\n[train]\ndataset = "mnist"\nmethod = "twn"\nmodel = "custom"\nlayers = ["dense(64)", "relu", "dense(10)"]\n' "$name" > "$name.toml"
  printf '%s\n' "$@" >> "$name.toml"
  set +e; "$TB_BIN" run "$name.toml" > "$name.out" 2> "$name.err"; local rc=$?; set -e
  [ $rc = 2 ] || { cat "$name.err"; fail "$name: expected exit 2, got $rc"; }
  [ "$(wc -l < "$name.err")" = 1 ] || { cat "$name.err"; fail "$name: expected one line"; }
  grep -q -- "$want" "$name.err" || { cat "$name.err"; fail "$name: expected '$want'"; }
  [ ! -e "results/$name.sqlite" ] || fail "$name: a refused sweep must not create its DB"
}
bad unknown_key "run 0123456789abcdef is neither a run of this sweep nor in its results DB" 'init_from = "0123456789abcdef"'
bad not_a_key "train.init_from: expected a run key" 'init_from = "fp"'
bad other_model "a warm start needs the same network" 'init_from = { method = "fp", model = "mlp" }'
bad not_fp "a warm start starts from a full-precision run" 'init_from = { method = "bwn" }'
bad list_value "each of its keys takes one value" 'init_from = { method = "fp", seed = [1, 2] }'
bad typo "did you mean \"epochs\"" 'init_from = { method = "fp", epoch = 2 }'
echo "warm start: bad init_from values refused with one line"

# --- other data under a dataset name is refused before anything trains -----------------
"$TB_FIXTURE" "$TERNBENCH_DATA/mnist" 600 200 > /dev/null   # other bytes in data/mnist
sed 's/^seed = 1$/seed = 2/' cold.toml > cold2.toml
set +e; "$TB_BIN" run cold2.toml --db cold/cold.sqlite > cold2.out 2> cold2.err; rc=$?; set -e
[ $rc = 2 ] || { cat cold2.err; fail "other data under the same name must exit 2, got $rc"; }
[ "$(wc -l < cold2.err)" = 1 ] || { cat cold2.err; fail "expected one line"; }
grep -q "holds data with fingerprint [0-9a-f]*, but 1 finished mnist runs in cold/cold.sqlite were trained on" cold2.err ||
  { cat cold2.err; fail "the refusal must name both fingerprints and the DB"; }
[ "$(q cold/cold.sqlite "select count(*) from runs")" = 1 ] || fail "a refused job must not add runs"
echo "warm start: data of another content under the same name refused"
