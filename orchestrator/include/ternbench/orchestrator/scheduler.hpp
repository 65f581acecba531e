#pragma once
// Dynamic hand-out of runs: rank 0 coordinates, every other rank trains one run at a time.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "ternbench/orchestrator/protocol.hpp"
#include "ternbench/orchestrator/transport.hpp"

namespace ternbench::orchestrator {

// Receives everything the coordinator learns; on rank 0 it is the only DB writer.
class ResultSink {
 public:
  virtual ~ResultSink() = default;
  virtual void started(const WorkItem& w, int worker) = 0;
  virtual void epoch(const storage::EpochRecord& e) = 0;
  virtual void finished(const RunResult& r) = 0;
  // A run that will not start because its init_from source did not finish (kStatusBlocked).
  virtual void blocked(const WorkItem& w, const std::string& reason) = 0;
  // The coordinator brackets the messages that were waiting together with these, so a
  // sink can write them in one transaction instead of one per message.
  virtual void begin_batch() {}
  virtual void end_batch() {}
};

using EpochEmitter = std::function<void(const storage::EpochRecord&)>;
using Executor = std::function<RunResult(const WorkItem&, const EpochEmitter&)>;

// Decides whether a run may still start (false once a stop was requested, or when the
// walltime left is too short for it). Runs refused are left for the next job.
using Admission = std::function<bool(const WorkItem&)>;

// Expected cost of a run (CPU-seconds; only the order matters).
using CostModel = std::function<double(const WorkItem&)>;

// The order runs are handed out in: longest first (LPT), so a long run does not start last
// and keep one worker busy while the others idle; equal costs keep the given (file) order.
// The order changes no result: a run's random streams derive from its config alone.
std::vector<std::size_t> longest_first(const std::vector<WorkItem>& work, const CostModel& cost);

// static_cost_seconds() of the config in each WorkItem's canonical TOML (0 if it does not
// parse: such a run fails as a config error wherever it is placed).
CostModel static_cost_model();

// The DB status of a run outside the work list ("" if unknown): decides whether a run whose
// init_from source is not trained in this job may start (done) or is blocked.
using StatusLookup = std::function<std::string(const std::string& run_key)>;

// Rank 0. Hands work out longest first by cost (static_cost_model() when empty) to
// whichever worker asks, while admit() allows; a run with an init_from source in work goes
// out once the source is done, and is recorded blocked if it ends otherwise. A worker that
// asks while every run left waits for a source in flight is answered when one is released.
// Returns when every worker has been told to stop.
void run_coordinator(Transport& net, const std::vector<WorkItem>& work, ResultSink& sink,
                     const Admission& admit = {}, const CostModel& cost = {}, const StatusLookup& status_of = {});

// Ranks 1..N-1. Asks for work, executes it, streams epochs, returns on kStop.
void run_worker(Transport& net, const Executor& execute);

// One process, no transport: the same sequence of sink calls as a one-worker sweep
// (the same longest-first order).
void run_embedded(const std::vector<WorkItem>& work, const Executor& execute, ResultSink& sink,
                  const Admission& admit = {}, const CostModel& cost = {}, const StatusLookup& status_of = {});

}  // namespace ternbench::orchestrator
