# The LaTeX a paper pastes: report's tables/<dataset>.tex and a paper spec's tables/<id>.tex
# \input into a bare article, the charts/*.pdf \includegraphics'ed, report.tex of both kinds
# compiled as they are; a long claim wraps (no overfull line). Runs pdflatex; skipped (exit
# 77) when it is not installed (Debian: texlive-latex-base and texlive-latex-recommended).
source "$(dirname "$0")/common.sh"

if ! command -v pdflatex > /dev/null; then
  echo "SKIP: pdflatex is not installed (apt-get install texlive-latex-base texlive-latex-recommended)"
  exit 77
fi
for sty in booktabs longtable graphicx geometry; do
  kpsewhich "$sty.sty" > /dev/null || { echo "SKIP: LaTeX package $sty is not installed"; exit 77; }
done

latex() {  # latex DIR FILE: compile, fail with the log's errors
  (cd "$1" && pdflatex -interaction=nonstopmode -halt-on-error "$2" > /dev/null 2>&1) \
    || { grep -A3 '^!' "$1/${2%.tex}.log" >&2; fail "pdflatex $1/$2 failed"; }
}

"$TB_BIN" run tiny.toml > run.log
"$TB_BIN" report tiny.toml --out rep --format tex > report.log
[ -s rep/tables/mnist.tex ] || fail "no rep/tables/mnist.tex"
ls rep/charts/*.pdf > /dev/null || fail "no PDF charts"
grep -q 'TWN & ' rep/tables/mnist.tex || fail "method names are not the printed ones: $(cat rep/tables/mnist.tex)"
grep -q '\\textbf{' rep/tables/mnist.tex || fail "no best value in bold"
grep -q '\\label{tab:mnist}' rep/tables/mnist.tex || fail "no label"

latex rep report.tex
[ -s rep/report.pdf ] || fail "report.tex gave no PDF"

# A paper spec with a long claim: its table and the full report compile, and nothing overflows.
cat > long.toml <<'TOML'
[paper]
name = "long"
title = "Long claims"
sweep = "tiny.toml"
min_seeds = 2

[[table]]
id = "acc"
title = "Accuracy (%)"
where = { dataset = "mnist" }
metric = "100 * test_acc"
best = "max"
  [[table.row]]
  label = "fp"
  where = { method = "fp" }
  [[table.row]]
  label = "twn"
  where = { method = "twn" }
  [[table.column]]
  label = "accuracy"

[[claim]]
id = "twn_vs_fp"
text = "TWN trained with the same budget and the same schedule as the full-precision network stays within one hundred points of its test accuracy on every dataset and model of the sweep, which is a long sentence on purpose"
kind = "within"
where = { method = "twn" }
metric = "100 * test_acc"
baseline = { where = { method = "fp" } }
max_gap = 100
for_each = ["dataset", "model"]
TOML
"$TB_BIN" report --paper long.toml --out paper --format tex > paper.log
[ -s paper/tables/acc.tex ] || fail "no paper/tables/acc.tex"
# A bare article as a paper would have: both tables \input, every chart \includegraphics'ed.
{
  printf '\\documentclass{article}\n\\usepackage{booktabs}\n\\usepackage{graphicx}\n\\begin{document}\n'
  printf 'Table~\\ref{tab:mnist}.\n\\input{rep/tables/mnist}\n\\input{paper/tables/acc}\n'
  for f in rep/charts/*.pdf; do printf '\\par\\noindent\\includegraphics[width=\\linewidth]{%s}\n' "$f"; done
  printf '\\end{document}\n'
} > paper.tex
latex . paper.tex
if grep -A2 'Overfull \\hbox' paper.log; then fail "a pasted table or chart is wider than the text (above)"; fi
grep -q 'newlabel{tab:mnist}' paper.aux || fail "tables/mnist.tex defines no label tab:mnist"
grep -q 'newlabel{tab:acc}' paper.aux || fail "paper/tables/acc.tex defines no label tab:acc"
latex paper report.tex
if grep -A2 'Overfull \\[hv]box' paper/report.log; then fail "paper/report.tex runs off the page (above)"; fi
echo "e2e report latex: OK"
