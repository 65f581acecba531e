# `ternbench merge` through the real binary: two jobs of one study that share runs, merged
# into a DB that `run` accepts as complete and whose weights paths still resolve; conflicts
# stop the merge (exit 3) unless a preference is given.
source "$(dirname "$0")/common.sh"

# Job a trains seeds 1 and 2; job b trains seeds 2 and 3. Seed 2 is trained twice: same
# binary, same config, so the same metrics.
sed 's/seed = \[1, 2\]/seed = [2, 3]/' tiny.toml > tiny_b.toml
"$TB_BIN" run tiny.toml --db a/tiny.sqlite > a.log
"$TB_BIN" run tiny_b.toml --db b/tiny.sqlite > b.log
sha_a=$(sha256sum a/tiny.sqlite | cut -d' ' -f1)

"$TB_BIN" merge a/tiny.sqlite b/tiny.sqlite -o merged/all.sqlite > merge.log 2> merge.err
cat merge.log merge.err
[ "$(grep -c ': identical in a/tiny.sqlite and b/tiny.sqlite; kept one copy' merge.log)" = 2 ] \
  || fail "the two seed-2 runs must be kept once each"
grep -q "merged 6 runs from 2 DBs into merged/all.sqlite" merge.log || fail "merge summary"
[ ! -s merge.err ] || fail "no warnings expected: $(cat merge.err)"
[ "$(sha256sum a/tiny.sqlite | cut -d' ' -f1)" = "$sha_a" ] || fail "merge modified an input"
m=merged/all.sqlite
[ "$(q $m "select count(*) from runs where status = 'done'")" = 6 ] || fail "expected 6 done runs"
[ "$(q $m "select count(*) from epochs")" = 12 ] || fail "expected 12 epoch rows"
[ "$(q $m "select count(*) from epoch_layers")" = 36 ] || fail "expected 12 epochs x 3 epoch layer rows"
[ "$(q $m "pragma user_version")" = 10 ] || fail "merged DB must have schema 10"
for w in $(q $m "select weights_path from runs"); do
  case "$w" in ../a/tiny-weights/*|../b/tiny-weights/*) ;; *) fail "weights path not rebased: $w" ;; esac
  /usr/bin/python3 -c "import h5py, sys; h5py.File(sys.argv[1], 'r')['dense0/W']" "merged/$w" \
    || fail "weights file merged/$w unreadable"
done
"$TB_BIN" run tiny.toml --db $m > rerun.log
grep -q "nothing to train" rerun.log || fail "the merged DB must hold every run of the sweep: $(cat rerun.log)"

set +e; "$TB_BIN" merge a/tiny.sqlite b/tiny.sqlite -o $m > /dev/null 2> exists.err; rc=$?; set -e
[ $rc -eq 2 ] && grep -q "exists; pass --force to replace it" exists.err || fail "existing -o: exit $rc"

# Job c: a copy of b where one shared run is only interrupted, and one where it finished with
# other numbers.
key=$(q b/tiny.sqlite "select run_key from runs where seed = 2 and method = 'twn'")
mkdir -p c d
cp b/tiny.sqlite c/tiny.sqlite
q c/tiny.sqlite "update runs set status = 'interrupted', test_acc = 0.1 where run_key = '$key'" > /dev/null
"$TB_BIN" merge c/tiny.sqlite a/tiny.sqlite -o cd.sqlite > interrupted.log
grep -q "run $key: kept the done run from a/tiny.sqlite over the interrupted one from c/tiny.sqlite" interrupted.log \
  || fail "done must win over interrupted: $(cat interrupted.log)"
[ "$(q cd.sqlite "select status from runs where run_key = '$key'")" = done ] || fail "kept the wrong copy"

cp b/tiny.sqlite d/tiny.sqlite
q d/tiny.sqlite "update runs set test_acc = 0.123 where run_key = '$key'" > /dev/null
set +e; "$TB_BIN" merge a/tiny.sqlite d/tiny.sqlite -o conflict.sqlite > conflict.log 2> conflict.err; rc=$?; set -e
cat conflict.err
[ $rc -eq 3 ] || fail "a conflict exits 3, got $rc"
grep -q "^CONFLICT run $key: test_acc differ between a/tiny.sqlite and d/tiny.sqlite" conflict.err \
  || fail "conflict line"
[ ! -e conflict.sqlite ] || fail "a conflicting merge must not write -o"
"$TB_BIN" merge a/tiny.sqlite d/tiny.sqlite -o conflict.sqlite --prefer-first > prefer.log
grep -q "kept a/tiny.sqlite's (--prefer-first)" prefer.log || fail "prefer-first note: $(cat prefer.log)"
[ "$(q conflict.sqlite "select test_acc != 0.123 from runs where run_key = '$key'")" = 1 ] || fail "prefer-first kept d's"
echo "e2e merge: OK"
