#include "ternbench/reports/cells.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <set>

#include "ternbench/base/hash.hpp"
#include "ternbench/reports/methods.hpp"

namespace ternbench::reports {
namespace {

std::vector<MethodInfo>& catalog() {
  static std::vector<MethodInfo> methods;
  return methods;
}

std::string config_text(const std::map<std::string, Value>& config, const char* key) {
  const auto it = config.find(key);
  return it == config.end() ? std::string() : it->second.str();
}

// Orders two config values: numbers numerically, everything else by text.
bool value_less(const Value& a, const Value& b) {
  if (a.kind == Value::Kind::kNumber && b.kind == Value::Kind::kNumber) return a.number < b.number;
  return a.str() < b.str();
}

}  // namespace

void set_methods(std::vector<MethodInfo> methods) { catalog() = std::move(methods); }

const std::vector<MethodInfo>& known_methods() { return catalog(); }

std::string method_title(const std::string& method) {
  for (const MethodInfo& m : catalog())
    if (m.name == method && !m.title.empty()) return m.title;
  return method;
}

bool is_control_key(const std::string& key) {
  if (key.empty()) return false;
  for (const MethodInfo& m : catalog())
    if (m.control_key == key) return true;
  return false;
}

int method_order(const std::string& method) {
  const auto& all = catalog();
  for (std::size_t i = 0; i < all.size(); ++i)
    if (method == all[i].name) return static_cast<int>(i);
  return static_cast<int>(all.size());
}

std::string natural_encoding(const std::string& method) {
  for (const MethodInfo& m : catalog())
    if (method == m.name) return m.encoding;
  return "sparse ternary";
}

void add_derived_metrics(std::vector<RunRow>& runs) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (auto& r : runs) {
    const std::string enc = natural_encoding(config_text(r.config, "method"));
    auto get = [&](const char* name) { return r.metric(name).value_or(nan); };
    double bits = nan;
    if (enc == "fp32") bits = get("size_fp32_bits");
    else if (enc == "binary") bits = get("size_binary_bits");
    else if (enc == "ternary 2-bit") bits = get("size_ternary_2bit_bits");
    else bits = std::fmin(get("size_ternary_2bit_bits"), std::fmin(get("size_bitmap_bits"), get("size_relative_index_bits")));
    const double n = get("n_weights");
    r.metrics["natural_bits"] = Value::of(bits);
    r.metrics["natural_bpw"] = Value::of(n > 0 ? bits / n : nan);
    r.metrics["natural_ratio"] = Value::of(bits > 0 ? get("size_fp32_bits") / bits : nan);
  }
}

int Cell::count(const std::string& status) const {
  const auto it = status_counts.find(status);
  return it == status_counts.end() ? 0 : it->second;
}

bool Cell::complete() const {
  for (const auto& [status, n] : status_counts)
    if (status != "done" && status != "diverged" && n > 0) return false;
  return true;
}

const SeedStats* Cell::stat(const std::string& metric) const {
  const auto it = stats.find(metric);
  return it == stats.end() || it->second.n == 0 ? nullptr : &it->second;
}

std::string Cell::status_summary() const {
  std::string out = std::to_string(count("done")) + " done";
  for (const auto& [status, n] : status_counts) {
    if (status == "done" || n == 0) continue;
    out.append(", ").append(std::to_string(n)).append(" ").append(status);
  }
  return out;
}

std::pair<double, double> metric_range(const std::string& m) {
  const bool fraction = m == "sparsity" || m.rfind("test_acc", 0) == 0 || m.rfind("train_acc", 0) == 0 ||
                        m.rfind("val_acc", 0) == 0;
  const double inf = std::numeric_limits<double>::infinity();
  return fraction ? std::pair{0.0, 1.0} : std::pair{-inf, inf};
}

std::vector<Cell> make_cells(const std::vector<RunRow>& runs) {
  std::map<std::string, std::vector<const RunRow*>> groups;
  for (const auto& r : runs) groups[r.cell_key].push_back(&r);

  std::vector<Cell> cells;
  for (const auto& [key, members] : groups) {
    Cell c;
    c.cell_key = key;
    c.id = cell_id(key);
    c.config = members.front()->config;
    c.config.erase("seed");
    c.dataset = config_text(c.config, "dataset");
    c.model = config_text(c.config, "model");
    c.method = config_text(c.config, "method");
    std::map<std::string, std::vector<double>> values;
    for (const RunRow* r : members) {
      c.run_keys.push_back(r->run_key);
      ++c.status_counts[r->status];
      if (r->status != "done") continue;
      c.done_keys.push_back(r->run_key);
      const auto acc = r->metric("test_acc");
      if (acc && *acc <= kChanceAccuracy) c.chance_keys.push_back(r->run_key);
      for (const auto& [name, v] : r->metrics)
        if (v.kind == Value::Kind::kNumber) values[name].push_back(v.number);
    }
    // A metric some done runs lack (NULL) is averaged over the runs that have it.
    for (const auto& [name, vs] : values) {
      SeedStats st = seed_stats(vs);
      const auto [lo, hi] = metric_range(name);
      clip_interval(st, lo, hi);
      c.stats[name] = st;
    }
    std::sort(c.run_keys.begin(), c.run_keys.end());
    std::sort(c.done_keys.begin(), c.done_keys.end());
    std::sort(c.chance_keys.begin(), c.chance_keys.end());
    cells.push_back(std::move(c));
  }
  std::sort(cells.begin(), cells.end(), [](const Cell& a, const Cell& b) {
    if (a.dataset != b.dataset) return a.dataset < b.dataset;
    if (a.model != b.model) return a.model < b.model;
    if (method_order(a.method) != method_order(b.method)) return method_order(a.method) < method_order(b.method);
    if (a.method != b.method) return a.method < b.method;
    // Remaining keys in name order; the cell without a key sorts first.
    std::set<std::string> keys;
    for (const auto& kv : a.config) keys.insert(kv.first);
    for (const auto& kv : b.config) keys.insert(kv.first);
    for (const auto& k : keys) {
      const auto ia = a.config.find(k), ib = b.config.find(k);
      if (ia == a.config.end() || ib == b.config.end()) return ia == a.config.end();
      if (value_less(ia->second, ib->second)) return true;
      if (value_less(ib->second, ia->second)) return false;
    }
    return a.id < b.id;
  });
  return cells;
}

}  // namespace ternbench::reports
