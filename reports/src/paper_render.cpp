// Paper reports in Markdown, LaTeX and HTML: the spec's tables as grids of measured values
// with their verdicts, the claims with theirs, and the runs behind every cell.
#include <algorithm>
#include <cmath>
#include <set>

#include "ternbench/reports/escape.hpp"
#include "ternbench/reports/methods.hpp"
#include "ternbench/reports/paper.hpp"
#include "tables.hpp"

namespace ternbench::reports {
namespace {

std::string counts_text(const PaperResult& r) {
  std::string out;
  for (const char* v : {"reproduced", "deviates", "missing", "no reference"}) {
    const auto it = r.verdict_counts.find(v);
    const int n = it == r.verdict_counts.end() ? 0 : it->second;
    out += (out.empty() ? "" : ", ");
    out += std::to_string(n) + " " + v;
  }
  return out;
}

std::string header_text(const PaperResult& r, const std::string& db_path) {
  const PaperSpec& s = *r.spec;
  std::string out;
  if (!s.source.empty()) out += "Source: " + s.source + ". ";
  if (!s.description.empty()) out += s.description + " ";
  out += "Data: sweep " + s.sweep + ", DB " + db_path + ". A value is the mean over seeds of one cell (runs " +
         "differing only by seed) with at least " + std::to_string(s.min_seeds) +
         " finished seeds and no unfinished run; otherwise the verdict is missing.";
  return out;
}

// "8.95 ± 0.20 (n=3); ref 8.87 ± 0.50: reproduced" in one table cell.
std::string grid_text(const Outcome& o, const detail::Style& st, const std::string& bold_open,
                      const std::string& bold_close) {
  std::string out = o.measured.empty() ? st.missing : st.escape(o.measured);
  if (!o.expected.empty()) out += st.escape("; expected " + o.expected);
  if (o.verdict == Verdict::kNoReference) return out;  // a bare measurement: nothing to repeat
  return out + ": " + bold_open + verdict_name(o.verdict) + bold_close;
}

std::string ids_text(const Outcome& o) {
  std::string out;
  for (const auto& id : o.cell_ids) { out += (out.empty() ? "" : " "); out += id; }
  return out;
}

// The cells any outcome refers to, in report order.
std::vector<const Cell*> used_cells(const PaperResult& r) {
  std::set<std::string> ids;
  for (const auto& t : r.tables)
    for (const auto& row : t.grid)
      for (const auto& o : row) ids.insert(o.cell_ids.begin(), o.cell_ids.end());
  for (const auto& c : r.claims) ids.insert(c.outcome.cell_ids.begin(), c.outcome.cell_ids.end());
  std::vector<const Cell*> out;
  for (const auto& c : r.cells)
    if (ids.count(c.id)) out.push_back(&c);
  return out;
}

std::string cell_label(const Cell& c) {
  std::string out;
  for (const auto& [k, v] : c.config) {
    if (k != "dataset" && k != "model" && k != "method" && !is_control_key(k)) continue;
    out += (out.empty() ? "" : ", ");
    out += k + "=" + v.str();
  }
  return out;
}

}  // namespace

std::string render_paper_markdown(const PaperResult& r, const std::string& db_path) {
  const auto& st = detail::markdown_style();
  const PaperSpec& s = *r.spec;
  std::string out = "# " + md_escape(s.title) + "\n\n" + md_escape(header_text(r, db_path)) + "\n\n";
  out += "Verdicts: " + counts_text(r) + ".\n";
  for (const auto& t : r.tables) {
    out += "\n## " + md_escape(t.spec->title) + "\n\n|";
    out += " |";
    for (const auto& c : t.spec->columns) out += " " + md_escape(c.label) + " |";
    out += "\n|---|";
    for (std::size_t i = 0; i < t.spec->columns.size(); ++i) out += "---|";
    out += "\n";
    for (std::size_t i = 0; i < t.grid.size(); ++i) {
      out += "| " + md_escape(t.spec->rows[i].label) + " |";
      for (const auto& o : t.grid[i]) out.append(" ").append(grid_text(o, st, "**", "**")).append(" |");
      out += "\n";
    }
    out += "\n";
    for (std::size_t i = 0; i < t.grid.size(); ++i)
      for (std::size_t j = 0; j < t.grid[i].size(); ++j) {
        const Outcome& o = t.grid[i][j];
        std::string what = o.detail;
        if (!o.cell_ids.empty()) what += (what.empty() ? "cells " : "; cells ") + ids_text(o);
        if (what.empty()) continue;
        out += "- " + md_escape(t.spec->rows[i].label) + " / " + md_escape(t.spec->columns[j].label) + ": " +
               md_escape(what) + "\n";
      }
  }
  if (!r.claims.empty()) {
    out += "\n## Claims\n\n| claim | scope | measured | expected | verdict |\n|---|---|---|---|---|\n";
    for (const auto& c : r.claims) {
      const Outcome& o = c.outcome;
      out += "| " + md_escape(c.spec->text) + " | " + (c.scope.empty() ? st.missing : md_escape(c.scope)) + " | " +
             (o.measured.empty() ? st.missing : md_escape(o.measured)) + " | " +
             md_escape(o.expected) + " | **" + verdict_name(o.verdict) + "** |\n";
    }
    out += "\n";
    for (const auto& c : r.claims) {
      std::string what = c.outcome.detail;
      if (!c.outcome.cell_ids.empty()) what += (what.empty() ? "cells " : "; cells ") + ids_text(c.outcome);
      out += "- " + md_escape(c.spec->id) + (c.scope.empty() ? "" : " (" + md_escape(c.scope) + ")") + ": " +
             md_escape(what);
      if (!c.spec->source.empty()) out += ". Source: " + md_escape(c.spec->source);
      out += "\n";
    }
  }
  const auto cells = used_cells(r);
  if (!cells.empty()) {
    out += "\n## Cells\n\n";
    for (const Cell* c : cells) out += "- `" + c->id + "` " + md_escape(cell_label(*c)) + ": " + detail::runs_note(*c) + "\n";
  }
  return out;
}

std::string render_paper_latex(const PaperResult& r, const std::string& db_path) {
  const auto& st = detail::latex_style();
  const PaperSpec& s = *r.spec;
  std::string out = detail::latex_preamble(s.title);
  const auto tex = detail::latex_text;
  out += tex(header_text(r, db_path)) + "\n\nVerdicts: " + tex(counts_text(r)) + ".\n";
  for (const auto& t : r.tables) {
    out += "\n\\subsection*{" + tex(t.spec->title) + "}\n";
    std::vector<std::string> header{""};
    for (const auto& c : t.spec->columns) header.push_back(tex(c.label));
    std::vector<std::vector<std::string>> rows;
    for (std::size_t i = 0; i < t.grid.size(); ++i) {
      std::vector<std::string> row{tex(t.spec->rows[i].label)};
      for (const auto& o : t.grid[i]) {
        std::string cell = o.measured.empty() ? st.missing : tex(o.measured);
        if (!o.expected.empty()) cell += "; expected " + tex(o.expected);
        if (o.verdict != Verdict::kNoReference) cell += ": \\textbf{" + std::string(verdict_name(o.verdict)) + "}";
        row.push_back(cell);
      }
      rows.push_back(std::move(row));
    }
    out += "{\\small\n" + detail::latex_wrapping_tabular(header, rows) + "}\n";
  }
  if (!r.claims.empty()) {
    out += "\n\\subsection*{Claims}\n{\\small\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : r.claims) {
      const Outcome& o = c.outcome;
      rows.push_back({tex(c.spec->text), tex(c.scope), o.measured.empty() ? st.missing : tex(o.measured), tex(o.expected),
                      std::string("\\textbf{") + verdict_name(o.verdict) + "}"});
    }
    out += detail::latex_wrapping_tabular({"claim", "scope", "measured", "expected", "verdict"}, rows) +
           "}\n\\begin{itemize}\n";
    for (const auto& c : r.claims) {
      std::string what = c.outcome.detail;
      if (!c.outcome.cell_ids.empty()) what += (what.empty() ? "cells " : "; cells ") + ids_text(c.outcome);
      out += "\\item " + tex(c.spec->id + (c.scope.empty() ? "" : " (" + c.scope + ")") + ": " + what) + "\n";
    }
    out += "\\end{itemize}\n";
  }
  const auto cells = used_cells(r);
  if (!cells.empty()) {
    out += "\n\\subsection*{Cells}\n{\\footnotesize\n";
    for (const Cell* c : cells)
      out += "\\texttt{" + c->id + "} " + tex(cell_label(*c)) + ": " + tex(detail::runs_note(*c)) + "\\\\\n";
    out += "}\n";
  }
  return out + "\\end{document}\n";
}

std::string render_paper_table_latex(const PaperResult& r, const TableResult& t) {
  const TableSpec& spec = *t.spec;
  const int d = spec.decimals;
  std::vector<std::vector<std::size_t>> bold(spec.columns.size());
  for (std::size_t j = 0; j < spec.columns.size(); ++j) {
    std::vector<double> means;
    for (const auto& row : t.grid) means.push_back(row[j].stats ? row[j].stats->mean : std::nan(""));
    bold[j] = detail::best_rows(means, spec.columns[j].best.empty() ? spec.best : spec.columns[j].best, d);
  }
  std::string out = "% " + spec.title + " (ternbench paper spec " + r.spec->name +
                    "). \\input this file in a document that loads booktabs and graphicx.\n";
  out += "\\begin{table}[tbp]\n\\centering\n\\caption{" + detail::latex_text(spec.title) +
         ": mean $\\pm$ sample standard deviation over seeds";
  bool any_bold = false;
  for (const auto& b : bold) any_bold = any_bold || !b.empty();
  out += any_bold ? "; bold: the best value of each column.}\n" : ".}\n";
  out += "\\label{" + latex_table_label(spec.id) + "}\n";
  std::string tab = "\\begin{tabular}{l" + std::string(spec.columns.size(), 'r') + "}\n\\toprule\n";
  for (const auto& c : spec.columns) tab += " & " + detail::latex_text(c.label);
  tab += " \\\\\n\\midrule\n";
  for (std::size_t i = 0; i < t.grid.size(); ++i) {
    tab += detail::latex_text(spec.rows[i].label);
    for (std::size_t j = 0; j < t.grid[i].size(); ++j) {
      const Outcome& o = t.grid[i][j];
      tab += " & ";
      if (!o.stats) { tab += "--"; continue; }
      const std::string mean = fixed(o.stats->mean, d);
      tab += std::count(bold[j].begin(), bold[j].end(), i) ? "\\textbf{" + mean + "}" : mean;
      if (o.stats->n >= 2) tab += " $\\pm$ " + fixed(o.stats->std, d);
    }
    tab += " \\\\\n";
  }
  return out + detail::latex_fit_width(tab + "\\bottomrule\n\\end{tabular}\n") + "\\end{table}\n";
}

std::string render_paper_html(const PaperResult& r, const std::string& db_path) {
  const auto& st = detail::html_style();
  const PaperSpec& s = *r.spec;
  std::string out = detail::html_head(s.title);
  out += "<p>" + xml_escape(header_text(r, db_path)) + "</p>\n<p>Verdicts: " + xml_escape(counts_text(r)) + ".</p>\n";
  auto verdict_span = [](Verdict v) {
    std::string cls = verdict_name(v);
    for (auto& ch : cls)
      if (ch == ' ') ch = '-';
    return "<span class=\"verdict-" + cls + "\">" + verdict_name(v) + "</span>";
  };
  for (const auto& t : r.tables) {
    out += "<h2>" + xml_escape(t.spec->title) + "</h2>\n";
    std::vector<std::string> header{""};
    std::vector<bool> numeric{false};
    for (const auto& c : t.spec->columns) {
      header.push_back(xml_escape(c.label));
      numeric.push_back(false);
    }
    std::vector<std::vector<std::string>> rows;
    for (std::size_t i = 0; i < t.grid.size(); ++i) {
      std::vector<std::string> row{xml_escape(t.spec->rows[i].label)};
      for (const auto& o : t.grid[i]) {
        std::string cell = o.measured.empty() ? st.missing : xml_escape(o.measured);
        if (!o.expected.empty()) cell += "<br/>expected " + xml_escape(o.expected);
        if (o.verdict != Verdict::kNoReference) cell += "<br/>" + verdict_span(o.verdict);
        if (!o.detail.empty()) cell += "<br/><small>" + xml_escape(o.detail) + "</small>";
        row.push_back(cell);
      }
      rows.push_back(std::move(row));
    }
    out += detail::html_table(header, numeric, rows, "paper-table");
  }
  if (!r.claims.empty()) {
    out += "<h2>Claims</h2>\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : r.claims) {
      const Outcome& o = c.outcome;
      std::string text = xml_escape(c.spec->text);
      if (!c.spec->source.empty()) text += "<br/><small>" + xml_escape(c.spec->source) + "</small>";
      rows.push_back({text, c.scope.empty() ? st.missing : xml_escape(c.scope),
                      o.measured.empty() ? st.missing : xml_escape(o.measured),
                      xml_escape(o.expected),
                      verdict_span(o.verdict) + (o.detail.empty() ? "" : "<br/><small>" + xml_escape(o.detail) + "</small>")});
    }
    out += detail::html_table({"claim", "scope", "measured", "expected", "verdict"}, {false, false, false, false, false},
                              rows, "claims");
  }
  const auto cells = used_cells(r);
  if (!cells.empty()) {
    out += "<h2>Cells</h2>\n<ul class=\"cells\">\n";
    for (const Cell* c : cells)
      out += "<li id=\"cell-" + c->id + "\"><code>" + c->id + "</code> " + xml_escape(cell_label(*c)) + ": " +
             xml_escape(detail::runs_note(*c)) + "</li>\n";
    out += "</ul>\n";
  }
  return out + "</body>\n</html>\n";
}

std::string render_paper_cells_csv(const PaperResult& r) {
  std::string out = "cell,dataset,model,method,config,complete,n_runs,n_done,averaged_run_keys,all_run_keys\n";
  for (const Cell* c : used_cells(r)) {
    std::string done, all, config;
    for (const auto& k : c->done_keys) done.append(done.empty() ? "" : " ").append(k);
    for (const auto& k : c->run_keys) all.append(all.empty() ? "" : " ").append(k);
    for (const auto& [k, v] : c->config) config.append(config.empty() ? "" : " ").append(k).append("=").append(v.str());
    const std::string row[] = {c->id, c->dataset, c->model, c->method, config, c->complete() ? "yes" : "no",
                               std::to_string(c->n_runs()), std::to_string(c->n_done()), done, all};
    for (std::size_t j = 0; j < std::size(row); ++j) { out += (j ? "," : ""); out += csv_field(row[j]); }
    out += "\n";
  }
  return out;
}

}  // namespace ternbench::reports
