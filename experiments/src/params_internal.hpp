#pragma once
// Private to tb::experiments: the behaviour behind the public parameter table. toml++ must
// not leak past src/.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ternbench/core/train/train_config.hpp"
#include "ternbench/experiments/params.hpp"
#include "ternbench/tomlread/reader.hpp"

namespace ternbench::experiments::detail {

using IntList = std::vector<std::int64_t>;
using StringList = std::vector<std::string>;
using ParamValue = std::variant<std::string, std::int64_t, double, bool, IntList, StringList>;

struct TrainParam {
  ParamInfo info;
  // What is wrong with a value of the right type ("must be > 0, got -1.0"), or nothing.
  std::function<std::optional<std::string>(const ParamValue&)> problem;
  std::function<void(core::TrainConfig&, const ParamValue&)> set;
  std::function<ParamValue(const core::TrainConfig&)> get;
  ParamValue default_value;  // meaningless when info.required
};

// Builds the table (params_table.cpp); train_param_defs() holds the one instance.
std::vector<TrainParam> build_train_table();

// A string as TOML quotes it.
std::string quoted(const std::string& s);

// The table itself, in grid order; train_params() is its ParamInfo column.
const std::vector<TrainParam>& train_param_defs();

// axes[i] holds the values given for train_param_defs()[i], in file order, or its default
// alone when the key is absent. Every value is type-checked and validated, and method-only
// keys are checked against the listed methods. With single_values, lists are rejected (a
// canonical run has one value per key).
// Where a value is written: its key path ("train.layers[1]") and line (0 for a default).
struct Origin {
  std::string path;
  int line = 0;
};
struct TrainAxes {
  std::vector<std::vector<ParamValue>> axes;
  std::vector<std::vector<Origin>> origins;  // origins[i][j]: where axes[i][j] is written
};
TrainAxes read_train_table(const toml::table& train, const std::string& file, bool single_values);

// One value of parameter p from node, type-checked and validated (a flat list for a
// list-typed key). Throws ConfigError naming path and the node's line.
ParamValue read_value(const toml::node& node, const TrainParam& p, const std::string& path, const std::string& file);

// TOML text of a value as the canonical form writes it: quoted and escaped strings,
// shortest round-trip doubles that always read back as floats.
std::string format_toml_value(const ParamValue& value);

}  // namespace ternbench::experiments::detail
