#pragma once
// What `ternbench run` would do with a sweep file and its DB, computed without running
// anything; `ternbench plan` prints it and `run` executes it.
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ternbench/experiments/sweep.hpp"
#include "ternbench/storage/records.hpp"

namespace ternbench::storage {
class MetricsDb;
}

namespace ternbench::orchestrator {

struct PlanOptions {
  bool retry_failed = false;  // re-queue failed runs whatever their attempt count, and config_error runs
  int max_attempts = 3;       // a failed run is retried automatically until this many attempts
  // Train every run of the sweep (the selection given to make_plan) again: a run with a
  // result (done, diverged, failed, config_error) has it superseded (kept in the DB's
  // superseded_runs) and is trained from scratch; an unfinished one resumes as without it.
  bool rerun = false;
  // The commit of this binary, which finished runs are compared with ("" = no comparison).
  std::string git_commit;
};

struct PlannedRun {
  const experiments::RunSpec* spec = nullptr;
  std::string state;          // "new" or the DB status: done, diverged, failed, config_error, interrupted, running, pending
  int attempts = 0;           // attempts so far
  bool will_run = false;
  bool supersede = false;     // --rerun: its current result is kept as superseded, then it trains again
  double estimate_seconds = -1;  // CPU-seconds expected (train time x threads); -1 = unknown
  // CPU-seconds expected for ordering the hand-out, never unknown: estimate_seconds when
  // known, else static_cost_seconds() scaled by the DB's measured/static ratio (1 without one).
  double cost_seconds = 0;
  // Dependency level among the runs that will run: 0 = may start at once; a run with an
  // init_from source that will run is one level above it.
  int level = 0;
};

struct Plan {
  std::vector<PlannedRun> runs;              // in the sweep file's order
  std::vector<storage::RunRecord> orphans;   // runs of this sweep name in the DB that the file no longer names
  // Finished runs (done or diverged) of the file trained by a commit other than
  // PlanOptions::git_commit: commit -> runs.
  std::map<std::string, int> other_commits;
  int count(const std::string& state) const;
  int to_run() const;
  double estimated_cpu_hours(int* unknown) const;  // over runs that will run
};

// CPU-seconds a run should take, from its settings alone: multiply-adds per image of the
// model (its weight matrices) x 3 (forward and two gradients) x training images x epochs,
// plus the test passes, at an assumed speed. Only ratios between runs matter: it orders
// the hand-out when the DB has no similar finished run.
double static_cost_seconds(const core::TrainConfig& cfg);

// static_cost_seconds() of a run given as its canonical TOML (RunSpec::canonical_toml), or
// 0 when the text does not parse. Runs that differ only in keys the cost ignores (seed, lr,
// ...) share one parse, so costing thousands of runs takes milliseconds.
double static_cost_seconds(const std::string& canonical_toml);

// db may be null (no DB yet: every run is new). Throws ConfigError (file sweep.file, key
// train.init_from) for an init_from run key that is neither a run of the sweep nor in the
// DB, or whose run cannot warm-start the run naming it.
Plan make_plan(const experiments::Sweep& sweep, const storage::MetricsDb* db, const PlanOptions& opt);

// cost_seconds of the runs that will run, by run key (for the scheduler's CostModel).
std::unordered_map<std::string, double> expected_costs(const Plan& plan);

// Whether r is a finished result (done or diverged) of a commit other than `commit` ("" =
// no comparison): what plan, status and run warn about.
bool trained_by_other_commit(const storage::RunRecord& r, const std::string& commit);

// "3 finished runs were trained by another commit than this binary's (1a2b3c4 2, 5d6e7f8 1);
// ..." for Plan::other_commits, else "".
std::string format_other_commits(const std::map<std::string, int>& other_commits);

// `plan --list`: one line per run, with its key, its values of the keys that vary across the
// sweep, its state in the DB, whether it will run, and its expected CPU time ("~": from the
// static cost model, no similar run being finished yet).
std::string format_plan_list(const experiments::Sweep& sweep, const Plan& plan);

// Human-readable plan (`ternbench plan`).
std::string format_plan(const experiments::Sweep& sweep, const std::string& db_path, const Plan& plan,
                        const PlanOptions& opt);

}  // namespace ternbench::orchestrator
