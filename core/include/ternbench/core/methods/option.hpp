#pragma once
// One of a method's own [train] keys (sca_alpha, delta_factor, ...), declared once in the
// method's file: the sweep reader builds the key's table row from it (type, default, the
// values it accepts, help) and check_method_config runs the same rule on a TrainConfig built
// in code, so the file and the trainer cannot disagree about what is valid.
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include "ternbench/core/train/train_config.hpp"

namespace ternbench::core {

// The upper bound of a number that has none.
inline constexpr double kNoBound = std::numeric_limits<double>::infinity();

struct MethodOption {
  using Field = std::variant<double TrainConfig::*, int TrainConfig::*, bool TrainConfig::*,
                             std::string TrainConfig::*>;

  std::string name;  // the TOML key
  Field field;
  // A number: lo < x (lo_open) or lo <= x, and x < hi when hi is finite; an int field
  // takes lo as its least value (and the int's own maximum).
  double lo = 0;
  bool lo_open = false;
  double hi = kNoBound;
  // A string: the valid values, and what one is called in "unknown <noun> ...".
  std::vector<std::string> choices;
  std::string noun;
  std::string help;
  // Left out of the canonical config at its default, so that a key added after runs were
  // trained does not change those runs' keys.
  bool omitted_at_default = false;
};

// Declarations for the method files: x in (lo, hi) or [lo, hi), an int >= lo, a flag, one
// of the choices.
MethodOption real_option(std::string name, double TrainConfig::*field, double lo, bool lo_open, double hi,
                         std::string help);
MethodOption int_option(std::string name, int TrainConfig::*field, int lo, std::string help);
MethodOption flag_option(std::string name, bool TrainConfig::*field, std::string help);
MethodOption choice_option(std::string name, std::string TrainConfig::*field, std::vector<std::string> choices,
                           std::string noun, std::string help);

// The option of a key added after runs were trained: left out of the canonical config at its
// default (omitted_at_default), so that those runs keep their keys.
MethodOption added_after_runs(MethodOption option);

// Throws ternbench::Error "train config: <name> ..." when cfg's value breaks the option's rule.
void check_option(const MethodOption& option, const TrainConfig& cfg);

}  // namespace ternbench::core
