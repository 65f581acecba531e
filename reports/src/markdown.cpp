// The Markdown report: GitHub-flavoured tables with footnotes for the run keys, and links
// to the charts as separate SVG files (Markdown cannot hold them inline).
#include "ternbench/reports/escape.hpp"
#include "ternbench/reports/report.hpp"
#include "tables.hpp"

namespace ternbench::reports {

std::string render_markdown(const Report& r, const std::string& chart_dir) {
  const auto& st = detail::markdown_style();
  std::string out = "# " + md_escape(r.options.title) + "\n\n";
  if (!r.options.source.empty()) out += "Source: `" + r.options.source + "`. ";
  out += detail::run_count_text(r) + ".\n";
  if (r.cells.empty()) return out + "\nNo runs in the results DB yet.\n";

  for (const auto& sec : r.sections) {
    out += "\n## " + md_escape(sec.dataset) + "\n\n";
    const detail::TextTable t = detail::method_table(r, sec, st);
    out += "|";
    for (const auto& h : t.header) out += " " + h + " |";
    out += "\n|";
    for (bool num : t.numeric) out += num ? "---:|" : "---|";
    out += "\n";
    for (const auto& row : t.rows) {
      out += "|";
      for (std::size_t i = 0; i < row.size(); ++i) {
        // The cell id carries a footnote with its run keys.
        out += i + 1 == row.size() ? " " + row[i] + "[^" + row[i] + "] |" : " " + row[i] + " |";
      }
      out += "\n";
    }
    if (t.any_few_seeds) out += "\n† " + detail::few_seeds_note(r.options.min_seeds) + "\n";
    if (t.any_incomplete) out += "\n" + detail::incomplete_note() + "\n";
    if (t.any_chance) out += "\n‡ " + detail::chance_note(t.cells) + "\n";
    out += "\n";
    for (const Cell* c : t.cells) out += "[^" + c->id + "]: " + detail::runs_note(*c) + "\n";

    if (!chart_dir.empty()) {
      out += "\n### Charts\n";
      for (const auto& ch : sec.charts) {
        out += "\n![" + md_escape(ch.title) + "](" + chart_dir + "/" + ch.id + ".svg)\n";
        for (const auto& n : ch.notes) out.append("\n").append(md_escape(n)).append("\n");
      }
    }
  }
  out += "\n## Definitions\n\n";
  for (const auto& d : detail::definitions()) out += "- " + d + "\n";
  return out;
}

}  // namespace ternbench::reports
