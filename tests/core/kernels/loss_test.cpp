// Softmax cross-entropy: hand-computed values, stability, gradient check.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "support/gradient_check.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/kernels/loss.hpp"

namespace ternbench::kernels {
namespace {

constexpr double kGradTol = 1e-3;  // float32 central differences, eps 1e-2, smooth loss

TEST(SoftmaxCrossEntropy, MatchesHandComputedValues) {
  Mat z(3, 2);
  z << 1, 0, 2, 0, 3, 0;  // columns (1, 2, 3) and (0, 0, 0)
  const std::vector<std::uint8_t> labels = {2, 1};
  Mat d(3, 2);
  const LossResult r = softmax_cross_entropy(z, labels, d);
  // softmax(1,2,3) = (0.0900306, 0.2447285, 0.6652410); -log(0.6652410) = 0.4076059
  // second column: -log(1/3) = 1.0986123; mean = 0.7531091
  EXPECT_NEAR(r.loss, 0.7531091, 1e-6);
  EXPECT_EQ(r.correct, 1);  // the all-equal column predicts class 0 (first on ties), label 1
  EXPECT_FLOAT_EQ(d(0, 0), 0.0900306f / 2);
  EXPECT_FLOAT_EQ(d(1, 0), 0.2447285f / 2);
  EXPECT_FLOAT_EQ(d(2, 0), (0.6652410f - 1) / 2);
  EXPECT_FLOAT_EQ(d(0, 1), (1.0f / 3) / 2);
  EXPECT_FLOAT_EQ(d(1, 1), (1.0f / 3 - 1) / 2);
  EXPECT_FLOAT_EQ(d(2, 1), (1.0f / 3) / 2);
}

TEST(SoftmaxCrossEntropy, HugeLogitsStayFinite) {
  Mat z(2, 2);
  z << 1000, 1000, 0, 0;
  const std::vector<std::uint8_t> labels = {0, 1};
  Mat d(2, 2);
  const LossResult r = softmax_cross_entropy(z, labels, d);
  EXPECT_NEAR(r.loss, (0.0 + 1000.0) / 2, 1e-9);
  EXPECT_TRUE(d.allFinite());
  EXPECT_EQ(r.correct, 1);
}

TEST(SoftmaxCrossEntropy, NanLogitGivesNonFiniteLoss) {
  Mat z(2, 1);
  z << std::nanf(""), 0;
  const std::vector<std::uint8_t> labels = {0};
  EXPECT_FALSE(std::isfinite(softmax_cross_entropy_eval(z, labels).loss));
}

TEST(SoftmaxCrossEntropy, GradientMatchesCentralDifferences) {
  Rng rng(7);
  Mat z(4, 3);
  for (Eigen::Index i = 0; i < z.size(); ++i) z(i) = 4.0f * rng.uniform_float() - 2.0f;
  const std::vector<std::uint8_t> labels = {3, 0, 2};
  Mat d(4, 3);
  softmax_cross_entropy(z, labels, d);
  const double err =
      ternbench::testing::relative_gradient_error([&] { return softmax_cross_entropy_eval(z, labels).loss; }, z, d);
  EXPECT_LT(err, kGradTol);
}

TEST(SoftmaxCrossEntropy, GradientMayOverwriteLogits) {
  Mat z(3, 2);
  z << 1, 0, 2, 0, 3, 0;
  const std::vector<std::uint8_t> labels = {2, 1};
  Mat d(3, 2);
  const LossResult separate = softmax_cross_entropy(z, labels, d);
  const LossResult in_place = softmax_cross_entropy(z, labels, z);
  EXPECT_EQ(separate.loss, in_place.loss);
  EXPECT_EQ(z, d);
}

TEST(SoftmaxCrossEntropy, RejectsLabelCountMismatch) {
  Mat z(3, 2), d(3, 2);
  z.setZero();
  const std::vector<std::uint8_t> labels = {0};
  EXPECT_THROW(softmax_cross_entropy(z, labels, d), ternbench::Error);
}

}  // namespace
}  // namespace ternbench::kernels
