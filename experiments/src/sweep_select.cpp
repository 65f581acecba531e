// Part of a sweep: `--only key=v1,v2` filters over the expanded runs, and the keys that
// tell the runs of a sweep apart (`plan --list`).
#include <algorithm>
#include <map>
#include <set>

#include "params_internal.hpp"
#include "sweep_grid.hpp"
#include "sweep_override.hpp"
#include "ternbench/base/format.hpp"
#include "ternbench/experiments/sweep.hpp"

namespace ternbench::experiments {
namespace {

// Whether the run's value of p is its own (the method uses the key; layers only for a
// custom model) rather than a default the canonical form leaves out.
bool uses(const detail::TrainParam& p, const core::TrainConfig& cfg) {
  if (p.info.name == "layers") return cfg.model == "custom";
  return applies_to(p.info, cfg.method);
}

struct Filter {
  std::string text;  // "method=sca,twn" as typed
  const detail::TrainParam* param = nullptr;
  std::vector<detail::ParamValue> values;
  std::vector<bool> matched;  // per value: some run of the sweep has it
};

Filter read_filter(const std::string& text) {
  const std::string where = "--only " + text;
  const auto eq = text.find('=');
  Filter f;
  f.text = text;
  std::string key = eq == std::string::npos ? "" : text.substr(0, eq);
  if (key.rfind("train.", 0) == 0) key.erase(0, 6);
  if (key.empty())
    throw ConfigError(kCommandLine, where, 0, "expected KEY=VALUE[,VALUE...], e.g. --only method=sca,twn");
  std::vector<std::string> names = detail::names_of(train_params());
  for (const auto& p : detail::train_param_defs())
    if (p.info.name == key) f.param = &p;
  if (f.param == nullptr) {
    std::sort(names.begin(), names.end());
    std::string msg = "unknown key \"" + key + "\"; ";
    if (const std::string guess = closest(key, names); !guess.empty()) msg += "did you mean \"" + guess + "\"? ";
    throw ConfigError(kCommandLine, where, 0, msg + "valid keys: " + join(names, ", "));
  }
  const auto type = f.param->info.type;
  if (type == ParamType::kIntList || type == ParamType::kStringList)
    throw ConfigError(kCommandLine, where, 0,
                      key + " takes a list per run, which --only cannot select by; select by another key");
  // Each value obeys the key's rules, as in a sweep file.
  const toml::array values = detail::parse_values(text.substr(eq + 1), where, /*as_list=*/true);
  for (std::size_t i = 0; i < values.size(); ++i) {
    try {
      f.values.push_back(detail::read_value(*values.get(i), *f.param, "train." + key, kCommandLine));
    } catch (const ConfigError& e) {
      detail::rethrow_for_override(e, {{"train." + key, kCommandLine, where, 0}});
    }
  }
  f.matched.assign(f.values.size(), false);
  return f;
}

bool matches(const Filter& f, const core::TrainConfig& cfg, std::vector<bool>* matched) {
  if (!uses(*f.param, cfg)) return false;
  const detail::ParamValue v = f.param->get(cfg);
  bool any = false;
  for (std::size_t i = 0; i < f.values.size(); ++i) {
    if (f.values[i] != v) continue;
    any = true;
    if (matched) (*matched)[i] = true;
  }
  return any;
}

}  // namespace

void select_runs(Sweep& sweep, const std::vector<std::string>& only) {
  if (only.empty()) return;
  std::vector<Filter> filters;
  for (const auto& text : only) filters.push_back(read_filter(text));
  std::vector<bool> keep(sweep.runs.size(), false);
  for (std::size_t r = 0; r < sweep.runs.size(); ++r) {
    bool all = true;
    for (Filter& f : filters) all = matches(f, sweep.runs[r].train, &f.matched) && all;
    keep[r] = all;
  }
  // A value no run has is a typo or a wrong sweep: say which values there are.
  for (const Filter& f : filters) {
    for (std::size_t i = 0; i < f.values.size(); ++i) {
      if (f.matched[i]) continue;
      std::set<std::string> seen;
      for (const RunSpec& run : sweep.runs)
        if (uses(*f.param, run.train)) seen.insert(detail::format_toml_value(f.param->get(run.train)));
      const std::string values = seen.empty() ? "none (no run uses the key)"
                                              : join(std::vector<std::string>(seen.begin(), seen.end()), ", ");
      throw ConfigError(kCommandLine, "--only " + f.text, 0,
                        "no run of the sweep has " + f.param->info.name + " = " +
                            detail::format_toml_value(f.values[i]) + "; its runs have " + values);
    }
  }
  if (std::find(keep.begin(), keep.end(), true) == keep.end()) {
    std::string all;
    for (const Filter& f : filters) all += (all.empty() ? "--only " : " --only ") + f.text;
    throw ConfigError(kCommandLine, all, 0, "no run of the sweep matches every filter; drop or widen one");
  }
  // A kept run needs its warm-start source; sources come before their runs, so one pass
  // from the back finds sources of sources too.
  std::map<std::string, std::size_t> index;
  for (std::size_t r = 0; r < sweep.runs.size(); ++r) index.emplace(sweep.runs[r].run_key, r);
  for (std::size_t r = sweep.runs.size(); r-- > 0;) {
    if (!keep[r] || sweep.runs[r].train.init_from.empty()) continue;
    if (const auto it = index.find(sweep.runs[r].train.init_from); it != index.end()) keep[it->second] = true;
  }
  std::vector<RunSpec> kept;
  sweep.implied_sources = 0;
  for (std::size_t r = 0; r < sweep.runs.size(); ++r) {
    if (!keep[r]) {
      sweep.unselected.push_back(sweep.runs[r].run_key);
      continue;
    }
    sweep.implied_sources += sweep.runs[r].implied ? 1 : 0;
    kept.push_back(std::move(sweep.runs[r]));
  }
  sweep.runs = std::move(kept);
}

std::string run_value(const RunSpec& run, const std::string& key) {
  for (const auto& p : detail::train_param_defs())
    if (p.info.name == key) return uses(p, run.train) ? detail::format_toml_value(p.get(run.train)) : "";
  return "";
}

std::string shown_value(const RunSpec& run, const std::string& key) {
  const std::string v = run_value(run, key);
  if (v.size() >= 2 && v.front() == '"' && v.find_first_of("\\ ,") == std::string::npos) return v.substr(1, v.size() - 2);
  return v;
}

std::vector<std::string> varying_keys(const std::vector<RunSpec>& runs) {
  std::vector<std::string> out;
  for (const auto& p : detail::train_param_defs()) {
    std::set<std::string> seen;
    // A key only some methods use varies with the method already, unless its values differ.
    for (const RunSpec& run : runs) {
      if (uses(p, run.train)) seen.insert(detail::format_toml_value(p.get(run.train)));
      if (seen.size() > 1) break;
    }
    if (seen.size() > 1) out.push_back(p.info.name);
  }
  return out;
}

}  // namespace ternbench::experiments
