#pragma once
// `ternbench infer`: re-evaluates a stored model on a dataset's test split.
#include <CLI/CLI.hpp>
#include <string>

namespace ternbench::orchestrator {

struct InferOptions {
  std::string weights;    // HDF5 file written by a run
  std::string dataset;    // default: the run's own dataset
  std::string data_root;  // default: $TERNBENCH_DATA or ./data
  bool all = false;       // the whole test split instead of the run's test_limit
};

CLI::App* add_infer_command(CLI::App& app, InferOptions& opt);

// Prints the accuracy and loss as the run recorded them (exact decimal of the double).
// Throws StorageError for a missing, foreign or damaged file, ConfigError for a dataset
// whose image shape the model does not take.
int run_infer(const InferOptions& opt);

}  // namespace ternbench::orchestrator
