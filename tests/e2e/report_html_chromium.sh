# The HTML report in a real browser: headless Chromium loads report.html from a 4-run sweep,
# logs no console error, its DOM holds the tables and the inline SVG charts, and the
# screenshot is not blank. Skipped (exit 77) only when chromium is not installed;
# scripts/setup.sh installs it.
source "$(dirname "$0")/common.sh"

chromium_bin=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium_bin" ]; then
  echo "SKIP: chromium is not installed (scripts/setup.sh installs the Debian package chromium)"
  exit 77
fi

"$TB_BIN" run tiny.toml > run.log
"$TB_BIN" report tiny.toml --out rep > report.log
cat report.log
for f in report.md report.tex report.html cells.csv; do
  [ -s "rep/$f" ] || fail "rep/$f missing or empty"
  grep -qx "rep/$f" report.log || fail "report did not print the path rep/$f"
done

page="file://$WORK/rep/report.html"
run_chromium() {
  # A private profile: no first-run state, nothing shared with another test.
  timeout 120 "$chromium_bin" --headless --disable-gpu --no-sandbox --no-first-run \
    --user-data-dir="$WORK/chromium-profile" --enable-logging=stderr --v=0 "$@" "$page"
}
run_chromium --screenshot="$WORK/shot.png" --window-size=1280,1800 > chromium.out 2> chromium.err \
  || { cat chromium.err; fail "chromium --screenshot failed"; }
run_chromium --dump-dom > dom.html 2> dom.err || { cat dom.err; fail "chromium --dump-dom failed"; }

# Console messages are logged as CONSOLE lines; a missing resource as net::ERR_.
if grep -E "CONSOLE|net::ERR_|Uncaught" chromium.err dom.err; then
  fail "the page logged console errors (above)"
fi
grep -q '<table class="methods">' dom.html || fail "no method table in the rendered DOM"
# fp and twn: accuracy vs sparsity, vs bits, and the curves (no SCA, so no alpha charts).
[ "$(grep -o '<svg ' dom.html | wc -l)" -ge 3 ] || fail "fewer than 3 inline SVG charts in the DOM"
grep -q '<circle' dom.html || fail "no data point in any chart"

[ -s shot.png ] || fail "no screenshot written"
/usr/bin/python3 - shot.png <<'PY'
# Decodes the PNG (8-bit RGB/RGBA, non-interlaced, as Chromium writes it) and checks that
# the page is not blank: many pixels differ from the background and there are dark ones.
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
        bpp = 3 if ctype == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
rows = []
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    prev = line
grey = [sum(r[i:i + 3]) // 3 for r in rows[::4] for i in range(0, stride, bpp * 4)]
mean = sum(grey) / len(grey)
var = sum((g - mean) ** 2 for g in grey) / len(grey)
dark = sum(1 for g in grey if g < 128) / len(grey)
print(f"screenshot {w}x{h}: mean grey {mean:.1f}, variance {var:.1f}, dark share {dark:.4f}")
assert var > 50, "the screenshot is (nearly) uniform: a blank page"
assert dark > 0.002, "no dark pixels: no text rendered"
PY
echo "e2e report html in chromium: OK"
