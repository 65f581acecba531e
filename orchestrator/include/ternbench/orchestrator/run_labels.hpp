#pragma once
// What tells the runs of a sweep apart in a progress line: "mnist mlp fp seed=1 lr=0.1
// momentum=0.9" rather than four identical "mnist mlp fp seed=1" for an lr x momentum grid.
#include <map>
#include <string>
#include <vector>

#include "ternbench/experiments/sweep.hpp"

namespace ternbench::orchestrator {

// For each run key: "key=value" of every [train] key that takes two or more values among the
// runs that use it (experiments::varying_keys), in grid order, space-separated; dataset,
// model, method and seed, which every run line names anyway, are left out. Strings lose
// their quotes.
std::map<std::string, std::string> distinguishing_keys(const std::vector<experiments::RunSpec>& runs);

// "mnist mlp fp seed=1" followed by the run's distinguishing keys, if any.
std::string run_label(const experiments::RunSpec& spec, const std::string& distinguishing);

}  // namespace ternbench::orchestrator
