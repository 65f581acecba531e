#include "ternbench/orchestrator/cli_infer.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <optional>
#include <vector>

#include "ternbench/base/error.hpp"
#include "ternbench/base/format.hpp"
#include "ternbench/base/version.hpp"
#include "ternbench/datalib/data_fetch.hpp"
#include "ternbench/datalib/loading.hpp"
#include "ternbench/core/deploy/ternary_net.hpp"
#include "ternbench/core/train/restore.hpp"
#include "ternbench/experiments/sweep.hpp"
#include "ternbench/orchestrator/run_executor.hpp"
#include "ternbench/storage/metrics_db.hpp"
#include "ternbench/storage/weights_file.hpp"

namespace ternbench::orchestrator {
CLI::App* add_infer_command(CLI::App& app, InferOptions& opt) {
  auto* cmd = app.add_subcommand("infer", "re-evaluate a stored model (a run's HDF5 weights file) on a test split");
  cmd->add_option("--weights", opt.weights, "the run's HDF5 file, e.g. results/x-weights/<run_key>.h5")
      ->check(CLI::ExistingFile);
  cmd->add_option("--dataset", opt.dataset, "dataset to evaluate on (default: the one the run trained on)");
  cmd->add_option("--data", opt.data_root, "dataset directory (default: $TERNBENCH_DATA or ./data)");
  cmd->add_flag("--all", opt.all, "evaluate the whole test split, not only the run's test_limit samples");
  cmd->add_option("--engine", opt.engine,
                  "float: the model as trained; ternary: the multiplication-free engine, compared with float "
                  "(predictions, latency, throughput, memory)")
      ->check(CLI::IsMember({"float", "ternary"}));
  cmd->add_option("--threads", opt.threads, "threads (default: the run's `threads`)")->check(CLI::Range(1, 256));
  cmd->add_option("--db", opt.db,
                  "with --engine ternary: record the measurements in this results DB (the `inference` table "
                  "that reports show); without --weights, measure every finished run of the DB")
      ->check(CLI::ExistingFile);
  return cmd;
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Median seconds per image of forward() on single images, over at most 1000 images or about
// a second, after one untimed image that sizes the buffers.
template <class Forward>
double latency_batch1(Forward&& forward, const core::Dataset& d) {
  const Eigen::Index n = std::min<Eigen::Index>(d.images.cols(), 1000);
  (void)forward(d.images.middleCols(0, 1));
  std::vector<double> t;
  const Clock::time_point start = Clock::now();
  for (Eigen::Index i = 0; i < n && (i < 10 || seconds_since(start) < 1.0); ++i) {
    const Clock::time_point t0 = Clock::now();
    (void)forward(d.images.middleCols(i, 1));
    t.push_back(seconds_since(t0));
  }
  std::nth_element(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(t.size() / 2), t.end());
  return t[t.size() / 2];
}

// Images per second of forward() on batches of 64 taken in order, for about a second.
template <class Forward>
double throughput_batch64(Forward&& forward, const core::Dataset& d) {
  const Eigen::Index n = d.images.cols(), b = std::min<Eigen::Index>(n, 64);
  (void)forward(d.images.middleCols(0, b));
  Eigen::Index done = 0, at = 0;
  const Clock::time_point start = Clock::now();
  while (done == 0 || seconds_since(start) < 1.0) {
    if (at + b > n) at = 0;
    (void)forward(d.images.middleCols(at, b));
    at += b;
    done += b;
  }
  return static_cast<double>(done) / seconds_since(start);
}

std::string kib(std::size_t bytes) { return format_g(static_cast<double>(bytes) / 1024.0, 4) + " KiB"; }

storage::InferenceRecord run_ternary_engine(const std::string& weights, const core::TrainConfig& cfg,
                                            const core::Dataset& test, core::Model& model,
                                            const std::vector<core::NamedTensor>& tensors) {
  model.set_threads(cfg.threads);
  core::TernaryNet net(model, tensors, weights, cfg.threads);
  const auto n = static_cast<std::int64_t>(test.size());
  std::vector<int> engine_pred, float_pred;
  const core::Evaluation e = core::evaluate_engine(net, test, n, 1000, &engine_pred);
  (void)core::evaluate(model, test, n, 1000, &float_pred);
  std::int64_t same = 0;
  for (std::size_t i = 0; i < engine_pred.size(); ++i) same += engine_pred[i] == float_pred[i] ? 1 : 0;

  std::cout << "engine ternary, " << cfg.threads << (cfg.threads == 1 ? " thread" : " threads") << "\n";
  for (const auto& s : net.steps()) {
    std::cout << "  " << s.name << "  " << s.kind;
    if (s.sparsity >= 0) std::cout << "  " << format_g(100 * s.sparsity, 3) << "% zero";
    if (s.bytes > 0) std::cout << "  " << kib(s.bytes);
    std::cout << "\n";
  }
  std::cout << "test_acc " << format_g(e.accuracy, 17) << "\n"
            << "test_loss " << format_g(e.loss, 17) << "\n"
            << "predictions " << same << " of " << n << " identical to the float model\n";
  if (same != n)
    throw Error(weights + ": the ternary engine predicts differently from the float model on " +
                std::to_string(n - same) + " of " + std::to_string(n) + " images; please report this with the file");
  auto engine_forward = [&](const Eigen::Ref<const core::Mat>& x) -> const core::Mat& { return net.forward(x); };
  auto float_forward = [&](const Eigen::Ref<const core::Mat>& x) { return model.forward(x); };
  const double lt = latency_batch1(engine_forward, test), lf = latency_batch1(float_forward, test);
  const double tt = throughput_batch64(engine_forward, test), tf = throughput_batch64(float_forward, test);
  std::cout << "latency_batch1_us ternary " << format_g(lt * 1e6, 4) << " float " << format_g(lf * 1e6, 4) << " ("
            << format_g(lf / lt, 3) << "x)\n"
            << "throughput_batch64 ternary " << format_g(tt, 4) << " float " << format_g(tf, 4) << " images/s ("
            << format_g(tt / tf, 3) << "x)\n"
            << "weights ternary " << kib(net.bytes()) << " float32 " << kib(net.float32_bytes()) << " ("
            << format_g(static_cast<double>(net.float32_bytes()) / static_cast<double>(net.bytes()), 3)
            << "x smaller)" << std::endl;
  storage::InferenceRecord r;
  r.threads = cfg.threads;
  r.n_test = n;
  r.predictions_identical = same;
  r.test_acc = e.accuracy;
  r.latency_us = lt * 1e6;
  r.float_latency_us = lf * 1e6;
  r.throughput = tt;
  r.float_throughput = tf;
  r.bytes = static_cast<std::int64_t>(net.bytes());
  r.float32_bytes = static_cast<std::int64_t>(net.float32_bytes());
  return r;
}

// Evaluates one weights file and prints what run_infer() promises; for the ternary engine,
// returns the measurement.
std::optional<storage::InferenceRecord> infer_file(const InferOptions& opt, const std::string& weights) {
  // read_weights verifies the file's checksum; restore_model and the engine then check the
  // codes against the stored W. Any fault is bad input: one line naming the file, exit 2.
  storage::WeightsContent content = storage::read_weights(weights);
  if (content.meta.epoch >= 0)
    throw DataError(weights + ": is a checkpoint (epoch " + std::to_string(content.meta.epoch) +
                    "), not a finished run's weights; give the run's <run_key>.h5");
  experiments::RunSpec spec;
  try {
    spec = experiments::parse_run(content.meta.config_toml);
  } catch (const std::exception& e) {
    throw DataError(weights + ": its config_toml attribute is not a config this ternbench reads (" + e.what() +
                    ")");
  }
  core::TrainConfig cfg = spec.train;
  // A file without data_sha256 predates datasets named by content: its "mnist" was the
  // 10,000-image subset that is now "mnist-10k" (docs/data.md).
  const bool legacy_mnist = content.meta.data_sha256.empty() && cfg.dataset == "mnist";
  if (legacy_mnist) cfg.dataset = "mnist-10k";
  if (!opt.dataset.empty()) cfg.dataset = opt.dataset;
  if (legacy_mnist && opt.dataset.empty())
    std::cerr << weights << ": written before datasets were named by content; its \"mnist\" is the "
              << "10,000-image subset now called \"mnist-10k\", which it is evaluated on" << std::endl;
  if (opt.all) cfg.test_limit = 0;
  if (opt.threads > 0) cfg.threads = opt.threads;
  const std::string root = opt.data_root.empty() ? data::data_root() : opt.data_root;
  const core::DataSplit data = data::load_dataset(cfg.dataset, root);
  if (opt.dataset.empty() && !content.meta.data_sha256.empty() && content.meta.data_sha256 != data.fingerprint)
    throw DataError(data::dataset_dir(root, cfg.dataset) + ": holds data with fingerprint " +
                    data.fingerprint.substr(0, 16) + ", but " + weights + " was trained on " +
                    content.meta.data_sha256.substr(0, 16) + "; restore the files it was trained on, or pass "
                    "--dataset to evaluate on other data on purpose");
  const core::Dataset& tr = data.train;
  try {
    (void)core::model_shape(cfg, tr.channels, tr.height, tr.width, tr.num_classes);
  } catch (const std::exception& e) {
    throw ConfigError("ternbench infer", "--dataset " + cfg.dataset, 0,
                      std::string("the stored model does not take this dataset's images: ") + e.what());
  }
  core::Model model = core::restore_model(cfg, data, content.tensors, weights);
  // As evaluate_test_split() evaluates it: the run's threads, its test_limit subset,
  // normalized as in training.
  Eigen::setNbThreads(cfg.threads);
  const core::Dataset test = core::test_split_as_evaluated(cfg, data);
  std::cout << "run_key " << content.meta.run_key << "\n"
            << "dataset " << cfg.dataset << " (" << test.size() << " test images)\n";
  if (opt.engine == "ternary") {
    storage::InferenceRecord r = run_ternary_engine(weights, cfg, test, model, content.tensors);
    r.run_key = content.meta.run_key;
    return r;
  }
  const core::Evaluation e = core::evaluate(model, test, static_cast<std::int64_t>(test.size()));
  std::cout << "test_acc " << format_g(e.accuracy, 17) << "\n"
            << "test_loss " << format_g(e.loss, 17) << std::endl;
  return std::nullopt;
}

}  // namespace

int run_infer(const InferOptions& opt) {
  if (opt.weights.empty() && opt.db.empty())
    throw ConfigError("ternbench infer", "--weights", 0,
                      "give the run's weights file, or --db <results DB> --engine ternary to measure every finished "
                      "run of a sweep");
  if (opt.db.empty()) {
    (void)infer_file(opt, opt.weights);
    return 0;
  }
  if (opt.engine != "ternary")
    throw ConfigError("ternbench infer", "--db", 0, "--db records the ternary engine's measurements; add --engine ternary");
  // Read first, and closed before any write: a DB that is not a results DB is refused
  // before any measurement.
  std::vector<std::string> files;
  {
    const storage::MetricsDb listed(opt.db, storage::MetricsDb::Mode::kReadOnly);
    if (!opt.weights.empty()) {
      files.push_back(opt.weights);
    } else {
      const std::filesystem::path dir = std::filesystem::path(opt.db).parent_path();
      for (const auto& run : listed.runs(storage::kStatusDone))
        if (!run.weights_path.empty()) files.push_back((dir / run.weights_path).string());
      if (files.empty()) throw StorageError(opt.db + ": no finished run with a weights file to measure");
    }
  }
  // A sweep writing the DB would have to wait for each row: refused before any measurement.
  // The lease itself is taken with the first row, so the check is repeated there.
  if (const auto holder = storage::live_writer(opt.db))
    throw ConfigError("ternbench infer", "--db", 0,
                      opt.db + " is in use by " + holder->describe() + "; measure it once that process ends");
  // Opened for writing only once there is a measurement to record: a refused first file
  // leaves the DB as it was, byte for byte.
  std::optional<storage::MetricsDb> db;
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (files.size() > 1) std::cout << "[" << i + 1 << "/" << files.size() << "] " << files[i] << "\n";
    storage::InferenceRecord r = *infer_file(opt, files[i]);
    r.host = host_name();
    r.git_commit = git_commit();
    r.measured_at = utc_now();
    if (!db) {
      db.emplace(opt.db);
      (void)db->take_writer_lease("ternbench infer --db " + opt.db);
    }
    db->record_inference(r);
  }
  std::cout << "recorded " << files.size() << (files.size() == 1 ? " measurement" : " measurements") << " in "
            << opt.db << " (table inference; the results view's infer_* columns)" << std::endl;
  return 0;
}


}  // namespace ternbench::orchestrator
