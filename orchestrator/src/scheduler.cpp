#include "ternbench/orchestrator/scheduler.hpp"

#include "ternbench/base/error.hpp"

namespace ternbench::orchestrator {

void run_coordinator(Transport& net, const std::vector<WorkItem>& work, ResultSink& sink, const Admission& admit) {
  std::size_t next = 0;
  int running_workers = net.size() - 1;
  auto hand_out = [&](int worker) {
    while (next < work.size() && admit && !admit(work[next])) ++next;
    if (next < work.size()) {
      sink.started(work[next], worker);
      net.send(worker, Tag::kWork, encode(work[next]));
      ++next;
    } else {
      net.send(worker, Tag::kStop, {});
      --running_workers;
    }
  };
  while (running_workers > 0) {
    Message m = net.recv_any();
    switch (m.tag) {
      case Tag::kReady:
        hand_out(m.source);
        break;
      case Tag::kEpoch:
        sink.epoch(decode_epoch(m.payload));
        break;
      case Tag::kResult:
        sink.finished(decode_result(m.payload));
        hand_out(m.source);
        break;
      default:
        throw CommError("coordinator got unexpected message tag " + std::to_string(static_cast<int>(m.tag)) +
                        " from rank " + std::to_string(m.source));
    }
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
                  const Admission& admit) {
  for (const WorkItem& w : work) {
    if (admit && !admit(w)) continue;
    sink.started(w, 0);
    sink.finished(execute(w, [&](const storage::EpochRecord& e) { sink.epoch(e); }));
  }
}

}  // namespace ternbench::orchestrator
