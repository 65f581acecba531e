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
  std::string engine = "float";  // "ternary": the multiplication-free engine (docs/inference.md)
  int threads = 0;        // 0: the run's own `threads`
  std::string db;         // with engine "ternary": record the measurements here
};

CLI::App* add_infer_command(CLI::App& app, InferOptions& opt);

// Prints the accuracy and loss as the run recorded them (exact decimal of the double). With
// engine "ternary", the accuracy and loss of the ternary engine, whether its predictions are
// the float model's, its latency at batch 1, throughput at batch 64 and weight memory, each
// against the float model. Throws StorageError for a missing, foreign or damaged file
// (codes that disagree with W included), ConfigError for a dataset whose image shape the
// model does not take, Error when the engine's predictions differ from the float model's.
// With db, each measurement is recorded in that results DB (every finished run of it when
// weights is empty).
int run_infer(const InferOptions& opt);

}  // namespace ternbench::orchestrator
