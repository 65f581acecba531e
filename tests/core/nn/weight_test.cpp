// Weight: the latent, training-forward and inference matrices, and the quantizer hooks it
// forwards (after_step, init_latent, params, backward).
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "ternbench/base/rng.hpp"
#include "ternbench/core/kernels/quantize.hpp"
#include "ternbench/core/methods/quantizer.hpp"
#include "ternbench/core/nn/weight.hpp"

namespace ternbench::core {
namespace {

Mat theta() {
  Mat t(2, 3);
  t << 0.2f, -1.0f, 0.6f, -0.56f, 3.0f, -0.1f;  // round(tanh) = 0 -1 1 / -1 1 0
  return t;
}

TEST(Weight, FullPrecisionUsesTheLatentMatrixEverywhereWithoutCopy) {
  Weight w("d/W", 2, 3);
  w.latent().value = theta();
  const Mat* latent = &w.latent().value;
  EXPECT_EQ(&w.training(), latent);
  EXPECT_EQ(&w.deployed(), latent);
  w.use_deployed(true);
  EXPECT_EQ(&w.forward_weights(), latent);
  EXPECT_TRUE(w.quantizer_params().empty());
  w.after_step();  // no quantizer: no-op
  w.init_latent();
  EXPECT_EQ(w.latent().value, theta());
}

TEST(Weight, DeterministicQuantizerSharesTheTrainingAndInferenceMatrix) {
  Weight w("d/W", 2, 3);
  w.latent().value = theta();
  w.set_quantizer(std::make_unique<TwnQuantizer>(0.7));
  EXPECT_EQ(&w.deployed(), &w.training());
  EXPECT_NE(&w.training(), &w.latent().value);
  w.use_deployed(true);
  EXPECT_EQ(&w.forward_weights(), &w.training());
}

TEST(Weight, ScaTrainsOnTanhAndEvaluatesTheRoundedMatrix) {
  Weight w("d/W", 2, 3);
  w.latent().value = theta();
  w.set_quantizer(std::make_unique<ScaQuantizer>(false, 0.5));
  Mat tanh_theta(2, 3);
  kernels::tanh_forward(theta(), tanh_theta);
  EXPECT_EQ(w.training(), tanh_theta);
  Mat rounded(2, 3);
  rounded << 0, -1, 1, -1, 1, 0;
  EXPECT_EQ(w.deployed(), rounded);
  EXPECT_NE(&w.deployed(), &w.training());
  EXPECT_EQ(&w.forward_weights(), &w.training());  // training by default
  w.use_deployed(true);
  EXPECT_TRUE(w.using_deployed());
  EXPECT_EQ(&w.forward_weights(), &w.deployed());
  w.use_deployed(false);
  EXPECT_EQ(&w.forward_weights(), &w.training());  // SCA's continuous evaluation
}

TEST(Weight, InferenceFollowsTheLatentValuesAfterRefresh) {
  Weight w("d/W", 2, 3);
  w.latent().value = theta();
  w.set_quantizer(std::make_unique<ScaQuantizer>(false, 0.5));
  EXPECT_EQ(w.deployed()(0, 0), 0.0f);
  w.latent().value(0, 0) = 2.0f;  // an optimizer step
  w.refresh();
  EXPECT_EQ(w.deployed()(0, 0), 1.0f);
  EXPECT_FLOAT_EQ(w.training()(0, 0), std::tanh(2.0f));
  w.latent().value(0, 0) = -2.0f;
  w.refresh_deployed();  // eager form
  EXPECT_EQ(w.deployed()(0, 0), -1.0f);
}

TEST(Weight, StochasticBinaryConnectEvaluatesTheDeterministicSign) {
  Rng rng(3);
  Weight w("d/W", 8, 9);
  for (Eigen::Index i = 0; i < 72; ++i) w.latent().value(i) = 2.0f * rng.uniform_float() - 1.0f;
  w.set_quantizer(std::make_unique<BinaryConnectQuantizer>(1.0, true, 11));
  Mat sign(8, 9);
  kernels::binarize(w.latent().value, 1.0f, sign);
  EXPECT_EQ(w.deployed(), sign);
  EXPECT_NE(w.training(), sign);  // a sample (72 entries: equal with probability ~0)
  const Mat first_sample = w.training();
  w.refresh();
  EXPECT_NE(w.training(), first_sample);  // a fresh draw each step
  EXPECT_EQ(w.deployed(), sign);
}

TEST(Weight, AfterStepAndInitLatentForwardToTheQuantizer) {
  Weight bc("d/W", 1, 3);
  bc.latent().value << 0.5f, -3.0f, 2.0f;
  bc.set_quantizer(std::make_unique<BinaryConnectQuantizer>(1.0, false, 0));
  bc.after_step();
  EXPECT_EQ(bc.latent().value, (Mat(1, 3) << 0.5f, -1.0f, 1.0f).finished());

  Weight sca("d/W", 1, 4);
  sca.latent().value << 0.1f, -0.1f, 0.1f, -0.1f;  // std 0.1 ⇒ scaled to +-0.5
  sca.set_quantizer(std::make_unique<ScaQuantizer>(false, 0.5));
  sca.init_latent();
  for (Eigen::Index i = 0; i < 4; ++i) EXPECT_NEAR(std::fabs(sca.training()(i)), 0.5f, 1e-6f);  // refreshed
  EXPECT_NEAR(sca.latent().value(0), std::atanh(0.5), 1e-6);
}

TEST(Weight, TtqScalesAreExposedAndGetTheirGradientsFromBackward) {
  Weight w("conv1/W", 2, 3);
  w.latent().value << 0.1f, -0.5f, 0.02f, -0.01f, 1.0f, -0.04f;
  w.set_quantizer(std::make_unique<TtqQuantizer>("conv1", 0.05));
  const auto ps = w.quantizer_params();
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[0]->name, "conv1/Wp");
  w.latent().grad << 1, 2, 3, 4, 5, 6;  // dL/dW_q
  w.to_latent_gradient();
  EXPECT_EQ(w.latent().grad, (Mat(2, 3) << 1, 2, 3, 4, 5, 6).finished());  // Wp = Wn = 1
  EXPECT_EQ(ps[0]->grad(0, 0), 6.0f);
  EXPECT_EQ(ps[1]->grad(0, 0), -2.0f);
}

}  // namespace
}  // namespace ternbench::core
