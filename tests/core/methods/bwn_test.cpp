// BWN: per-channel scales and signs by hand, the XNOR-Net backward.
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

// ---- bwn ---------------------------------------------------------------------------------

TEST(Bwn, PerChannelScaleAndSignsByHand) {
  Mat w(2, 3);
  w << 0.5f, -1.0f, 1.5f,  // a = 3 / 3 = 1
      -2.0f, 0.0f, 0.5f;   // a = 2.5 / 3
  BwnQuantizer q;
  Mat out(2, 3);
  q.quantize(w, out);
  const float a1 = 2.5f / 3.0f;
  EXPECT_FLOAT_EQ(q.row_scales()(0, 0), 1.0f);
  EXPECT_FLOAT_EQ(q.row_scales()(1, 0), a1);
  Mat expect(2, 3);
  expect << 1, -1, 1, -a1, a1, a1;  // sign(0) = +1
  EXPECT_TRUE(out.isApprox(expect, 1e-6f)) << out;
  EXPECT_STREQ(q.precision(), "binary");
  EXPECT_EQ(q.scales().size(), 2u);
}

TEST(Bwn, BackwardIsTheXnorNetForm) {
  Mat w(2, 3);
  w << 0.5f, -1.0f, 1.5f, -2.0f, 0.0f, 0.5f;
  BwnQuantizer q;
  Mat out(2, 3);
  q.quantize(w, out);
  Mat dw(2, 3);
  q.backward(w, upstream(), dw);
  // dw = dq (1/3 + a_r 1{|w| <= 1}); a_0 = 1, a_1 = 5/6 (|-1| = 1 counts as inside)
  Mat expect(2, 3);
  expect << 1 * (1.0f / 3 + 1), 2 * (1.0f / 3 + 1), 3 * (1.0f / 3),  //
      4 * (1.0f / 3), 5 * (1.0f / 3 + 5.0f / 6), 6 * (1.0f / 3 + 5.0f / 6);
  EXPECT_TRUE(dw.isApprox(expect, 1e-6f)) << dw;
}

}  // namespace
}  // namespace ternbench::core
