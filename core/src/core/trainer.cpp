#include "ternbench/core/trainer.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <span>

#include "ternbench/base/rng.hpp"
#include "ternbench/core/config_check.hpp"
#include "ternbench/core/kernels/loss.hpp"
#include "ternbench/core/metrics.hpp"
#include "ternbench/core/model.hpp"
#include "ternbench/core/optimizer.hpp"

namespace ternbench::core {
namespace {

// The limits keep the first n samples; training reads them through indices and evaluation
// through a column range, so the data set is never copied.
std::size_t limited(const Dataset& d, int limit) {
  return limit > 0 ? std::min(d.size(), static_cast<std::size_t>(limit)) : d.size();
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TrainResult train(const TrainConfig& cfg, const DataSplit& data, const EpochCallback& on_epoch) {
  check_config(cfg);
  check_data(cfg, data);
  Eigen::setNbThreads(cfg.threads);

  Rng init_rng(derive_seed(cfg.seed, "init"));
  Model model = make_model(cfg.model, init_rng);
  apply_method(model, cfg);
  Sgd opt(model.params(), cfg.lr, cfg.momentum, cfg.weight_decay);

  const Dataset& train_set = data.train;
  const std::size_t n_train = limited(train_set, cfg.train_limit);
  const std::size_t n_test = limited(data.test, cfg.test_limit);
  const Eigen::Index B = cfg.batch_size;

  // Everything the step touches is allocated here, once.
  Mat xb(model.input_size(), B);
  Mat dlogits(model.output_size(), B);
  std::vector<std::uint8_t> yb(static_cast<std::size_t>(B));
  std::vector<std::uint32_t> order(n_train);
  Rng shuffle_rng(derive_seed(cfg.seed, "shuffle"));

  TrainResult result;
  const auto t_start = std::chrono::steady_clock::now();
  for (int epoch = 1; epoch <= cfg.epochs && !result.diverged; ++epoch) {
    const auto t_epoch = std::chrono::steady_clock::now();
    std::iota(order.begin(), order.end(), 0u);
    shuffle_rng.shuffle(order);

    double loss_sum = 0;
    std::int64_t correct = 0;
    for (std::size_t start = 0; start < n_train; start += static_cast<std::size_t>(B)) {
      const Eigen::Index b = static_cast<Eigen::Index>(std::min(static_cast<std::size_t>(B), n_train - start));
      for (Eigen::Index j = 0; j < b; ++j) {
        const std::uint32_t k = order[start + static_cast<std::size_t>(j)];
        xb.col(j) = train_set.images.col(static_cast<Eigen::Index>(k));
        yb[static_cast<std::size_t>(j)] = train_set.labels[k];
      }
      const auto x = xb.leftCols(b);
      auto dl = dlogits.leftCols(b);
      model.refresh();
      const kernels::LossResult r = kernels::softmax_cross_entropy(
          model.forward(x), std::span<const std::uint8_t>(yb.data(), static_cast<std::size_t>(b)), dl);
      if (!std::isfinite(r.loss)) {
        result.diverged = true;
        break;
      }
      model.backward(x, dl);
      opt.step();
      loss_sum += r.loss * static_cast<double>(b);
      correct += r.correct;
    }
    if (result.diverged) break;

    model.refresh();  // deploy the last update
    const Evaluation test = evaluate(model, data.test, static_cast<std::int64_t>(n_test));
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
    m.seconds = seconds_since(t_epoch);
    result.epochs.push_back(m);
    if (on_epoch) on_epoch(m);
  }
  result.train_seconds = seconds_since(t_start);

  model.refresh();
  summarize_weights(model, result);
  result.weights = export_weights(model);
  return result;
}

}  // namespace ternbench::core
