// SGD with momentum and weight decay, PyTorch convention, on hand-computed steps.
#include <gtest/gtest.h>

#include <string>

#include "ternbench/core/optimizer.hpp"

namespace ternbench::core {
namespace {

Param make_param(std::initializer_list<float> values, bool decay) {
  Param p;
  p.name = std::string(decay ? "weight" : "bias");
  p.value.resize(static_cast<Eigen::Index>(values.size()), 1);
  Eigen::Index i = 0;
  for (float v : values) p.value(i++, 0) = v;
  p.grad = Mat::Constant(p.value.rows(), 1, 0.5f);
  p.decay = decay;
  return p;
}

TEST(Sgd, MomentumAndWeightDecayStepsMatchHandComputation) {
  Param w = make_param({1.0f, -2.0f}, true);
  Param b = make_param({1.0f}, false);
  Sgd opt({&w, &b}, /*lr=*/0.1, /*momentum=*/0.9, /*weight_decay=*/0.01);
  opt.step();
  // w0: g = 0.5 + 0.01*1 = 0.51, v = 0.51, w = 1 - 0.051
  // w1: g = 0.5 - 0.02 = 0.48, v = 0.48, w = -2 - 0.048
  // b (no decay): v = 0.5, b = 1 - 0.05
  EXPECT_FLOAT_EQ(w.value(0, 0), 0.949f);
  EXPECT_FLOAT_EQ(w.value(1, 0), -2.048f);
  EXPECT_FLOAT_EQ(b.value(0, 0), 0.95f);
  opt.step();  // same gradients
  // w0: g = 0.5 + 0.00949 = 0.50949, v = 0.9*0.51 + 0.50949 = 0.96849, w = 0.949 - 0.096849
  // w1: g = 0.5 - 0.02048 = 0.47952, v = 0.432 + 0.47952 = 0.91152, w = -2.048 - 0.091152
  // b: v = 0.45 + 0.5 = 0.95, b = 0.95 - 0.095
  EXPECT_FLOAT_EQ(w.value(0, 0), 0.852151f);
  EXPECT_FLOAT_EQ(w.value(1, 0), -2.139152f);
  EXPECT_FLOAT_EQ(b.value(0, 0), 0.855f);
}

TEST(Sgd, WithoutMomentumIsPlainGradientDescent) {
  Param w = make_param({3.0f}, true);
  Sgd opt({&w}, 0.2, 0.0, 0.0);
  opt.step();
  opt.step();
  EXPECT_FLOAT_EQ(w.value(0, 0), 3.0f - 2 * 0.2f * 0.5f);
}

TEST(Sgd, QuadraticConvergesToItsMinimum) {
  // L = 0.5 (w - 3)^2 ⇒ the optimum is w = 3.
  Param w = make_param({-4.0f}, false);
  Sgd opt({&w}, 0.1, 0.9, 0.0);
  for (int i = 0; i < 500; ++i) {
    w.grad(0, 0) = w.value(0, 0) - 3.0f;
    opt.step();
  }
  EXPECT_NEAR(w.value(0, 0), 3.0f, 1e-5f);
}

}  // namespace
}  // namespace ternbench::core
