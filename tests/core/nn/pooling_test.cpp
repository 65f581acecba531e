// GlobalAvgPool and Flatten: hand-computed values and a gradient check.
#include <gtest/gtest.h>

#include "support/gradient_check.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/nn/flatten.hpp"
#include "ternbench/core/nn/global_avg_pool.hpp"

namespace ternbench::core {
namespace {

// The pooling is linear, so central differences are exact up to float rounding of y.
constexpr double kGradTol = 1e-4;
constexpr std::uint64_t kSeed = 8;

TEST(GlobalAvgPool, ForwardAveragesEachChannelOverItsPositions) {
  GlobalAvgPool gap("gap0", 2, 1, 3);
  EXPECT_EQ(gap.in_features(), 6);
  EXPECT_EQ(gap.out_features(), 2);
  Mat x(6, 2), y(2, 2);
  x << 1, 0,   // channel 0 of each sample: rows 0..2
      2, 0,
      6, 3,
      -1, 4,   // channel 1: rows 3..5
      -2, 4,
      -3, 4;
  gap.forward(x, y);
  EXPECT_FLOAT_EQ(y(0, 0), 3.0f);   // (1 + 2 + 6) / 3
  EXPECT_FLOAT_EQ(y(1, 0), -2.0f);  // (-1 - 2 - 3) / 3
  EXPECT_FLOAT_EQ(y(0, 1), 1.0f);
  EXPECT_FLOAT_EQ(y(1, 1), 4.0f);
}

TEST(GlobalAvgPool, BackwardSpreadsEachGradientEvenly) {
  GlobalAvgPool gap("gap0", 2, 2, 1);
  Mat x = Mat::Zero(4, 1), y(2, 1), dy(2, 1), dx(4, 1);
  dy << 4, -2;
  gap.forward(x, y);
  gap.backward(x, y, dy, dx, true);
  EXPECT_FLOAT_EQ(dx(0, 0), 2.0f);
  EXPECT_FLOAT_EQ(dx(1, 0), 2.0f);
  EXPECT_FLOAT_EQ(dx(2, 0), -1.0f);
  EXPECT_FLOAT_EQ(dx(3, 0), -1.0f);
}

TEST(GlobalAvgPool, InputGradientMatchesCentralDifferences) {
  Rng rng(kSeed);
  GlobalAvgPool gap("gap0", 3, 2, 2);
  Mat x(12, 4), r(3, 4);
  for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = rng.uniform_float() - 0.5f;
  for (Eigen::Index i = 0; i < r.size(); ++i) r(i) = rng.uniform_float() - 0.5f;
  auto loss = [&] {  // sum(r .* y): dL/dy = r
    Mat y(3, 4);
    gap.forward(x, y);
    return r.cast<double>().cwiseProduct(y.cast<double>()).sum();
  };
  Mat y(3, 4), dx(12, 4);
  gap.forward(x, y);
  gap.backward(x, y, r, dx, true);
  EXPECT_LT(testing::relative_gradient_error(loss, x, dx), kGradTol);
}

TEST(Flatten, IsTheIdentityInBothDirections) {
  Flatten f("flatten0", 4);
  EXPECT_EQ(f.in_features(), 4);
  EXPECT_EQ(f.out_features(), 4);
  Mat x(4, 2), y(4, 2), dx(4, 2);
  x << 1, 2, 3, 4, 5, 6, 7, 8;
  f.forward(x, y);
  EXPECT_EQ(y, x);
  f.backward(x, y, 2 * x, dx, true);
  EXPECT_EQ(dx, Mat(2 * x));
}

}  // namespace
}  // namespace ternbench::core
