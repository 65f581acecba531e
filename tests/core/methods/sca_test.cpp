// SCA: tanh forward and rounded deployment, the exact tanh gradient, theta's init, its options.
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

}  // namespace
}  // namespace ternbench::core
