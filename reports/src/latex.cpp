// The LaTeX report: a standalone article with booktabs tables and the charts as PDF
// figures; and, per dataset, a table a paper can \input (tables/<dataset>.tex).
#include <algorithm>
#include <cmath>
#include <functional>

#include "ternbench/reports/escape.hpp"
#include "ternbench/reports/methods.hpp"
#include "ternbench/reports/report.hpp"
#include "tables.hpp"

namespace ternbench::reports {
namespace {

// "a & b & c \\" and a newline.
std::string latex_row(const std::vector<std::string>& cells) {
  std::string out;
  for (std::size_t i = 0; i < cells.size(); ++i) out += (i ? " & " : "") + cells[i];
  return out + " \\\\\n";
}

}  // namespace

namespace detail {

std::string latex_preamble(const std::string& title) {
  return "\\documentclass{article}\n"
         "\\usepackage[T1]{fontenc}\n"
         "\\usepackage[utf8]{inputenc}\n"
         "\\usepackage{booktabs}\n"
         "\\usepackage{array}\n"
         "\\usepackage{longtable}\n"
         "\\usepackage{graphicx}\n"
         "\\usepackage[margin=2cm,landscape]{geometry}\n"
         "\\begin{document}\n"
         "\\section*{" + latex_escape(title) + "}\n";
}

std::string latex_tabular(const std::vector<std::string>& header, const std::vector<bool>& numeric,
                          const std::vector<std::vector<std::string>>& rows) {
  std::string out = "\\begin{tabular}{";
  for (bool num : numeric) out += num ? "r" : "l";
  out += "}\n\\toprule\n" + latex_row(header) + "\\midrule\n";
  for (const auto& row : rows) out += latex_row(row);
  return out + "\\bottomrule\n\\end{tabular}\n";
}

std::string latex_wrapping_tabular(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  // longtable: breaks across pages; equal paragraph columns that fill the line exactly.
  const std::string n = std::to_string(header.size());
  const std::string width = "p{\\dimexpr(\\linewidth-" + std::to_string(2 * (header.size() - 1)) + "\\tabcolsep)/" + n + "\\relax}";
  std::string out = "\\begin{longtable}{@{}";
  for (std::size_t i = 0; i < header.size(); ++i) out += ">{\\raggedright\\arraybackslash}" + width;
  out += "@{}}\n\\toprule\n" + latex_row(header) + "\\midrule\n\\endhead\n";
  for (const auto& row : rows) out += latex_row(row);
  return out + "\\bottomrule\n\\end{longtable}\n";
}

// Shrinks a table wider than the text to the text width (a paper's column is narrow).
std::string latex_fit_width(const std::string& tabular) {
  return "\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%\n" + tabular + "}\n";
}

std::string latex_text(const std::string& text) {
  std::string e = latex_escape(text);
  for (auto pos = e.find("±"); pos != std::string::npos; pos = e.find("±")) e.replace(pos, 2, "$\\pm$");
  return e;
}

std::vector<std::size_t> best_rows(const std::vector<double>& values, const std::string& best, int decimals) {
  std::vector<std::size_t> out;
  if (best != "max" && best != "min") return out;
  std::string top;  // compared as printed: equal-looking values are all bold
  double top_value = 0;
  for (double v : values) {
    if (std::isnan(v)) continue;
    if (top.empty() || (best == "max" ? v > top_value : v < top_value)) {
      top_value = v;
      top = fixed(v, decimals);
    }
  }
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!top.empty() && !std::isnan(values[i]) && fixed(values[i], decimals) == top) out.push_back(i);
  return out;
}

}  // namespace detail

std::string latex_table_label(const std::string& id) {
  std::string out = "tab:";
  for (char c : id) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '-';
  return out;
}

std::string render_latex_table(const Report& r, const DatasetSection& sec) {
  const double nan = std::nan("");
  std::vector<std::string> header;
  std::string align;
  if (sec.many_models) { header.push_back("Model"); align += "l"; }
  header.push_back("Method");
  align += "l";
  for (const auto& k : sec.label_keys) { header.push_back(latex_escape(k)); align += "r"; }
  // Numeric columns: metric, header, decimals, scale, which is best, suffix.
  struct Col {
    const char* metric;
    const char* title;
    int decimals;
    double scale;
    const char* best;
    const char* suffix;
  };
  const Col cols[] = {{"test_acc", "Accuracy (\\%)", 2, 100, "max", ""},
                      {"sparsity", "Sparsity", 3, 1, "max", ""},
                      {"natural_bpw", "Bits/weight", 2, 1, "min", ""},
                      {"natural_ratio", "vs fp32", 1, 1, "max", "$\\times$"}};
  for (const Col& c : cols) { header.push_back(c.title); align += "r"; }
  header.push_back("$n$");
  align += "r";

  std::vector<std::vector<double>> values(std::size(cols));
  for (std::size_t i : sec.cells)
    for (std::size_t j = 0; j < std::size(cols); ++j) {
      const SeedStats* s = r.cells[i].stat(cols[j].metric);
      // An unfinished cell's numbers will change: it cannot be the best of a column.
      values[j].push_back(s && r.cells[i].complete() ? s->mean * cols[j].scale : nan);
    }
  std::vector<std::vector<std::size_t>> bold(std::size(cols));
  for (std::size_t j = 0; j < std::size(cols); ++j) bold[j] = detail::best_rows(values[j], cols[j].best, cols[j].decimals);

  bool few = false, incomplete = false, chance = false;
  std::string body;
  for (std::size_t row = 0; row < sec.cells.size(); ++row) {
    const Cell& c = r.cells[sec.cells[row]];
    std::vector<std::string> cells;
    if (sec.many_models) cells.push_back(latex_escape(c.model));
    cells.push_back(latex_escape(method_title(c.method)));
    for (const auto& k : sec.label_keys) {
      const auto it = c.config.find(k);
      cells.push_back(it == c.config.end() ? "--" : latex_escape(it->second.str()));
    }
    for (std::size_t j = 0; j < std::size(cols); ++j) {
      const SeedStats* s = c.stat(cols[j].metric);
      if (!s) { cells.push_back("--"); continue; }
      std::string v = fixed(s->mean * cols[j].scale, cols[j].decimals);
      if (std::count(bold[j].begin(), bold[j].end(), row)) v = "\\textbf{" + v + "}";
      if (j == 0 && s->n >= 2) v += " $\\pm$ " + fixed(s->std * cols[j].scale, cols[j].decimals);
      v += cols[j].suffix;
      if (j == 0) {
        if (c.n_done() < r.options.min_seeds) { v += "$^\\dagger$"; few = true; }
        if (!c.chance_keys.empty()) { v += "$^\\ddagger$"; chance = true; }
        if (!c.complete()) { v += "$^*$"; incomplete = true; }
      }
      cells.push_back(v);
    }
    cells.push_back(std::to_string(c.n_done()));
    for (std::size_t i = 0; i < cells.size(); ++i) { body += (i ? " & " : ""); body += cells[i]; }
    body += " \\\\\n";
  }

  std::string out = "% " + sec.dataset + " (ternbench report). \\input this file in a document that loads booktabs and graphicx.\n";
  out += "\\begin{table}[tbp]\n\\centering\n\\caption{" + latex_escape(sec.dataset) +
         ": test accuracy (mean $\\pm$ sample standard deviation over $n$ seeds), sparsity, bits per weight "
         "under each method's natural encoding, and compression against fp32. Bold: the best value of each column among "
         "the finished cells.}\n";
  out += "\\label{" + latex_table_label(sec.dataset) + "}\n";
  std::string tabular = "\\begin{tabular}{" + align + "}\n\\toprule\n";
  for (std::size_t i = 0; i < header.size(); ++i) { tabular += (i ? " & " : ""); tabular += header[i]; }
  tabular += " \\\\\n\\midrule\n" + body + "\\bottomrule\n\\end{tabular}\n";
  out += detail::latex_fit_width(tabular);
  std::string notes;
  if (few) notes += "$^\\dagger$ fewer than " + std::to_string(r.options.min_seeds) + " seeds. ";
  if (chance) notes += "$^\\ddagger$ a run at chance level. ";
  if (incomplete) notes += "$^*$ unfinished runs: the numbers will change. ";
  if (!notes.empty()) out += "\n\\smallskip\\footnotesize " + notes.substr(0, notes.size() - 1) + "\n";
  return out + "\\end{table}\n";
}

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
    if (t.any_chance) out.append("\n$^\\ddagger$ ").append(latex_escape(detail::chance_note(t.cells))).append("\n");
    out += "\n\\noindent Runs behind each cell:\\\\\n{\\footnotesize\n";
    for (const Cell* c : t.cells)
      out += "\\texttt{" + c->id + "}: " + latex_escape(detail::runs_note(*c)) + "\\\\\n";
    out += "}\n";
    for (const auto& ch : sec.charts) {
      std::string caption = ch.title + ".";
      for (const auto& n : ch.notes) caption += " " + n;
      out += "\n\\begin{figure}[ht]\n\\centering\n\\includegraphics[width=0.8\\linewidth]{charts/" + ch.id +
             ".pdf}\n\\caption{" + detail::latex_text(caption) + "}\n\\end{figure}\n";
    }
    out += "\\clearpage\n";
  }
  out += "\n\\subsection*{Definitions}\n\\begin{itemize}\n";
  for (const auto& d : detail::definitions()) out += "\\item " + detail::latex_text(d) + "\n";
  return out + "\\end{itemize}\n\\end{document}\n";
}

}  // namespace ternbench::reports
