// Quantizers: TWN threshold, scale, codes and straight-through backward on hand inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "ternbench/base/error.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/kernels/quantize.hpp"
#include "ternbench/core/quantizer.hpp"

namespace ternbench::core {
namespace {

Mat hand_weights() {
  Mat w(2, 2);
  w << 0.1f, -0.5f, 0.9f, -0.05f;
  return w;
}

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

TEST(Identity, QuantizeCopiesAndBackwardPassesThrough) {
  IdentityQuantizer q;
  const Mat w = hand_weights();
  Mat out(2, 2), dw(2, 2);
  q.quantize(w, out);
  EXPECT_EQ(out, w);
  q.backward(w, w, dw);
  EXPECT_EQ(dw, w);
  EXPECT_STREQ(q.precision(), "fp32");
}

TEST(QuantizeKernels, LaneSumsAndCountsMatchPlainLoopsOnContiguousAndStridedInput) {
  Rng rng(11);
  Mat big(37, 41), other(37, 41);
  for (Eigen::Index i = 0; i < big.size(); ++i) {
    big(i) = 2.0f * rng.uniform_float() - 1.0f;
    other(i) = rng.uniform_float() < 0.3f ? 0.0f : big(i);  // some exact zeros
  }
  const Eigen::Ref<const Mat> views[] = {big, big.block(3, 5, 20, 30)};
  const Eigen::Ref<const Mat> partners[] = {other, other.block(3, 5, 20, 30)};
  for (int v = 0; v < 2; ++v) {
    const auto& a = views[v];
    const auto& b = partners[v];
    double abs_total = 0, dot_total = 0;
    std::int64_t nonzero = 0, neg = 0, pos = 0;
    for (Eigen::Index j = 0; j < a.cols(); ++j) {
      for (Eigen::Index i = 0; i < a.rows(); ++i) {
        abs_total += std::fabs(a(i, j));
        dot_total += static_cast<double>(a(i, j)) * b(i, j);
        nonzero += b(i, j) != 0.0f;
        neg += b(i, j) < 0.0f;
        pos += b(i, j) > 0.0f;
      }
    }
    EXPECT_NEAR(kernels::abs_sum(a), abs_total, 1e-12 * abs_total);
    EXPECT_NEAR(kernels::dot(a, b), dot_total, 1e-12 * dot_total);
    EXPECT_EQ(kernels::count_nonzero(b), nonzero);
    const kernels::SignCounts c = kernels::sign_counts(b);
    EXPECT_EQ(c.neg, neg);
    EXPECT_EQ(c.pos, pos);
    EXPECT_EQ(c.zero, b.size() - nonzero);
  }
}

TEST(QuantizeKernels, MakeQuantizerRejectsUnknownMethodListingValidOnes) {
  TrainConfig cfg;
  cfg.method = "twm";
  try {
    make_quantizer(cfg);
    FAIL() << "expected ternbench::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("twm"), std::string::npos);
    EXPECT_NE(msg.find("fp, twn"), std::string::npos);
  }
}

}  // namespace
}  // namespace ternbench::core
