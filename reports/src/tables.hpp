#pragma once
// The pieces every output format shares: a table as text cells, formatted with the
// format's own escaping and symbols (private to tb::reports).
#include <string>
#include <vector>

#include "ternbench/reports/report.hpp"

namespace ternbench::reports::detail {

struct Style {
  std::string (*escape)(const std::string&);
  std::string pm;       // between mean and std
  std::string times;    // after a compression ratio
  std::string dagger;   // too few seeds
  std::string missing;  // no value
  std::string chance;   // a run at chance level
};

const Style& markdown_style();
const Style& latex_style();
const Style& html_style();

// Test accuracy of a cell in percent: "92.00 ± 2.83 [85.60, 98.40]", with the dagger when
// it has fewer done runs than min_seeds and " (incomplete)" when runs are unfinished.
std::string accuracy_text(const Cell& c, int min_seeds, const Style& st);

struct TextTable {
  std::vector<std::string> header;
  std::vector<bool> numeric;                 // right-aligned columns
  std::vector<std::vector<std::string>> rows;  // escaped, ready to print
  std::vector<const Cell*> cells;            // the cell behind each row
  bool any_few_seeds = false, any_incomplete = false, any_chance = false;
};

// The method table of one dataset (last column: the cell id, unescaped hex).
TextTable method_table(const Report& r, const DatasetSection& s, const Style& st);

// "3 done: a b c; 1 running" style note for a cell's footnote (keys unformatted).
std::string runs_note(const Cell& c);

// The notes under each table and the definitions at the end, as plain sentences.
std::string few_seeds_note(int min_seeds);
std::string incomplete_note();
// "at chance level (test accuracy <= 15%): runs a b" for the cells of a table that have such runs.
std::string chance_note(const std::vector<const Cell*>& cells);
std::vector<std::string> definitions();

// "12 runs: 10 done, 2 running".
std::string run_count_text(const Report& r);

// LaTeX: the document head up to the title, and a booktabs tabular (cells already escaped).
std::string latex_preamble(const std::string& title);
std::string latex_tabular(const std::vector<std::string>& header, const std::vector<bool>& numeric,
                          const std::vector<std::vector<std::string>>& rows);
// A longtable as wide as the text whose columns wrap and whose rows break across pages
// (claims, verdict grids).
std::string latex_wrapping_tabular(const std::vector<std::string>& header,
                                   const std::vector<std::vector<std::string>>& rows);
// The tabular scaled down to the line width when it is wider (needs graphicx).
std::string latex_fit_width(const std::string& tabular);
// Escaped text with ± as $\pm$.
std::string latex_text(const std::string& text);
// The rows whose value, printed with `decimals`, equals the best one ("max" or "min"; NaN
// is no value; any other `best` bolds nothing).
std::vector<std::size_t> best_rows(const std::vector<double>& values, const std::string& best, int decimals);

// HTML: the page head with the inline style sheet, and a table (cells already escaped).
std::string html_head(const std::string& title);
std::string html_table(const std::vector<std::string>& header, const std::vector<bool>& numeric,
                       const std::vector<std::vector<std::string>>& rows, const std::string& css_class);

}  // namespace ternbench::reports::detail
