// The code the [train] parameter table (params_table.cpp) drives: reading, type checks and
// value checks, and the public parameter listing.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <type_traits>
#include <utility>

#include "params_internal.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/base/format.hpp"

namespace ternbench::experiments {
namespace detail {
namespace {

std::string_view article_type(ParamType type) {
  switch (type) {
    case ParamType::kString: return "a string";
    case ParamType::kInteger: return "an integer";
    case ParamType::kFloat: return "a number";
    case ParamType::kBool: return "a boolean (true or false)";
    case ParamType::kIntList: return "a list of integers";
    case ParamType::kStringList: return "a list of strings";
  }
  return "a value";
}

}  // namespace

ParamValue read_value(const toml::node& node, const TrainParam& p, const std::string& path,
                      const std::string& file) {
  std::optional<ParamValue> v;
  switch (p.info.type) {
    case ParamType::kString:
      if (const auto* s = node.as_string()) v = ParamValue(s->get());
      break;
    case ParamType::kInteger:
      if (const auto* i = node.as_integer()) v = ParamValue(i->get());
      if (node.is_floating_point())
        throw ConfigError(file, path, tomlread::line_of(node),
                          "expected an integer, got float; write a whole number without a decimal point");
      break;
    case ParamType::kFloat:
      if (const auto* f = node.as_floating_point()) v = ParamValue(f->get() == 0.0 ? 0.0 : f->get());
      if (const auto* i = node.as_integer()) v = ParamValue(static_cast<double>(i->get()));
      break;
    case ParamType::kBool:
      if (const auto* b = node.as_boolean()) v = ParamValue(b->get());
      break;
    case ParamType::kIntList:
    case ParamType::kStringList:
      if (const auto* list = node.as_array()) {
        IntList ints;
        StringList strings;
        for (std::size_t j = 0; j < list->size(); ++j) {
          const toml::node& e = *list->get(j);
          const std::string element_path = path + "[" + std::to_string(j) + "]";
          if (p.info.type == ParamType::kIntList && e.as_integer()) {
            ints.push_back(e.as_integer()->get());
          } else if (p.info.type == ParamType::kStringList && e.as_string()) {
            strings.push_back(e.as_string()->get());
          } else {
            throw ConfigError(file, element_path, tomlread::line_of(e),
                              std::string("expected ") +
                                  (p.info.type == ParamType::kIntList ? "an integer" : "a string") + ", got " +
                                  std::string(tomlread::type_name(e)));
          }
        }
        if (p.info.type == ParamType::kIntList) v = ParamValue(ints);
        else v = ParamValue(strings);
      }
      break;
  }
  if (!v) {
    throw ConfigError(file, path, tomlread::line_of(node),
                      std::string("expected ") + std::string(article_type(p.info.type)) + ", got " +
                          std::string(tomlread::type_name(node)));
  }
  if (auto problem = p.problem(*v)) throw ConfigError(file, path, tomlread::line_of(node), *problem);
  return *v;
}

namespace {

std::size_t index_of(const std::string& name) {
  const auto& defs = train_param_defs();
  for (std::size_t i = 0; i < defs.size(); ++i)
    if (defs[i].info.name == name) return i;
  throw Error("no train parameter named " + name);  // a broken table, not a user error
}

}  // namespace

const std::vector<TrainParam>& train_param_defs() {
  static const std::vector<TrainParam> table = build_train_table();
  return table;
}

TrainAxes read_train_table(const toml::table& train, const std::string& file, bool single_values) {
  const auto& defs = train_param_defs();
  std::vector<std::string> names;
  for (const auto& d : defs) names.push_back(d.info.name);
  tomlread::reject_unknown_keys(train, file, "train", names);

  TrainAxes out;
  std::vector<const toml::node*> given(defs.size(), nullptr);
  for (std::size_t i = 0; i < defs.size(); ++i) {
    const TrainParam& p = defs[i];
    const std::string path = "train." + p.info.name;
    const toml::node* node = train.get(p.info.name);
    given[i] = node;
    std::vector<ParamValue> axis;
    std::vector<Origin> origins;
    if (!node) {
      if (p.info.required) {
        std::string fix = "add " + p.info.name + " = ";
        fix += p.info.choices.empty() ? std::string("...") : quoted(p.info.choices.front());
        if (!p.info.choices.empty()) fix += " (" + p.info.check + ")";
        throw ConfigError(file, path, tomlread::line_of(train), "missing required key; " + fix);
      }
      axis.push_back(p.default_value);
      origins.push_back({path, 0});
    } else if (const bool list_type = p.info.type == ParamType::kIntList || p.info.type == ParamType::kStringList;
               list_type && !(node->as_array() && !node->as_array()->empty() && node->as_array()->get(0)->as_array())) {
      axis.push_back(read_value(*node, p, path, file));  // a flat list is one value of a list-typed key
      origins.push_back({path, tomlread::line_of(*node)});
    } else if (const auto* list = node->as_array()) {
      if (single_values) {
        throw ConfigError(file, path, tomlread::line_of(*node),
                          "expected " + std::string(article_type(p.info.type)) +
                              ", got a list; a single run takes one value per key");
      }
      if (list->empty()) {
        throw ConfigError(file, path, tomlread::line_of(*node),
                          p.info.required ? "empty list; give at least one value"
                                          : "empty list; give at least one value or remove the key "
                                            "to use the default " + p.info.default_text);
      }
      for (std::size_t j = 0; j < list->size(); ++j) {
        const std::string element = path + "[" + std::to_string(j) + "]";
        axis.push_back(read_value(*list->get(j), p, element, file));
        origins.push_back({element, tomlread::line_of(*list->get(j))});
      }
    } else {
      axis.push_back(read_value(*node, p, path, file));
      origins.push_back({path, tomlread::line_of(*node)});
    }
    out.axes.push_back(std::move(axis));
    out.origins.push_back(std::move(origins));
  }

  const std::vector<ParamValue>& methods = out.axes[index_of("method")];
  for (std::size_t i = 0; i < defs.size(); ++i) {
    const ParamInfo& info = defs[i].info;
    if (!given[i] || info.methods.empty()) continue;
    const bool used = std::any_of(methods.begin(), methods.end(), [&](const ParamValue& m) {
      return applies_to(info, std::get<std::string>(m));
    });
    if (used) continue;
    std::vector<std::string> listed;
    for (const auto& m : methods) listed.push_back(std::get<std::string>(m));
    throw ConfigError(file, "train." + info.name, tomlread::line_of(*given[i]),
                      "applies only to method " + join(info.methods, ", ") + ", but method is " +
                          join(listed, ", ") + "; remove the key or add one of its methods");
  }

  // A stack is the model only for model = "custom"; for a named model it would be ignored.
  const std::vector<ParamValue>& models = out.axes[index_of("model")];
  const bool custom = std::any_of(models.begin(), models.end(),
                                  [](const ParamValue& m) { return std::get<std::string>(m) == "custom"; });
  const std::size_t layers_at = index_of("layers");
  const bool stack_given = std::any_of(out.axes[layers_at].begin(), out.axes[layers_at].end(),
                                      [](const ParamValue& v) { return !std::get<StringList>(v).empty(); });
  if (stack_given && !custom) {
    throw ConfigError(file, "train.layers", tomlread::line_of(*given[layers_at]),
                      "applies only to model = \"custom\"; remove the key or set model = \"custom\"");
  }
  if (custom) {
    for (const ParamValue& stack : out.axes[layers_at]) {
      if (!std::get<StringList>(stack).empty()) continue;
      const toml::node* at = given[layers_at] ? given[layers_at] : given[index_of("model")];
      throw ConfigError(file, "train.layers", at ? tomlread::line_of(*at) : tomlread::line_of(train),
                        "model = \"custom\" needs its layers, e.g. layers = [\"dense(300)\", \"relu\", "
                        "\"dense(10)\"]");
    }
  }
  return out;
}

}  // namespace detail

const std::vector<ParamInfo>& train_params() {
  static const std::vector<ParamInfo> infos = [] {
    std::vector<ParamInfo> v;
    for (const auto& p : detail::train_param_defs()) v.push_back(p.info);
    return v;
  }();
  return infos;
}

const std::vector<ParamInfo>& sweep_params() {
  static const std::vector<ParamInfo> infos = [] {
    std::vector<ParamInfo> v;
    v.push_back({"name", ParamType::kString, true, "", {}, {}, "[A-Za-z0-9_.-]+",
                 "Sweep name; names the default database file."});
    v.push_back({"db", ParamType::kString, false, "results/<name>.sqlite", {}, {}, "non-empty path",
                 "SQLite results database, relative to the working directory."});
    v.push_back({"weights_dir", ParamType::kString, false, "<db without .sqlite>-weights", {}, {},
                 "non-empty path", "Directory of the per-run HDF5 weight files."});
    v.push_back({"description", ParamType::kString, false, "\"\"", {}, {}, "any string",
                 "Free text describing the sweep."});
    return v;
  }();
  return infos;
}

std::string_view type_name(ParamType type) {
  switch (type) {
    case ParamType::kString: return "string";
    case ParamType::kInteger: return "integer";
    case ParamType::kFloat: return "float";
    case ParamType::kBool: return "boolean";
    case ParamType::kIntList: return "list of integers";
    case ParamType::kStringList: return "list of strings";
  }
  return "unknown";
}

bool applies_to(const ParamInfo& param, std::string_view method) {
  return param.methods.empty() ||
         std::find(param.methods.begin(), param.methods.end(), method) != param.methods.end();
}

std::string params_help() {
  std::ostringstream out;
  auto section = [&out](const std::string& title, const std::vector<ParamInfo>& params) {
    out << title << "\n";
    for (const auto& p : params) {
      out << "  " << p.name << "  " << type_name(p.type) << ", "
          << (p.required ? std::string("required") : "default " + p.default_text) << ", "
          << p.check;
      if (!p.methods.empty()) out << ", only for method " << join(p.methods, ", ");
      out << "\n      " << p.description << "\n";
    }
  };
  section("[sweep]", sweep_params());
  out << "\n";
  section("[train]  (a list of values is a grid axis; the last key varies fastest)", train_params());
  return out.str();
}

}  // namespace ternbench::experiments
