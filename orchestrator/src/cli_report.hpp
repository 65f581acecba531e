#pragma once
// `ternbench report` and `ternbench reproduce`: the command-line side of tb::reports.
#include <string>
#include <vector>

#include "ternbench/orchestrator/sweep_runner.hpp"

namespace ternbench::orchestrator {

struct ReportCommand {
  std::string sweep_file;  // its DB and its expected runs (unfinished cells show as such)
  std::vector<std::string> overrides, only, set_files;  // as for `run`: the runs reported are the sweep's selected runs
  std::string db_path;     // overrides the sweep's DB
  std::string out_dir;     // default: <db dir>/<db stem>-report, or <db dir>/paper-<name>
  std::string formats = "md,tex,html";
  std::string paper;       // spec name (experiments/papers/<name>.toml) or path
  bool smoke = false;      // with --paper: use the spec's smoke sweep
  int min_seeds = 3;
};

// Writes the report files and prints their paths. Returns the exit code.
int cmd_report(const ReportCommand& cmd);

// Runs the spec's sweep (or its smoke sweep) exactly as `ternbench run` would, then renders
// the spec on rank 0. Returns run's exit code when it is not 0 (after rendering what exists),
// else 0.
int cmd_reproduce(const ReportCommand& cmd, RunOptions run, const MpiSession* mpi);

}  // namespace ternbench::orchestrator
