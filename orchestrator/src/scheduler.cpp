#include "ternbench/orchestrator/scheduler.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <optional>
#include <unordered_map>

#include "ternbench/base/error.hpp"
#include "ternbench/orchestrator/sweep_plan.hpp"
#include "ternbench/orchestrator/work_queue.hpp"

namespace ternbench::orchestrator {

std::vector<std::size_t> longest_first(const std::vector<WorkItem>& work, const CostModel& cost) {
  const CostModel& of = cost ? cost : static_cost_model();
  std::vector<double> c(work.size());
  for (std::size_t i = 0; i < work.size(); ++i) c[i] = of(work[i]);
  std::vector<std::size_t> order(work.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&c](std::size_t a, std::size_t b) { return c[a] > c[b]; });
  return order;
}

CostModel static_cost_model() {
  return [](const WorkItem& w) { return static_cost_seconds(w.canonical_toml); };
}

void run_coordinator(Transport& net, const std::vector<WorkItem>& work, ResultSink& sink, const Admission& admit,
                     const CostModel& cost, const StatusLookup& status_of) {
  WorkQueue queue(work, longest_first(work, cost), status_of);
  for (const BlockedRun& b : queue.initially_blocked()) sink.blocked(work[b.item], b.reason);
  std::unordered_map<std::string, std::size_t> in_flight;  // run key -> work index
  std::vector<int> idle;  // workers that asked while every run left waited for a source
  int running_workers = net.size() - 1;
  auto hand_out = [&](int worker) {
    while (const std::optional<std::size_t> i = queue.pop()) {
      const WorkItem& w = work[*i];
      if (admit && !admit(w)) {
        queue.drop(*i);
        continue;
      }
      // Send first: the worker trains while rank 0 writes the DB. Its messages about this
      // run are read only after started() returns, so the DB still sees them in order.
      net.send(worker, Tag::kWork, encode(w));
      sink.started(w, worker);
      in_flight.emplace(w.run_key, *i);
      return;
    }
    if (queue.waiting()) {
      idle.push_back(worker);
      return;
    }
    net.send(worker, Tag::kStop, {});
    --running_workers;
  };
  auto handle = [&](const Message& m) {
    switch (m.tag) {
      case Tag::kReady:
        hand_out(m.source);
        break;
      case Tag::kEpoch:
        sink.epoch(decode_epoch(m.payload));
        break;
      case Tag::kResult: {
        const RunResult r = decode_result(m.payload);
        std::vector<BlockedRun> blocked;
        if (const auto it = in_flight.find(r.run.run_key); it != in_flight.end()) {
          blocked = queue.finished(it->second, r.run.status);
          in_flight.erase(it);
        }
        hand_out(m.source);  // the worker's next run overlaps the write of this result
        sink.finished(r);
        for (const BlockedRun& b : blocked) sink.blocked(work[b.item], b.reason);
        // Runs this result released go to the workers that were waiting; with nothing left
        // to wait for, those workers are told to stop.
        std::vector<int> waiting_workers;
        waiting_workers.swap(idle);
        for (const int worker : waiting_workers) hand_out(worker);
        break;
      }
      default:
        throw CommError("coordinator got unexpected message tag " + std::to_string(static_cast<int>(m.tag)) +
                        " from rank " + std::to_string(m.source));
    }
  };
  // Messages arriving within a few milliseconds of each other share one batch (one DB
  // transaction on rank 0): a sweep of short runs then costs a few page writes per run
  // instead of a commit per message, and no write waits longer than the window.
  using clock = std::chrono::steady_clock;
  constexpr auto kBatchWindow = std::chrono::microseconds(5000);
  constexpr int kMaxBatch = 1024;
  while (running_workers > 0) {
    const Message first = net.recv_any();
    const auto close_at = clock::now() + kBatchWindow;
    sink.begin_batch();
    handle(first);
    for (int n = 1; n < kMaxBatch && running_workers > 0; ++n) {
      const auto left = std::chrono::duration_cast<std::chrono::microseconds>(close_at - clock::now());
      std::optional<Message> m = net.recv_for(std::max(left, std::chrono::microseconds(0)));
      if (!m) break;
      handle(*m);
    }
    sink.end_batch();
  }
}

void run_worker(Transport& net, const Executor& execute) {
  net.send(0, Tag::kReady, {});
  for (;;) {
    Message m = net.recv_any();
    if (m.tag == Tag::kStop) return;
    if (m.tag != Tag::kWork)
      throw CommError("worker got unexpected message tag " + std::to_string(static_cast<int>(m.tag)));
    const WorkItem w = decode_work(m.payload);
    const RunResult r = execute(w, [&](const storage::EpochRecord& e) { net.send(0, Tag::kEpoch, encode(e)); });
    net.send(0, Tag::kResult, encode(r));
  }
}

void run_embedded(const std::vector<WorkItem>& work, const Executor& execute, ResultSink& sink,
                  const Admission& admit, const CostModel& cost, const StatusLookup& status_of) {
  WorkQueue queue(work, longest_first(work, cost), status_of);
  for (const BlockedRun& b : queue.initially_blocked()) sink.blocked(work[b.item], b.reason);
  // One run at a time: a source is always finished before the queue could offer its
  // dependents, so pop() runs dry only at the end.
  while (const std::optional<std::size_t> i = queue.pop()) {
    const WorkItem& w = work[*i];
    if (admit && !admit(w)) {
      queue.drop(*i);
      continue;
    }
    sink.started(w, 0);
    const RunResult r = execute(w, [&](const storage::EpochRecord& e) { sink.epoch(e); });
    const std::vector<BlockedRun> blocked = queue.finished(*i, r.run.status);
    sink.finished(r);
    for (const BlockedRun& b : blocked) sink.blocked(work[b.item], b.reason);
  }
}

}  // namespace ternbench::orchestrator
