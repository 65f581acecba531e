// Regularizers and Faraone's pruning: penalties by hand, gradients against central
// differences, the lambda ramp, thresholds with a target sparsity and ties.
#include <gtest/gtest.h>

#include <cmath>

#include "support/gradient_check.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/methods/quantizer.hpp"
#include "ternbench/core/methods/regularizer.hpp"
#include "ternbench/core/nn/weight.hpp"

namespace ternbench::core {
namespace {

using testing::relative_gradient_error;

// Smooth penalties evaluated in double from float tanh (rounding ~1e-7) over eps = 1e-2:
// truncation error O(eps^2) relative, ~1e-4.
constexpr double kGradTol = 1e-3;
constexpr std::uint64_t kSeed = 21;

Mat random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng, float lo, float hi) {
  Mat m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m(i) = lo + (hi - lo) * rng.uniform_float();
  return m;
}

Mat theta_of(std::initializer_list<float> w) {  // theta with tanh(theta) = w
  Mat t(1, static_cast<Eigen::Index>(w.size()));
  Eigen::Index i = 0;
  for (float v : w) t(0, i++) = std::atanh(v);
  return t;
}

// ---- SCA WDR -----------------------------------------------------------------------------

TEST(Regularizer, WdrPenaltyByHandInBothForms) {
  const Mat theta = theta_of({0.5f, -0.2f, 0.9f});
  // alpha 0.5: (0.5 - 0.25) 0.25 + (0.5 - 0.04) 0.04 + (0.5 - 0.81) 0.81 = -0.1702
  const WdrRegularizer sum(0.5, 2.0, WdrForm::kSum);
  EXPECT_NEAR(sum.penalty(theta), 2.0 * -0.1702, 1e-6);
  const WdrRegularizer mean(0.5, 2.0, WdrForm::kMean);
  EXPECT_NEAR(mean.penalty(theta), 2.0 * -0.1702 / 3, 1e-6);
  Mat g = Mat::Zero(1, 3);
  sum.add_gradient(theta, g);
  for (Eigen::Index i = 0; i < 3; ++i) {
    const double w = std::tanh(static_cast<double>(theta(i)));
    EXPECT_NEAR(g(i), 2.0 * 2 * w * (1 - w * w) * (0.5 - 2 * w * w), 1e-6) << i;
  }
}

TEST(Regularizer, WdrGradientMatchesCentralDifferences) {
  Rng rng(kSeed);
  for (WdrForm form : {WdrForm::kSum, WdrForm::kMean}) {
    for (double alpha : {0.1, 0.5, 1.5}) {
      Mat theta = random_matrix(4, 5, rng, -2, 2);
      const WdrRegularizer reg(alpha, 0.03, form);
      Mat g = Mat::Zero(4, 5);
      reg.add_gradient(theta, g);
      const double err = relative_gradient_error([&] { return reg.penalty(theta); }, theta, g);
      EXPECT_LT(err, kGradTol) << "alpha " << alpha;
    }
  }
}

TEST(Regularizer, WdrAddsToTheExistingGradient) {
  const Mat theta = theta_of({0.5f, -0.2f});
  const WdrRegularizer reg(0.5, 1.0, WdrForm::kSum);
  Mat fresh = Mat::Zero(1, 2), acc = Mat::Constant(1, 2, 3.0f);
  reg.add_gradient(theta, fresh);
  reg.add_gradient(theta, acc);
  EXPECT_TRUE(acc.isApprox(fresh + Mat::Constant(1, 2, 3.0f)));
}

TEST(Regularizer, WdrSendsSmallWeightsToZeroAndLargeOnesToOne) {
  // Gradient descent on WDR alone: |w| < sqrt(alpha / 2) shrinks, larger |w| grows.
  const double alpha = 0.5;  // boundary 0.5
  const Mat theta = theta_of({0.3f, -0.3f, 0.7f, -0.7f});
  const WdrRegularizer reg(alpha, 1.0, WdrForm::kSum);
  Mat g = Mat::Zero(1, 4);
  reg.add_gradient(theta, g);
  EXPECT_GT(g(0), 0);  // theta decreases toward 0
  EXPECT_LT(g(1), 0);
  EXPECT_LT(g(2), 0);  // theta increases toward +inf (w -> 1)
  EXPECT_GT(g(3), 0);
}

TEST(Regularizer, LambdaRampsLinearlyOverTheWarmup) {
  EXPECT_EQ(ramp_lambda(0.03, 0, 0), 0.03);
  EXPECT_EQ(ramp_lambda(0.03, 4, 0), 0.0);
  EXPECT_DOUBLE_EQ(ramp_lambda(0.03, 4, 1), 0.0075);
  EXPECT_DOUBLE_EQ(ramp_lambda(0.03, 4, 2.5), 0.01875);
  EXPECT_EQ(ramp_lambda(0.03, 4, 4), 0.03);
  EXPECT_EQ(ramp_lambda(0.03, 4, 10), 0.03);
  WdrRegularizer reg(0.5, 0.03, WdrForm::kSum, 4);
  const Mat theta = theta_of({0.5f});
  EXPECT_EQ(reg.strength(), 0.0);
  EXPECT_EQ(reg.penalty(theta), 0.0);
  reg.set_progress(2);
  EXPECT_DOUBLE_EQ(reg.strength(), 0.015);
  EXPECT_NEAR(reg.penalty(theta), 0.015 * 0.0625, 1e-9);
}

TEST(Regularizer, LambdaGrowsGeometricallyToItsFinalValue) {
  EXPECT_EQ(grow_lambda(0.01, 0, 10, 5), 0.01);  // no final value: constant
  EXPECT_DOUBLE_EQ(grow_lambda(0.01, 1.0, 10, 0), 0.01);
  EXPECT_DOUBLE_EQ(grow_lambda(0.01, 1.0, 10, 5), 0.1);  // half-way: the geometric mean
  EXPECT_DOUBLE_EQ(grow_lambda(0.01, 1.0, 10, 10), 1.0);
  EXPECT_DOUBLE_EQ(grow_lambda(0.01, 1.0, 10, 20), 1.0);  // held after the stage's end
  EXPECT_DOUBLE_EQ(grow_lambda(0.4, 0.1, 2, 1), 0.2);    // a decrease works the same way
  // With a warm-up, the grown value is ramped: at epoch 1 of 4 (warm-up 2), half of
  // 0.01 * 100^(1/4).
  WdrRegularizer reg(0.5, 0.01, WdrForm::kSum, 2, WdrGrowth{1.0, 4});
  reg.set_progress(1);
  EXPECT_NEAR(reg.strength(), 0.5 * 0.01 * std::pow(100.0, 0.25), 1e-15);
  reg.set_progress(4);
  EXPECT_DOUBLE_EQ(reg.strength(), 1.0);
}

TEST(Regularizer, MakeRegularizerGrowsScaLambdaOverTheTrainingEpochs) {
  TrainConfig cfg;
  cfg.method = "sca";
  cfg.epochs = 8;
  cfg.sca_lambda = 0.02;
  cfg.sca_lambda_final = 0.32;
  const std::unique_ptr<Regularizer> reg = make_regularizer(cfg);
  reg->set_progress(4);
  EXPECT_DOUBLE_EQ(reg->strength(), 0.08);
  reg->set_progress(8);
  EXPECT_DOUBLE_EQ(reg->strength(), 0.32);
}

// ---- Faraone stage 1 ---------------------------------------------------------------------

Mat faraone_weights() {
  Mat w(2, 3);
  w << 0.5f, -0.02f, 0.01f, -1.0f, 0.04f, 0.3f;
  return w;
}

TEST(Regularizer, FaraonePenaltyAndGradientByHand) {
  const Mat w = faraone_weights();
  // ||W||^2 = 1.3421. Max rule, t = 0.05: D = 0.05, below it 0.02 + 0.01 + 0.04 = 0.07.
  const FaraoneRegularizer max_rule(0.1, 2.0, ThresholdRule::kMax, 0.05);
  EXPECT_NEAR(max_rule.penalty(w), 0.1 * 1.3421 + 2.0 * 0.07, 1e-6);
  // Mean rule, factor 1: D = mean|W| = 1.87 / 6 = 0.3117, so 0.3 joins: 0.37.
  const FaraoneRegularizer mean_rule(0.1, 2.0, ThresholdRule::kMean, 1.0);
  EXPECT_NEAR(mean_rule.penalty(w), 0.1 * 1.3421 + 2.0 * 0.37, 1e-6);
  Mat g = Mat::Zero(2, 3);
  max_rule.add_gradient(w, g);
  Mat expect(2, 3);
  expect << 0.2f * 0.5f, 0.2f * -0.02f - 2, 0.2f * 0.01f + 2,  //
      0.2f * -1.0f, 0.2f * 0.04f + 2, 0.2f * 0.3f;
  EXPECT_TRUE(g.isApprox(expect, 1e-6f)) << g;
}

TEST(Regularizer, FaraoneGradientMatchesCentralDifferencesAwayFromTheKinks) {
  // D is treated as a constant; no |w| lies within eps of D or of 0, so the central
  // difference sees the same sub-threshold set (the max moving D by t * eps changes nothing).
  for (ThresholdRule rule : {ThresholdRule::kMax, ThresholdRule::kMean}) {
    Mat w = faraone_weights();
    const FaraoneRegularizer reg(0.1, 2.0, rule, rule == ThresholdRule::kMax ? 0.05 : 0.7);
    Mat g = Mat::Zero(2, 3);
    reg.add_gradient(w, g);
    const double err = relative_gradient_error([&] { return reg.penalty(w); }, w, g, 1e-3f);
    EXPECT_LT(err, kGradTol);
  }
}

TEST(Regularizer, MakeRegularizerFollowsTheMethod) {
  TrainConfig cfg;
  EXPECT_EQ(make_regularizer(cfg), nullptr);  // fp
  cfg.method = "twn";
  EXPECT_EQ(make_regularizer(cfg), nullptr);
  cfg.method = "sca";
  cfg.sca_wdr = "mean";
  cfg.sca_lambda_warmup_epochs = 2;
  auto sca = make_regularizer(cfg);
  ASSERT_NE(sca, nullptr);
  EXPECT_EQ(sca->strength(), 0.0);
  sca->set_progress(1);
  EXPECT_DOUBLE_EQ(sca->strength(), cfg.sca_lambda / 2);
  const Mat theta = theta_of({0.5f, 0.2f});
  EXPECT_NEAR(sca->penalty(theta), cfg.sca_lambda / 2 * ((0.5 - 0.25) * 0.25 + (0.5 - 0.04) * 0.04) / 2, 1e-9);
  cfg.method = "faraone";
  cfg.faraone_threshold = "mean";
  auto far = make_regularizer(cfg);
  ASSERT_NE(far, nullptr);
  const FaraoneRegularizer expect(cfg.faraone_lambda2, cfg.faraone_lambdaq, ThresholdRule::kMean, cfg.faraone_mean_factor);
  EXPECT_EQ(far->penalty(faraone_weights()), expect.penalty(faraone_weights()));
  cfg.faraone_threshold = "median";
  EXPECT_THROW(make_regularizer(cfg), Error);
}

// ---- Faraone stage 2 ---------------------------------------------------------------------

TEST(Regularizer, PruneMaskKeepsWeightsAboveTheRuleThreshold) {
  const Mat w = faraone_weights();
  Mat expect(2, 3);
  expect << 1, 0, 0, 1, 0, 1;  // D = 0.05 * 1
  EXPECT_EQ(prune_mask(w, ThresholdRule::kMax, 0.05, 0), expect);
  EXPECT_DOUBLE_EQ(prune_threshold(w, ThresholdRule::kMax, 0.05, 0), 0.05f);
  // Mean rule: D = 0.7 * 1.87 / 6 = 0.218 keeps the same three (0.3 is above it).
  EXPECT_EQ(prune_mask(w, ThresholdRule::kMean, 0.7, 0), expect);
  EXPECT_EQ(prune_mask(w, ThresholdRule::kMean, 1.0, 0).sum(), 2.0f);  // D = 0.3117 drops 0.3
}

TEST(Regularizer, TargetSparsityRaisesTheThresholdToTheQuantile) {
  const Mat w = faraone_weights();
  // Three already pruned: a target of 0.5 (k = 3) changes nothing.
  EXPECT_DOUBLE_EQ(prune_threshold(w, ThresholdRule::kMax, 0.05, 0.5), 0.05f);
  // 0.6 of 6 ⇒ k = ceil(3.6) = 4 ⇒ D = 4th smallest |w| = 0.3.
  EXPECT_DOUBLE_EQ(prune_threshold(w, ThresholdRule::kMax, 0.05, 0.6), 0.3f);
  Mat expect(2, 3);
  expect << 1, 0, 0, 1, 0, 0;
  EXPECT_EQ(prune_mask(w, ThresholdRule::kMax, 0.05, 0.6), expect);
  EXPECT_TRUE(prune_mask(w, ThresholdRule::kMax, 0.05, 1.0).isZero(0));

  // 0.3 * 10 is 3.0000000000000004 in double: still exactly 3 pruned, not 4.
  Mat ten(1, 10);
  ten << 1, 2, 3, 4, 5, 6, 7, 8, 9, 10;
  EXPECT_EQ(prune_mask(ten, ThresholdRule::kMax, 0.0, 0.3).sum(), 7.0f);
}

TEST(Regularizer, TiesAtTheQuantileArePrunedTogether) {
  Mat w(1, 5);
  w << 0.1f, -0.1f, 0.1f, 0.2f, 0.3f;
  // k = 1, but the smallest magnitude is shared by three entries: all three go.
  Mat expect(1, 5);
  expect << 0, 0, 0, 1, 1;
  EXPECT_EQ(prune_mask(w, ThresholdRule::kMax, 0.0, 0.2), expect);
  Mat permuted(1, 5);
  permuted << 0.3f, 0.1f, 0.2f, -0.1f, 0.1f;
  Mat pexpect(1, 5);
  pexpect << 1, 0, 1, 0, 0;
  EXPECT_EQ(prune_mask(permuted, ThresholdRule::kMax, 0.0, 0.2), pexpect);
}

TEST(Regularizer, FaraoneScheduleUsesEpochsForZero) {
  TrainConfig cfg;
  cfg.epochs = 12;
  EXPECT_EQ(faraone_schedule(cfg).stage1_epochs, 12);
  EXPECT_EQ(faraone_schedule(cfg).retrain_epochs, 12);
  cfg.faraone_stage1_epochs = 5;
  cfg.faraone_retrain_epochs = 3;
  EXPECT_EQ(faraone_schedule(cfg).stage1_epochs, 5);
  EXPECT_EQ(faraone_schedule(cfg).retrain_epochs, 3);
}

TEST(Faraone, PruneOnAWeightFreezesTheMaskAndZeroesPrunedLatents) {
  TrainConfig cfg;
  cfg.method = "faraone";
  cfg.faraone_retrain_quantizer = "ttq";
  Weight w("fc0/W", 2, 3);
  w.latent().value = faraone_weights();
  w.set_quantizer(make_quantizer(cfg, {"fc0", false, 0}));
  EXPECT_STREQ(w.precision(), "fp32");  // stage 1
  EXPECT_EQ(w.training(), faraone_weights());
  const double d = faraone_prune(w, cfg);
  EXPECT_DOUBLE_EQ(d, 0.05f);
  EXPECT_STREQ(w.precision(), "ternary");
  Mat expect(2, 3);
  expect << 0.5f, 0, 0, -1.0f, 0, 0.3f;  // latent: pruned entries zeroed
  EXPECT_EQ(w.latent().value, expect);
  // Wp = mean(0.5, 0.3), Wn = 1 ⇒ deployed = mask * (w >= 0 ? Wp : -Wn)
  Mat dexpect(2, 3);
  dexpect << 0.4f, 0, 0, -1.0f, 0, 0.4f;
  EXPECT_TRUE(w.training().isApprox(dexpect, 1e-6f)) << w.training();
  EXPECT_EQ(w.quantizer()->delta(), d);

  Weight plain("fc1/W", 2, 2);
  plain.set_quantizer(std::make_unique<TwnQuantizer>(0.7));
  EXPECT_THROW(faraone_prune(plain, cfg), Error);
}

}  // namespace
}  // namespace ternbench::core
