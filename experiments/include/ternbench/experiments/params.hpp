#pragma once
// The parameters a sweep file accepts, as data: the same table drives parsing, validation,
// defaults, canonical output and `ternbench` help (LightGBM's one-definition-per-parameter).
#include <string>
#include <string_view>
#include <vector>

namespace ternbench::experiments {

// List types take a whole TOML list as one value ("lr_milestones = [15, 25]"); a list of
// lists is then the grid axis.
enum class ParamType { kString, kInteger, kFloat, kBool, kIntList, kStringList };

struct ParamInfo {
  std::string name;                  // TOML key, e.g. "lr"
  ParamType type = ParamType::kString;
  bool required = false;
  std::string default_text;          // the default as TOML text ("0.05"); a derived default is
                                     // described in words; "" when required
  std::vector<std::string> methods;  // methods the key applies to; empty = every method
  std::vector<std::string> choices;  // allowed values of a string key; empty = any string
  std::string check;                 // the rule a value must satisfy: "> 0", "[0, 1)", ...
  std::string description;
  // Left out of the canonical config at its default, so that a key added later (init_from)
  // does not change the run keys of the runs that do not use it.
  bool omitted_at_default = false;
};

// [train] keys in grid order: the expansion's last key varies fastest.
const std::vector<ParamInfo>& train_params();
// [sweep] keys (never grid axes).
const std::vector<ParamInfo>& sweep_params();

// "string", "integer", "float", "boolean".
std::string_view type_name(ParamType type);
bool applies_to(const ParamInfo& param, std::string_view method);

// A plain-text listing of both tables for `ternbench ... --help`, one block per key.
std::string params_help();

}  // namespace ternbench::experiments
