#include "ternbench/orchestrator/scheduler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "support/loopback_transport.hpp"
#include "support/toy_data.hpp"
#include "ternbench/base/hash.hpp"
#include "ternbench/core/train/trainer.hpp"
#include "ternbench/experiments/sweep.hpp"
#include "ternbench/orchestrator/sweep_plan.hpp"

namespace tb = ternbench;
using tb::orchestrator::RunResult;
using tb::orchestrator::WorkItem;

namespace {

class RecordingSink final : public tb::orchestrator::ResultSink {
 public:
  void started(const WorkItem& w, int worker) override {
    note_call();
    started_[w.run_key] += 1;
    order_.push_back(w.run_key);
    workers_.insert(worker);
  }
  void epoch(const tb::storage::EpochRecord& e) override {
    note_call();
    epochs_[e.run_key] += 1;
  }
  void finished(const RunResult& r) override {
    note_call();
    finished_[r.run.run_key] = r.run.status;
  }
  void blocked(const WorkItem& w, const std::string& reason) override {
    note_call();
    blocked_[w.run_key] = reason;
  }
  void begin_batch() override {
    if (in_batch_) ++misplaced_;
    in_batch_ = true;
    ++batches_;
  }
  void end_batch() override {
    if (!in_batch_) ++misplaced_;
    in_batch_ = false;
  }
  void note_call() {
    ++calls_;
    if (!in_batch_) ++misplaced_;
  }

  bool in_batch_ = false;
  int batches_ = 0, calls_ = 0, misplaced_ = 0;  // misplaced: a call outside a batch, or nested batches
  std::map<std::string, int> started_, epochs_;
  std::map<std::string, std::string> finished_, blocked_;
  std::vector<std::string> order_;  // run keys in hand-out order
  std::set<int> workers_;
};

// Keeps whole results, to compare them across worker counts.
class KeepingSink final : public tb::orchestrator::ResultSink {
 public:
  void started(const WorkItem& w, int /*worker*/) override { order_.push_back(w.run_key); }
  void epoch(const tb::storage::EpochRecord& e) override { epochs_[e.run_key].push_back(e); }
  void finished(const RunResult& r) override { results_[r.run.run_key] = r; }
  void blocked(const WorkItem&, const std::string&) override {}
  std::vector<std::string> order_;
  std::map<std::string, std::vector<tb::storage::EpochRecord>> epochs_;
  std::map<std::string, RunResult> results_;
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

// Runs a coordinator and ranks-1 worker threads over the loopback transport.
template <class Sink>
void run_loopback(int ranks, const std::vector<WorkItem>& work, const tb::orchestrator::Executor& execute, Sink& sink,
                  const tb::orchestrator::CostModel& cost = {}) {
  tb::testing::LoopbackNetwork net(ranks);
  std::vector<std::thread> workers;
  for (int r = 1; r < ranks; ++r) {
    workers.emplace_back([&, r] {
      tb::testing::LoopbackTransport t(net, r);
      tb::orchestrator::run_worker(t, execute);
    });
  }
  tb::testing::LoopbackTransport coord(net, 0);
  tb::orchestrator::run_coordinator(coord, work, sink, {}, cost);
  for (auto& t : workers) t.join();
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

// Rank 0 writes everything inside begin_batch/end_batch, so DbSink can commit many
// messages at once; a burst of messages shares batches.
TEST(Scheduler, EverySinkCallIsInsideABatchAndBurstsShareOne) {
  const RecordingSink s = run_sweep(4, 60);
  EXPECT_EQ(s.misplaced_, 0);
  EXPECT_FALSE(s.in_batch_) << "the last batch was not closed";
  EXPECT_EQ(s.calls_, 60 * 4);  // started, two epochs, finished
  EXPECT_LT(s.batches_, s.calls_);
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

TEST(Scheduler, LongestFirstKeepsTheGivenOrderForEqualCosts) {
  const std::vector<double> costs = {1, 3, 2, 3, 1, 0};
  std::vector<WorkItem> work = make_work(static_cast<int>(costs.size()));
  const auto order = tb::orchestrator::longest_first(work, [&](const WorkItem& w) {
    return costs.at(static_cast<std::size_t>(std::stoi(w.run_key.substr(3))));
  });
  EXPECT_EQ(order, (std::vector<std::size_t>{1, 3, 2, 0, 4, 5}));
}

TEST(Scheduler, CoordinatorAndEmbeddedHandOutLongestFirst) {
  const std::vector<double> costs = {5, 40, 5, 60, 10, 40, 1};
  const auto cost = [&](const WorkItem& w) { return costs.at(static_cast<std::size_t>(std::stoi(w.run_key.substr(3)))); };
  const std::vector<std::string> expected = {"run3", "run1", "run5", "run4", "run0", "run2", "run6"};
  for (const int ranks : {2, 3, 5}) {
    SCOPED_TRACE(ranks);
    RecordingSink sink;
    run_loopback(ranks, make_work(7), [](const WorkItem& w, const auto& emit) { return fake_training(w, emit, ""); },
                 sink, cost);
    EXPECT_EQ(sink.order_, expected);
    EXPECT_EQ(sink.finished_.size(), 7u);
  }
  RecordingSink embedded;
  tb::orchestrator::run_embedded(
      make_work(7), [](const WorkItem& w, const auto& emit) { return fake_training(w, emit, ""); }, embedded, {},
      cost);
  EXPECT_EQ(embedded.order_, expected);
}

// Without a cost model the coordinator ranks runs by the static cost of their configs.
TEST(Scheduler, DefaultCostIsTheStaticModelOfEachConfig) {
  const tb::experiments::Sweep sweep = tb::experiments::parse_sweep(
      "[sweep]\nname = \"s\"\n[train]\ndataset = \"mnist\"\nmethod = \"fp\"\nmodel = \"custom\"\n"
      "layers = [[\"dense(10)\"], [\"dense(300)\", \"relu\", \"dense(10)\"]]\n"
      "train_limit = [100, 1000]\nepochs = [1, 3]\n",
      "s.toml");
  ASSERT_EQ(sweep.runs.size(), 8u);
  std::vector<WorkItem> work;
  for (const auto& r : sweep.runs) {
    WorkItem w;
    w.run_key = r.run_key;
    w.canonical_toml = r.canonical_toml;
    work.push_back(w);
  }
  RecordingSink sink;
  tb::orchestrator::run_embedded(work, [](const WorkItem& w, const auto& emit) { return fake_training(w, emit, ""); },
                                 sink);
  // Largest first: the 300-unit stack with 1000 images and 3 epochs.
  ASSERT_EQ(sink.order_.size(), 8u);
  double previous = 1e300;
  for (const auto& key : sink.order_) {
    const auto it = std::find_if(sweep.runs.begin(), sweep.runs.end(), [&](const auto& r) { return r.run_key == key; });
    const double c = tb::orchestrator::static_cost_seconds(it->train);
    EXPECT_LE(c, previous) << key;
    previous = c;
  }
  const auto& first = *std::find_if(sweep.runs.begin(), sweep.runs.end(),
                                    [&](const auto& r) { return r.run_key == sink.order_.front(); });
  EXPECT_EQ(first.train.layers.size(), 3u);
  EXPECT_EQ(first.train.train_limit, 1000);
  EXPECT_EQ(first.train.epochs, 3);
  // A config that does not parse costs 0: it goes last and fails as a config error there.
  work.push_back(WorkItem{});
  work.back().run_key = "broken";
  RecordingSink with_broken;
  tb::orchestrator::run_embedded(work, [](const WorkItem& w, const auto& emit) { return fake_training(w, emit, ""); },
                                 with_broken);
  EXPECT_EQ(with_broken.order_.back(), "broken");
}

// Real training on every worker thread: the hand-out order and the number of workers change
// no run's metrics or weights, bit for bit.
TEST(Scheduler, ResultsAreBitIdenticalWhateverTheWorkerCount) {
  const tb::core::DataSplit data = tb::testing::toy_data(120, 40);
  const tb::experiments::Sweep sweep = tb::experiments::parse_sweep(
      "[sweep]\nname = \"s\"\n[train]\ndataset = \"mnist\"\nmethod = [\"fp\", \"twn\"]\nmodel = \"custom\"\n"
      "layers = [\"dense(16)\", \"relu\", \"dense(10)\"]\nbatch_size = 16\nseed = [1, 2, 3]\n"
      "[train.zip]\nepochs = [1, 2]\nlr = [0.1, 0.05]\n",
      "s.toml");
  ASSERT_EQ(sweep.runs.size(), 12u);
  std::vector<WorkItem> work;
  for (const auto& r : sweep.runs) {
    WorkItem w;
    w.run_key = r.run_key;
    w.canonical_toml = r.canonical_toml;
    work.push_back(w);
  }
  const tb::orchestrator::Executor train = [&](const WorkItem& w, const tb::orchestrator::EpochEmitter& emit) {
    const tb::core::TrainConfig cfg = tb::experiments::parse_run(w.canonical_toml).train;
    tb::core::TrainResult t = tb::core::train(cfg, data, [&](const tb::core::EpochMetrics& m) {
      tb::storage::EpochRecord e;
      e.run_key = w.run_key;
      e.epoch = m.epoch;
      e.train_loss = m.train_loss;
      e.test_loss = m.test_loss;
      e.test_acc = m.test_acc;
      emit(e);
    });
    RunResult r;
    r.run.run_key = w.run_key;
    r.run.status = tb::storage::kStatusDone;
    r.run.test_loss = t.epochs.back().test_loss;
    r.run.sparsity = t.sparsity;
    tb::Sha256 h;
    for (const auto& tensor : t.weights) {
      h.update(tensor.name);
      h.update(tensor.data.data(), tensor.data.size() * sizeof(float));
    }
    r.run.weights_path = h.hex_digest();  // stands for the weights file's content
    return r;
  };
  // Costs that reverse the file order, so the runs train in another order than embedded.
  const auto reversed = [&](const WorkItem& w) {
    for (std::size_t i = 0; i < work.size(); ++i)
      if (work[i].run_key == w.run_key) return static_cast<double>(i);
    return 0.0;
  };
  KeepingSink embedded;
  tb::orchestrator::run_embedded(work, train, embedded, {}, [](const WorkItem&) { return 1.0; });
  ASSERT_EQ(embedded.results_.size(), 12u);
  EXPECT_EQ(embedded.order_.front(), work.front().run_key);
  for (const int ranks : {2, 4}) {
    SCOPED_TRACE(ranks);
    KeepingSink mpi;
    run_loopback(ranks, work, train, mpi, reversed);
    EXPECT_EQ(mpi.order_.front(), work.back().run_key);
    ASSERT_EQ(mpi.results_.size(), 12u);
    for (const auto& [key, a] : embedded.results_) {
      const RunResult& b = mpi.results_.at(key);
      EXPECT_EQ(std::memcmp(&a.run.test_loss, &b.run.test_loss, sizeof(double)), 0) << key;
      EXPECT_EQ(a.run.sparsity, b.run.sparsity) << key;
      EXPECT_EQ(a.run.weights_path, b.run.weights_path) << key;
      const auto& ea = embedded.epochs_.at(key);
      const auto& eb = mpi.epochs_.at(key);
      ASSERT_EQ(ea.size(), eb.size()) << key;
      for (std::size_t i = 0; i < ea.size(); ++i) {
        EXPECT_EQ(std::memcmp(&ea[i].train_loss, &eb[i].train_loss, sizeof(double)), 0) << key;
        EXPECT_EQ(std::memcmp(&ea[i].test_acc, &eb[i].test_acc, sizeof(double)), 0) << key;
      }
    }
  }
}

// Runs with an init_from source in the work list go out only after it is done, even when
// idle workers ask first; a failed source blocks its dependents and theirs, and the sweep
// ends (no worker waits forever).
TEST(Scheduler, DependentRunsWaitForTheirSourceAndAFailedSourceBlocksThem) {
  std::vector<WorkItem> work = make_work(6);
  work[1].init_from = "run0";
  work[2].init_from = "run0";
  work[3].init_from = "run2";  // two levels
  work[4].init_from = "run5";  // run5 fails
  for (const int ranks : {1, 2, 4}) {
    RecordingSink sink;
    const tb::orchestrator::Executor exec = [](const WorkItem& w, const tb::orchestrator::EpochEmitter& emit) {
      if (w.run_key == "run0") std::this_thread::sleep_for(std::chrono::milliseconds(50));
      return fake_training(w, emit, "run5");
    };
    if (ranks == 1) {
      tb::orchestrator::run_embedded(work, exec, sink);
    } else {
      tb::testing::LoopbackNetwork net(ranks);
      std::vector<std::thread> workers;
      for (int r = 1; r < ranks; ++r) {
        workers.emplace_back([&, r] {
          tb::testing::LoopbackTransport t(net, r);
          tb::orchestrator::run_worker(t, exec);
        });
      }
      tb::testing::LoopbackTransport coord(net, 0);
      tb::orchestrator::run_coordinator(coord, work, sink);
      for (auto& t : workers) t.join();
    }
    auto pos = [&](const std::string& k) {
      return std::find(sink.order_.begin(), sink.order_.end(), k) - sink.order_.begin();
    };
    EXPECT_EQ(sink.finished_.size(), 5u) << ranks;
    EXPECT_EQ(sink.finished_["run5"], "failed");
    ASSERT_EQ(sink.blocked_.count("run4"), 1u) << ranks;
    EXPECT_NE(sink.blocked_["run4"].find("run5 ended failed"), std::string::npos) << sink.blocked_["run4"];
    EXPECT_EQ(sink.started_.count("run4"), 0u);
    EXPECT_LT(pos("run0"), pos("run1"));
    EXPECT_LT(pos("run0"), pos("run2"));
    EXPECT_LT(pos("run2"), pos("run3"));
  }
}
