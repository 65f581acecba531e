// ReLU: hand-computed values and a gradient check away from the kink.
#include <gtest/gtest.h>

#include "support/gradient_check.hpp"
#include "ternbench/core/nn/relu.hpp"

namespace ternbench::core {
namespace {

constexpr double kGradTol = 1e-3;  // float32 central differences of a piecewise quadratic

TEST(Relu, ForwardMatchesHandComputedValues) {
  Relu r("relu", 2);
  Mat x(2, 2), y(2, 2);
  x << -1.5f, 2, 0, 3.25f;
  r.forward(x, y);
  EXPECT_FLOAT_EQ(y(0, 0), 0.0f);
  EXPECT_FLOAT_EQ(y(0, 1), 2.0f);
  EXPECT_FLOAT_EQ(y(1, 0), 0.0f);
  EXPECT_FLOAT_EQ(y(1, 1), 3.25f);
}

TEST(Relu, BackwardPassesGradientOnlyWherePositive) {
  Relu r("relu", 2);
  Mat x(2, 2), y(2, 2), dy(2, 2), dx(2, 2);
  x << -1, 2, 0, 3;
  dy << 10, 20, 30, 40;
  r.forward(x, y);
  r.backward(x, y, dy, dx, true);
  EXPECT_FLOAT_EQ(dx(0, 0), 0.0f);
  EXPECT_FLOAT_EQ(dx(0, 1), 20.0f);
  EXPECT_FLOAT_EQ(dx(1, 0), 0.0f);  // the sub-gradient at 0 is taken as 0, as in PyTorch
  EXPECT_FLOAT_EQ(dx(1, 1), 40.0f);
}

TEST(Relu, InputGradientMatchesCentralDifferences) {
  Relu r("relu", 3);
  Mat x(3, 2);
  x << -0.7f, 0.4f, 0.9f, -0.3f, 0.25f, -1.1f;  // every |x| > eps, so no difference crosses the kink
  Mat c(3, 2);
  c << 0.5f, -2, 1.5f, 3, -1, 0.75f;
  // L = sum(c .* relu(x)) ⇒ dL/dy = c
  auto loss = [&] {
    Mat y(3, 2);
    r.forward(x, y);
    return c.cast<double>().cwiseProduct(y.cast<double>()).sum();
  };
  Mat y(3, 2), dx(3, 2);
  r.forward(x, y);
  r.backward(x, y, c, dx, true);
  EXPECT_LT(testing::relative_gradient_error(loss, x, dx), kGradTol);
}

}  // namespace
}  // namespace ternbench::core
