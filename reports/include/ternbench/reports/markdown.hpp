#pragma once
#include <string>
#include <vector>

#include "ternbench/reports/summary.hpp"

namespace ternbench::reports {

// A Markdown document: one table per dataset with test accuracy mean ± std over seeds,
// n, sparsity and bits per weight; run keys listed under each table.
std::string markdown_report(const std::vector<Cell>& cells, const std::string& title);

}  // namespace ternbench::reports
