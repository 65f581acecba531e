#pragma once
// A run's config as a JSON object (the results DB's runs.config_json, which the `results`
// view reads with json_extract).
#include <string>

namespace ternbench::experiments {

// The [train] table of a run's TOML (RunSpec::stored_toml for the DB) as one JSON object,
// keys as in the sweep file, sorted: {"dataset":"mnist","epochs":10,...}. Throws ConfigError
// if the text is not a run's TOML.
std::string config_json(const std::string& run_toml);

}  // namespace ternbench::experiments
