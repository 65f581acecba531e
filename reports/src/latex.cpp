// The LaTeX report: a standalone article with booktabs tables (charts are in the HTML
// report; LaTeX cannot include SVG without an external converter).
#include "ternbench/reports/escape.hpp"
#include "ternbench/reports/report.hpp"
#include "tables.hpp"

namespace ternbench::reports {
namespace detail {

std::string latex_preamble(const std::string& title) {
  return "\\documentclass{article}\n"
         "\\usepackage[T1]{fontenc}\n"
         "\\usepackage[utf8]{inputenc}\n"
         "\\usepackage{booktabs}\n"
         "\\usepackage[margin=2cm,landscape]{geometry}\n"
         "\\begin{document}\n"
         "\\section*{" + latex_escape(title) + "}\n";
}

std::string latex_tabular(const std::vector<std::string>& header, const std::vector<bool>& numeric,
                          const std::vector<std::vector<std::string>>& rows) {
  std::string out = "\\begin{tabular}{";
  for (bool num : numeric) out += num ? "r" : "l";
  out += "}\n\\toprule\n";
  for (std::size_t i = 0; i < header.size(); ++i) { out += (i ? " & " : ""); out += header[i]; }
  out += " \\\\\n\\midrule\n";
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) { out += (i ? " & " : ""); out += row[i]; }
    out += " \\\\\n";
  }
  return out + "\\bottomrule\n\\end{tabular}\n";
}

}  // namespace detail

std::string render_latex(const Report& r) {
  const auto& st = detail::latex_style();
  std::string out = detail::latex_preamble(r.options.title);
  if (!r.options.source.empty()) out += "Source: \\texttt{" + latex_escape(r.options.source) + "}. ";
  out += latex_escape(detail::run_count_text(r)) + ".\n";
  if (r.cells.empty()) return out + "\nNo runs in the results DB yet.\n\\end{document}\n";

  for (const auto& sec : r.sections) {
    out += "\n\\subsection*{" + latex_escape(sec.dataset) + "}\n";
    detail::TextTable t = detail::method_table(r, sec, st);
    for (auto& row : t.rows) row.back() = "\\texttt{" + row.back() + "}";
    out += "\\begin{table}[ht]\n\\centering\n\\small\n";
    out += detail::latex_tabular(t.header, t.numeric, t.rows);
    out += "\\caption{" + latex_escape(sec.dataset) + ": test accuracy (mean $\\pm$ std [95\\% CI]) over seeds.}\n";
    out += "\\end{table}\n";
    if (t.any_few_seeds) out += "\n$^\\dagger$ " + latex_escape(detail::few_seeds_note(r.options.min_seeds)) + "\n";
    if (t.any_incomplete) out.append("\n").append(latex_escape(detail::incomplete_note())).append("\n");
    out += "\n\\noindent Runs behind each cell:\\\\\n{\\footnotesize\n";
    for (const Cell* c : t.cells)
      out += "\\texttt{" + c->id + "}: " + latex_escape(detail::runs_note(*c)) + "\\\\\n";
    out += "}\n";
  }
  out += "\n\\subsection*{Definitions}\n\\begin{itemize}\n";
  for (const auto& d : detail::definitions()) {
    std::string text = latex_escape(d);
    // The one non-ASCII symbol of the definitions.
    for (auto pos = text.find("±"); pos != std::string::npos; pos = text.find("±")) text.replace(pos, 2, "$\\pm$");
    out += "\\item " + text + "\n";
  }
  return out + "\\end{itemize}\n\\end{document}\n";
}

}  // namespace ternbench::reports
