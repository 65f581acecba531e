#pragma once
// `ternbench run`: everything between a sweep file and a filled results DB.
#include <string>
#include <vector>

#include "ternbench/experiments/sweep.hpp"
#include "ternbench/orchestrator/sweep_plan.hpp"

namespace ternbench::orchestrator {

class MpiSession;

struct RunOptions {
  std::string sweep_file;  // "" : the sweep is the overrides alone (experiments::SweepArgs)
  std::vector<std::string> overrides, only, set_files;  // experiments::SweepArgs: key=value, --only, --set-file
  std::string db_path;    // overrides [sweep] db when not empty
  std::string data_root;  // where datasets live (default $TERNBENCH_DATA or ./data)
  PlanOptions plan;       // retries
  double deadline = 0;    // seconds from now (0: SLURM_JOB_END_TIME if set, else none)
  double deadline_margin = 120;  // stop this long before the deadline to record interrupted runs
};

// The DB a sweep writes: --db if given, else the sweep's [sweep] db.
std::string effective_db_path(const experiments::Sweep& sweep, const RunOptions& opt);
// The DB path of --db (`flag`) if given, else of the sweep (may be null). Throws ConfigError
// naming the flag or the sweep file's key when the path is a directory (SQLite itself only
// says "disk I/O error").
std::string db_path_of(const experiments::Sweep* sweep, const std::string& flag);

// Exit codes of `ternbench run` (documented in the README).
inline constexpr int kExitOk = 0;
inline constexpr int kExitRunsFailed = 4;  // the sweep finished but some runs failed
inline constexpr int kExitInterrupted = 75;  // stopped by a signal or the walltime; run again to resume

// Runs the sweep embedded (mpi == nullptr) or as rank mpi->rank() of an MPI job.
// Throws on errors that stop the whole job (bad config, DB or file-system failure).
int run_sweep(const RunOptions& opt, const MpiSession* mpi);

}  // namespace ternbench::orchestrator
