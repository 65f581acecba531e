#pragma once
// Private to tb::experiments: `key=value` overrides from the command line, applied to a
// parsed sweep file before it is checked, so that they obey the file's rules
// (sweep_override.cpp; the syntax is in docs/sweep-format.md).
#include <string>
#include <vector>

#include "ternbench/base/error.hpp"
#include "ternbench/tomlread/reader.hpp"

namespace ternbench::experiments::detail {

// One override as applied: the key path it set ("train.epochs"), and where errors about it
// point: the command line and the override as typed, or a set file, the key and its line.
struct AppliedOverride {
  std::string path;
  std::string file;
  std::string key;
  int line = 0;
};

// Sets each override's value in root, later overrides winning. train.X replaces X in [train]
// and in every [[train.block]] that sets it. Throws ConfigError (file "command line") for a
// malformed override, a key outside [train] and [sweep], or a key of a zip.
std::vector<AppliedOverride> apply_overrides(toml::table& root, const std::vector<std::string>& overrides,
                                             const std::string& file);

// Applies the [train] and [sweep] keys of a set file (--set-file) to root as overrides.
// Throws ConfigError naming set_file for a table or key a set file cannot change.
std::vector<AppliedOverride> apply_set_file(toml::table& root, const toml::table& set, const std::string& set_file,
                                            const std::string& file);

// e again, or, when e is about a key an override set, e naming the override instead of the
// file: "command line: train.epochs=abc: expected an integer, got string".
[[noreturn]] void rethrow_for_override(const ConfigError& e, const std::vector<AppliedOverride>& applied);

// The message of e without its "<file>:<line>: <key path>: " head.
std::string message_of(const ConfigError& e);

// The value text of an override or filter as a TOML node: TOML if it parses as a value
// ("5", "0.1", "\"fp\"", "[1, 2]"), else a list written without quotes ("[fp,twn]"), else a
// bare string ("fp"). Throws ConfigError naming where (the override as typed) otherwise.
toml::array parse_values(const std::string& text, const std::string& where, bool as_list);

}  // namespace ternbench::experiments::detail
