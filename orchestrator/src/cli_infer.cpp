#include "ternbench/orchestrator/cli_infer.hpp"

#include <algorithm>
#include <iostream>

#include "ternbench/base/error.hpp"
#include "ternbench/base/format.hpp"
#include "ternbench/datalib/data_fetch.hpp"
#include "ternbench/datalib/loading.hpp"
#include "ternbench/core/train/restore.hpp"
#include "ternbench/experiments/sweep.hpp"
#include "ternbench/storage/weights_file.hpp"

namespace ternbench::orchestrator {
CLI::App* add_infer_command(CLI::App& app, InferOptions& opt) {
  auto* cmd = app.add_subcommand("infer", "re-evaluate a stored model (a run's HDF5 weights file) on a test split");
  cmd->add_option("--weights", opt.weights, "the run's HDF5 file, e.g. results/x-weights/<run_key>.h5")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--dataset", opt.dataset, "dataset to evaluate on (default: the one the run trained on)");
  cmd->add_option("--data", opt.data_root, "dataset directory (default: $TERNBENCH_DATA or ./data)");
  cmd->add_flag("--all", opt.all, "evaluate the whole test split, not only the run's test_limit samples");
  return cmd;
}

int run_infer(const InferOptions& opt) {
  storage::WeightsContent content = storage::read_weights(opt.weights);
  if (content.meta.epoch >= 0)
    throw StorageError(opt.weights + ": is a checkpoint (epoch " + std::to_string(content.meta.epoch) +
                       "), not a finished run's weights; give the run's <run_key>.h5");
  experiments::RunSpec spec;
  try {
    spec = experiments::parse_run(content.meta.config_toml);
  } catch (const std::exception& e) {
    throw StorageError(opt.weights + ": its config_toml attribute is not a config this ternbench reads (" +
                       e.what() + ")");
  }
  core::TrainConfig cfg = spec.train;
  // A file without data_sha256 predates datasets named by content: its "mnist" was the
  // 10,000-image subset that is now "mnist-10k" (docs/data.md).
  const bool legacy_mnist = content.meta.data_sha256.empty() && cfg.dataset == "mnist";
  if (legacy_mnist) cfg.dataset = "mnist-10k";
  if (!opt.dataset.empty()) cfg.dataset = opt.dataset;
  if (legacy_mnist && opt.dataset.empty())
    std::cerr << opt.weights << ": written before datasets were named by content; its \"mnist\" is the "
              << "10,000-image subset now called \"mnist-10k\", which it is evaluated on" << std::endl;
  if (opt.all) cfg.test_limit = 0;
  const std::string root = opt.data_root.empty() ? data::data_root() : opt.data_root;
  data::fetch_if_missing(cfg.dataset, root, std::cerr);
  const core::DataSplit data = data::load_dataset(cfg.dataset, root);
  if (opt.dataset.empty() && !content.meta.data_sha256.empty() && content.meta.data_sha256 != data.fingerprint)
    throw DataError(data::dataset_dir(root, cfg.dataset) + ": holds data with fingerprint " +
                    data.fingerprint.substr(0, 16) + ", but " + opt.weights + " was trained on " +
                    content.meta.data_sha256.substr(0, 16) + "; restore the files it was trained on, or pass "
                    "--dataset to evaluate on other data on purpose");
  const core::Dataset& tr = data.train;
  try {
    (void)core::model_shape(cfg, tr.channels, tr.height, tr.width, tr.num_classes);
  } catch (const std::exception& e) {
    throw ConfigError("ternbench infer", "--dataset " + cfg.dataset, 0,
                      std::string("the stored model does not take this dataset's images: ") + e.what());
  }
  core::Model model = core::restore_model(cfg, data, std::move(content.tensors), opt.weights);
  const core::Evaluation e = core::evaluate_test_split(cfg, data, model);
  core::Dataset subset;
  const std::size_t n = core::limited_subset(data.test, cfg.test_limit, subset) ? subset.size() : data.test.size();
  std::cout << "run_key " << content.meta.run_key << "\n"
            << "dataset " << cfg.dataset << " (" << n << " test images)\n"
            << "test_acc " << format_g(e.accuracy, 17) << "\n"
            << "test_loss " << format_g(e.loss, 17) << std::endl;
  return 0;
}

}  // namespace ternbench::orchestrator
