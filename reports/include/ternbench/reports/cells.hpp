#pragma once
// Cells: groups of runs that differ only by seed, with per-metric statistics over the runs
// that finished. Every cell keeps the run keys behind its numbers.
#include <map>
#include <string>
#include <vector>

#include "ternbench/reports/runs.hpp"
#include "ternbench/reports/stats.hpp"

namespace ternbench::reports {

struct Cell {
  std::string id;        // first 8 hex digits of SHA-256(cell_key): stable across reports
  std::string cell_key;  // canonical config without the seed
  std::map<std::string, Value> config;  // the config keys shared by the cell's runs (no seed)
  std::string dataset, model, method;
  std::vector<std::string> run_keys;    // every run of the cell, any status, sorted
  std::vector<std::string> done_keys;   // the runs whose metrics are averaged (status done)
  std::map<std::string, int> status_counts;
  std::map<std::string, SeedStats> stats;  // per numeric metric, over the done runs
  std::vector<std::string> chance_keys;    // done runs whose test accuracy is at chance level

  int n_done() const { return static_cast<int>(done_keys.size()); }
  int n_runs() const { return static_cast<int>(run_keys.size()); }
  int count(const std::string& status) const;
  // Every run has a final status (done or diverged): nothing pending, running,
  // interrupted, failed or not started.
  bool complete() const;
  const SeedStats* stat(const std::string& metric) const;  // nullptr when no done run has it
  // "2 done, 1 running, 1 failed": the statuses of an incomplete cell.
  std::string status_summary() const;
};

// Derived metrics added to each run before grouping: natural_bits (size under the method's
// natural encoding, known_methods()), natural_bpw (natural_bits / n_weights), natural_ratio
// (size_fp32_bits / natural_bits). A method without a known encoding is taken as sparse
// ternary: the smallest of 2-bit, bitmap and relative index.
void add_derived_metrics(std::vector<RunRow>& runs);
std::string natural_encoding(const std::string& method);

// A done run whose test accuracy is at most this learned nothing: 1.5 x chance for the
// 10 classes of every dataset ternbench reads (MNIST, Fashion-MNIST, CIFAR-10).
constexpr double kChanceAccuracy = 0.15;

// The range of a metric whose values are fractions (accuracies, sparsity): [0, 1]; other
// metrics have none (lo = -inf, hi = +inf). Intervals are clipped to it.
std::pair<double, double> metric_range(const std::string& metric);

// Groups runs by cell key. Order: dataset, model, method (in known_methods() order, others
// after them alphabetically), then the remaining config values.
std::vector<Cell> make_cells(const std::vector<RunRow>& runs);

// Position of a method in tables and legends.
int method_order(const std::string& method);

}  // namespace ternbench::reports
