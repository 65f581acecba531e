#pragma once
// The default report: per dataset, a table of cells (method x config, over seeds) and the
// charts. Built once from the DB, then rendered to Markdown, LaTeX, HTML and CSV.
#include <string>
#include <vector>

#include "ternbench/reports/cells.hpp"
#include "ternbench/reports/chart.hpp"
#include "ternbench/reports/results_db.hpp"

namespace ternbench::reports {

struct ReportOptions {
  std::string title = "ternbench report";
  std::string source;     // shown under the title, e.g. the DB path
  int min_seeds = 3;      // cells with fewer done runs are marked with a dagger
  int max_curves = 8;     // training-curve series per dataset (the rest are listed as left out)
};

struct DatasetSection {
  std::string dataset;
  std::vector<std::size_t> cells;        // indexes into Report::cells, in table order
  std::vector<std::string> label_keys;   // config keys whose value differs between these cells
  bool many_models = false;              // labels then start with the model
  std::vector<Chart> charts;
};

struct Report {
  ReportOptions options;
  std::vector<Cell> cells;
  std::vector<DatasetSection> sections;
  int n_runs = 0;
  std::map<std::string, int> status_counts;  // over every run

  // "method, sca_alpha=0.5, lr=0.1": what tells this cell apart within its dataset.
  std::string label(const DatasetSection& s, const Cell& c, bool with_method = true) const;
};

// Builds the report from runs (with derived metrics added here) and per-epoch accuracies.
Report build_report(std::vector<RunRow> runs, const std::vector<EpochPoint>& epochs, const ReportOptions& options);

// Renderers. chart_dir: relative directory of the standalone SVG files the Markdown links
// to ("" = no chart links).
std::string render_markdown(const Report& r, const std::string& chart_dir);
std::string render_latex(const Report& r);
// tables/<dataset>.tex: the dataset's table for a paper, \input-able (needs booktabs): one row
// per cell with the method's printed name, no cell ids, the best value of each column in bold
// (highest accuracy, sparsity and compression, fewest bits per weight) and a \label.
std::string render_latex_table(const Report& r, const DatasetSection& s);
// "tab:mnist": the label of that table.
std::string latex_table_label(const std::string& id);
std::string render_html(const Report& r);
// Sidecar: one line per cell with its statistics and run keys (space-separated).
std::string render_cells_csv(const Report& r);

}  // namespace ternbench::reports
