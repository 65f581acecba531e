// Trainer: a toy problem with a known answer, determinism, divergence, results, validation.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "ternbench/base/error.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/trainer.hpp"

namespace ternbench::core {
namespace {

constexpr std::uint64_t kDataSeed = 2024;

// Linearly separable 784-feature data: class c lights features [78c, 78c + 78) at 0.9,
// and every feature gets uniform noise in [0, 0.1).
Dataset toy_split(std::size_t n, Rng& rng) {
  Dataset d;
  d.images = Eigen::MatrixXf::Zero(784, static_cast<Eigen::Index>(n));
  d.labels.resize(n);
  for (std::size_t s = 0; s < n; ++s) {
    const auto c = static_cast<std::uint8_t>(rng.uniform_index(10));
    d.labels[s] = c;
    const auto col = static_cast<Eigen::Index>(s);
    for (Eigen::Index f = 0; f < 784; ++f) d.images(f, col) = 0.1f * rng.uniform_float();
    d.images.block(78 * c, col, 78, 1).array() += 0.9f;
  }
  return d;
}

DataSplit toy_data(std::size_t n_train, std::size_t n_test) {
  Rng rng(kDataSeed);
  DataSplit s;
  s.name = "toy";
  s.train = toy_split(n_train, rng);
  s.test = toy_split(n_test, rng);
  return s;
}

TrainConfig small_config() {
  TrainConfig cfg;
  cfg.epochs = 3;
  cfg.batch_size = 32;
  cfg.lr = 0.05;
  cfg.momentum = 0.9;
  cfg.seed = 17;
  cfg.threads = 1;
  return cfg;
}

TEST(Trainer, LinearlySeparableToyReachesFullTestAccuracy) {
  const DataSplit data = toy_data(300, 100);
  for (const char* method : {"fp", "twn"}) {
    TrainConfig cfg = small_config();
    cfg.method = method;
    const TrainResult r = train(cfg, data);
    ASSERT_EQ(r.epochs.size(), 3u) << method;
    EXPECT_FALSE(r.diverged);
    EXPECT_EQ(r.epochs.back().test_acc, 1.0) << method;
    EXPECT_LT(r.epochs.back().train_loss, r.epochs.front().train_loss) << method;
  }
}

TEST(Trainer, SameConfigGivesBitIdenticalMetricsAndWeights) {
  const DataSplit data = toy_data(150, 60);
  TrainConfig cfg = small_config();
  cfg.method = "twn";
  cfg.batch_size = 20;  // 150 = 7 * 20 + 10: exercises the partial last batch
  cfg.weight_decay = 1e-4;
  const TrainResult a = train(cfg, data);
  const TrainResult b = train(cfg, data);
  ASSERT_EQ(a.epochs.size(), b.epochs.size());
  for (std::size_t i = 0; i < a.epochs.size(); ++i) {
    EXPECT_EQ(a.epochs[i].train_loss, b.epochs[i].train_loss);
    EXPECT_EQ(a.epochs[i].train_acc, b.epochs[i].train_acc);
    EXPECT_EQ(a.epochs[i].test_loss, b.epochs[i].test_loss);
    EXPECT_EQ(a.epochs[i].test_acc, b.epochs[i].test_acc);
    EXPECT_EQ(a.epochs[i].sparsity, b.epochs[i].sparsity);
  }
  ASSERT_EQ(a.weights.size(), b.weights.size());
  for (std::size_t i = 0; i < a.weights.size(); ++i) {
    EXPECT_EQ(a.weights[i].name, b.weights[i].name);
    EXPECT_EQ(a.weights[i].data, b.weights[i].data) << a.weights[i].name;
  }

  cfg.seed += 1;
  const TrainResult c = train(cfg, data);
  EXPECT_NE(a.weights[0].data, c.weights[0].data);
}

TEST(Trainer, HugeLearningRateIsReportedAsDiverged) {
  const DataSplit data = toy_data(200, 50);
  TrainConfig cfg = small_config();
  cfg.lr = 1e12;
  cfg.epochs = 5;
  const TrainResult r = train(cfg, data);
  EXPECT_TRUE(r.diverged);
  EXPECT_LT(r.epochs.size(), 5u);
  for (const auto& e : r.epochs) EXPECT_TRUE(std::isfinite(e.test_loss));
}

TEST(Trainer, ResultDescribesTheDeployedTernaryModel) {
  const DataSplit data = toy_data(100, 40);
  TrainConfig cfg = small_config();
  cfg.method = "twn";
  cfg.epochs = 1;
  const TrainResult r = train(cfg, data);
  ASSERT_EQ(r.layers.size(), 3u);
  std::int64_t n = 0, zeros = 0;
  double bits = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    const LayerStats& s = r.layers[i];
    EXPECT_EQ(s.name, "dense" + std::to_string(i) + "/W");
    EXPECT_EQ(s.n, s.rows * s.cols);
    EXPECT_EQ(s.n_neg + s.n_zero + s.n_pos, s.n);
    n += s.n;
    zeros += s.n_zero;
    bits += s.bits;
  }
  EXPECT_EQ(r.layers[0].precision, "ternary");
  EXPECT_EQ(r.layers[1].precision, "ternary");
  EXPECT_EQ(r.layers[2].precision, "fp32");  // quantize_last defaults to false
  EXPECT_EQ(r.layers[0].bits, 2.0 * 784 * 500 + 32);
  EXPECT_EQ(r.layers[2].bits, 32.0 * 300 * 10);
  EXPECT_EQ(r.layers[2].scale, 0.0);
  EXPECT_GT(r.layers[0].scale, 0.0);
  EXPECT_GT(r.layers[0].delta, 0.0);
  EXPECT_GT(r.layers[0].n_zero, 0);
  EXPECT_EQ(r.n_weights, 784 * 500 + 500 * 300 + 300 * 10);
  EXPECT_EQ(r.n_weights, n);
  EXPECT_EQ(r.n_nonzero, n - zeros);
  EXPECT_DOUBLE_EQ(r.sparsity, static_cast<double>(zeros) / static_cast<double>(n));
  EXPECT_DOUBLE_EQ(r.bits_per_weight, bits / static_cast<double>(n));
  EXPECT_DOUBLE_EQ(r.epochs.back().sparsity, r.sparsity);

  std::set<std::string> names;
  for (const auto& t : r.weights) {
    names.insert(t.name);
    std::int64_t size = 1;
    for (auto d : t.shape) size *= d;
    EXPECT_EQ(static_cast<std::size_t>(size), t.data.size()) << t.name;
  }
  EXPECT_EQ(names, (std::set<std::string>{"dense0/W", "dense0/W_latent", "dense0/b", "dense1/W", "dense1/W_latent",
                                          "dense1/b", "dense2/W", "dense2/b"}));
  // The deployed ternary matrix holds only -scale, 0 and +scale, stored row-major (out, in).
  for (const auto& t : r.weights) {
    if (t.name != "dense0/W") continue;
    EXPECT_EQ(t.shape, (std::vector<std::int64_t>{500, 784}));
    const float a = static_cast<float>(r.layers[0].scale);
    for (float v : t.data) EXPECT_TRUE(v == 0.0f || v == a || v == -a) << v;
  }
}

TEST(Trainer, CallbackSeesEveryEpochAndLimitsTruncateTheSplits) {
  const DataSplit data = toy_data(200, 80);
  TrainConfig cfg = small_config();
  cfg.train_limit = 64;
  cfg.test_limit = 25;
  std::vector<int> seen;
  const TrainResult r = train(cfg, data, [&](const EpochMetrics& m) {
    seen.push_back(m.epoch);
    // Accuracies are counts over the truncated splits.
    EXPECT_NEAR(m.test_acc * 25, std::round(m.test_acc * 25), 1e-9);
    EXPECT_NEAR(m.train_acc * 64, std::round(m.train_acc * 64), 1e-9);
    EXPECT_GE(m.seconds, 0.0);
  });
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3}));
  EXPECT_GT(r.train_seconds, 0.0);
}

TEST(Trainer, RejectsBadConfigWithTheFieldName) {
  const DataSplit data = toy_data(20, 10);
  auto message = [&](const TrainConfig& cfg) -> std::string {
    try {
      train(cfg, data);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  TrainConfig cfg = small_config();
  cfg.epochs = 0;
  EXPECT_NE(message(cfg).find("epochs"), std::string::npos);
  cfg = small_config();
  cfg.batch_size = 0;
  EXPECT_NE(message(cfg).find("batch_size"), std::string::npos);
  cfg = small_config();
  cfg.lr = 0;
  EXPECT_NE(message(cfg).find("lr"), std::string::npos);
  cfg = small_config();
  cfg.method = "twm";
  EXPECT_NE(message(cfg).find("fp, twn"), std::string::npos);
  cfg = small_config();
  cfg.model = "cnn";
  EXPECT_NE(message(cfg).find("mlp"), std::string::npos);

  DataSplit narrow = data;
  narrow.train.images.conservativeResize(100, Eigen::NoChange);
  EXPECT_THROW(train(small_config(), narrow), Error);
  DataSplit bad_label = data;
  bad_label.test.labels[3] = 10;
  EXPECT_THROW(train(small_config(), bad_label), Error);
}

}  // namespace
}  // namespace ternbench::core
