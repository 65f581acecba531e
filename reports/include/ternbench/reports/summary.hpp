#pragma once
// Aggregation of finished runs over seeds, shared by every report format.
#include <string>
#include <vector>

#include "ternbench/storage/records.hpp"

namespace ternbench::reports {

struct Cell {
  std::string dataset, model, method;
  int n = 0;                 // finished runs (status done) averaged
  int n_failed = 0;          // runs of this cell that failed or diverged
  double acc_mean = 0, acc_std = 0;  // test accuracy; std is the sample std (0 when n < 2)
  double sparsity_mean = 0;
  double bits_per_weight = 0;
  std::vector<std::string> run_keys;  // the done runs behind the numbers
};

// One cell per (dataset, model, method), sorted by dataset, model, then method in the
// order fp first, then alphabetical.
std::vector<Cell> summarize(const std::vector<storage::RunRecord>& runs);

}  // namespace ternbench::reports
