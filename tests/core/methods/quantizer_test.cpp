// Quantizers: forward values and backward rules on hand inputs, central-difference checks of
// the learned TTQ scales and of SCA's exact tanh gradient, BinaryConnect's stochastic stream,
// Faraone's frozen mask, and the method registry.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "support/gradient_check.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/kernels/quantize.hpp"
#include "ternbench/core/methods/quantizer.hpp"
#include "ternbench/core/methods/regularizer.hpp"

namespace ternbench::core {
namespace {

using testing::relative_gradient_error;

// The checked losses are linear in the perturbed scalar (TTQ scales) or smooth with float
// tanh rounding (~1e-7) over eps = 1e-2; both land far below this.
constexpr double kGradTol = 1e-3;
constexpr std::uint64_t kSeed = 7;

Mat hand_weights() {
  Mat w(2, 2);
  w << 0.1f, -0.5f, 0.9f, -0.05f;
  return w;
}

Mat upstream() {  // a dL/dq with distinct entries, for hand-checked backward rules
  Mat dq(2, 3);
  dq << 1, 2, 3, 4, 5, 6;
  return dq;
}

Mat random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng, float lo = -1, float hi = 1) {
  Mat m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m(i) = lo + (hi - lo) * rng.uniform_float();
  return m;
}

// sum G .* q(w) in double: its gradient with respect to q is G.
double linear_loss(const Mat& g, const Mat& q) { return (g.cast<double>().array() * q.cast<double>().array()).sum(); }

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

// ---- sca ---------------------------------------------------------------------------------

Mat sca_theta() {
  Mat t(2, 3);
  t << 0.2f, -1.0f, 0.6f,  // tanh: 0.197, -0.762, 0.537 ⇒ round 0, -1, 1
      -0.56f, 3.0f, -0.1f;  // tanh: -0.508, 0.995, -0.0997 ⇒ round -1, 1, 0
  return t;
}

TEST(Sca, TrainingForwardIsTanhAndDeployRoundsIt) {
  ScaQuantizer q(/*scaled=*/false, 0.5);
  const Mat theta = sca_theta();
  Mat train(2, 3), deployed(2, 3);
  q.quantize(theta, train);
  // Eigen's vectorised tanh, within float rounding of libm's.
  for (Eigen::Index i = 0; i < theta.size(); ++i) EXPECT_NEAR(train(i), std::tanh(theta(i)), 1e-6f);
  q.deploy(theta, deployed);
  Mat expect(2, 3);
  expect << 0, -1, 1, -1, 1, 0;
  EXPECT_EQ(deployed, expect);
  EXPECT_TRUE(q.deploy_differs());
  EXPECT_EQ(q.scale(), 1.0);
  EXPECT_TRUE(q.scales().empty());  // with batch norm after the layer no scale is stored
}

TEST(Sca, ScaledDeployUsesTheLeastSquaresScaleOfTheSupport) {
  ScaQuantizer q(/*scaled=*/true, 0.5);
  const Mat theta = sca_theta();
  Mat deployed(2, 3);
  q.deploy(theta, deployed);
  const double s = (std::fabs(std::tanh(-1.0f)) + std::fabs(std::tanh(0.6f)) + std::fabs(std::tanh(-0.56f)) +
                    std::fabs(std::tanh(3.0f))) /
                   4.0;
  EXPECT_NEAR(q.scale(), s, 1e-6);
  ASSERT_EQ(q.scales().size(), 1u);
  const float sf = static_cast<float>(s);
  Mat expect(2, 3);
  expect << 0, -sf, sf, -sf, sf, 0;
  EXPECT_TRUE(deployed.isApprox(expect, 1e-6f));
  // Least squares: no other scale on this support fits tanh(theta) better.
  Mat t(2, 3);
  q.quantize(theta, t);
  auto err = [&](double scale) { return (t.cast<double>() - deployed.cast<double>() / s * scale).squaredNorm(); };
  EXPECT_LT(err(s), err(s * 1.01));
  EXPECT_LT(err(s), err(s * 0.99));
}

TEST(Sca, BackwardIsTheExactTanhGradient) {
  Rng rng(kSeed);
  Mat theta = random_matrix(4, 6, rng, -2, 2);
  const Mat g = random_matrix(4, 6, rng);
  ScaQuantizer q(false, 0.5);
  Mat dtheta(4, 6);
  q.backward(theta, g, dtheta);
  for (Eigen::Index i = 0; i < theta.size(); ++i) {
    const float t = std::tanh(theta(i));
    EXPECT_NEAR(dtheta(i), g(i) * (1.0f - t * t), 1e-6f);
  }
  auto loss = [&] {
    Mat o(4, 6);
    q.quantize(theta, o);
    return linear_loss(g, o);
  };
  EXPECT_LT(relative_gradient_error(loss, theta, dtheta), kGradTol);
}

// Weight calls backward_given_output with the forward's q; it must equal backward.
TEST(Sca, BackwardGivenTheOutputEqualsBackward) {
  Rng rng(kSeed);
  const Mat theta = random_matrix(5, 7, rng, -2, 2);
  const Mat g = random_matrix(5, 7, rng);
  ScaQuantizer q(false, 0.5);
  Mat out(5, 7), plain(5, 7), given(5, 7);
  q.quantize(theta, out);
  q.backward(theta, g, plain);
  q.backward_given_output(theta, out, g, given);
  for (Eigen::Index i = 0; i < g.size(); ++i) EXPECT_NEAR(given(i), plain(i), 1e-6f);
}

TEST(Sca, InitThetaGivesTanhTheTargetStdAndClips) {
  Rng rng(kSeed);
  Mat w = random_matrix(30, 40, rng, -0.05f, 0.05f);  // like a fan-in-scaled init
  ScaQuantizer q(false, 0.5);
  q.init_latent(w);  // uniform scaled to std 0.5 peaks at 0.87 < 0.99: nothing clipped
  const Eigen::ArrayXXd t = w.cast<double>().array().tanh();
  const double mean = t.mean();
  const double sd = std::sqrt((t - mean).square().mean());
  EXPECT_NEAR(sd, 0.5, 1e-5);

  Mat outlier(1, 4);
  outlier << 1, -1, 1, 100;  // std ≈ 43: 100 maps past 0.99 and is clipped
  sca_init_theta(outlier, 0.5);
  EXPECT_FLOAT_EQ(outlier(0, 3), static_cast<float>(std::atanh(0.99)));
  Mat flat = Mat::Constant(2, 2, 0.3f);
  sca_init_theta(flat, 0.5);
  EXPECT_TRUE(flat.isZero(0));
}

TEST(Sca, ScaleToSpreadIsTanhOfTheInitTheta) {
  Mat w(1, 4);
  w << 1, -1, 1, -1;  // mean 0, std 1: values scale by 0.5
  scale_to_spread(w, 0.5);
  EXPECT_EQ(w(0, 0), 0.5f);
  EXPECT_EQ(w(0, 1), -0.5f);
  Mat outlier(1, 4);
  outlier << 1, -1, 1, 100;
  Mat theta = outlier;
  scale_to_spread(outlier, 0.5);
  sca_init_theta(theta, 0.5);
  EXPECT_FLOAT_EQ(outlier(0, 3), 0.99f);  // clipped like theta's argument
  for (int j = 0; j < 4; ++j) EXPECT_FLOAT_EQ(outlier(0, j), std::tanh(theta(0, j))) << j;
  Mat flat = Mat::Constant(2, 2, 0.3f);
  scale_to_spread(flat, 0.5);
  EXPECT_TRUE(flat.isZero(0));
}

TEST(Sca, NewOptionsAreChecked) {
  TrainConfig cfg;
  cfg.method = "sca";
  cfg.sca_theta_lr_scale = 0;
  EXPECT_THROW(check_method_config(cfg), Error);
  cfg.sca_theta_lr_scale = 10;
  cfg.sca_lambda_final = -1;
  EXPECT_THROW(check_method_config(cfg), Error);
  cfg.sca_lambda_final = 1;
  cfg.sca_lambda = 0;  // nothing to grow from
  EXPECT_THROW(check_method_config(cfg), Error);
  cfg.sca_lambda = 0.01;
  EXPECT_NO_THROW(check_method_config(cfg));
  cfg.fp_init_std = std::nan("");
  EXPECT_THROW(check_method_config(cfg), Error);
}

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

// ---- identity and registry ---------------------------------------------------------------

TEST(Quantizer, IdentityCopiesAndPassesThrough) {
  IdentityQuantizer q;
  const Mat w = hand_weights();
  Mat out(2, 2), dw(2, 2);
  q.quantize(w, out);
  EXPECT_EQ(out, w);
  q.backward(w, w, dw);
  EXPECT_EQ(dw, w);
  EXPECT_STREQ(q.precision(), "fp32");
}

TEST(Quantizer, FactoryBuildsEachMethodFromTheConfig) {
  TrainConfig cfg;
  const QuantizerSite site{"dense1", true, 99};
  struct Case {
    const char* method;
    const char* precision;
  };
  for (const Case c : {Case{"fp", "fp32"}, Case{"binaryconnect", "binary"}, Case{"bwn", "binary"},
                       Case{"twn", "ternary"}, Case{"ttq", "ternary"}, Case{"sca", "ternary"},
                       Case{"faraone", "fp32"}}) {
    cfg.method = c.method;
    const auto q = make_quantizer(cfg, site);
    ASSERT_NE(q, nullptr) << c.method;
    EXPECT_STREQ(q->precision(), c.precision) << c.method;
    EXPECT_EQ(method_quantizes(c.method), std::string(c.method) != "fp");
  }
  cfg.method = "twn";
  cfg.twn_per_channel = true;
  EXPECT_TRUE(dynamic_cast<TwnQuantizer&>(*make_quantizer(cfg, site)).per_channel());
  cfg.method = "sca";
  EXPECT_TRUE(dynamic_cast<ScaQuantizer&>(*make_quantizer(cfg, site)).scaled());  // last layer
  EXPECT_FALSE(dynamic_cast<ScaQuantizer&>(*make_quantizer(cfg, {"dense0", false, 1})).scaled());
  cfg.sca_scale_last = false;
  EXPECT_FALSE(dynamic_cast<ScaQuantizer&>(*make_quantizer(cfg, site)).scaled());
  cfg.method = "faraone";
  cfg.faraone_retrain_quantizer = "ttq";
  const auto f = make_quantizer(cfg, site);
  EXPECT_EQ(dynamic_cast<FaraoneQuantizer&>(*f).style(), FaraoneStyle::kTtq);
  EXPECT_EQ(f->params().size(), 2u);
  cfg.method = "ttq";
  EXPECT_THROW(make_quantizer(cfg), Error);  // no layer name for Wp, Wn
}

TEST(Quantizer, MakeQuantizerRejectsUnknownMethodListingValidOnes) {
  TrainConfig cfg;
  cfg.method = "twm";
  try {
    make_quantizer(cfg);
    FAIL() << "expected ternbench::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("twm"), std::string::npos);
    EXPECT_NE(msg.find("fp, binaryconnect, bwn, twn, ttq, sca, faraone"), std::string::npos) << msg;
  }
  EXPECT_THROW(method_quantizes("twm"), Error);
}

TEST(Quantizer, CheckMethodConfigNamesTheOffendingField) {
  auto message = [](const TrainConfig& c) -> std::string {
    try {
      check_method_config(c);
    } catch (const Error& e) {
      return e.what();
    }
    return "(accepted)";
  };
  TrainConfig cfg;
  EXPECT_EQ(message(cfg), "(accepted)");
  cfg.sca_alpha = 2.0;
  EXPECT_NE(message(cfg).find("sca_alpha"), std::string::npos) << message(cfg);
  cfg = {};
  cfg.sca_wdr = "avg";
  EXPECT_NE(message(cfg).find("sca_wdr 'avg' is unknown (valid: sum, mean)"), std::string::npos) << message(cfg);
  cfg = {};
  cfg.faraone_target_sparsity = 1.5;
  EXPECT_NE(message(cfg).find("faraone_target_sparsity"), std::string::npos);
  cfg = {};
  cfg.faraone_retrain_quantizer = "bwn";
  EXPECT_NE(message(cfg).find("faraone_retrain_quantizer"), std::string::npos);
  cfg = {};
  cfg.bc_h = 0;
  EXPECT_NE(message(cfg).find("bc_h"), std::string::npos);
  cfg = {};
  cfg.faraone_retrain_epochs = -1;
  EXPECT_NE(message(cfg).find("faraone_retrain_epochs"), std::string::npos);
}

// ---- kernels -----------------------------------------------------------------------------

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
    float abs_max = 0;
    std::int64_t nonzero = 0, neg = 0, pos = 0;
    for (Eigen::Index j = 0; j < a.cols(); ++j) {
      for (Eigen::Index i = 0; i < a.rows(); ++i) {
        abs_total += std::fabs(a(i, j));
        abs_max = std::max(abs_max, std::fabs(a(i, j)));
        dot_total += static_cast<double>(a(i, j)) * b(i, j);
        nonzero += b(i, j) != 0.0f;
        neg += b(i, j) < 0.0f;
        pos += b(i, j) > 0.0f;
      }
    }
    EXPECT_NEAR(kernels::abs_sum(a), abs_total, 1e-12 * abs_total);
    EXPECT_EQ(kernels::abs_max(a), abs_max);
    EXPECT_NEAR(kernels::dot(a, b), dot_total, 1e-12 * dot_total);
    EXPECT_EQ(kernels::count_nonzero(b), nonzero);
    const kernels::SignCounts c = kernels::sign_counts(b);
    EXPECT_EQ(c.neg, neg);
    EXPECT_EQ(c.pos, pos);
    EXPECT_EQ(c.zero, b.size() - nonzero);
  }
}

TEST(QuantizeKernels, KeptAbsByHand) {
  Mat w(2, 3);
  w << 0.5f, -0.1f, -2.0f,  //
      0.25f, 0.3f, -0.3f;
  const kernels::KeptAbs k = kernels::kept_abs(w, 0.3f);  // |w| > 0.3: 0.5, 2.0 (0.3 is not)
  EXPECT_EQ(k.count, 2);
  EXPECT_EQ(k.abs_sum, 2.5);
  EXPECT_EQ(kernels::kept_abs(w, 5.0f).count, 0);
}

// TWN's scale came from dot(w, codes); kept_abs must give the same bits, so that runs
// keep their results: over sizes with every chunk and lane tail, contiguous and strided.
TEST(QuantizeKernels, KeptAbsSumIsBitIdenticalToTheDotWithTheCodes) {
  Rng rng(13);
  const Mat big = random_matrix(600, 7, rng);
  for (Eigen::Index rows : {1, 15, 16, 17, 255, 256, 257, 600}) {
    const Mat contiguous = big.block(0, 1, rows, 5);
    for (const bool strided : {false, true}) {
      const Eigen::Ref<const Mat> w = strided ? Eigen::Ref<const Mat>(big.block(0, 1, rows, 5))
                                              : Eigen::Ref<const Mat>(contiguous);
      Mat codes(w.rows(), w.cols());
      kernels::ternarize(w, 0.4f, 1.0f, codes);
      const kernels::KeptAbs k = kernels::kept_abs(w, 0.4f);
      EXPECT_EQ(k.count, kernels::count_nonzero(codes)) << rows;
      EXPECT_EQ(k.abs_sum, kernels::dot(w, codes)) << rows << (strided ? " strided" : "");
    }
  }
}

TEST(QuantizeKernels, TanhBackwardFromTheOutputEqualsTheOneFromTheInput) {
  Rng rng(14);
  const Mat theta = random_matrix(33, 9, rng, -2, 2);
  const Mat g = random_matrix(33, 9, rng);
  Mat t(33, 9), from_input(33, 9), from_output(33, 9);
  kernels::tanh_forward(theta, t);
  kernels::tanh_backward(theta, g, from_input);
  kernels::tanh_backward_from_output(t, g, from_output);
  for (Eigen::Index i = 0; i < t.size(); ++i) {
    EXPECT_NEAR(from_output(i), g(i) * (1.0f - std::tanh(theta(i)) * std::tanh(theta(i))), 1e-6f);
    EXPECT_NEAR(from_output(i), from_input(i), 1e-6f);
  }
}

TEST(QuantizeKernels, RowMeansMatchAPlainLoopForEveryRowBlockTail) {
  Rng rng(12);
  const Mat big = random_matrix(50, 9, rng);
  for (Eigen::Index rows : {1, 15, 16, 17, 33, 48}) {
    const Eigen::Ref<const Mat> v = big.block(1, 2, rows, 7);
    Mat out(rows, 1);
    kernels::row_abs_mean(v, out);
    for (Eigen::Index r = 0; r < rows; ++r) {
      double s = 0;
      for (Eigen::Index c = 0; c < v.cols(); ++c) s += std::fabs(v(r, c));
      EXPECT_NEAR(out(r, 0), s / 7.0, 1e-6) << rows << " rows, row " << r;
    }
  }
}

}  // namespace
}  // namespace ternbench::core
