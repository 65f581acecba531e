// TTQ: learned scales on each side of the threshold, backward rules by hand and by central differences.
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

// ---- ttq ---------------------------------------------------------------------------------

Mat ttq_weights() {
  Mat w(2, 3);
  w << 0.1f, -0.5f, 0.02f,  // max |W| = 1 ⇒ D = 0.05 * 1 = 0.05
      -0.01f, 1.0f, -0.04f;
  return w;
}

TEST(Ttq, ForwardUsesLearnedScalesOnEachSideOfTheThreshold) {
  TtqQuantizer q("conv1", 0.05);
  q.wp().value(0, 0) = 2.0f;
  q.wn().value(0, 0) = 3.0f;
  Mat out(2, 3);
  q.quantize(ttq_weights(), out);
  Mat expect(2, 3);
  expect << 2, -3, 0, 0, 2, 0;
  EXPECT_EQ(out, expect);
  EXPECT_FLOAT_EQ(static_cast<float>(q.delta()), 0.05f);
  EXPECT_EQ(q.scales(), (std::vector<float>{2.0f, 3.0f}));
}

TEST(Ttq, BackwardRulesByHand) {
  TtqQuantizer q("conv1", 0.05);
  q.wp().value(0, 0) = 2.0f;
  q.wn().value(0, 0) = 3.0f;
  const Mat w = ttq_weights();
  Mat out(2, 3);
  q.quantize(w, out);
  Mat dw = upstream();
  q.backward(w, dw, dw);  // in place
  Mat expect(2, 3);
  expect << 2 * 1, 3 * 2, 3, 4, 2 * 5, 6;  // Wp dq / Wn dq / dq by region
  EXPECT_EQ(dw, expect);
  EXPECT_FLOAT_EQ(q.wp().grad(0, 0), 1 + 5);  // sum over W > D
  EXPECT_FLOAT_EQ(q.wn().grad(0, 0), -2);     // -sum over W < -D
}

TEST(Ttq, ScaleGradientsMatchCentralDifferences) {
  Rng rng(kSeed);
  const Mat w = random_matrix(5, 7, rng);
  const Mat g = random_matrix(5, 7, rng);
  TtqQuantizer q("fc", 0.3);
  q.wp().value(0, 0) = 0.8f;
  q.wn().value(0, 0) = 1.3f;
  Mat out(5, 7), dw(5, 7);
  q.quantize(w, out);
  q.backward(w, g, dw);
  auto loss = [&] {
    Mat o(5, 7);
    q.quantize(w, o);
    return linear_loss(g, o);
  };
  const Mat dwp = q.wp().grad, dwn = q.wn().grad;
  EXPECT_LT(relative_gradient_error(loss, q.wp().value, dwp), kGradTol);
  EXPECT_LT(relative_gradient_error(loss, q.wn().value, dwn), kGradTol);
}

TEST(Ttq, ParamsAreNamedAfterTheLayerAndNotDecayed) {
  TtqQuantizer q("block1/conv0", 0.05);
  const auto ps = q.params();
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[0]->name, "block1/conv0/Wp");
  EXPECT_EQ(ps[1]->name, "block1/conv0/Wn");
  for (const Param* p : ps) {
    EXPECT_FALSE(p->decay);
    EXPECT_EQ(p->value(0, 0), 1.0f);  // init 1
  }
  EXPECT_THROW(TtqQuantizer("", 0.05), Error);
}

}  // namespace
}  // namespace ternbench::core
