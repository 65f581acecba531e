#pragma once
// The hand-out order of a job when runs depend on runs (init_from): a run whose source is
// trained in the same job waits until the source is done; the runs that may start go out
// longest first, as without dependencies.
#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ternbench/orchestrator/protocol.hpp"

namespace ternbench::orchestrator {

// A run that cannot start because its source did not finish, and why.
struct BlockedRun {
  std::size_t item;    // index into the work list
  std::string reason;  // "its init_from source <key> ended failed", ...
};

class WorkQueue {
 public:
  // order: the indices of work, best first (longest_first). A source outside work is looked
  // up with status_of(run key), its DB status ("" when the DB has no such run): "done"
  // releases its dependents, anything else blocks them at once (initially_blocked()).
  WorkQueue(const std::vector<WorkItem>& work, const std::vector<std::size_t>& order,
            const std::function<std::string(const std::string&)>& status_of);

  // The best run that may start now, removed from the queue; nullopt when none may.
  std::optional<std::size_t> pop();
  // True while a run waits for a source that has been handed out or is waiting itself.
  bool waiting() const { return waiting_ > 0; }
  // A handed-out run ended with status ("done", "failed", ...). Done releases its
  // dependents; interrupted drops them (see drop()); any other status blocks them and
  // theirs, which are returned.
  std::vector<BlockedRun> finished(std::size_t item, const std::string& status);
  // A run that will not be handed out in this job (a stop, the walltime): its dependents
  // are left for the next job too, without a record.
  void drop(std::size_t item);
  // Runs blocked at construction by a source outside the work list that is not done.
  const std::vector<BlockedRun>& initially_blocked() const { return initially_blocked_; }

 private:
  void block_dependents(std::size_t item, const std::string& reason, std::vector<BlockedRun>& out);
  void release(std::size_t item);

  const std::vector<WorkItem>& work_;
  std::vector<std::size_t> rank_;                  // position of each item in order
  std::vector<std::vector<std::size_t>> dependents_;
  std::set<std::pair<std::size_t, std::size_t>> ready_;  // (rank, item)
  std::size_t waiting_ = 0;
  std::vector<BlockedRun> initially_blocked_;
};

}  // namespace ternbench::orchestrator
