#pragma once
// What `ternbench run` would do with a sweep file and its DB, computed without running
// anything; `ternbench plan` prints it and `run` executes it.
#include <optional>
#include <string>
#include <vector>

#include "ternbench/experiments/sweep.hpp"
#include "ternbench/storage/records.hpp"

namespace ternbench::storage {
class MetricsDb;
}

namespace ternbench::orchestrator {

struct PlanOptions {
  bool retry_failed = false;  // re-queue failed runs whatever their attempt count
  int max_attempts = 3;       // a failed run is retried automatically until this many attempts
};

struct PlannedRun {
  const experiments::RunSpec* spec = nullptr;
  std::string state;          // "new" or the DB status: done, diverged, failed, config_error, interrupted, running, pending
  int attempts = 0;           // attempts so far
  bool will_run = false;
  double estimate_seconds = -1;  // CPU-seconds expected (train time x threads); -1 = unknown
};

struct Plan {
  std::vector<PlannedRun> runs;              // in the sweep file's order
  std::vector<storage::RunRecord> orphans;   // runs of this sweep name in the DB that the file no longer names
  int count(const std::string& state) const;
  int to_run() const;
  double estimated_cpu_hours(int* unknown) const;  // over runs that will run
};

// db may be null (no DB yet: every run is new).
Plan make_plan(const experiments::Sweep& sweep, const storage::MetricsDb* db, const PlanOptions& opt);

// Human-readable plan (`ternbench plan`).
std::string format_plan(const experiments::Sweep& sweep, const std::string& db_path, const Plan& plan,
                        const PlanOptions& opt);

}  // namespace ternbench::orchestrator
