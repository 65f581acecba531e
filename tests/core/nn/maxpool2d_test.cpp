// MaxPool2d: hand-computed forward values, gradient routing (ties to the first maximum),
// central differences, fast-vs-naive on random shapes with shrinking batches.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cmath>
#include <string>
#include <vector>

#include "support/gradient_check.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/kernels/pool.hpp"
#include "ternbench/core/nn/batchnorm.hpp"
#include "ternbench/core/nn/maxpool2d.hpp"

namespace ternbench::core {
namespace {

using testing::relative_gradient_error;

// float32 central differences of a quadratic loss through a piecewise-linear map whose
// argmax never changes under the perturbation (inputs are spaced well above eps).
constexpr double kGradTol = 1e-3;
constexpr std::uint64_t kSeed = 7;

// Distinct values in random order, spaced 0.1 apart, so no window ties and no argmax moves
// under a 1e-2 perturbation.
Mat distinct_values(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  std::vector<std::uint32_t> order(static_cast<std::size_t>(rows * cols));
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i);
  rng.shuffle(order);
  Mat m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m(i) = 0.1f * static_cast<float>(order[static_cast<std::size_t>(i)]) - 5.0f;
  return m;
}

TEST(MaxPool2d, ForwardMatchesHandComputedValuesForTwoByTwoWindows) {
  MaxPool2d p("p", 1, 4, 4, 2);
  ASSERT_EQ(p.out_height(), 2);
  ASSERT_EQ(p.out_width(), 2);
  Mat x(16, 1);
  x << 1, 5, 2, 0,  //
      3, 4, 8, 7,   //
      -1, -2, 6, 6, //
      -3, -4, 9, 1;
  Mat y(4, 1);
  p.forward(x, y);
  EXPECT_FLOAT_EQ(y(0, 0), 5.0f);
  EXPECT_FLOAT_EQ(y(1, 0), 8.0f);
  EXPECT_FLOAT_EQ(y(2, 0), -1.0f);
  EXPECT_FLOAT_EQ(y(3, 0), 9.0f);
}

TEST(MaxPool2d, ForwardMatchesHandComputedValuesForOverlappingWindows) {
  MaxPool2d p("p", 1, 3, 3, 2, 1);  // stride 1: four overlapping 2x2 windows
  Mat x(9, 1);
  x << 1, 2, 3,  //
      4, 9, 6,   //
      7, 8, 0;
  Mat y(4, 1);
  p.forward(x, y);
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(y(i, 0), 9.0f);
  // Backward: every window's gradient lands on the shared maximum and adds up.
  Mat dy(4, 1), dx(9, 1);
  dy << 1, 2, 3, 4;
  p.backward(x, y, dy, dx, true);
  for (int i = 0; i < 9; ++i) EXPECT_FLOAT_EQ(dx(i, 0), i == 4 ? 10.0f : 0.0f) << "input " << i;
}

TEST(MaxPool2d, FloorsTheOutputSizeAndDropsTheRemainder) {
  MaxPool2d p("p", 2, 5, 3, 2);  // 5x3 -> 2x1
  EXPECT_EQ(p.out_height(), 2);
  EXPECT_EQ(p.out_width(), 1);
  EXPECT_EQ(p.out_features(), 2 * 2 * 1);
  Mat x = Mat::Zero(30, 1);
  x(4 * 3 + 2, 0) = 100.0f;  // row 4 and column 2 of channel 0 fall outside every window
  x(15 + 3 + 1, 0) = 3.0f;   // channel 1, row 1, column 1
  Mat y(4, 1);
  p.forward(x, y);
  EXPECT_FLOAT_EQ(y(0, 0), 0.0f);
  EXPECT_FLOAT_EQ(y(1, 0), 0.0f);
  EXPECT_FLOAT_EQ(y(2, 0), 3.0f);
  EXPECT_FLOAT_EQ(y(3, 0), 0.0f);
}

TEST(MaxPool2d, BackwardRoutesTiesToTheFirstMaximum) {
  MaxPool2d p("p", 1, 2, 4, 2);
  Mat x(8, 1);
  x << 3, 3, 1, 2,  //
      3, 1, 2, 2;
  Mat y(2, 1), dy(2, 1), dx(8, 1);
  p.forward(x, y);
  dy << 1.5f, -2.0f;
  p.backward(x, y, dy, dx, true);
  const float expected[8] = {1.5f, 0, 0, -2.0f, 0, 0, 0, 0};
  for (int i = 0; i < 8; ++i) EXPECT_FLOAT_EQ(dx(i, 0), expected[i]) << "input " << i;
}

TEST(MaxPool2d, StrideZeroMeansStrideEqualsKernel) {
  MaxPool2d a("a", 3, 9, 9, 3), b("b", 3, 9, 9, 3, 3);
  EXPECT_EQ(a.geometry().stride, 3);
  EXPECT_EQ(a.out_features(), b.out_features());
  EXPECT_EQ(a.out_height(), 3);
}

TEST(MaxPool2d, InputGradientMatchesCentralDifferences) {
  Rng rng(kSeed);
  MaxPool2d p("p", 2, 5, 6, 3, 2);
  Mat x = distinct_values(p.in_features(), 3, rng);
  Mat y(p.out_features(), 3), dx(p.in_features(), 3);
  p.forward(x, y);
  p.backward(x, y, y, dx, true);  // loss = 0.5 ||y||^2
  auto loss = [&] {
    Mat out(p.out_features(), 3);
    p.forward(x, out);
    return 0.5 * out.cast<double>().squaredNorm();
  };
  EXPECT_LT(relative_gradient_error(loss, x, dx), kGradTol);
}

TEST(MaxPool2d, FastForwardMatchesNaiveLoopsOnRandomShapesAndShrinkingBatches) {
  struct Shape {
    int c, h, w, k, s;
  };
  const std::vector<Shape> shapes = {{3, 8, 8, 2, 2}, {2, 7, 9, 2, 2}, {4, 9, 7, 3, 2}, {1, 6, 6, 3, 3}, {5, 5, 4, 2, 1},
                                   {2, 4, 34, 2, 2}, {1, 3, 67, 2, 2}};
  Rng rng(kSeed);
  for (const Shape& s : shapes) {
    SCOPED_TRACE(std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w) + " k" +
                 std::to_string(s.k) + " s" + std::to_string(s.s));
    MaxPool2d p("p", s.c, s.h, s.w, s.k, s.s);
    Mat y_buf(p.out_features(), 4), dx_buf(p.in_features(), 4);
    for (const Eigen::Index B : {4, 2, 1}) {
      const Mat x = distinct_values(p.in_features(), B, rng);
      p.forward(x, y_buf.leftCols(B));
      Mat naive(p.out_features(), B);
      kernels::maxpool2d_forward_naive(p.geometry(), x, naive);
      EXPECT_EQ(Mat(y_buf.leftCols(B)), naive);
      // With all-ones dy, dx counts how many windows chose each input; the outputs sum to
      // the number of windows.
      const Mat dy = Mat::Ones(p.out_features(), B);
      p.backward(x, y_buf.leftCols(B), dy, dx_buf.leftCols(B), true);
      for (Eigen::Index b = 0; b < B; ++b) {
        EXPECT_FLOAT_EQ(dx_buf.col(b).sum(), static_cast<float>(p.out_features()));
      }
    }
  }
}

TEST(MaxPool2d, FusedBatchNormReluForwardMatchesHandComputedValues) {
  // One channel, two samples: batch mean 2.5, biased variance 1.25 over the eight values.
  BatchNorm bn("bn", 1, 4);
  MaxPool2d p("p", 1, 2, 2, 2);
  ASSERT_TRUE(p.fuses(bn));
  Mat x(4, 2);
  x << 1, 4,  //
      2, 3,   //
      3, 2,   //
      4, 1;
  Mat y(1, 2);
  p.forward_bn_relu(bn, x, y);
  const float inv_std = static_cast<float>(1.0 / std::sqrt(1.25 + BatchNorm::kEps));
  EXPECT_FLOAT_EQ(y(0, 0), 1.5f * inv_std);  // max of relu((x - 2.5) * inv_std): x = 4 (input 3)
  EXPECT_FLOAT_EQ(y(0, 1), 1.5f * inv_std);  // x = 4 is input 0 of the second sample
  EXPECT_FLOAT_EQ(bn.running_mean().value(0, 0), 0.25f);
  Mat dy(1, 2), d_bn(4, 2);
  dy << 2.0f, -1.0f;
  p.backward_relu(y, dy, d_bn);
  Mat want = Mat::Zero(4, 2);
  want(3, 0) = 2.0f;
  want(0, 1) = -1.0f;
  EXPECT_EQ(d_bn, want);
  EXPECT_FALSE(p.fuses(BatchNorm("other", 2, 2)));
}

TEST(MaxPool2d, FusedBatchNormReluGradientMatchesCentralDifferences) {
  Rng rng(kSeed);
  BatchNorm bn("bn", 2, 36);
  MaxPool2d p("p", 2, 6, 6, 2);
  bn.gamma().value << 1.5f, -0.8f;
  bn.beta().value << 0.05f, 0.2f;
  Mat x = distinct_values(bn.in_features(), 2, rng);
  Mat y(p.out_features(), 2), d_bn(bn.in_features(), 2), dx(bn.in_features(), 2);
  p.forward_bn_relu(bn, x, y);
  p.backward_relu_bn(y, y, bn, x, d_bn);  // loss = 0.5 ||y||^2
  bn.backward_from_terms(x, d_bn, dx, true);
  auto loss = [&] {
    Mat out(p.out_features(), 2);
    p.forward_bn_relu(bn, x, out);
    return 0.5 * out.cast<double>().squaredNorm();
  };
  EXPECT_LT(relative_gradient_error(loss, x, dx), 1e-2);
}

TEST(MaxPool2d, WithoutInputGradientLeavesDxUntouched) {
  MaxPool2d p("p", 1, 4, 4, 2);
  const Mat x = Mat::Ones(16, 2);
  Mat y(4, 2), dx = Mat::Constant(16, 2, 7.0f);
  p.forward(x, y);
  p.backward(x, y, y, dx, false);
  EXPECT_TRUE((dx.array() == 7.0f).all());
}

TEST(MaxPool2d, HasNoParameters) {
  MaxPool2d p("pool0", 8, 4, 4, 2);
  EXPECT_TRUE(p.params().empty());
  EXPECT_EQ(p.weight(), nullptr);
  EXPECT_EQ(p.name(), "pool0");
}

}  // namespace
}  // namespace ternbench::core
