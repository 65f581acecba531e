#include "ternbench/reports/summary.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

namespace ternbench::reports {
namespace {
int method_rank(const std::string& m) { return m == "fp" ? 0 : 1; }
}  // namespace

std::vector<Cell> summarize(const std::vector<storage::RunRecord>& runs) {
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<const storage::RunRecord*>> groups;
  for (const auto& r : runs) groups[{r.dataset, r.model, r.method}].push_back(&r);

  std::vector<Cell> cells;
  for (const auto& [key, members] : groups) {
    Cell c;
    std::tie(c.dataset, c.model, c.method) = key;
    double sum = 0, sparsity = 0, bits = 0;
    for (const auto* r : members) {
      if (r->status == storage::kStatusDone) {
        ++c.n;
        sum += r->test_acc;
        sparsity += r->sparsity;
        bits += r->bits_per_weight;
        c.run_keys.push_back(r->run_key);
      } else if (r->status == storage::kStatusFailed || r->status == storage::kStatusDiverged) {
        ++c.n_failed;
      }
    }
    if (c.n > 0) {
      c.acc_mean = sum / c.n;
      c.sparsity_mean = sparsity / c.n;
      c.bits_per_weight = bits / c.n;
      double ss = 0;
      for (const auto* r : members)
        if (r->status == storage::kStatusDone) ss += (r->test_acc - c.acc_mean) * (r->test_acc - c.acc_mean);
      c.acc_std = c.n > 1 ? std::sqrt(ss / (c.n - 1)) : 0.0;
    }
    std::sort(c.run_keys.begin(), c.run_keys.end());
    cells.push_back(std::move(c));
  }
  std::stable_sort(cells.begin(), cells.end(), [](const Cell& a, const Cell& b) {
    return std::make_tuple(a.dataset, a.model, method_rank(a.method), a.method) <
           std::make_tuple(b.dataset, b.model, method_rank(b.method), b.method);
  });
  return cells;
}

}  // namespace ternbench::reports
