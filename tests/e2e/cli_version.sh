# `ternbench --version` prints the version, the commit and the library versions that every
# run records (runs.git_commit, runs.git_dirty, runs.versions), and exits 0.
source "$(dirname "$0")/common.sh"
"$TB_BIN" --version > version.txt
[ "$(wc -l < version.txt)" -eq 3 ] || fail "expected three lines: $(cat version.txt)"
grep -qE '^ternbench [0-9]+\.[0-9]+\.[0-9]+$' version.txt || fail "first line: $(cat version.txt)"
"$TB_BIN" run tiny.toml > run.log
commit=$(q results/tiny.sqlite "select git_commit || case git_dirty when 1 then ' (dirty)' else '' end from runs limit 1")
versions=$(q results/tiny.sqlite "select versions from runs limit 1")
[ "$(sed -n 2p version.txt)" = "commit $commit" ] || fail "commit line '$(sed -n 2p version.txt)' is not the runs' '$commit'"
[ "$(sed -n 3p version.txt)" = "$versions" ] || fail "versions line '$(sed -n 3p version.txt)' is not the runs' '$versions'"
grep -q "hdf5=" version.txt && grep -q "sqlite=" version.txt || fail "library versions missing"
echo "cli version: OK"
