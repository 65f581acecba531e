#include "ternbench/orchestrator/run_labels.hpp"

#include <set>

namespace ternbench::orchestrator {

std::map<std::string, std::string> distinguishing_keys(const std::vector<experiments::RunSpec>& runs) {
  static const std::set<std::string> kNamed = {"dataset", "model", "method", "seed"};
  std::vector<std::string> keys;
  for (const std::string& key : experiments::varying_keys(runs))
    if (!kNamed.count(key)) keys.push_back(key);
  std::map<std::string, std::string> labels;
  for (const auto& run : runs) {
    std::string label;
    for (const std::string& key : keys) {
      const std::string value = experiments::shown_value(run, key);
      if (value.empty()) continue;  // a key of another method
      if (!label.empty()) label += " ";
      label += key + "=" + value;
    }
    labels[run.run_key] = label;
  }
  return labels;
}

std::string run_label(const experiments::RunSpec& spec, const std::string& distinguishing) {
  const core::TrainConfig& c = spec.train;
  std::string out = c.dataset + " " + c.model + " " + c.method + " seed=" + std::to_string(c.seed);
  if (!distinguishing.empty()) out += " " + distinguishing;
  return out;
}

}  // namespace ternbench::orchestrator
