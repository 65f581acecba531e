// TWN: threshold, scale and codes by hand, per layer and per channel, straight-through backward.
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

// ---- twn (per layer, unchanged behaviour) ------------------------------------------------

TEST(Twn, ThresholdScaleAndCodesMatchHandComputation) {
  TwnQuantizer q(0.7);
  const Mat w = hand_weights();
  Mat out(2, 2);
  q.quantize(w, out);
  // mean|W| = 1.55 / 4 = 0.3875; delta = 0.7 * 0.3875 = 0.27125; kept -0.5 and 0.9 ⇒ alpha = 0.7
  EXPECT_FLOAT_EQ(static_cast<float>(q.delta()), 0.27125f);
  EXPECT_FLOAT_EQ(static_cast<float>(q.scale()), 0.7f);
  EXPECT_FLOAT_EQ(out(0, 0), 0.0f);
  EXPECT_FLOAT_EQ(out(0, 1), -0.7f);
  EXPECT_FLOAT_EQ(out(1, 0), 0.7f);
  EXPECT_FLOAT_EQ(out(1, 1), 0.0f);
  EXPECT_STREQ(q.precision(), "ternary");
  ASSERT_EQ(q.scales().size(), 1u);
}

TEST(Twn, SparsityIsExactlyTheShareBelowTheThreshold) {
  // Four weights of magnitude 1 and four of 5: mean 3, delta 2.1 ⇒ exactly 4/8 zeros, alpha 5.
  Mat w(2, 4);
  w << 1, -1, 5, -5, -1, 1, -5, 5;
  TwnQuantizer q(0.7);
  Mat out(2, 4);
  q.quantize(w, out);
  const kernels::SignCounts c = kernels::sign_counts(out);
  EXPECT_EQ(c.zero, 4);
  EXPECT_EQ(c.pos, 2);
  EXPECT_EQ(c.neg, 2);
  EXPECT_FLOAT_EQ(static_cast<float>(q.scale()), 5.0f);
  EXPECT_FLOAT_EQ(out(0, 2), 5.0f);
  EXPECT_FLOAT_EQ(out(0, 3), -5.0f);
}

TEST(Twn, NothingKeptGivesZeroScaleAndAllZeros) {
  Mat w = Mat::Zero(3, 3);
  TwnQuantizer q(0.7);
  Mat out = Mat::Ones(3, 3);
  q.quantize(w, out);
  EXPECT_EQ(q.scale(), 0.0);
  EXPECT_TRUE(out.isZero(0));

  TwnQuantizer huge(100.0);  // threshold above every |w|
  const Mat hw = hand_weights();
  Mat hout(2, 2);
  huge.quantize(hw, hout);
  EXPECT_EQ(huge.scale(), 0.0);
  EXPECT_TRUE(hout.isZero(0));
}

TEST(Twn, BackwardIsTheIdentityStraightThrough) {
  TwnQuantizer q(0.7);
  const Mat w = hand_weights();
  Mat dq(2, 2);
  dq << 0.3f, -1, 2, 0.5f;
  Mat dw = Mat::Zero(2, 2);
  q.backward(w, dq, dw);
  EXPECT_EQ(dw, dq);
  Mat inplace = dq;
  q.backward(w, inplace, inplace);
  EXPECT_EQ(inplace, dq);
}

TEST(Twn, PerChannelThresholdAndScaleByHand) {
  Mat w(2, 3);
  w << 0.1f, -0.5f, 0.9f,  // mean 0.5, delta 0.35, kept -0.5 and 0.9 ⇒ alpha 0.7
      2.0f, -0.2f, -4.0f;  // mean 6.2/3, delta 0.7*6.2/3 = 1.4467, kept 2 and -4 ⇒ alpha 3
  TwnQuantizer q(0.7, /*per_channel=*/true);
  Mat out(2, 3);
  q.quantize(w, out);
  EXPECT_FLOAT_EQ(q.row_deltas()(0, 0), 0.35f);
  EXPECT_FLOAT_EQ(q.row_deltas()(1, 0), 0.7f * 6.2f / 3.0f);
  EXPECT_FLOAT_EQ(q.row_scales()(0, 0), 0.7f);
  EXPECT_FLOAT_EQ(q.row_scales()(1, 0), 3.0f);
  Mat expect(2, 3);
  expect << 0, -0.7f, 0.7f, 3, 0, -3;
  EXPECT_TRUE(out.isApprox(expect, 1e-6f)) << out;
  EXPECT_EQ(q.scales().size(), 2u);
  EXPECT_NEAR(q.scale(), (0.7 + 3.0) / 2, 1e-6);
}

TEST(Twn, PerChannelEqualsPerLayerAppliedToEachRowOnStridedInput) {
  Rng rng(kSeed);
  const Mat big = random_matrix(40, 30, rng);
  const Eigen::Ref<const Mat> view = big.block(2, 3, 37, 21);  // 37 rows: not a multiple of 16
  TwnQuantizer per_channel(0.7, true);
  Mat out(37, 21);
  per_channel.quantize(view, out);
  for (Eigen::Index r = 0; r < view.rows(); ++r) {
    TwnQuantizer per_layer(0.7);
    const Mat row = view.row(r);
    Mat row_out(1, row.cols());
    per_layer.quantize(row, row_out);
    EXPECT_TRUE(out.row(r).isApprox(row_out, 1e-5f)) << "row " << r;
  }
}

}  // namespace
}  // namespace ternbench::core
