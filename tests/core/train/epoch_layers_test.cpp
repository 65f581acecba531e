// Per-epoch layer statistics: every epoch reports each deployed weight matrix, its counts
// agree with the epoch's overall sparsity, and the last epoch's equal the finished model's
// (counted by hand from the exported weights).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "support/toy_data.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/core/train/metrics.hpp"
#include "ternbench/core/train/trainer.hpp"

namespace ternbench::core {
namespace {

using testing::toy_data;

TrainConfig tiny(const std::string& method) {
  TrainConfig cfg;
  cfg.method = method;
  cfg.model = "custom";
  for (const char* l : {"dense(8)", "relu", "dense(10)"}) cfg.layers.push_back(parse_layer_spec(l));
  cfg.epochs = 3;
  cfg.batch_size = 25;
  cfg.lr = 0.05;
  cfg.seed = 5;
  return cfg;
}

void expect_same_stats(const LayerStats& a, const LayerStats& b, const std::string& what) {
  EXPECT_EQ(a.name, b.name) << what;
  EXPECT_EQ(a.precision, b.precision) << what;
  EXPECT_EQ(a.rows, b.rows) << what;
  EXPECT_EQ(a.cols, b.cols) << what;
  EXPECT_EQ(a.n, b.n) << what;
  EXPECT_EQ(a.n_zero, b.n_zero) << what;
  EXPECT_EQ(a.n_pos, b.n_pos) << what;
  EXPECT_EQ(a.n_neg, b.n_neg) << what;
  EXPECT_EQ(a.sparsity, b.sparsity) << what;
  EXPECT_EQ(a.scale, b.scale) << what;
  EXPECT_EQ(a.delta, b.delta) << what;
  EXPECT_EQ(a.bits, b.bits) << what;
  EXPECT_EQ(a.n_scales, b.n_scales) << what;
}

TEST(EpochLayers, CodesChangedCountsSignsThatDifferFromTheStart) {
  Mat q(2, 3);
  q << 0.5f, 0.0f, -0.5f, -0.5f, 0.5f, 0.0f;  // column-major: 0.5, -0.5, 0, 0.5, -0.5, 0
  const std::vector<std::int8_t> same = {1, -1, 0, 1, -1, 0};
  EXPECT_EQ(codes_changed(q, same), 0.0);
  const std::vector<std::int8_t> two = {1, 1, 0, 1, -1, -1};  // entries 1 and 5 differ
  EXPECT_DOUBLE_EQ(codes_changed(q, two), 2.0 / 6.0);
  EXPECT_TRUE(std::isnan(codes_changed(q, {})));
  EXPECT_THROW(codes_changed(q, {1, 0}), Error);
}

TEST(EpochLayers, CodesChangedIsZeroWhenTheWeightsDoNotMoveAndNotKeptForFp32) {
  const DataSplit data = toy_data(100, 40);
  TrainConfig still = tiny("twn");
  // lr must be > 0: one far below a float32 ulp of any weight leaves every weight, and so
  // every code, where it started (the net has no batch norm that could move them otherwise).
  still.lr = 1e-30;
  still.weight_decay = 0;
  for (const EpochMetrics& m : train(still, data).epochs) {
    EXPECT_EQ(m.layers[0].codes_changed, 0.0) << m.epoch;
    EXPECT_TRUE(std::isnan(m.layers[1].codes_changed)) << m.epoch;  // the fp32 last layer
  }
  TrainConfig moving = tiny("twn");
  moving.lr = 0.5;
  const TrainResult r = train(moving, data);
  EXPECT_GT(r.epochs.back().layers[0].codes_changed, 0.0);
  EXPECT_LE(r.epochs.back().layers[0].codes_changed, 1.0);
  for (const EpochMetrics& m : train(tiny("fp"), data).epochs) EXPECT_TRUE(std::isnan(m.layers[0].codes_changed));
}

TEST(EpochLayers, EveryEpochCountsEachDeployedWeightMatrix) {
  const DataSplit data = toy_data(100, 40);
  std::vector<EpochMetrics> seen;
  const TrainResult r = train(tiny("twn"), data, [&](const EpochMetrics& m) { seen.push_back(m); });
  ASSERT_EQ(seen.size(), 3u);
  for (const EpochMetrics& m : seen) {
    const std::string what = "epoch " + std::to_string(m.epoch);
    ASSERT_EQ(m.layers.size(), 2u) << what;
    EXPECT_EQ(m.layers[0].name, "dense0/W");
    EXPECT_EQ(m.layers[0].precision, "ternary");
    EXPECT_EQ(m.layers[1].name, "dense1/W");
    EXPECT_EQ(m.layers[1].precision, "fp32");  // quantize_last defaults to false
    EXPECT_EQ(m.layers[0].n, 8 * 784);
    EXPECT_EQ(m.layers[1].n, 10 * 8);
    std::int64_t zeros = 0, n = 0;
    for (const LayerStats& l : m.layers) {
      EXPECT_EQ(l.n_neg + l.n_zero + l.n_pos, l.n) << what << " " << l.name;
      EXPECT_EQ(l.sparsity, static_cast<double>(l.n_zero) / static_cast<double>(l.n)) << what;
      zeros += l.n_zero;
      n += l.n;
    }
    // The same deployed weights as the epoch's overall sparsity: a stale copy would not agree.
    EXPECT_EQ(m.sparsity, static_cast<double>(zeros) / static_cast<double>(n)) << what;
    EXPECT_GT(m.layers[0].scale, 0.0) << what;
    EXPECT_GT(m.layers[0].delta, 0.0) << what;
    EXPECT_EQ(m.layers[1].scale, 0.0) << what;
  }
  ASSERT_EQ(r.epochs.size(), 3u);
  for (std::size_t i = 0; i < r.layers.size(); ++i) {
    expect_same_stats(r.epochs.back().layers.at(i), r.layers[i], "last epoch against final, " + r.layers[i].name);
    expect_same_stats(seen.back().layers.at(i), r.layers[i], "reported last epoch, " + r.layers[i].name);
  }
  // By hand, from the exported deployed matrix.
  std::int64_t neg = 0, zero = 0, pos = 0;
  for (const NamedTensor& t : r.weights) {
    if (t.name != "dense0/W") continue;
    for (const float v : t.data) (v < 0 ? neg : v > 0 ? pos : zero) += 1;
  }
  const LayerStats& last = r.epochs.back().layers[0];
  EXPECT_EQ(last.n_neg, neg);
  EXPECT_EQ(last.n_zero, zero);
  EXPECT_EQ(last.n_pos, pos);
  EXPECT_GT(zero, 0);
}

// Faraone's stages: the pruned retraining stage keeps at least the target's zeros in every
// quantized layer, stage 1 (before pruning) need not.
TEST(EpochLayers, FaraoneStagesReportTheirOwnLayers) {
  const DataSplit data = toy_data(100, 40);
  TrainConfig cfg = tiny("faraone");
  cfg.faraone_stage1_epochs = 2;
  cfg.faraone_retrain_epochs = 2;
  cfg.faraone_target_sparsity = 0.9;
  const TrainResult r = train(cfg, data);
  ASSERT_EQ(r.epochs.size(), 4u);
  for (const EpochMetrics& m : r.epochs) {
    ASSERT_EQ(m.layers.size(), 2u);
    if (m.stage == "stage3") {
      EXPECT_GE(m.layers[0].sparsity, 0.85) << "epoch " << m.epoch;
    }
  }
  EXPECT_LT(r.epochs.front().layers[0].sparsity, r.epochs.back().layers[0].sparsity);
}

}  // namespace
}  // namespace ternbench::core
