#include "ternbench/core/methods/option.hpp"

#include <cmath>
#include <utility>

#include "option_checks.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/base/format.hpp"

namespace ternbench::core {
namespace method_options {
void fail(const std::string& msg) { throw Error("train config: " + msg); }

void check_range(const char* name, double v, double lo, bool lo_open, double hi, bool hi_open) {
  const bool ok = std::isfinite(v) && (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
  if (!ok) {
    const std::string upper = std::isinf(hi) ? "inf" : format_g(hi);
    fail(std::string(name) + " must be a finite number in " + (lo_open ? "(" : "[") + format_g(lo) + ", " + upper +
         (hi_open || upper == "inf" ? ")" : "]") + " (got " + format_g(v) + ")");
  }
}

void check_choice(const char* name, const std::string& v, const std::vector<std::string>& valid) {
  std::string list;
  for (const std::string& c : valid) {
    if (v == c) return;
    list += (list.empty() ? "" : ", ") + c;
  }
  fail(std::string(name) + " '" + v + "' is unknown (valid: " + list + ")");
}

}  // namespace method_options

MethodOption real_option(std::string name, double TrainConfig::*field, double lo, bool lo_open, double hi,
                         std::string help) {
  MethodOption o;
  o.name = std::move(name);
  o.field = field;
  o.lo = lo;
  o.lo_open = lo_open;
  o.hi = hi;
  o.help = std::move(help);
  return o;
}

MethodOption int_option(std::string name, int TrainConfig::*field, int lo, std::string help) {
  MethodOption o;
  o.name = std::move(name);
  o.field = field;
  o.lo = lo;
  o.help = std::move(help);
  return o;
}

MethodOption flag_option(std::string name, bool TrainConfig::*field, std::string help) {
  MethodOption o;
  o.name = std::move(name);
  o.field = field;
  o.help = std::move(help);
  return o;
}

MethodOption choice_option(std::string name, std::string TrainConfig::*field, std::vector<std::string> choices,
                           std::string noun, std::string help) {
  MethodOption o;
  o.name = std::move(name);
  o.field = field;
  o.choices = std::move(choices);
  o.noun = std::move(noun);
  o.help = std::move(help);
  return o;
}

MethodOption added_after_runs(MethodOption option) {
  option.omitted_at_default = true;
  return option;
}

void check_option(const MethodOption& option, const TrainConfig& cfg) {
  const char* name = option.name.c_str();
  if (const auto* real = std::get_if<double TrainConfig::*>(&option.field)) {
    method_options::check_range(name, cfg.**real, option.lo, option.lo_open, option.hi, true);
  } else if (const auto* integer = std::get_if<int TrainConfig::*>(&option.field)) {
    const int v = cfg.**integer;
    if (v < option.lo)
      method_options::fail(option.name + " must be >= " + std::to_string(static_cast<int>(option.lo)) + " (got " +
                           std::to_string(v) + ")");
  } else if (const auto* text = std::get_if<std::string TrainConfig::*>(&option.field)) {
    if (!option.choices.empty()) method_options::check_choice(name, cfg.**text, option.choices);
  }
}

}  // namespace ternbench::core
