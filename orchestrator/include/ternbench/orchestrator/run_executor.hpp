#pragma once
// Executes one run on the calling rank: load data, train, write the weights file, and
// describe the outcome as DB records. A failed run is data, not an exception.
#include <functional>
#include <memory>
#include <string>

#include "ternbench/base/error.hpp"
#include "ternbench/orchestrator/protocol.hpp"

namespace ternbench::core {
struct DataSplit;
}

namespace ternbench::orchestrator {

// A weights or checkpoint file could not be written (disk full, a broken mount): the file
// system failed, not the run, so the job stops (every rank, exit 1) instead of spending the
// run's attempts; the run stays unfinished and the next job trains it from its checkpoint.
class WriteError : public StorageError {
 public:
  using StorageError::StorageError;
};

class RunExecutor {
 public:
  explicit RunExecutor(int rank);
  ~RunExecutor();

  // Trains w. A config the trainer refuses becomes a result with status 'config_error'; a
  // failure of the environment (environment_failure) one with status 'failed' that costs no
  // attempt; any other exception 'failed'; a non-finite loss 'diverged'. Throws WriteError
  // when its files cannot be written.
  RunResult execute(const WorkItem& w, const std::function<void(const storage::EpochRecord&)>& on_epoch);

 private:
  const core::DataSplit& dataset(const std::string& name, const std::string& root);
  int rank_;
  // The last dataset loaded stays in memory: consecutive runs usually share it.
  std::string cached_name_;
  std::unique_ptr<core::DataSplit> cached_;
};

// Whether e is a failure of the run's environment rather than of its config: a data file
// (DataError), a file it reads such as its init_from source's weights (StorageError),
// memory (std::bad_alloc), or ranks that disagree (CommError). Then r becomes 'failed' with
// the message and w.attempt - 1 attempts: the environment can be fixed, and until it is, a
// run must neither spend its attempts nor be marked config_error (which is never retried).
bool environment_failure(const std::exception& e, const WorkItem& w, storage::RunRecord& r);

// Current UTC time as ISO 8601 ("2026-11-23T21:08:01Z").
std::string utc_now();
std::string host_name();

}  // namespace ternbench::orchestrator
