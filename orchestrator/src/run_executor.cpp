#include "ternbench/orchestrator/run_executor.hpp"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <new>
#include <optional>

#include "ternbench/base/error.hpp"
#include "ternbench/base/hash.hpp"
#include "ternbench/base/log.hpp"
#include "ternbench/base/version.hpp"
#include "ternbench/core/model/model.hpp"
#include "ternbench/core/train/config_check.hpp"
#include "ternbench/datalib/loading.hpp"
#include "ternbench/core/train/trainer.hpp"
#include "ternbench/experiments/config_json.hpp"
#include "ternbench/experiments/sweep.hpp"
#include "ternbench/orchestrator/provenance.hpp"
#include "ternbench/storage/weights_file.hpp"

namespace ternbench::orchestrator {

namespace fs = std::filesystem;

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string host_name() {
  // Once per process: provenance is stamped for every run, on rank 0 and on the workers.
  static const std::string name = [] {
    char buf[256] = {0};
    return gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : std::string("unknown");
  }();
  return name;
}

RunExecutor::RunExecutor(int rank) : rank_(rank) {}
RunExecutor::~RunExecutor() = default;

const core::DataSplit& RunExecutor::dataset(const std::string& name, const std::string& root) {
  if (!cached_ || cached_name_ != name) {
    cached_.reset();
    cached_ = std::make_unique<core::DataSplit>(data::load_dataset(name, root));
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
  e.stage = m.stage;
  e.lr = m.lr;
  e.test_acc_continuous = m.test_acc_continuous;
  e.test_loss_continuous = m.test_loss_continuous;
  e.reg_penalty = m.reg_penalty;
  for (const core::LayerStats& s : m.layers) {
    storage::EpochLayerRecord l;
    l.layer = s.name;
    l.precision = s.precision;
    l.n = s.n;
    l.n_zero = s.n_zero;
    l.n_pos = s.n_pos;
    l.n_neg = s.n_neg;
    l.sparsity = s.sparsity;
    l.scale = s.scale;
    l.delta = s.delta;
    l.codes_changed = s.codes_changed;
    e.layers.push_back(std::move(l));
  }
  return e;
}

storage::LayerRecord to_record(const std::string& key, const core::LayerStats& s, const core::LayerSizes& z) {
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
  l.n_scales = s.n_scales;
  l.bits_fp32 = z.fp32_bits;
  l.bits_binary = z.binary_bits;
  l.bits_ternary_2bit = z.ternary_2bit_bits;
  l.bits_ternary_base3 = z.ternary_base3_bits;
  l.bits_bitmap = z.bitmap_bits;
  l.bits_relative_index = z.relative_index_bits;
  l.relative_index_b = z.relative_index_b;
  return l;
}

storage::StageRecord to_record(const std::string& key, const core::StageMetrics& m, int ordinal) {
  storage::StageRecord s;
  s.run_key = key;
  s.stage = m.stage;
  s.ordinal = ordinal;
  s.epochs = m.epochs;
  s.test_loss = m.test_loss;
  s.test_acc = m.test_acc;
  s.sparsity = m.sparsity;
  return s;
}

// The run's checkpoint beside its weights file: "<dir>/<run_key>.ckpt.h5".
std::string checkpoint_path(const std::string& weights_path) {
  fs::path p(weights_path);
  return (p.parent_path() / (p.stem().string() + ".ckpt.h5")).string();
}

// The state saved by an earlier attempt of this exact run, if any. A checkpoint that is
// damaged or belongs to another config is removed (with a log line) and the run starts over.
std::optional<core::TrainState> load_checkpoint(const std::string& path, const WorkItem& w,
                                                const std::string& data_sha256) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  try {
    storage::WeightsContent c = storage::read_weights(path);
    if (c.meta.run_key != w.run_key || c.meta.config_toml != w.canonical_toml || c.meta.epoch < 1)
      throw StorageError(path + ": checkpoint of another run or config");
    if (c.meta.data_sha256 != data_sha256) throw StorageError(path + ": checkpoint of a run on other data");
    core::TrainState s;
    s.epochs_done = c.meta.epoch;
    s.tensors = std::move(c.tensors);
    return s;
  } catch (const std::exception& e) {
    log_info(std::string("ignoring checkpoint: ") + e.what() + "; the run starts from its first epoch");
    fs::remove(path, ec);
    return std::nullopt;
  }
}

// Runs one file write; a storage failure there is the file system's, and stops the job.
template <class Write>
void write_or_stop(const std::string& path, Write&& write) {
  try {
    write();
  } catch (const StorageError& e) {
    throw WriteError(std::string(e.what()) + " (writing " + path +
                     "; free space or fix the file system, then run the sweep again: it resumes)");
  }
}

// The stored tensors of the run's init_from source. A missing or damaged file fails the
// attempt: the file may be restored, or its source trained again.
std::vector<core::NamedTensor> load_source(const WorkItem& w, const core::TrainConfig& cfg) {
  if (w.init_weights.empty())
    throw Error("run " + w.run_key + ": init_from " + cfg.init_from + " has no weights file; the coordinator sent none");
  storage::WeightsContent c = storage::read_weights(w.init_weights);
  if (c.meta.run_key != cfg.init_from || c.meta.epoch >= 0)
    throw StorageError(w.init_weights + ": is not the finished weights file of run " + cfg.init_from +
                       " (init_from); restore that run's <run_key>.h5 or train it again");
  return std::move(c.tensors);
}

}  // namespace

bool environment_failure(const std::exception& e, const WorkItem& w, storage::RunRecord& r) {
  std::string what;
  if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr) {
    what = "out of memory (" + std::string(e.what()) + "); give the run more memory, e.g. fewer ranks per node";
  } else if (dynamic_cast<const DataError*>(&e) != nullptr || dynamic_cast<const StorageError*>(&e) != nullptr ||
             dynamic_cast<const CommError*>(&e) != nullptr) {
    what = e.what();
  } else {
    return false;
  }
  r.status = storage::kStatusFailed;
  r.attempts = w.attempt - 1;
  r.error = what + " [environment failure: not counted as an attempt; the next `ternbench run` retries it]";
  return true;
}

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
  // not retried; a failure of the environment (environment_failure) costs no attempt;
  // anything else thrown later is an error of this attempt.
  const core::DataSplit* data = nullptr;
  core::TrainConfig cfg;
  bool ready = false;
  try {
    const experiments::RunSpec spec = experiments::parse_run(w.canonical_toml);
    if (spec.run_key != w.run_key)
      throw CommError("run " + w.run_key + ": config hashes to " + spec.run_key +
                      " on this rank; every rank must run the same ternbench binary");
    cfg = spec.train;
    // Every key of the method, the ones canonical_toml leaves out at their default too, so
    // that the results view needs no method's defaults.
    r.config_json = experiments::config_json(spec.stored_toml);
    r.dataset = cfg.dataset;
    r.model = cfg.model;
    r.method = cfg.method;
    r.seed = static_cast<std::int64_t>(cfg.seed);
    r.lr = cfg.lr;
    r.threads = cfg.threads;
    r.init_from = cfg.init_from;
    core::check_config(cfg);
    data = &dataset(cfg.dataset, w.data_root);
    r.data_sha256 = data->fingerprint;
    core::check_data(cfg, *data);
    ready = true;
  } catch (const std::exception& e) {
    if (!environment_failure(e, w, r)) {
      r.status = storage::kStatusConfigError;
      r.error = e.what();
    }
  }
  if (!ready) {
    r.finished_at = utc_now();
    return res;
  }
  const std::string ckpt_path = checkpoint_path(w.weights_path);
  try {
    const std::string layer_stack = core::model_layer_stack(cfg, data->train.channels, data->train.height,
                                                            data->train.width, data->train.num_classes);
    const std::optional<core::TrainState> saved = load_checkpoint(ckpt_path, w, r.data_sha256);
    core::Checkpointing checkpointing;
    checkpointing.resume = saved ? &*saved : nullptr;
    if (saved) log_info("run " + w.run_key + ": resuming from its checkpoint after epoch " + std::to_string(saved->epochs_done));
    checkpointing.save = [&](const core::TrainState& s) {
      storage::WeightsMeta meta;
      meta.run_key = w.run_key;
      meta.config_toml = w.canonical_toml;
      meta.git_commit = r.git_commit;
      meta.data_sha256 = r.data_sha256;
      meta.layer_stack = layer_stack;
      meta.epoch = s.epochs_done;
      write_or_stop(ckpt_path, [&] { storage::write_weights(ckpt_path, meta, s.tensors); });
    };
    const core::EpochCallback report = [&](const core::EpochMetrics& m) {
      if (on_epoch) on_epoch(to_record(w.run_key, m));
    };
    // The source is read only for a fresh start: a resumed run restores its own state.
    std::vector<core::NamedTensor> source;
    core::WarmStart warm;
    const auto warm_start_from_source = [&] {
      if (cfg.init_from.empty()) return;
      source = load_source(w, cfg);
      warm = {&source, w.init_weights};
    };
    if (!saved) warm_start_from_source();
    core::TrainResult t;
    try {
      t = core::train(cfg, *data, report, checkpointing, warm);
    } catch (const WriteError&) {
      throw;
    } catch (const Error& e) {
      if (!saved) throw;
      // A state this binary cannot restore (another model layout): start over without it.
      log_info(std::string("checkpoint ") + ckpt_path + " not restorable (" + e.what() + "); starting over");
      checkpointing.resume = nullptr;
      warm_start_from_source();
      t = core::train(cfg, *data, report, checkpointing, warm);
    }

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
    for (std::size_t i = 0; i < t.layers.size(); ++i)
      res.layers.push_back(to_record(w.run_key, t.layers[i], t.sizes.layers.at(i)));
    for (std::size_t i = 0; i < t.stages.size(); ++i)
      res.stages.push_back(to_record(w.run_key, t.stages[i], static_cast<int>(i) + 1));
    r.size_fp32_bits = t.sizes.total.fp32;
    r.size_binary_bits = t.sizes.total.binary;
    r.size_ternary_2bit_bits = t.sizes.total.ternary_2bit;
    r.size_ternary_base3_bits = t.sizes.total.ternary_base3;
    r.size_bitmap_bits = t.sizes.total.bitmap;
    r.size_relative_index_bits = t.sizes.total.relative_index;
    r.n_float_params = t.sizes.n_float_params;
    r.float_param_bits = t.sizes.float_param_bits;

    if (t.interrupted) {
      // The next `ternbench run` continues from the checkpoint of its last epoch.
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
      meta.data_sha256 = r.data_sha256;
      meta.layer_stack = layer_stack;
      write_or_stop(w.weights_path,
                    [&] { r.weights_sha256 = storage::write_weights(w.weights_path, meta, std::move(t.weights)); });
      r.weights_path = w.weights_ref;
      r.status = storage::kStatusDone;
    }
    // A finished result (done or diverged) needs no checkpoint; an interrupted run keeps it.
    if (!t.interrupted) {
      std::error_code ec;
      fs::remove(ckpt_path, ec);
    }
  } catch (const WriteError&) {
    throw;
  } catch (const std::exception& e) {
    if (!environment_failure(e, w, r)) {
      r.status = storage::kStatusFailed;
      r.error = e.what();
    }
  }
  r.finished_at = utc_now();
  return res;
}

}  // namespace ternbench::orchestrator
