// BatchNorm: hand-computed forward values in both modes, the running-statistics update, and
// central-difference gradient checks (training and evaluation mode; dense and conv layouts).
#include <gtest/gtest.h>

#include <cmath>

#include "support/gradient_check.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/nn/batchnorm.hpp"
#include "ternbench/core/kernels/normalization.hpp"

namespace ternbench::core {
namespace {

using testing::relative_gradient_error;

// float32 forward, double loss, central differences with eps 1e-2: observed errors are 5e-7 to
// 7e-5 (the largest from the curvature of the normalisation in x); 1e-3 leaves a margin of 10x.
constexpr double kGradTol = 1e-3;
constexpr float kValueTol = 1e-6f;  // |y| <= 3; float rounding of a few operations
constexpr std::uint64_t kSeed = 11;
const double kEps = BatchNorm::kEps;

Mat random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  Mat m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m(i) = 2.0f * rng.uniform_float() - 1.0f;
  return m;
}

TEST(BatchNorm, ParametersAndBuffersAreNamedAndInitialisedAsPyTorch) {
  BatchNorm bn("bn0", 3, 4);
  EXPECT_EQ(bn.in_features(), 12);
  EXPECT_EQ(bn.out_features(), 12);
  ASSERT_EQ(bn.params().size(), 2u);
  ASSERT_EQ(bn.buffers().size(), 2u);
  EXPECT_EQ(bn.params()[0]->name, "bn0/gamma");
  EXPECT_EQ(bn.params()[1]->name, "bn0/beta");
  EXPECT_EQ(bn.buffers()[0]->name, "bn0/running_mean");
  EXPECT_EQ(bn.buffers()[1]->name, "bn0/running_var");
  for (const Param* p : bn.params()) {
    EXPECT_FALSE(p->decay) << p->name;
    EXPECT_EQ(p->shape, (std::vector<std::int64_t>{3})) << p->name;
  }
  EXPECT_EQ(bn.gamma().value, Mat::Ones(3, 1));
  EXPECT_EQ(bn.beta().value, Mat::Zero(3, 1));
  EXPECT_EQ(bn.running_mean().value, Mat::Zero(3, 1));
  EXPECT_EQ(bn.running_var().value, Mat::Ones(3, 1));
  EXPECT_TRUE(bn.training());
}

TEST(BatchNorm, DenseTrainingForwardUsesBatchStatisticsPerFeature) {
  BatchNorm bn("bn", 2, 1);
  bn.gamma().value << 2, 1;
  bn.beta().value << 0.5f, -1;
  Mat x(2, 4), y(2, 4);
  x << 1, 3, 1, 3,    // feature 0: mean 2, biased variance 1
      0, 0, 0, 4;     // feature 1: mean 1, biased variance (1+1+1+9)/4 = 3
  bn.forward(x, y);
  const double s0 = 1.0 / std::sqrt(1.0 + kEps), s1 = 1.0 / std::sqrt(3.0 + kEps);
  EXPECT_NEAR(y(0, 0), 2 * (1 - 2) * s0 + 0.5, kValueTol);
  EXPECT_NEAR(y(0, 1), 2 * (3 - 2) * s0 + 0.5, kValueTol);
  EXPECT_NEAR(y(1, 0), (0 - 1) * s1 - 1, kValueTol);
  EXPECT_NEAR(y(1, 3), (4 - 1) * s1 - 1, kValueTol);
  // running <- 0.9 running + 0.1 batch, the variance unbiased by M/(M-1) = 4/3.
  EXPECT_NEAR(bn.running_mean().value(0, 0), 0.1 * 2, kValueTol);
  EXPECT_NEAR(bn.running_mean().value(1, 0), 0.1 * 1, kValueTol);
  EXPECT_NEAR(bn.running_var().value(0, 0), 0.9 + 0.1 * 1 * 4.0 / 3.0, kValueTol);
  EXPECT_NEAR(bn.running_var().value(1, 0), 0.9 + 0.1 * 3 * 4.0 / 3.0, kValueTol);
  // A second step compounds: 0.9 * 0.2 + 0.1 * 2.
  bn.forward(x, y);
  EXPECT_NEAR(bn.running_mean().value(0, 0), 0.9 * 0.2 + 0.1 * 2, kValueTol);
  EXPECT_NEAR(bn.running_var().value(1, 0), 0.9 * (0.9 + 0.4) + 0.1 * 4, kValueTol);
}

TEST(BatchNorm, ConvTrainingForwardPoolsTheBatchAndThePositionsOfEachChannel) {
  // 2 channels of 2 positions; a column is (c0 s0, c0 s1, c1 s0, c1 s1).
  BatchNorm bn("bn", 2, 2);
  Mat x(4, 2), y(4, 2);
  x << 1, 5,   // channel 0: values 1, 3, 5, 7: mean 4, biased variance (9+1+1+9)/4 = 5
      3, 7,
      0, 2,    // channel 1: values 0, 0, 2, 2: mean 1, biased variance 1
      0, 2;
  bn.forward(x, y);
  const double s0 = 1.0 / std::sqrt(5.0 + kEps), s1 = 1.0 / std::sqrt(1.0 + kEps);
  EXPECT_NEAR(y(0, 0), (1 - 4) * s0, kValueTol);
  EXPECT_NEAR(y(1, 0), (3 - 4) * s0, kValueTol);
  EXPECT_NEAR(y(0, 1), (5 - 4) * s0, kValueTol);
  EXPECT_NEAR(y(1, 1), (7 - 4) * s0, kValueTol);
  EXPECT_NEAR(y(2, 0), -s1, kValueTol);
  EXPECT_NEAR(y(3, 1), s1, kValueTol);
  // M = 2 samples * 2 positions = 4 values per channel.
  EXPECT_NEAR(bn.running_mean().value(0, 0), 0.4, kValueTol);
  EXPECT_NEAR(bn.running_mean().value(1, 0), 0.1, kValueTol);
  EXPECT_NEAR(bn.running_var().value(0, 0), 0.9 + 0.1 * 5 * 4.0 / 3.0, kValueTol);
  EXPECT_NEAR(bn.running_var().value(1, 0), 0.9 + 0.1 * 1 * 4.0 / 3.0, kValueTol);
}

TEST(BatchNorm, EvalForwardUsesRunningStatisticsAndLeavesThemAlone) {
  BatchNorm bn("bn", 2, 2);
  bn.set_training(false);
  bn.gamma().value << 2, 1;
  bn.beta().value << 0, 1;
  bn.running_mean().value << 1, -1;
  bn.running_var().value << 4, 0.25f;
  Mat x(4, 1), y(4, 1);
  x << 3, -1, 0, 1;
  bn.forward(x, y);
  const double s0 = 1.0 / std::sqrt(4.0 + kEps), s1 = 1.0 / std::sqrt(0.25 + kEps);
  EXPECT_NEAR(y(0, 0), 2 * (3 - 1) * s0, kValueTol);    // ~2
  EXPECT_NEAR(y(1, 0), 2 * (-1 - 1) * s0, kValueTol);   // ~-2
  EXPECT_NEAR(y(2, 0), (0 + 1) * s1 + 1, kValueTol);    // ~3
  EXPECT_NEAR(y(3, 0), (1 + 1) * s1 + 1, kValueTol);    // ~5
  EXPECT_FLOAT_EQ(bn.running_mean().value(0, 0), 1.0f);
  EXPECT_FLOAT_EQ(bn.running_var().value(1, 0), 0.25f);
}

TEST(BatchNorm, SingleValuePerChannelKeepsTheRunningVarianceFinite) {
  BatchNorm bn("bn", 1, 1);
  Mat x(1, 1), y(1, 1);
  x << 3;
  bn.forward(x, y);
  EXPECT_FLOAT_EQ(y(0, 0), 0.0f);
  EXPECT_NEAR(bn.running_var().value(0, 0), 0.9, kValueTol);  // 0.9 * 1 + 0.1 * 0
}

TEST(BatchNorm, StatisticsStayAccurateWhenTheMeanDwarfsTheSpread) {
  // Values 1000 + u, u uniform in [-0.5, 0.5): a float E[x^2] - E[x]^2 would lose everything
  // (1e6 against a variance of ~1/12 at float's 7 digits). Compared with double two-pass sums.
  // Shifted values are exact; float sums of 50 of them err by ~1e-6 relative: 10x margin.
  constexpr double kTol = 1e-5;
  Rng rng(kSeed);
  const Eigen::Index C = 3, S = 50, B = 20;
  Mat x(C * S, B);
  for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = 1000.0f + rng.uniform_float() - 0.5f;
  kernels::VecD mean(C), var(C);
  kernels::channel_mean_var(x, S, mean, var);
  for (Eigen::Index c = 0; c < C; ++c) {
    double m = 0, v = 0;
    for (Eigen::Index j = 0; j < B; ++j) {
      for (Eigen::Index s = 0; s < S; ++s) m += x(c * S + s, j);
    }
    m /= static_cast<double>(S * B);
    for (Eigen::Index j = 0; j < B; ++j) {
      for (Eigen::Index s = 0; s < S; ++s) v += (x(c * S + s, j) - m) * (x(c * S + s, j) - m);
    }
    v /= static_cast<double>(S * B);
    EXPECT_NEAR(mean(c), m, kTol) << c;
    EXPECT_NEAR(var(c), v, kTol * v) << c;
  }
}

TEST(BatchNorm, TrainingBackwardMatchesHandComputedValues) {
  // One feature, x = (-1, 0, 1): mean 0, biased var 2/3, x_hat = (-s, 0, s), s = 1/sqrt(2/3 + eps).
  // With gamma = 2, dy = (1, 0, 0), M = 3:
  //   dbeta = sum dy = 1, dgamma = sum dy x_hat = -s,
  //   dx = gamma s / M (M dy - sum dy - x_hat dgamma) = (2s/3) (3 dy - 1 + s x_hat).
  BatchNorm bn("bn", 1, 1);
  bn.gamma().value << 2;
  Mat x(1, 3), y(1, 3), dy(1, 3), dx(1, 3);
  x << -1, 0, 1;
  dy << 1, 0, 0;
  bn.forward(x, y);
  bn.backward(x, y, dy, dx, true);
  const double s = 1.0 / std::sqrt(2.0 / 3.0 + kEps);
  EXPECT_NEAR(bn.beta().grad(0, 0), 1.0, kValueTol);
  EXPECT_NEAR(bn.gamma().grad(0, 0), -s, kValueTol);
  EXPECT_NEAR(dx(0, 0), 2 * s / 3 * (2 - s * s), kValueTol);  // ~0.408
  EXPECT_NEAR(dx(0, 1), 2 * s / 3 * -1, kValueTol);           // ~-0.816
  EXPECT_NEAR(dx(0, 2), 2 * s / 3 * (-1 + s * s), kValueTol);  // ~0.408
}

TEST(BatchNorm, EvalBackwardIsTheAffineMapsGradient) {
  // Constant statistics: dx = gamma dy / sqrt(running_var + eps).
  BatchNorm bn("bn", 1, 1);
  bn.set_training(false);
  bn.gamma().value << 3;
  bn.running_mean().value << 1;
  bn.running_var().value << 4;
  Mat x(1, 2), y(1, 2), dy(1, 2), dx(1, 2);
  x << 1, 3;
  dy << 1, -2;
  bn.forward(x, y);
  bn.backward(x, y, dy, dx, true);
  const double s = 1.0 / std::sqrt(4.0 + kEps);
  EXPECT_NEAR(dx(0, 0), 3 * s, kValueTol);
  EXPECT_NEAR(dx(0, 1), -6 * s, kValueTol);
  EXPECT_NEAR(bn.beta().grad(0, 0), -1.0, kValueTol);
  EXPECT_NEAR(bn.gamma().grad(0, 0), 1 * 0 * s + -2 * 2 * s, kValueTol);  // sum dy (x - 1) s
}

// L = sum(R .* y) + 0.5 ||y||^2 (R fixed): dL/dy = R + y. A plain 0.5 ||y||^2 would be nearly
// flat in x, since the layer normalises it away.
struct Loss {
  BatchNorm& bn;
  const Mat& x;
  const Mat& r;
  double operator()() const {
    Mat y(x.rows(), x.cols());
    bn.forward(x, y);
    return (r.cast<double>().cwiseProduct(y.cast<double>())).sum() + 0.5 * y.cast<double>().squaredNorm();
  }
};

void check_gradients(int channels, int spatial, Eigen::Index batch, bool training) {
  Rng rng(kSeed);
  BatchNorm bn("bn", channels, spatial);
  bn.set_training(training);
  Mat x = random_matrix(channels * spatial, batch, rng);
  const Mat r = random_matrix(channels * spatial, batch, rng);
  bn.gamma().value = random_matrix(channels, 1, rng).array() + 1.5f;
  bn.beta().value = random_matrix(channels, 1, rng);
  bn.running_mean().value = random_matrix(channels, 1, rng);
  bn.running_var().value = random_matrix(channels, 1, rng).array() + 1.5f;
  Mat y(x.rows(), x.cols()), dx(x.rows(), x.cols());
  bn.forward(x, y);
  const Mat dy = r + y;
  bn.backward(x, y, dy, dx, true);
  const Mat dgamma = bn.gamma().grad, dbeta = bn.beta().grad;
  const Loss loss{bn, x, r};
  EXPECT_LT(relative_gradient_error(loss, x, dx), kGradTol) << "x";
  EXPECT_LT(relative_gradient_error(loss, bn.gamma().value, dgamma), kGradTol) << "gamma";
  EXPECT_LT(relative_gradient_error(loss, bn.beta().value, dbeta), kGradTol) << "beta";
}

TEST(BatchNorm, DenseTrainingGradientsMatchCentralDifferences) { check_gradients(3, 1, 5, true); }
TEST(BatchNorm, ConvTrainingGradientsMatchCentralDifferences) { check_gradients(2, 6, 3, true); }
TEST(BatchNorm, DenseEvalGradientsMatchCentralDifferences) { check_gradients(3, 1, 5, false); }
TEST(BatchNorm, ConvEvalGradientsMatchCentralDifferences) { check_gradients(2, 6, 3, false); }

TEST(BatchNorm, NoInputGradientStillSetsParameterGradients) {
  Rng rng(kSeed);
  BatchNorm bn("bn", 2, 3);
  const Mat x = random_matrix(6, 4, rng), dy = random_matrix(6, 4, rng);
  Mat y(6, 4), dx(6, 4), unused;
  bn.forward(x, y);
  bn.backward(x, y, dy, dx, true);
  const Mat dgamma = bn.gamma().grad;
  bn.gamma().grad.setZero();
  bn.backward(x, y, dy, unused, false);
  EXPECT_EQ(bn.gamma().grad, dgamma);
}

}  // namespace
}  // namespace ternbench::core
