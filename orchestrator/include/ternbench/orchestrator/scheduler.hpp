#pragma once
// Dynamic hand-out of runs: rank 0 coordinates, every other rank trains one run at a time.
#include <functional>
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
};

using EpochEmitter = std::function<void(const storage::EpochRecord&)>;
using Executor = std::function<RunResult(const WorkItem&, const EpochEmitter&)>;

// Decides whether a run may still start (false once a stop was requested, or when the
// walltime left is too short for it). Runs refused are left for the next job.
using Admission = std::function<bool(const WorkItem&)>;

// Rank 0. Hands work out in the given order to whichever worker asks, while admit() allows;
// returns when every worker has been told to stop.
void run_coordinator(Transport& net, const std::vector<WorkItem>& work, ResultSink& sink,
                     const Admission& admit = {});

// Ranks 1..N-1. Asks for work, executes it, streams epochs, returns on kStop.
void run_worker(Transport& net, const Executor& execute);

// One process, no transport: the same sequence of sink calls as a one-worker sweep.
void run_embedded(const std::vector<WorkItem>& work, const Executor& execute, ResultSink& sink,
                  const Admission& admit = {});

}  // namespace ternbench::orchestrator
