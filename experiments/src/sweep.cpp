// Sweep files: [sweep] metadata plus a [train] table whose lists are grid axes.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "params_internal.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/experiments/sweep.hpp"

namespace ternbench::experiments {
namespace {

// A grid this large is a typo (a list where a scalar was meant), not a study.
constexpr std::size_t kMaxGridPoints = 1'000'000;

std::vector<std::string> names_of(const std::vector<ParamInfo>& params) {
  std::vector<std::string> names;
  for (const auto& p : params) names.push_back(p.name);
  return names;
}

bool valid_name(const std::string& s) {
  if (s.empty()) return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// An optional string key of [sweep]; empty strings are refused because they would turn
// into the working directory as a path.
std::optional<std::string> sweep_string(const toml::table& t, const std::string& key,
                                        const std::string& file) {
  const toml::node* node = t.get(key);
  if (!node) return std::nullopt;
  const auto* s = node->as_string();
  if (!s) {
    throw ConfigError(file, "sweep." + key, detail::line_of(*node),
                      "expected a string, got " + std::string(detail::node_type_name(*node)));
  }
  if (s->get().empty() && key != "description")
    throw ConfigError(file, "sweep." + key, detail::line_of(*node), "must not be empty");
  return s->get();
}

void read_sweep_table(const toml::table& t, const std::string& file, Sweep& sweep) {
  detail::reject_unknown_keys(t, file, "sweep", names_of(sweep_params()));
  const auto name = sweep_string(t, "name", file);
  if (!name) {
    throw ConfigError(file, "sweep.name", detail::line_of(t),
                      "missing required key; add name = \"my-sweep\" (letters, digits, _ . -)");
  }
  if (!valid_name(*name)) {
    throw ConfigError(file, "sweep.name", detail::line_of(*t.get("name")),
                      "\"" + *name + "\" may contain only letters, digits, '_', '.' and '-'");
  }
  sweep.name = *name;
  sweep.db_path = sweep_string(t, "db", file).value_or("results/" + sweep.name + ".sqlite");
  if (const auto dir = sweep_string(t, "weights_dir", file)) {
    sweep.weights_dir = *dir;
  } else {
    // Beside the database and named after it, so two sweeps sharing results/ never mix files.
    std::string stem = sweep.db_path;
    const std::string ext = ".sqlite";
    if (stem.size() > ext.size() && stem.compare(stem.size() - ext.size(), ext.size(), ext) == 0)
      stem.resize(stem.size() - ext.size());
    sweep.weights_dir = stem + "-weights";
  }
  sweep.description = sweep_string(t, "description", file).value_or("");
}

// Cartesian product in table order, last axis fastest. Points that differ only in keys
// their method ignores give the same run key; the first of them is kept.
std::vector<RunSpec> expand(const detail::TrainAxes& grid, const std::string& file, int line) {
  const auto& defs = detail::train_param_defs();
  std::size_t points = 1;
  for (const auto& axis : grid.axes) {
    if (points > kMaxGridPoints / axis.size()) {
      throw ConfigError(file, "train", line,
                        "the grid has more than " + std::to_string(kMaxGridPoints) +
                            " points; split the sweep or shorten its lists");
    }
    points *= axis.size();
  }
  std::vector<RunSpec> runs;
  std::unordered_set<std::string> seen;
  std::vector<std::size_t> index(grid.axes.size(), 0);
  for (std::size_t n = 0; n < points; ++n) {
    core::TrainConfig cfg;
    for (std::size_t i = 0; i < defs.size(); ++i) defs[i].set(cfg, grid.axes[i][index[i]]);
    RunSpec run = make_run(cfg);
    if (seen.insert(run.run_key).second) runs.push_back(std::move(run));
    for (std::size_t i = index.size(); i-- > 0;) {
      if (++index[i] < grid.axes[i].size()) break;
      index[i] = 0;
    }
  }
  return runs;
}

}  // namespace

Sweep parse_sweep(const std::string& text, const std::string& file_name) {
  const toml::table root = detail::parse_toml(text, file_name);
  const auto train_names = names_of(train_params());
  const auto sweep_names = names_of(sweep_params());
  auto hint = [&](const std::string& key) -> std::string {
    auto has = [&key](const std::vector<std::string>& v) {
      return std::find(v.begin(), v.end(), key) != v.end();
    };
    if (has(train_names)) return "it belongs under [train]";
    if (has(sweep_names)) return "it belongs under [sweep]";
    return "";
  };
  detail::reject_unknown_keys(root, file_name, "", {"sweep", "train"}, hint);

  Sweep sweep;
  sweep.file = file_name;
  const toml::table* meta = detail::sub_table(root, "sweep", file_name);
  if (!meta) {
    throw ConfigError(file_name, "sweep", 0,
                      "missing [sweep] table; add [sweep] with name = \"my-sweep\"");
  }
  read_sweep_table(*meta, file_name, sweep);
  const toml::table* train = detail::sub_table(root, "train", file_name);
  if (!train) {
    throw ConfigError(file_name, "train", 0,
                      "missing [train] table; add [train] with at least dataset and method");
  }
  const detail::TrainAxes grid = detail::read_train_table(*train, file_name, /*single_values=*/false);
  sweep.runs = expand(grid, file_name, detail::line_of(*train));
  return sweep;
}

Sweep load_sweep(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, "", 0, std::string("cannot open sweep file: ") + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(path, "", 0, std::string("cannot read sweep file: ") + std::strerror(errno));
  return parse_sweep(text.str(), path);
}

}  // namespace ternbench::experiments
