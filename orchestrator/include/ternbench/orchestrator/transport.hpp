#pragma once
// Message passing between the coordinator (rank 0) and workers, independent of MPI so the
// scheduling logic can be tested in one process.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ternbench::orchestrator {

enum class Tag : int {
  kWork = 1,    // coordinator -> worker: one run (protocol::WorkItem)
  kEpoch = 2,   // worker -> coordinator: one epoch's metrics of the run in flight
  kResult = 3,  // worker -> coordinator: the run's final record; the worker is free again
  kStop = 4,    // coordinator -> worker: no more work
  kReady = 5,   // worker -> coordinator: first request for work
};

struct Message {
  int source = -1;
  Tag tag = Tag::kStop;
  std::string payload;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual void send(int dest, Tag tag, std::string_view payload) = 0;
  // Blocks until a message arrives, without spinning a core.
  virtual Message recv_any() = 0;
  // The next message if one arrives within `wait` (zero: only one already there).
  virtual std::optional<Message> recv_for(std::chrono::microseconds wait) = 0;
};

}  // namespace ternbench::orchestrator
