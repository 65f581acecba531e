// BinaryConnect: deterministic and stochastic binarization, the clip after each step.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "support/gradient_check.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/kernels/quantize.hpp"
#include "ternbench/core/methods/quantizer.hpp"
#include "ternbench/core/methods/regularizer.hpp"
#include "support/quantizer_inputs.hpp"

namespace ternbench::core {
namespace {

using namespace quantizer_tests;
using testing::relative_gradient_error;

// ---- binaryconnect -----------------------------------------------------------------------

TEST(Binary, DeterministicSignTakesZeroAsPositive) {
  Mat w(2, 3);
  w << 0.3f, -0.2f, 0.0f, -0.0f, 1.5f, -2.0f;
  BinaryConnectQuantizer q(0.5, false, kSeed);
  Mat out(2, 3);
  q.quantize(w, out);
  Mat expect(2, 3);
  expect << 0.5f, -0.5f, 0.5f, 0.5f, 0.5f, -0.5f;
  EXPECT_EQ(out, expect);
  EXPECT_STREQ(q.precision(), "binary");
  EXPECT_FALSE(q.deploy_differs());
  EXPECT_EQ(q.scales().size(), 1u);  // H = 0.5 must be stored
  EXPECT_TRUE(BinaryConnectQuantizer(1.0, false, kSeed).scales().empty());
}

TEST(Binary, BackwardIsIdentityAndAfterStepClipsToH) {
  BinaryConnectQuantizer q(1.0, false, kSeed);
  Mat w(2, 3);
  w << 0.3f, -0.2f, 0.0f, -0.0f, 1.5f, -2.0f;
  const Mat dq = upstream();
  Mat dw(2, 3);
  q.backward(w, dq, dw);
  EXPECT_EQ(dw, dq);
  q.after_step(w);
  Mat expect(2, 3);
  expect << 0.3f, -0.2f, 0.0f, 0.0f, 1.0f, -1.0f;
  EXPECT_EQ(w, expect);
}

TEST(Binary, StochasticIsReproducibleForASeedAndDeploysTheSign) {
  Rng rng(kSeed);
  const Mat w = random_matrix(16, 20, rng);
  BinaryConnectQuantizer a(1.0, true, 1234), b(1.0, true, 1234), c(1.0, true, 1235);
  Mat qa(16, 20), qb(16, 20), qc(16, 20);
  for (int step = 0; step < 3; ++step) {
    a.quantize(w, qa);
    b.quantize(w, qb);
    c.quantize(w, qc);
    EXPECT_EQ(qa, qb) << "step " << step;
    EXPECT_NE(qa, qc) << "step " << step;
    EXPECT_TRUE((qa.array().abs() == 1.0f).all());
  }
  EXPECT_TRUE(a.deploy_differs());
  Mat deployed(16, 20), sign(16, 20);
  a.deploy(w, deployed);
  kernels::binarize(w, 1.0f, sign);
  EXPECT_EQ(deployed, sign);
}

TEST(Binary, StochasticIsUnbiasedInExpectation) {
  Mat w(2, 3);
  w << 0.5f, -0.5f, 0.0f, 0.9f, -1.2f, 2.0f;  // E[q] = H clip(W / H, -1, 1) with H = 1
  Mat expect(2, 3);
  expect << 0.5f, -0.5f, 0.0f, 0.9f, -1.0f, 1.0f;
  BinaryConnectQuantizer q(1.0, true, kSeed);
  constexpr int kDraws = 20000;  // std of each mean <= 1/sqrt(20000) = 0.007
  Mat sum = Mat::Zero(2, 3), out(2, 3);
  for (int k = 0; k < kDraws; ++k) {
    q.quantize(w, out);
    sum += out;
  }
  const Mat mean = sum / static_cast<float>(kDraws);
  for (Eigen::Index i = 0; i < w.size(); ++i) EXPECT_NEAR(mean(i), expect(i), 0.03) << "entry " << i;
  EXPECT_EQ(mean(1, 1), -1.0f);  // probability exactly 0 of +H
  EXPECT_EQ(mean(1, 2), 1.0f);   // probability exactly 1
}

}  // namespace
}  // namespace ternbench::core
