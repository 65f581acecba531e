#include "ternbench/orchestrator/run_labels.hpp"

#include <set>
#include <sstream>

namespace ternbench::orchestrator {
namespace {

// The "key = value" lines of a canonical config (one per key, experiments/src/canonical.cpp).
std::map<std::string, std::string> key_values(const std::string& canonical_toml) {
  std::map<std::string, std::string> out;
  std::istringstream in(canonical_toml);
  std::string line;
  while (std::getline(in, line)) {
    const std::size_t eq = line.find(" = ");
    if (line.empty() || line[0] == '[' || eq == std::string::npos) continue;
    std::string value = line.substr(eq + 3);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    out.emplace(line.substr(0, eq), std::move(value));
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> distinguishing_keys(const std::vector<experiments::RunSpec>& runs) {
  static const std::set<std::string> kNamed = {"dataset", "model", "method", "seed"};
  std::vector<std::map<std::string, std::string>> values;
  // A key only some runs have (a method's own key) tells nothing apart by its absence.
  std::map<std::string, std::set<std::string>> seen;  // key -> its values
  for (const auto& r : runs) values.push_back(key_values(r.canonical_toml));
  for (const auto& v : values)
    for (const auto& [key, value] : v) seen[key].insert(value);
  std::map<std::string, std::string> labels;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    std::string label;
    for (const auto& [key, value] : values[i]) {
      if (kNamed.count(key) || seen[key].size() < 2) continue;
      if (!label.empty()) label += " ";
      label += key + "=" + value;
    }
    labels[runs[i].run_key] = label;
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
