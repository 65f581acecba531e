#include "ternbench/orchestrator/scheduler.hpp"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "support/loopback_transport.hpp"

namespace tb = ternbench;
using tb::orchestrator::RunResult;
using tb::orchestrator::WorkItem;

namespace {

class RecordingSink final : public tb::orchestrator::ResultSink {
 public:
  void started(const WorkItem& w, int worker) override {
    started_[w.run_key] += 1;
    workers_.insert(worker);
  }
  void epoch(const tb::storage::EpochRecord& e) override { epochs_[e.run_key] += 1; }
  void finished(const RunResult& r) override { finished_[r.run.run_key] = r.run.status; }

  std::map<std::string, int> started_, epochs_;
  std::map<std::string, std::string> finished_;
  std::set<int> workers_;
};

std::vector<WorkItem> make_work(int n) {
  std::vector<WorkItem> w(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) w[static_cast<std::size_t>(i)].run_key = "run" + std::to_string(i);
  return w;
}

// Two epochs per run; the run named in fail_key fails.
RunResult fake_training(const WorkItem& w, const tb::orchestrator::EpochEmitter& emit, const std::string& fail_key) {
  for (int e = 1; e <= 2; ++e) {
    tb::storage::EpochRecord rec;
    rec.run_key = w.run_key;
    rec.epoch = e;
    emit(rec);
  }
  RunResult r;
  r.run.run_key = w.run_key;
  r.run.status = w.run_key == fail_key ? tb::storage::kStatusFailed : tb::storage::kStatusDone;
  return r;
}

RecordingSink run_sweep(int ranks, int runs, const std::string& fail_key = "", std::map<int, int>* per_worker = nullptr) {
  tb::testing::LoopbackNetwork net(ranks);
  std::mutex mu;
  std::vector<std::thread> workers;
  for (int r = 1; r < ranks; ++r) {
    workers.emplace_back([&, r] {
      tb::testing::LoopbackTransport t(net, r);
      tb::orchestrator::run_worker(t, [&](const WorkItem& w, const tb::orchestrator::EpochEmitter& emit) {
        if (per_worker) {
          std::lock_guard<std::mutex> lock(mu);
          (*per_worker)[r] += 1;
        }
        return fake_training(w, emit, fail_key);
      });
    });
  }
  RecordingSink sink;
  tb::testing::LoopbackTransport coord(net, 0);
  tb::orchestrator::run_coordinator(coord, make_work(runs), sink);
  for (auto& t : workers) t.join();
  return sink;
}

}  // namespace

TEST(Scheduler, EveryRunExecutedExactlyOnce) {
  std::map<int, int> per_worker;
  const RecordingSink s = run_sweep(4, 25, "", &per_worker);
  ASSERT_EQ(s.finished_.size(), 25u);
  for (const auto& [key, n] : s.started_) EXPECT_EQ(n, 1) << key;
  for (const auto& [key, n] : s.epochs_) EXPECT_EQ(n, 2) << key;
  int total = 0;
  for (const auto& [w, n] : per_worker) total += n;
  EXPECT_EQ(total, 25);
  EXPECT_EQ(s.workers_.count(0), 0u) << "rank 0 coordinates, it never trains";
}

TEST(Scheduler, MoreWorkersThanRunsTerminates) {
  const RecordingSink s = run_sweep(6, 2);
  EXPECT_EQ(s.finished_.size(), 2u);
}

TEST(Scheduler, NoWorkStopsEveryWorker) {
  const RecordingSink s = run_sweep(3, 0);
  EXPECT_TRUE(s.finished_.empty());
}

TEST(Scheduler, AFailedRunIsRecordedAndTheSweepGoesOn) {
  const RecordingSink s = run_sweep(3, 6, "run2");
  ASSERT_EQ(s.finished_.size(), 6u);
  EXPECT_EQ(s.finished_.at("run2"), tb::storage::kStatusFailed);
  EXPECT_EQ(s.finished_.at("run5"), tb::storage::kStatusDone);
}

TEST(Scheduler, EmbeddedMakesTheSameCalls) {
  RecordingSink sink;
  tb::orchestrator::run_embedded(
      make_work(3), [](const WorkItem& w, const auto& emit) { return fake_training(w, emit, "run1"); }, sink);
  EXPECT_EQ(sink.finished_.size(), 3u);
  EXPECT_EQ(sink.epochs_.at("run0"), 2);
  EXPECT_EQ(sink.finished_.at("run1"), tb::storage::kStatusFailed);
}
