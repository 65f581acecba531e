#pragma once
// Paper tables: a declarative spec (experiments/papers/<name>.toml) of tables and claims,
// each mapped to queries over the results views, evaluated into verdicts.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ternbench/reports/cells.hpp"
#include "ternbench/reports/results_db.hpp"

namespace ternbench::reports {

// Config keys and the values each may take (a TOML list means "any of").
using Filter = std::map<std::string, std::vector<Value>>;

// Which cells a quantity comes from, and what is measured on them. Either `where` +
// `metric` (a SQL expression over the `results` view, evaluated per run), or `sql`: a
// SELECT over the views returning the columns run_key and value (one row per run).
struct Query {
  Filter where;
  std::string metric;
  std::string sql;
  std::string select = "only";  // only | max | min: which cell when several match
};

struct Reference {
  double value = 0;
  double tolerance = 0;  // reproduced when |measured - value| <= tolerance
  std::string source;    // citation of the published number
};

struct TableAxis {
  std::string label;
  Filter where;
  std::string metric;  // overrides the table's
  std::string best;    // max | min | none: which value the LaTeX table sets in bold ("" = the table's)
};

struct TableSpec {
  std::string id, title;
  Query base;  // where, metric, select shared by every cell
  std::vector<TableAxis> rows, columns;
  std::map<std::pair<std::string, std::string>, Reference> references;  // (row, column) labels
  int decimals = 2;
  std::string best = "none";  // max | min | none, for every column that does not say
};

struct ClaimSpec {
  std::string id, text, source;
  std::string kind;  // value | monotone | within | at_least
  Query subject;
  std::optional<Query> baseline;        // within, at_least
  std::vector<std::string> for_each;    // evaluate once per value combination of these keys
  std::string x;                        // monotone: the config key on the x axis
  std::string direction = "increasing"; // monotone: increasing | decreasing
  double min_spearman = 1.0;            // monotone: reproduced when rho >= this
  double max_gap = 0;                   // within: baseline - subject <= max_gap
  double margin = 0;                    // at_least: subject >= baseline + margin
  std::string match;                    // at_least/within: subject cell closest to the baseline on this metric
  std::optional<double> above, below;   // value: predicate measured > above / < below
  std::optional<Reference> reference;   // value: a published number
  int decimals = 2;
};

struct PaperSpec {
  std::string file;         // where it was read from
  std::string name, title, source, description;
  std::string sweep;        // the sweep file that produces the data (relative to the cwd)
  std::string smoke_sweep;  // a small version of it for `reproduce --smoke` ("" = none)
  int min_seeds = 3;        // fewer finished seeds: verdict missing
  int smoke_min_seeds = 1;  // the same with --smoke (smoke sweeps run one seed)
  std::vector<TableSpec> tables;
  std::vector<ClaimSpec> claims;
};

// Parses a spec; throws ConfigError "<file>:<line>: <key.path>: <what>; <fix>" for unknown
// keys, wrong types, missing keys and bad values.
PaperSpec parse_paper_spec(const std::string& text, const std::string& file);
PaperSpec load_paper_spec(const std::string& path);
// experiments/papers/<name>.toml, or `name` itself when it is a path to a .toml file.
std::string paper_spec_path(const std::string& name, const std::string& papers_dir = "experiments/papers");

enum class Verdict { kReproduced, kDeviates, kMissing, kNoReference };
const char* verdict_name(Verdict v);  // "reproduced", "deviates", "missing", "no reference"

struct Outcome {
  Verdict verdict = Verdict::kMissing;
  std::string measured;   // "91.20 ± 0.31 (n=3)", "rho = 1.00 over 4 alphas", "" when missing
  std::string expected;   // "8.87 ± 0.50 (TTQ README)", "> 1", "rising (rho >= 0.9)", ""
  std::string detail;     // why: the difference, the missing seeds, the cells compared
  std::vector<std::string> cell_ids;  // cells the outcome rests on
  std::optional<SeedStats> stats;     // the measured cell's statistics (values and table cells)
};

struct TableResult {
  const TableSpec* spec = nullptr;
  std::vector<std::vector<Outcome>> grid;  // [row][column]
};

struct ClaimResult {
  const ClaimSpec* spec = nullptr;
  std::string scope;  // "dataset=mnist, model=lenet5" for for_each claims, else ""
  Outcome outcome;
};

struct PaperResult {
  const PaperSpec* spec = nullptr;
  std::vector<TableResult> tables;
  std::vector<ClaimResult> claims;
  std::vector<Cell> cells;  // every cell of the DB (outcomes refer to them by id)
  std::map<std::string, int> verdict_counts;
};

// Adds the spec's metric expressions and SQL queries to the runs (as metrics named by the
// expression text, or "sql:<text>"). Throws ConfigError naming the spec and the entry when
// the DB refuses the SQL.
void add_spec_metrics(const PaperSpec& spec, const ResultsDb& db, std::vector<RunRow>& runs);

// Evaluates every table cell and claim on runs that carry the spec's metrics. The result
// points into `spec`, which must outlive it.
PaperResult evaluate_paper(const PaperSpec& spec, const std::vector<RunRow>& runs);

std::string render_paper_markdown(const PaperResult& r, const std::string& db_path);
std::string render_paper_latex(const PaperResult& r, const std::string& db_path);
std::string render_paper_html(const PaperResult& r, const std::string& db_path);
std::string render_paper_cells_csv(const PaperResult& r);
// tables/<id>.tex: one spec table as an \input-able booktabs table, measured mean ± std
// per cell, the best value of each column in bold (TableAxis::best).
std::string render_paper_table_latex(const PaperResult& r, const TableResult& t);

}  // namespace ternbench::reports
