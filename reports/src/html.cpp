// The HTML report: one self-contained page (inline CSS, inline SVG charts, no scripts, no
// external references), so it opens offline and survives being mailed around.
#include "ternbench/reports/escape.hpp"
#include "ternbench/reports/report.hpp"
#include "tables.hpp"

namespace ternbench::reports {
namespace detail {

std::string html_head(const std::string& title) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>" + xml_escape(title) +
         "</title>\n<style>\n"
         "body { font-family: sans-serif; margin: 2em; color: #222222; max-width: 1200px; }\n"
         "table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }\n"
         "th, td { padding: 0.25em 0.6em; border-bottom: 1px solid #dddddd; }\n"
         "thead th { border-bottom: 2px solid #222222; text-align: left; }\n"
         "td.num, th.num { text-align: right; }\n"
         "tbody tr:last-child td { border-bottom: 2px solid #222222; }\n"
         "code { font-size: 0.95em; }\n"
         ".verdict-reproduced { color: #1a7f37; font-weight: bold; }\n"
         ".verdict-deviates { color: #b35900; font-weight: bold; }\n"
         ".verdict-missing { color: #777777; font-weight: bold; }\n"
         "figure { display: inline-block; margin: 0.5em 1em 1em 0; vertical-align: top; }\n"
         "figcaption { font-size: 0.85em; color: #555555; max-width: 560px; }\n"
         ".notes { font-size: 0.85em; color: #444444; }\n"
         "</style>\n</head>\n<body>\n<h1>" + xml_escape(title) + "</h1>\n";
}

std::string html_table(const std::vector<std::string>& header, const std::vector<bool>& numeric,
                       const std::vector<std::vector<std::string>>& rows, const std::string& css_class) {
  std::string out = "<table class=\"" + css_class + "\">\n<thead><tr>";
  for (std::size_t i = 0; i < header.size(); ++i)
    out += std::string(numeric[i] ? "<th class=\"num\">" : "<th>") + header[i] + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (std::size_t i = 0; i < row.size(); ++i)
      out += std::string(numeric[i] ? "<td class=\"num\">" : "<td>") + row[i] + "</td>";
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

}  // namespace detail

std::string render_html(const Report& r) {
  const auto& st = detail::html_style();
  std::string out = detail::html_head(r.options.title);
  out += "<p>";
  if (!r.options.source.empty()) out += "Source: <code>" + xml_escape(r.options.source) + "</code>. ";
  out += xml_escape(detail::run_count_text(r)) + ".</p>\n";
  if (r.cells.empty()) return out + "<p>No runs in the results DB yet.</p>\n</body>\n</html>\n";

  for (const auto& sec : r.sections) {
    out += "<section id=\"dataset-" + xml_escape(sec.dataset) + "\">\n<h2>" + xml_escape(sec.dataset) + "</h2>\n";
    detail::TextTable t = detail::method_table(r, sec, st);
    for (auto& row : t.rows) row.back() = "<a href=\"#cell-" + row.back() + "\"><code>" + row.back() + "</code></a>";
    out += detail::html_table(t.header, t.numeric, t.rows, "methods");
    out += "<div class=\"notes\">\n";
    if (t.any_few_seeds) out += "<p>† " + xml_escape(detail::few_seeds_note(r.options.min_seeds)) + "</p>\n";
    if (t.any_incomplete) out += "<p>" + xml_escape(detail::incomplete_note()) + "</p>\n";
    if (t.any_chance) out += "<p>‡ " + xml_escape(detail::chance_note(t.cells)) + "</p>\n";
    out += "<ul class=\"cells\">\n";
    for (const Cell* c : t.cells)
      out += "<li id=\"cell-" + c->id + "\"><code>" + c->id + "</code>: " + xml_escape(detail::runs_note(*c)) + "</li>\n";
    out += "</ul>\n</div>\n<div class=\"charts\">\n";
    for (const auto& ch : sec.charts) {
      out += "<figure>\n" + render_svg(ch, false) + "<figcaption>";
      for (const auto& n : ch.notes) out += xml_escape(n) + " ";
      out += "</figcaption>\n</figure>\n";
    }
    out += "</div>\n</section>\n";
  }
  out += "<h2>Definitions</h2>\n<ul>\n";
  for (const auto& d : detail::definitions()) out += "<li>" + xml_escape(d) + "</li>\n";
  return out + "</ul>\n</body>\n</html>\n";
}

std::string render_cells_csv(const Report& r) {
  std::string out =
      "cell,dataset,model,method,label,complete,n_runs,n_done,test_acc_mean,test_acc_std,test_acc_ci_low,"
      "test_acc_ci_high,sparsity_mean,natural_bits_per_weight,statuses,averaged_run_keys,all_run_keys\n";
  for (const auto& sec : r.sections) {
    for (std::size_t i : sec.cells) {
      const Cell& c = r.cells[i];
      const SeedStats* a = c.stat("test_acc");
      auto num = [](const SeedStats* s, double SeedStats::*f) { return s ? fixed(s->*f, 6) : std::string(); };
      std::string done, all;
      for (const auto& k : c.done_keys) done.append(done.empty() ? "" : " ").append(k);
      for (const auto& k : c.run_keys) all.append(all.empty() ? "" : " ").append(k);
      const std::string row[] = {c.id,
                                 c.dataset,
                                 c.model,
                                 c.method,
                                 r.label(sec, c),
                                 c.complete() ? "yes" : "no",
                                 std::to_string(c.n_runs()),
                                 std::to_string(c.n_done()),
                                 num(a, &SeedStats::mean),
                                 num(a, &SeedStats::std),
                                 num(a, &SeedStats::ci_low),
                                 num(a, &SeedStats::ci_high),
                                 num(c.stat("sparsity"), &SeedStats::mean),
                                 num(c.stat("natural_bpw"), &SeedStats::mean),
                                 c.status_summary(),
                                 done,
                                 all};
      for (std::size_t j = 0; j < std::size(row); ++j) { out += (j ? "," : ""); out += csv_field(row[j]); }
      out += "\n";
    }
  }
  return out;
}

}  // namespace ternbench::reports
