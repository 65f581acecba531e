// Faraone: identity until the mask is set, masked TWN and TTQ styles, pruned weights stay pruned.
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

// ---- faraone -----------------------------------------------------------------------------

Mat faraone_weights() {
  Mat w(2, 3);
  w << 0.5f, -0.1f, -0.3f, 0.2f, 0.0f, -0.7f;
  return w;
}

Mat faraone_mask() {
  Mat m(2, 3);
  m << 1, 0, 1, 0, 1, 1;
  return m;
}

TEST(Faraone, IdentityUntilTheMaskIsSet) {
  FaraoneQuantizer q(FaraoneStyle::kTwn, "fc0");
  const Mat w = faraone_weights();
  Mat out(2, 3), dw(2, 3);
  q.quantize(w, out);
  EXPECT_EQ(out, w);
  q.backward(w, upstream(), dw);
  EXPECT_EQ(dw, upstream());
  EXPECT_STREQ(q.precision(), "fp32");
  q.set_mask(faraone_mask());
  EXPECT_STREQ(q.precision(), "ternary");
  EXPECT_THROW(q.set_mask(Mat::Constant(2, 3, 0.5f)), Error);
}

TEST(Faraone, TwnStyleForwardAndMaskedBackwardByHand) {
  FaraoneQuantizer q(FaraoneStyle::kTwn, "fc0");
  q.set_mask(faraone_mask(), 0.15);
  const Mat w = faraone_weights();
  Mat out(2, 3);
  q.quantize(w, out);
  const float a = (0.5f + 0.3f + 0.0f + 0.7f) / 4;  // mean |W| over the mask
  Mat expect(2, 3);
  expect << a, 0, -a, 0, a, -a;  // sign(0) = +1 inside the mask
  EXPECT_TRUE(out.isApprox(expect, 1e-6f)) << out;
  EXPECT_FLOAT_EQ(static_cast<float>(q.scale()), a);
  EXPECT_EQ(q.delta(), 0.15);
  Mat dw(2, 3);
  q.backward(w, upstream(), dw);
  Mat dexpect(2, 3);
  dexpect << 1, 0, 3, 0, 5, 6;
  EXPECT_EQ(dw, dexpect);
}

TEST(Faraone, TtqStyleScaleGradientsMatchCentralDifferences) {
  Rng rng(kSeed);
  const Mat w = random_matrix(6, 5, rng);
  const Mat g = random_matrix(6, 5, rng);
  FaraoneQuantizer q(FaraoneStyle::kTtq, "conv2");
  q.set_mask(prune_mask(w, ThresholdRule::kMean, 0.7, 0));
  q.init_scales_from(w);
  const kernels::SignedMaskStats s = kernels::masked_sign_stats(w, q.mask());
  EXPECT_FLOAT_EQ(q.wp().value(0, 0), static_cast<float>(s.pos_abs_sum / static_cast<double>(s.pos)));
  EXPECT_FLOAT_EQ(q.wn().value(0, 0), static_cast<float>(s.neg_abs_sum / static_cast<double>(s.neg)));
  Mat out(6, 5), dw(6, 5);
  q.quantize(w, out);
  q.backward(w, g, dw);
  auto loss = [&] {
    Mat o(6, 5);
    q.quantize(w, o);
    return linear_loss(g, o);
  };
  const Mat dwp = q.wp().grad, dwn = q.wn().grad;
  EXPECT_LT(relative_gradient_error(loss, q.wp().value, dwp), kGradTol);
  EXPECT_LT(relative_gradient_error(loss, q.wn().value, dwn), kGradTol);
  for (Eigen::Index i = 0; i < w.size(); ++i) {
    const float scale = w(i) >= 0 ? q.wp().value(0, 0) : q.wn().value(0, 0);
    EXPECT_FLOAT_EQ(dw(i), q.mask()(i) != 0 ? g(i) * scale : 0.0f);
  }
}

TEST(Faraone, PrunedWeightsNeverMoveOrComeBack) {
  for (FaraoneStyle style : {FaraoneStyle::kTwn, FaraoneStyle::kTtq}) {
    Rng rng(kSeed);
    Mat w = random_matrix(8, 10, rng);
    FaraoneQuantizer q(style, "fc1");
    const Mat mask = prune_mask(w, ThresholdRule::kMax, 0.05, 0.6);
    ASSERT_GE(80 - kernels::count_nonzero(mask), 48);  // at least 0.6 of 80 pruned
    q.set_mask(mask);
    q.after_step(w);  // the pruned latent values start at 0
    Mat out(8, 10), dw(8, 10);
    for (int step = 0; step < 20; ++step) {
      q.quantize(w, out);
      const Mat g = random_matrix(8, 10, rng);
      q.backward(w, g, dw);
      for (Eigen::Index i = 0; i < w.size(); ++i) {
        if (mask(i) == 0) {
          ASSERT_EQ(dw(i), 0.0f) << "step " << step << " entry " << i;
          ASSERT_EQ(out(i), 0.0f) << "step " << step << " entry " << i;
        }
      }
      w -= 0.1f * (dw + 0.01f * w);  // SGD with weight decay, which alone would move them
      q.after_step(w);
      for (Eigen::Index i = 0; i < w.size(); ++i) {
        if (mask(i) == 0) {
          ASSERT_EQ(w(i), 0.0f) << "step " << step << " entry " << i;
        }
      }
    }
    EXPECT_EQ(q.mask(), mask);
    EXPECT_EQ(kernels::count_nonzero(out), kernels::count_nonzero(mask));
  }
}

}  // namespace
}  // namespace ternbench::core
