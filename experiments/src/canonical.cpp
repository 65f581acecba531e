// Canonical TOML of one run and its run key. The text is what the results database stores
// and what workers receive, so it must be a pure function of the run's settings: sorted
// keys, every applicable default written out (but the keys added after runs were trained,
// at their default), one spelling per value. The stored text (runs.config_json) has those
// keys too.
#include <algorithm>
#include <charconv>
#include <cstdio>

#include "params_internal.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/base/hash.hpp"
#include "ternbench/experiments/sweep.hpp"
#include "ternbench/tomlread/reader.hpp"

namespace ternbench::experiments {
namespace detail {
namespace {

// TOML basic-string escaping; non-ASCII UTF-8 passes through unchanged.
std::string quote_toml(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

std::string format_double(double x) {
  if (x == 0.0) return "0.0";  // one spelling for -0.0 and 0.0
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, x);
  std::string s(buf, res.ptr);
  if (s == "inf" || s == "-inf" || s == "nan" || s == "-nan") return s;  // only in messages
  // "1" would read back as an integer and change the key's type.
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

}  // namespace

std::string format_toml_value(const ParamValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return quote_toml(*s);
  if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return format_double(*d);
  if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  std::string out = "[";
  if (const auto* ints = std::get_if<IntList>(&value)) {
    for (std::size_t i = 0; i < ints->size(); ++i) out += (i ? ", " : "") + std::to_string((*ints)[i]);
  } else {
    const auto& strings = std::get<StringList>(value);
    for (std::size_t i = 0; i < strings.size(); ++i) out += (i ? ", " : "") + quote_toml(strings[i]);
  }
  return out + "]";
}

}  // namespace detail

RunSpec make_run(const core::TrainConfig& cfg) {
  // A TrainConfig built in code gets the same checks as one read from a file, so every
  // canonical text parses back.
  const std::string file = "<config>";
  const auto& defs = detail::train_param_defs();
  const detail::TrainParam* method_param = nullptr;
  for (const auto& p : defs)
    if (p.info.name == "method") method_param = &p;
  if (auto problem = method_param->problem(method_param->get(cfg)))
    throw ConfigError(file, "train.method", 0, *problem);

  RunSpec run;
  // Each line, and whether the canonical text has it: a key added after runs were trained
  // is left out at its default, so that those runs keep their keys. The stored text has all.
  struct Line {
    std::string key, value;
    bool canonical;
    bool operator<(const Line& o) const { return key < o.key; }
  };
  const detail::ParamValue no_text = std::string();
  std::vector<Line> lines;
  for (const auto& p : defs) {
    if (!applies_to(p.info, cfg.method)) continue;  // stays at its default in run.train
    // A named model ignores `layers`; a stack left in cfg (a grid crossing "mlp" with
    // "custom") must not make two keys of one run.
    const bool ignored_stack = p.info.name == "layers" && cfg.model != "custom";
    const detail::ParamValue v = ignored_stack ? p.default_value : p.get(cfg);
    if (auto problem = p.problem(v)) throw ConfigError(file, "train." + p.info.name, 0, *problem);
    p.set(run.train, v);
    const bool at_omitted_default = p.info.omitted_at_default && v == p.default_value;
    // A default of "" means "none" (init_from: no warm start): not stored either, as the
    // DB's runs.init_from is NULL then.
    if (at_omitted_default && v == no_text) continue;
    lines.push_back({p.info.name, detail::format_toml_value(v), !at_omitted_default});
  }
  std::sort(lines.begin(), lines.end());
  run.canonical_toml = run.stored_toml = "[train]\n";
  for (const Line& l : lines) {
    const std::string text = l.key + " = " + l.value + "\n";
    if (l.canonical) run.canonical_toml += text;
    run.stored_toml += text;
  }
  run.run_key = sha256_hex(run.canonical_toml).substr(0, 16);
  return run;
}

RunSpec parse_run(const std::string& canonical_toml) {
  const std::string file = "<run>";
  const toml::table root = tomlread::parse(canonical_toml, file);
  tomlread::reject_unknown_keys(root, file, "", {"train"});
  const toml::table* train = tomlread::sub_table(root, "train", file);
  if (!train) throw ConfigError(file, "train", 0, "missing [train] table");
  const detail::TrainAxes axes = detail::read_train_table(*train, file, /*single_values=*/true);
  core::TrainConfig cfg;
  const auto& defs = detail::train_param_defs();
  for (std::size_t i = 0; i < defs.size(); ++i) defs[i].set(cfg, axes.axes[i].front());
  return make_run(cfg);
}

}  // namespace ternbench::experiments
