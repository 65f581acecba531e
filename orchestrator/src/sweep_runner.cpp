#include "ternbench/orchestrator/sweep_runner.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "ternbench/base/log.hpp"
#include "ternbench/core/data_fetch.hpp"
#include "ternbench/core/dataset.hpp"
#include "ternbench/experiments/sweep.hpp"
#include "ternbench/orchestrator/mpi_transport.hpp"
#include "ternbench/orchestrator/run_executor.hpp"
#include "ternbench/orchestrator/scheduler.hpp"
#include "ternbench/storage/metrics_db.hpp"

namespace fs = std::filesystem;

namespace ternbench::orchestrator {
namespace {

// Writes everything rank 0 learns into SQLite and prints one progress line per run.
class DbSink final : public ResultSink {
 public:
  DbSink(storage::MetricsDb& db, const std::map<std::string, const experiments::RunSpec*>& specs,
         std::size_t total)
      : db_(db), specs_(specs), total_(total), t0_(Clock::now()) {}

  void started(const WorkItem& w, int worker) override {
    const core::TrainConfig& c = specs_.at(w.run_key)->train;
    storage::RunRecord r;
    r.run_key = w.run_key;
    r.sweep = w.sweep;
    r.config_toml = w.canonical_toml;
    r.dataset = c.dataset;
    r.model = c.model;
    r.method = c.method;
    r.seed = static_cast<std::int64_t>(c.seed);
    r.lr = c.lr;
    r.threads = c.threads;
    r.status = storage::kStatusRunning;
    r.rank = worker;
    r.started_at = utc_now();
    db_.start_run(r);
  }

  void epoch(const storage::EpochRecord& e) override { db_.add_epoch(e); }

  void finished(const RunResult& res) override {
    db_.finish_run(res.run, res.layers);
    ++finished_;
    if (res.run.status == storage::kStatusDone) ++done_;
    if (res.run.status == storage::kStatusFailed) ++failed_;
    if (res.run.status == storage::kStatusDiverged) ++diverged_;
    print_progress(res.run);
  }

  int done() const { return done_; }
  int failed() const { return failed_; }
  int diverged() const { return diverged_; }

 private:
  using Clock = std::chrono::steady_clock;

  void print_progress(const storage::RunRecord& r) const {
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0_).count();
    const double remaining = static_cast<double>(total_ - finished_);
    const double eta = finished_ > 0 ? elapsed / static_cast<double>(finished_) * remaining : 0.0;
    char line[512];
    if (r.status == storage::kStatusDone) {
      std::snprintf(line, sizeof line, "[%zu/%zu] %s %s %s seed=%lld: test acc %.2f%%, sparsity %.3f (%.1f s)",
                    finished_, total_, r.dataset.c_str(), r.model.c_str(), r.method.c_str(),
                    static_cast<long long>(r.seed), 100.0 * r.test_acc, r.sparsity, r.train_seconds);
    } else {
      std::snprintf(line, sizeof line, "[%zu/%zu] %s %s %s seed=%lld: %s: %s", finished_, total_,
                    r.dataset.c_str(), r.model.c_str(), r.method.c_str(), static_cast<long long>(r.seed),
                    r.status.c_str(), r.error.c_str());
    }
    std::string s = line;
    if (finished_ < total_) s += "  ETA " + std::to_string(static_cast<long long>(eta + 0.5)) + " s";
    std::cout << s << std::endl;
  }

  storage::MetricsDb& db_;
  const std::map<std::string, const experiments::RunSpec*>& specs_;
  std::size_t total_;
  Clock::time_point t0_;
  std::size_t finished_ = 0;
  int done_ = 0, failed_ = 0, diverged_ = 0;
};

bool has_idx_files(const std::string& dir) {
  for (const char* f : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                        "t10k-labels-idx1-ubyte"}) {
    const fs::path p = fs::path(dir) / f;
    if (!fs::exists(p) && !fs::exists(fs::path(p.string() + ".gz"))) return false;
  }
  return true;
}

// Datasets the sweep needs but the data root lacks are fetched before any run starts, so a
// missing dataset costs one clear error instead of a sweep of failed runs.
void ensure_datasets(const std::vector<const experiments::RunSpec*>& todo, const std::string& root) {
  std::set<std::string> names;
  for (const auto* s : todo) names.insert(s->train.dataset);
  for (const auto& name : names) {
    if (has_idx_files(core::dataset_dir(root, name))) continue;
    core::fetch_dataset(name, root, std::cout);
  }
}

std::string relative_to(const fs::path& file, const fs::path& dir) {
  const fs::path rel = fs::absolute(file).lexically_normal().lexically_relative(fs::absolute(dir).lexically_normal());
  return rel.empty() ? file.string() : rel.string();
}

}  // namespace

int run_sweep(const RunOptions& opt, const MpiSession* mpi) {
  const bool coordinator = mpi == nullptr || mpi->rank() == 0;
  std::unique_ptr<MpiTransport> net;
  if (mpi != nullptr) net = std::make_unique<MpiTransport>();

  if (!coordinator) {
    RunExecutor exec(mpi->rank());
    run_worker(*net, [&](const WorkItem& w, const EpochEmitter& emit) { return exec.execute(w, emit); });
    return kExitOk;
  }

  const experiments::Sweep sweep = experiments::load_sweep(opt.sweep_file);
  const std::string db_path = opt.db_path.empty() ? sweep.db_path : opt.db_path;
  // --db moves the whole store: weights go next to the DB that references them.
  const fs::path weights_dir =
      opt.db_path.empty() ? fs::path(sweep.weights_dir)
                          : fs::path(db_path).parent_path() / (fs::path(db_path).stem().string() + "-weights");
  const std::string data_root = opt.data_root.empty() ? core::data_root() : opt.data_root;
  storage::MetricsDb db(db_path);

  std::vector<const experiments::RunSpec*> todo;
  std::map<std::string, const experiments::RunSpec*> specs;
  std::size_t already = 0;
  for (const auto& s : sweep.runs) {
    const auto st = db.status(s.run_key);
    if (st && (*st == storage::kStatusDone || *st == storage::kStatusDiverged)) {
      ++already;
      continue;
    }
    todo.push_back(&s);
    specs[s.run_key] = &s;
  }
  if (todo.empty()) {
    std::cout << sweep.name << ": all " << sweep.runs.size() << " runs already finished in " << db_path
              << "; nothing to train" << std::endl;
    if (net) {
      DbSink unused(db, specs, 0);  // every worker asks once and is told to stop
      run_coordinator(*net, {}, unused);
    }
    return kExitOk;
  }

  ensure_datasets(todo, data_root);

  const fs::path db_dir = fs::absolute(db_path).parent_path();
  std::vector<WorkItem> work;
  for (const auto* s : todo) {
    WorkItem w;
    w.run_key = s->run_key;
    w.sweep = sweep.name;
    w.canonical_toml = s->canonical_toml;
    const fs::path weights = fs::absolute(weights_dir / (s->run_key + ".h5"));
    w.weights_path = weights.string();
    w.weights_ref = relative_to(weights, db_dir);
    w.data_root = fs::absolute(data_root).string();
    work.push_back(std::move(w));
  }

  const int workers = net ? net->size() - 1 : 1;
  std::cout << sweep.name << ": " << work.size() << " runs to train";
  if (already > 0) std::cout << " (" << already << " already finished)";
  std::cout << " on " << workers << (workers == 1 ? " worker" : " workers") << "; results in " << db_path
            << std::endl;

  DbSink sink(db, specs, work.size());
  if (net) {
    run_coordinator(*net, work, sink);
  } else {
    RunExecutor exec(0);
    run_embedded(work, [&](const WorkItem& w, const EpochEmitter& emit) { return exec.execute(w, emit); }, sink);
  }
  std::cout << sweep.name << ": " << sink.done() << " done, " << sink.diverged() << " diverged, " << sink.failed()
            << " failed; results in " << db_path << std::endl;
  return sink.failed() > 0 ? kExitRunsFailed : kExitOk;
}

}  // namespace ternbench::orchestrator
