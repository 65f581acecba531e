#include "ternbench/reports/markdown.hpp"

#include <cstdio>

namespace ternbench::reports {
namespace {
std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
}  // namespace

std::string markdown_report(const std::vector<Cell>& cells, const std::string& title) {
  std::string out = "# " + title + "\n";
  if (cells.empty()) return out + "\nNo runs in the results DB yet.\n";
  std::string dataset;
  std::string keys;
  auto close_table = [&] {
    if (!keys.empty()) out += "\nRuns behind each row (run_key):\n\n" + keys;
    keys.clear();
  };
  for (const Cell& c : cells) {
    if (c.dataset != dataset) {
      close_table();
      dataset = c.dataset;
      out += "\n## " + dataset + "\n\n";
      out += "| model | method | test accuracy (%) | n | sparsity | bits/weight | failed |\n";
      out += "|---|---|---|---|---|---|---|\n";
    }
    const std::string acc = c.n == 0   ? "–"
                            : c.n == 1 ? fmt("%.2f", 100 * c.acc_mean) + " (n=1, no std)"
                                       : fmt("%.2f", 100 * c.acc_mean) + " ± " + fmt("%.2f", 100 * c.acc_std);
    out += "| " + c.model + " | " + c.method + " | " + acc + " | " + std::to_string(c.n) + " | " +
           (c.n ? fmt("%.3f", c.sparsity_mean) : "–") + " | " + (c.n ? fmt("%.2f", c.bits_per_weight) : "–") +
           " | " + std::to_string(c.n_failed) + " |\n";
    if (!c.run_keys.empty()) {
      keys += "- " + c.model + " / " + c.method + ":";
      for (const auto& k : c.run_keys) keys += " `" + k + "`";
      keys += "\n";
    }
  }
  close_table();
  out +=
      "\nTest accuracy: mean ± sample standard deviation over seeds of the final epoch's accuracy of the "
      "deployed (quantized) model. Sparsity: fraction of zero weights over all weight matrices. "
      "Bits/weight: dense storage (32 for fp32 layers, 2 plus a 32-bit scale for ternary layers) divided "
      "by the number of weights.\n";
  return out;
}

}  // namespace ternbench::reports
