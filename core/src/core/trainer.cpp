#include "ternbench/core/trainer.hpp"

#include "ternbench/core/stop.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <numeric>
#include <span>

#include "ternbench/base/rng.hpp"
#include "ternbench/core/augment.hpp"
#include "ternbench/core/config_check.hpp"
#include "ternbench/core/kernels/loss.hpp"
#include "ternbench/core/metrics.hpp"
#include "ternbench/core/model.hpp"
#include "ternbench/core/optimizer.hpp"
#include "ternbench/core/schedule.hpp"

namespace ternbench::core {
namespace {

// The limits keep the first n samples; training reads them through indices and evaluation
// through a column range, so the data set is not copied (normalization copies the test part).
std::size_t limited(const Dataset& d, int limit) {
  return limit > 0 ? std::min(d.size(), static_cast<std::size_t>(limit)) : d.size();
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The first n samples of d, normalized. Evaluation reads whole column ranges, so the test
// split is normalized once up front; the training split is normalized per gathered batch
// instead, because augmentation must see the raw pixels (zero padding is black, as in
// torchvision's RandomCrop before Normalize) and a copy of CIFAR-10's would cost 600 MB.
Dataset normalized_copy(const Dataset& d, std::size_t n, const ChannelStats& stats) {
  Dataset out;
  out.channels = d.channels;
  out.height = d.height;
  out.width = d.width;
  out.num_classes = d.num_classes;
  out.images = d.images.leftCols(static_cast<Eigen::Index>(n));
  out.labels.assign(d.labels.begin(), d.labels.begin() + static_cast<std::ptrdiff_t>(n));
  const Eigen::Index plane = Eigen::Index{d.height} * d.width;
  for (Eigen::Index j = 0; j < out.images.cols(); ++j) normalize(out.images.col(j), stats, plane);
  return out;
}

}  // namespace

TrainResult train(const TrainConfig& cfg, const DataSplit& data, const EpochCallback& on_epoch) {
  check_config(cfg);
  check_data(cfg, data);
  // Process-wide, so set for every run. With 1 Eigen never enters an OpenMP region, and the
  // OpenMP runtime creates no threads.
  Eigen::setNbThreads(cfg.threads);

  const Dataset& train_set = data.train;
  Rng init_rng(derive_seed(cfg.seed, "init"));
  Model model =
      make_model(cfg, train_set.channels, train_set.height, train_set.width, train_set.num_classes, init_rng);
  apply_method(model, cfg);
  const std::unique_ptr<Optimizer> opt = make_optimizer(cfg, model.params());

  const std::size_t n_train = limited(train_set, cfg.train_limit);
  const std::size_t n_test = limited(data.test, cfg.test_limit);
  const Eigen::Index B = cfg.batch_size;
  const std::size_t steps_per_epoch = (n_train + static_cast<std::size_t>(B) - 1) / static_cast<std::size_t>(B);

  // Statistics of the samples this run trains on (after train_limit), as a PyTorch recipe
  // computes them on its training subset.
  ChannelStats stats;
  Dataset test_normalized;
  if (cfg.normalize) {
    stats = channel_stats(train_set, static_cast<std::int64_t>(n_train));
    test_normalized = normalized_copy(data.test, n_test, stats);
  }
  const Dataset& test_set = cfg.normalize ? test_normalized : data.test;
  BatchTransform transform;
  transform.augment = cfg.augment;
  transform.crop_padding = cfg.crop_padding;
  transform.stats = cfg.normalize ? &stats : nullptr;

  // Everything the step touches is allocated here, once.
  Mat xb(model.input_size(), B);
  Mat dlogits(model.output_size(), B);
  std::vector<std::uint8_t> yb(static_cast<std::size_t>(B));
  std::vector<std::uint32_t> order(n_train);
  Rng shuffle_rng(derive_seed(cfg.seed, "shuffle"));
  // Drawn from only when augmenting, so runs without augmentation keep their streams.
  Rng augment_rng(derive_seed(cfg.seed, "augment"));

  TrainResult result;
  const auto t_start = std::chrono::steady_clock::now();
  for (int epoch = 1; epoch <= cfg.epochs && !result.diverged; ++epoch) {
    const auto t_epoch = std::chrono::steady_clock::now();
    model.set_training(true);
    std::iota(order.begin(), order.end(), 0u);
    shuffle_rng.shuffle(order);

    const double epoch_lr = lr_at(cfg, static_cast<double>(epoch - 1));
    double loss_sum = 0;
    std::int64_t correct = 0;
    for (std::size_t step = 0; step < steps_per_epoch; ++step) {
      if (stop_requested()) {  // signal or walltime: the partial epoch is dropped
        result.interrupted = true;
        break;
      }
      const std::size_t start = step * static_cast<std::size_t>(B);
      const Eigen::Index b = static_cast<Eigen::Index>(std::min(static_cast<std::size_t>(B), n_train - start));
      const std::span<const std::uint32_t> idx(order.data() + start, static_cast<std::size_t>(b));
      gather_batch(train_set, idx, xb, transform, augment_rng);
      for (std::size_t j = 0; j < idx.size(); ++j) yb[j] = train_set.labels[idx[j]];
      const auto x = xb.leftCols(b);
      auto dl = dlogits.leftCols(b);
      const double progress =
          static_cast<double>(epoch - 1) + static_cast<double>(step) / static_cast<double>(steps_per_epoch);
      opt->set_lr(lr_at(cfg, progress));
      model.refresh();
      const kernels::LossResult r = kernels::softmax_cross_entropy(
          model.forward(x), std::span<const std::uint8_t>(yb.data(), static_cast<std::size_t>(b)), dl);
      if (!std::isfinite(r.loss)) {
        result.diverged = true;
        break;
      }
      model.backward(x, dl);
      opt->step();
      loss_sum += r.loss * static_cast<double>(b);
      correct += r.correct;
    }
    if (result.diverged || result.interrupted) break;

    model.refresh();  // deploy the last update
    model.set_training(false);
    const Evaluation test = evaluate(model, test_set, static_cast<std::int64_t>(n_test));
    if (!test.finite) {
      result.diverged = true;
      break;
    }
    EpochMetrics m;
    m.epoch = epoch;
    m.train_loss = loss_sum / static_cast<double>(n_train);  // per sample over the epoch
    m.train_acc = static_cast<double>(correct) / static_cast<double>(n_train);
    m.test_loss = test.loss;
    m.test_acc = test.accuracy;
    m.sparsity = deployed_sparsity(model);
    m.lr = epoch_lr;
    m.seconds = seconds_since(t_epoch);
    result.epochs.push_back(m);
    if (on_epoch) on_epoch(m);
  }
  result.train_seconds = seconds_since(t_start);

  model.refresh();
  model.set_training(false);  // the exported model is the deployed one (running statistics)
  summarize_weights(model, result);
  result.weights = export_weights(model);
  return result;
}

}  // namespace ternbench::core
