# The live progress line as a terminal shows it (a pseudo-terminal): each running run's
# epoch e/E, the elapsed time and an ETA appear before the first run finishes; the run lines
# name the swept keys that tell the runs apart, and no line is ever written over or after
# the live line (each is printed after clearing it).
source "$(dirname "$0")/common.sh"
"$TB_FIXTURE" "$TERNBENCH_DATA/mnist" 4000 200

cat > grid.toml <<'TOML'
[sweep]
name = "grid"

[train]
dataset = "mnist"
method = "fp"
model = "custom"
layers = ["dense(64)", "relu", "dense(10)"]
epochs = 3
batch_size = 32
lr = [0.05, 0.1]
momentum = [0.5, 0.9]
TOML

unset TERNBENCH_PROGRESS
/usr/bin/python3 - "$TB_BIN" <<'PY' || fail "progress on a terminal"
import os, pty, re, sys

pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "run", "grid.toml"])
out = b""
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:  # EIO: the child closed the terminal
        break
    if not data:
        break
    out += data
_, status = os.waitpid(pid, 0)
text = out.decode().replace("\r\n", "\n")  # the terminal's own line ends
open("pty.log", "w").write(text)
assert os.waitstatus_to_exitcode(status) == 0, text

first_run = text.find("[1/4] ")
assert first_run > 0, text
before = text[:first_run]
live = r"\r\x1b\[K\[0/4 done, 1 running \(epoch [1-3]/3\), 0 failed, \d+ s elapsed, ETA \d+ (s|min)\]"
assert re.search(live, before), "no live line with epoch e/3, elapsed time and ETA before the first run finished:\n" + repr(before)

# What the terminal shows: of each line, what follows the last clearing of it.
shown = [line.split("\r\x1b[K")[-1] for line in text.split("\n")]
for line in shown:
    assert not re.match(r"\[\d+/\d+ done", line), "a line was written after the live line: " + repr(line)
runs = [l for l in shown if re.match(r"\[\d/4\] mnist custom fp seed=1 lr=0\.\d+ momentum=0\.\d: test acc", l)]
assert len(runs) == 4, "expected 4 run lines naming lr and momentum:\n" + "\n".join(shown)
labels = {l.split(": ")[0].split("] ")[1] for l in runs}
assert len(labels) == 4, "run lines should tell the runs apart: " + repr(labels)
assert re.search(r"^grid: 4 runs to train on 1 worker; ", text, re.M), text
print("OK:", *runs, sep="\n")
PY

# Not a terminal (a Slurm log): the periodic lines carry the same epochs and times.
rm -rf results
TERNBENCH_PROGRESS_INTERVAL=0.02 "$TB_BIN" run grid.toml > lines.log
grep -qE "^progress: 0/4 done, 1 running \(epoch [0-3]/3\), 0 failed, [0-9]+ s elapsed, ETA [0-9]+ (s|min)$" lines.log ||
  fail "no periodic line with the running run's epoch and an ETA before the first run finished: $(head -5 lines.log)"
! grep -q $'\r' lines.log || fail "a log must not get carriage returns"
grep -q "^\[1/4\] mnist custom fp seed=1 lr=0.05 momentum=0.5: test acc" lines.log || fail "run lines: $(cat lines.log)"
