// A regularizer's gradient added in the quantizer's backward (Quantizer::backward_regularized,
// Weight::set_regularizer): the same bits as the backward followed by Regularizer::add_gradient,
// which is what the trainer did before the two were fused.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "support/quantizer_inputs.hpp"
#include "support/same_bits.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/methods/quantizer.hpp"
#include "ternbench/core/methods/regularizer.hpp"
#include "ternbench/core/nn/weight.hpp"

namespace ternbench::core {
namespace {

using namespace quantizer_tests;

using ternbench::testing::same_bits;

// backward_given_output then add_gradient, in place, as the trainer ran them.
Mat two_steps(Quantizer& q, const Mat& w, const Mat& dq, const Regularizer& reg) {
  Mat out(w.rows(), w.cols());
  q.quantize(w, out);
  Mat g = dq;
  q.backward_given_output(w, out, g, g);
  reg.add_gradient(w, g);
  return g;
}

Mat fused(Quantizer& q, const Mat& w, const Mat& dq, const Regularizer& reg) {
  Mat out(w.rows(), w.cols());
  q.quantize(w, out);
  Mat g = dq;
  q.backward_regularized(w, out, g, g, reg);
  return g;
}

TEST(RegularizedBackward, ScaWithTheWdrIsOnePassWithTheTwoPassBits) {
  Rng rng(31);
  const Mat theta = random_matrix(300, 260, rng, -2.5, 2.5);
  const Mat dq = random_matrix(300, 260, rng, -1, 1);
  for (const WdrForm form : {WdrForm::kSum, WdrForm::kMean}) {
    for (const double lambda : {0.0, 1e-5, 2.0}) {  // 0: the WDR adds nothing
      const WdrRegularizer wdr(0.8, lambda, form);
      ScaQuantizer q(false, 0.5);
      EXPECT_TRUE(same_bits(fused(q, theta, dq, wdr), two_steps(q, theta, dq, wdr))) << "lambda " << lambda;
    }
  }
}

TEST(RegularizedBackward, OtherPairsTakeTheTwoPassPath) {
  Rng rng(32);
  const Mat w = random_matrix(40, 30, rng, -1, 1);
  const Mat dq = random_matrix(40, 30, rng, -1, 1);
  const FaraoneRegularizer faraone(1e-3, 1e-2, ThresholdRule::kMean, 0.7);
  ScaQuantizer sca(false, 0.5);
  EXPECT_TRUE(same_bits(fused(sca, w, dq, faraone), two_steps(sca, w, dq, faraone)));
  TwnQuantizer twn(0.7);
  const WdrRegularizer wdr(0.8, 0.5, WdrForm::kSum);
  EXPECT_TRUE(same_bits(fused(twn, w, dq, wdr), two_steps(twn, w, dq, wdr)));
  // and the two-pass result is not the bare backward: the regularizer did add its gradient
  Mat out(40, 30), bare = dq;
  twn.quantize(w, out);
  twn.backward(w, bare, bare);
  EXPECT_FALSE(same_bits(fused(twn, w, dq, wdr), bare));
}

TEST(RegularizedBackward, WeightAddsItsRegularizerInItsScopeOnly) {
  Rng rng(33);
  const Mat theta = random_matrix(20, 12, rng, -2, 2);
  const Mat dq = random_matrix(20, 12, rng, -1, 1);
  const WdrRegularizer wdr(0.8, 0.3, WdrForm::kMean);
  Weight w("dense0/W", 20, 12);
  w.set_quantizer(std::make_unique<ScaQuantizer>(false, 0.5));
  w.latent().value = theta;
  w.refresh();
  ScaQuantizer ref(false, 0.5);
  const Mat expect = two_steps(ref, theta, dq, wdr);
  {
    const RegularizerScope scope({&w}, &wdr);
    w.latent().grad = dq;
    w.to_latent_gradient();
    EXPECT_TRUE(same_bits(w.latent().grad, expect));
  }
  w.latent().grad = dq;  // out of the scope: the plain backward
  w.to_latent_gradient();
  Mat out(20, 12), bare = dq;
  ref.quantize(theta, out);
  ref.backward_given_output(theta, out, bare, bare);
  EXPECT_TRUE(same_bits(w.latent().grad, bare));
}

}  // namespace
}  // namespace ternbench::core
