// ResidualBlock: hand-computed outputs with identity-like convolutions (identity and projection
// shortcuts, training and evaluation mode), a central-difference check of every parameter and
// of x, and the forwarding of params, buffers, weights and mode to the sub-layers.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "support/gradient_check.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/nn/residual.hpp"

namespace ternbench::core {
namespace {

constexpr std::uint64_t kSeed = 17;
constexpr float kValueTol = 1e-5f;  // outputs of order 1 through two normalisations
const double kEps = BatchNorm::kEps;

// Makes a 3x3 conv (one input, one output channel) pass its input through: centre tap 1.
void identity_conv(Conv2d& c) {
  c.weight()->latent().value.setZero();
  c.weight()->latent().value(0, 4) = 1.0f;  // (out 0, in 0, row 1, col 1) of {1, 1, 3, 3}
  c.bias().value.setZero();
}

TEST(ResidualBlock, IdentityShortcutInTrainingModeByHand) {
  Rng rng(kSeed);
  ResidualBlock blk("block0", 1, 2, 2, 1, 1, rng);
  ASSERT_FALSE(blk.has_projection());
  identity_conv(blk.conv0());
  identity_conv(blk.conv1());
  // One 2x2 image x = (-1, 1, -1, 1): mean 0, variance 1, so bn0 gives x * k, k = 1/sqrt(1+eps);
  // relu leaves (0, k, 0, k); conv0 copies it; bn1 sees mean k/2, variance k^2/4 and gives
  // (-q, q, -q, q), q = (k/2)/sqrt(k^2/4 + eps); relu, conv1: (0, q, 0, q); plus x.
  Mat x(4, 1), y(4, 1);
  x << -1, 1, -1, 1;
  blk.forward(x, y);
  const double k = 1.0 / std::sqrt(1.0 + kEps);
  const double q = (k / 2) / std::sqrt(k * k / 4 + kEps);
  EXPECT_NEAR(y(0, 0), -1.0, kValueTol);
  EXPECT_NEAR(y(1, 0), 1.0 + q, kValueTol);
  EXPECT_NEAR(y(2, 0), -1.0, kValueTol);
  EXPECT_NEAR(y(3, 0), 1.0 + q, kValueTol);
}

TEST(ResidualBlock, IdentityShortcutInEvalModeByHand) {
  Rng rng(kSeed);
  ResidualBlock blk("block0", 1, 2, 2, 1, 1, rng);
  identity_conv(blk.conv0());
  identity_conv(blk.conv1());
  blk.set_training(false);
  // Fresh running statistics (mean 0, var 1): each BN scales by k = 1/sqrt(1 + eps), so
  // y = k * relu(k * relu(x)) + x = k^2 relu(x) + x.
  Mat x(4, 1), y(4, 1);
  x << -1, 1, -2, 2;
  blk.forward(x, y);
  const double k2 = 1.0 / (1.0 + kEps);
  EXPECT_NEAR(y(0, 0), -1.0, kValueTol);
  EXPECT_NEAR(y(1, 0), 1.0 + k2, kValueTol);
  EXPECT_NEAR(y(2, 0), -2.0, kValueTol);
  EXPECT_NEAR(y(3, 0), 2.0 + 2.0 * k2, kValueTol);
}

TEST(ResidualBlock, ProjectionShortcutWithStrideTwoByHand) {
  Rng rng(kSeed);
  ResidualBlock blk("block3", 1, 2, 2, 2, 2, rng);
  ASSERT_TRUE(blk.has_projection());
  EXPECT_EQ(blk.out_height(), 1);
  EXPECT_EQ(blk.out_width(), 1);
  EXPECT_EQ(blk.out_features(), 2);
  // The residual branch is switched off (conv0 all zeros makes bn1's input constant, so bn1
  // and conv1 give zeros); the shortcut 1x1 conv has weights (+1, -1) and reads position
  // (0, 0) of relu(bn0(x)) at stride 2. Eval mode with fresh statistics: bn0(x) = k x.
  blk.conv0().weight()->latent().value.setZero();
  blk.conv0().bias().value.setZero();
  blk.conv1().bias().value.setZero();
  Conv2d& sc = *blk.shortcut();
  sc.weight()->latent().value << 1, -1;
  sc.bias().value.setZero();
  blk.set_training(false);
  Mat x(4, 2), y(2, 2);
  x << 3, -3,   // position (0, 0) of each sample
      5, 5, 7, 7, 9, 9;
  blk.forward(x, y);
  const double k = 1.0 / std::sqrt(1.0 + kEps);
  EXPECT_NEAR(y(0, 0), 3 * k, kValueTol);
  EXPECT_NEAR(y(1, 0), -3 * k, kValueTol);
  EXPECT_NEAR(y(0, 1), 0.0, kValueTol);  // relu(-3 k) = 0
  EXPECT_NEAR(y(1, 1), 0.0, kValueTol);
}

TEST(ResidualBlock, ForwardsParamsBuffersWeightsAndMode) {
  Rng rng(kSeed);
  ResidualBlock blk("block3", 16, 8, 8, 32, 2, rng);
  std::vector<std::string> names;
  for (const Param* p : blk.params()) names.push_back(p->name);
  EXPECT_EQ(names, (std::vector<std::string>{"block3/bn0/gamma", "block3/bn0/beta", "block3/conv0/W", "block3/conv0/b",
                                             "block3/bn1/gamma", "block3/bn1/beta", "block3/conv1/W", "block3/conv1/b",
                                             "block3/shortcut/W", "block3/shortcut/b"}));
  names.clear();
  for (const Param* p : blk.buffers()) names.push_back(p->name);
  EXPECT_EQ(names, (std::vector<std::string>{"block3/bn0/running_mean", "block3/bn0/running_var",
                                             "block3/bn1/running_mean", "block3/bn1/running_var"}));
  const std::vector<Weight*> ws = blk.weights();
  ASSERT_EQ(ws.size(), 3u);
  EXPECT_EQ(ws[0]->latent().name, "block3/conv0/W");
  EXPECT_EQ(ws[2]->latent().name, "block3/shortcut/W");
  EXPECT_EQ(ws[2]->latent().shape, (std::vector<std::int64_t>{32, 16, 1, 1}));
  EXPECT_EQ(blk.in_features(), 16 * 8 * 8);
  EXPECT_EQ(blk.out_features(), 32 * 4 * 4);
  blk.set_training(false);
  EXPECT_FALSE(blk.bn0().training());
  EXPECT_FALSE(blk.bn1().training());
}

// L = sum(R .* y) (R fixed): dL/dy = R.
struct Loss {
  ResidualBlock& blk;
  const Mat& x;
  const Mat& r;
  double operator()() const {
    Mat y(blk.out_features(), x.cols());
    blk.forward(x, y);
    return r.cast<double>().cwiseProduct(y.cast<double>()).sum();
  }
};

// Smallest |pre-activation| of the block's two ReLUs, recomputed with its own sub-layers; a
// central difference is only valid where no perturbation moves one of them across zero.
float relu_margin(ResidualBlock& blk, const Mat& x) {
  Mat a0(x.rows(), x.cols()), c0(blk.out_features(), x.cols()), a1(blk.out_features(), x.cols());
  blk.bn0().forward(x, a0);
  const Mat r0 = a0.cwiseMax(0.0f);
  blk.conv0().forward(r0, c0);
  blk.bn1().forward(c0, a1);
  return std::min(a0.cwiseAbs().minCoeff(), a1.cwiseAbs().minCoeff());
}

void check_gradients(int in_c, int out_c, int stride, bool training) {
  // float32 forward, double loss, central differences with step 1e-2: observed errors 3e-6 to
  // 2.5e-4 (the largest for parameters whose effect the next batch norm mostly cancels);
  // 2e-3 leaves a margin of 8x.
  constexpr float kStep = 1e-2f;
  constexpr double kGradTol = 2e-3;
  constexpr float kZeroGradTol = 1e-5f;  // float rounding of O(1) terms over a batch
  Rng rng(kSeed);
  ResidualBlock blk("blk", in_c, 4, 4, out_c, stride, rng);
  blk.set_training(training);
  Mat x(blk.in_features(), 3);
  for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = 2.0f * rng.uniform_float() - 1.0f;
  Mat r(blk.out_features(), 3);
  for (Eigen::Index i = 0; i < r.size(); ++i) r(i) = 2.0f * rng.uniform_float() - 1.0f;
  // Non-trivial BN parameters and running statistics, so that every term matters. With ~100
  // pre-activations of density ~0.4 around zero, some would fall within a step of a ReLU
  // kink; betas of +-6 against |gamma * x_hat| < ~4 put whole channels on one side instead
  // (alternating live and dead channels, so both ReLU branches are exercised). The hand
  // tests cover masks within a channel.
  for (BatchNorm* bn : {&blk.bn0(), &blk.bn1()}) {
    for (Eigen::Index c = 0; c < bn->channels(); ++c) {
      bn->gamma().value(c, 0) = 0.5f + 0.5f * rng.uniform_float();
      bn->beta().value(c, 0) = c % 2 == 0 ? 6.0f : -6.0f;
      bn->running_mean().value(c, 0) = 0.2f * rng.uniform_float() - 0.1f;
      bn->running_var().value(c, 0) = 0.5f + rng.uniform_float();
    }
  }
  ASSERT_GT(relu_margin(blk, x), 20 * kStep) << "a pre-activation sits near a ReLU kink";
  Mat y(blk.out_features(), 3), dx(blk.in_features(), 3);
  blk.forward(x, y);
  blk.backward(x, y, r, dx, true);
  const Loss loss{blk, x, r};
  EXPECT_LT(testing::relative_gradient_error(loss, x, dx, kStep), kGradTol) << "x";
  for (Param* p : blk.params()) {
    const Mat analytic = p->grad;
    if (training && p->name == "blk/conv0/b") {
      // bn1 subtracts the batch mean, so this bias cannot change the loss: its gradient is
      // zero up to float rounding (a relative error would measure noise over noise).
      EXPECT_LT(analytic.cwiseAbs().maxCoeff(), kZeroGradTol);
      continue;
    }
    EXPECT_LT(testing::relative_gradient_error(loss, p->value, analytic, kStep), kGradTol) << p->name;
  }
}

TEST(ResidualBlock, IdentityBlockGradientsMatchCentralDifferencesInTraining) { check_gradients(2, 2, 1, true); }
TEST(ResidualBlock, ProjectionBlockGradientsMatchCentralDifferencesInTraining) { check_gradients(2, 3, 2, true); }
TEST(ResidualBlock, IdentityBlockGradientsMatchCentralDifferencesInEval) { check_gradients(2, 2, 1, false); }
TEST(ResidualBlock, ProjectionBlockGradientsMatchCentralDifferencesInEval) { check_gradients(2, 3, 2, false); }

TEST(ResidualBlock, NoInputGradientStillSetsEveryParameterGradient) {
  Rng rng(kSeed);
  ResidualBlock blk("blk", 2, 4, 4, 3, 2, rng);
  Mat x(blk.in_features(), 2), y(blk.out_features(), 2), dx(blk.in_features(), 2), none;
  for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = rng.uniform_float();
  const Mat dy = Mat::Ones(blk.out_features(), 2);
  blk.forward(x, y);
  blk.backward(x, y, dy, dx, true);
  std::vector<Mat> grads;
  for (const Param* p : blk.params()) grads.push_back(p->grad);
  for (Param* p : blk.params()) p->grad.setZero();
  blk.backward(x, y, dy, none, false);
  const std::vector<Param*> ps = blk.params();
  for (std::size_t i = 0; i < ps.size(); ++i) EXPECT_EQ(ps[i]->grad, grads[i]) << ps[i]->name;
}

}  // namespace
}  // namespace ternbench::core
