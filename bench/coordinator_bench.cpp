// Runs per second that rank 0 handles, its SQLite writes included, when the workers answer
// at once: the coordinator's own ceiling, apart from what the workers spend training and
// writing weights files (bench/orchestration_bench.sh measures the whole sweep under mpirun).
//
// The coordinator and DbSink are the ones `ternbench run` uses, writing a real results DB.
// Three worker threads, over the in-process transport of the scheduler tests, answer every
// run with the result and epochs of one real run of the same trivial config, re-keyed.
//
//   TERNBENCH_DATA=<dir with mnist/> build/release/bench/tb_bench_orchestrator
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "support/loopback_transport.hpp"
#include "support/tmp_dir.hpp"
#include "ternbench/datalib/loading.hpp"
#include "ternbench/experiments/sweep.hpp"
#include "ternbench/orchestrator/db_sink.hpp"
#include "ternbench/orchestrator/run_executor.hpp"
#include "ternbench/orchestrator/scheduler.hpp"
#include "ternbench/storage/metrics_db.hpp"

namespace {

namespace tb = ternbench;
using tb::orchestrator::RunResult;
using tb::orchestrator::WorkItem;

std::string sweep_text(int runs) {
  std::string seeds;
  for (int i = 1; i <= runs; ++i) seeds.append(i == 1 ? "" : ", ").append(std::to_string(i));
  std::string t =
      "[sweep]\nname = \"orch\"\n[train]\ndataset = \"mnist\"\nmethod = \"fp\"\nmodel = \"custom\"\n"
      "layers = [\"dense(10)\"]\nepochs = 1\nbatch_size = 10\ntrain_limit = 10\ntest_limit = 10\nseed = [";
  return t.append(seeds).append("]\n");
}

void BM_CoordinatorRunsPerSecond(benchmark::State& state) {
  const int runs = static_cast<int>(state.range(0));
  constexpr int kWorkers = 3;
  tb::testing::TmpDir tmp;
  const tb::experiments::Sweep sweep = tb::experiments::parse_sweep(sweep_text(runs), "orch.toml");
  std::map<std::string, const tb::experiments::RunSpec*> specs;
  std::vector<WorkItem> work;
  for (const auto& spec : sweep.runs) {
    specs[spec.run_key] = &spec;
    WorkItem w;
    w.run_key = spec.run_key;
    w.sweep = sweep.name;
    w.canonical_toml = spec.canonical_toml;
    w.weights_path = tmp.file(spec.run_key + ".h5");
    w.weights_ref = spec.run_key + ".h5";
    w.data_root = tb::data::data_root();
    work.push_back(w);
  }

  // One real run gives the messages a worker sends: its epochs and its result.
  std::vector<tb::storage::EpochRecord> epochs;
  tb::orchestrator::RunExecutor exec(1);
  const RunResult real = exec.execute(work[0], [&](const tb::storage::EpochRecord& e) { epochs.push_back(e); });
  if (real.run.status != tb::storage::kStatusDone) {
    state.SkipWithError(("the sample run failed (" + real.run.error +
                         "); set TERNBENCH_DATA to a directory with mnist/ (tb_make_fixture makes one)")
                            .c_str());
    return;
  }
  const auto answer = [&](const WorkItem& w, const tb::orchestrator::EpochEmitter& emit) {
    for (tb::storage::EpochRecord e : epochs) {
      e.run_key = w.run_key;
      emit(e);
    }
    RunResult r = real;
    r.run.run_key = w.run_key;
    r.run.config_toml = w.canonical_toml;
    for (auto& l : r.layers) l.run_key = w.run_key;
    for (auto& s : r.stages) s.run_key = w.run_key;
    return r;
  };

  std::FILE* devnull = std::fopen("/dev/null", "w");
  int iteration = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string db_path = tmp.file("orch" + std::to_string(iteration++) + ".sqlite");
    tb::storage::MetricsDb db(db_path);
    state.ResumeTiming();

    tb::testing::LoopbackNetwork net(kWorkers + 1);
    std::vector<std::thread> workers;
    for (int r = 1; r <= kWorkers; ++r) {
      workers.emplace_back([&net, &answer, r] {
        tb::testing::LoopbackTransport t(net, r);
        tb::orchestrator::run_worker(t, answer);
      });
    }
    tb::orchestrator::DbSink sink(db, specs, runs, devnull);
    tb::testing::LoopbackTransport coordinator(net, 0);
    tb::orchestrator::run_coordinator(coordinator, work, sink);
    for (auto& t : workers) t.join();

    state.PauseTiming();
    if (static_cast<int>(db.keys_with_status(tb::storage::kStatusDone).size()) != runs)
      state.SkipWithError("not every run reached the DB as done");
    state.ResumeTiming();
  }
  std::fclose(devnull);
  state.counters["runs_per_second"] =
      benchmark::Counter(static_cast<double>(runs), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_CoordinatorRunsPerSecond)->Arg(10000)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace
