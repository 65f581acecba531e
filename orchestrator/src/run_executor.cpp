#include "ternbench/orchestrator/run_executor.hpp"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>

#include "ternbench/base/error.hpp"
#include "ternbench/base/version.hpp"
#include "ternbench/core/config_check.hpp"
#include "ternbench/core/dataset.hpp"
#include "ternbench/core/trainer.hpp"
#include "ternbench/experiments/sweep.hpp"
#include "ternbench/orchestrator/provenance.hpp"
#include "ternbench/storage/weights_file.hpp"

namespace ternbench::orchestrator {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string host_name() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

RunExecutor::RunExecutor(int rank) : rank_(rank) {}
RunExecutor::~RunExecutor() = default;

const core::DataSplit& RunExecutor::dataset(const std::string& name, const std::string& root) {
  if (!cached_ || cached_name_ != name) {
    cached_.reset();
    cached_ = std::make_unique<core::DataSplit>(core::load_dataset(name, root));
    cached_name_ = name;
  }
  return *cached_;
}

namespace {

storage::EpochRecord to_record(const std::string& key, const core::EpochMetrics& m) {
  storage::EpochRecord e;
  e.run_key = key;
  e.epoch = m.epoch;
  e.train_loss = m.train_loss;
  e.train_acc = m.train_acc;
  e.test_loss = m.test_loss;
  e.test_acc = m.test_acc;
  e.sparsity = m.sparsity;
  e.seconds = m.seconds;
  return e;
}

storage::LayerRecord to_record(const std::string& key, const core::LayerStats& s) {
  storage::LayerRecord l;
  l.run_key = key;
  l.layer = s.name;
  l.precision = s.precision;
  l.rows = s.rows;
  l.cols = s.cols;
  l.n = s.n;
  l.n_zero = s.n_zero;
  l.n_pos = s.n_pos;
  l.n_neg = s.n_neg;
  l.sparsity = s.sparsity;
  l.scale = s.scale;
  l.delta = s.delta;
  l.bits = s.bits;
  return l;
}

std::vector<storage::Tensor> to_tensors(std::vector<core::NamedTensor>&& in) {
  std::vector<storage::Tensor> out;
  out.reserve(in.size());
  for (auto& t : in) out.push_back(storage::Tensor{std::move(t.name), std::move(t.shape), std::move(t.data)});
  return out;
}

}  // namespace

RunResult RunExecutor::execute(const WorkItem& w,
                               const std::function<void(const storage::EpochRecord&)>& on_epoch) {
  RunResult res;
  storage::RunRecord& r = res.run;
  r.run_key = w.run_key;
  r.sweep = w.sweep;
  r.config_toml = w.canonical_toml;
  stamp_provenance(r);
  r.rank = rank_;
  r.started_at = utc_now();
  r.status = storage::kStatusFailed;
  r.attempts = w.attempt;
  // A config the trainer refuses can never succeed, so it is recorded as config_error and
  // not retried; anything thrown later is an error of this attempt.
  const core::DataSplit* data = nullptr;
  core::TrainConfig cfg;
  bool ready = false;
  try {
    const experiments::RunSpec spec = experiments::parse_run(w.canonical_toml);
    if (spec.run_key != w.run_key)
      throw Error("run " + w.run_key + ": config hashes to " + spec.run_key +
                  " on this rank; every rank must run the same ternbench binary");
    cfg = spec.train;
    r.dataset = cfg.dataset;
    r.model = cfg.model;
    r.method = cfg.method;
    r.seed = static_cast<std::int64_t>(cfg.seed);
    r.lr = cfg.lr;
    r.threads = cfg.threads;
    core::check_config(cfg);
    data = &dataset(cfg.dataset, w.data_root);
    core::check_data(cfg, *data);
    ready = true;
  } catch (const DataError& e) {
    r.error = e.what();  // a missing or corrupt data file may be fixed: retried
  } catch (const std::exception& e) {
    r.status = storage::kStatusConfigError;
    r.error = e.what();
  }
  if (!ready) {
    r.finished_at = utc_now();
    return res;
  }
  try {
    core::TrainResult t = core::train(cfg, *data, [&](const core::EpochMetrics& m) {
      if (on_epoch) on_epoch(to_record(w.run_key, m));
    });

    r.epochs_done = static_cast<int>(t.epochs.size());
    if (!t.epochs.empty()) {
      const core::EpochMetrics& last = t.epochs.back();
      r.train_loss = last.train_loss;
      r.train_acc = last.train_acc;
      r.test_loss = last.test_loss;
      r.test_acc = last.test_acc;
    }
    r.train_seconds = t.train_seconds;
    r.sparsity = t.sparsity;
    r.bits_per_weight = t.bits_per_weight;
    r.n_weights = t.n_weights;
    r.n_nonzero = t.n_nonzero;
    for (const auto& s : t.layers) res.layers.push_back(to_record(w.run_key, s));

    if (t.interrupted) {
      // The next `ternbench run` trains it again; the same seed makes it end identical.
      r.status = storage::kStatusInterrupted;
      r.error = "stopped by a signal or the walltime after " + std::to_string(t.epochs.size()) + " epochs";
    } else if (t.diverged) {
      r.status = storage::kStatusDiverged;
      r.error = "loss became non-finite in epoch " + std::to_string(t.epochs.size() + 1) +
                "; lower lr or check the data";
    } else {
      storage::WeightsMeta meta;
      meta.run_key = w.run_key;
      meta.config_toml = w.canonical_toml;
      meta.git_commit = r.git_commit;
      storage::write_weights(w.weights_path, meta, to_tensors(std::move(t.weights)));
      r.weights_path = w.weights_ref;
      r.status = storage::kStatusDone;
    }
  } catch (const std::exception& e) {
    r.status = storage::kStatusFailed;
    r.error = e.what();
  }
  r.finished_at = utc_now();
  return res;
}

}  // namespace ternbench::orchestrator
