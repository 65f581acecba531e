// Dense layer: hand-computed forward values, fast-vs-naive, gradient checks, init, STE.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "support/gradient_check.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/nn/dense.hpp"
#include "ternbench/core/kernels/dense.hpp"

namespace ternbench::core {
namespace {

using testing::relative_gradient_error;

// float32 central differences of a quadratic loss: the truncation error is zero, so what is
// left is float rounding of y, well below this.
constexpr double kGradTol = 1e-3;
constexpr std::uint64_t kSeed = 42;

Mat random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  Mat m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m(i) = 2.0f * rng.uniform_float() - 1.0f;
  return m;
}

// 0.5 ||W x + b||^2 in double, with the layer's current parameters.
double half_squared_norm(Dense& d, const Mat& x) {
  Mat y(d.out_features(), x.cols());
  d.forward(x, y);
  return 0.5 * y.cast<double>().squaredNorm();
}

struct Grads {
  Mat dx;
};

// Runs forward and backward with dL/dy = y (the gradient of half_squared_norm).
Grads forward_backward(Dense& d, const Mat& x) {
  Mat y(d.out_features(), x.cols());
  d.forward(x, y);
  Grads g;
  g.dx.resize(x.rows(), x.cols());
  d.backward(x, y, y, g.dx, true);
  return g;
}

TEST(Dense, ForwardMatchesHandComputedValues) {
  Rng rng(kSeed);
  Dense d("d", 2, 3, rng);
  d.weight()->latent().value << 1, 2, 3, 4, -1, 0.5f;
  d.bias().value << 0.5f, -1, 0;
  Mat x(2, 2);
  x << 1, -1, 2, 0.5f;
  Mat y(3, 2);
  d.forward(x, y);
  EXPECT_FLOAT_EQ(y(0, 0), 5.5f);   // 1*1 + 2*2 + 0.5
  EXPECT_FLOAT_EQ(y(1, 0), 10.0f);  // 3*1 + 4*2 - 1
  EXPECT_FLOAT_EQ(y(2, 0), 0.0f);   // -1*1 + 0.5*2 + 0
  EXPECT_FLOAT_EQ(y(0, 1), 0.5f);   // 1*-1 + 2*0.5 + 0.5
  EXPECT_FLOAT_EQ(y(1, 1), -2.0f);  // 3*-1 + 4*0.5 - 1
  EXPECT_FLOAT_EQ(y(2, 1), 1.25f);  // -1*-1 + 0.5*0.5
}

TEST(Dense, BackwardMatchesHandComputedValues) {
  Rng rng(kSeed);
  Dense d("d", 2, 1, rng);
  d.weight()->latent().value << 2, -3;
  Mat x(2, 2);
  x << 1, 2, 3, 4;  // columns (1,3) and (2,4)
  Mat y(1, 2), dy(1, 2), dx(2, 2);
  d.forward(x, y);
  dy << 1, -1;
  d.backward(x, y, dy, dx, true);
  const Mat& dW = d.weight()->latent().grad;
  EXPECT_FLOAT_EQ(dW(0, 0), -1.0f);  // 1*1 + -1*2
  EXPECT_FLOAT_EQ(dW(0, 1), -1.0f);  // 1*3 + -1*4
  EXPECT_FLOAT_EQ(d.bias().grad(0, 0), 0.0f);
  EXPECT_FLOAT_EQ(dx(0, 0), 2.0f);
  EXPECT_FLOAT_EQ(dx(1, 0), -3.0f);
  EXPECT_FLOAT_EQ(dx(0, 1), -2.0f);
  EXPECT_FLOAT_EQ(dx(1, 1), 3.0f);
}

TEST(Dense, FastForwardMatchesNaiveLoops) {
  constexpr float kTol = 1e-4f;  // float GEMM vs double-accumulated loops, |y| ~ 5
  Rng rng(kSeed);
  const Mat W = random_matrix(37, 53, rng), b = random_matrix(37, 1, rng), x = random_matrix(53, 19, rng);
  Mat fast(37, 19), naive(37, 19);
  kernels::dense_forward(W, b, x, fast);
  kernels::dense_forward_naive(W, b, x, naive);
  EXPECT_LT((fast - naive).cwiseAbs().maxCoeff(), kTol);
}

// Training forwards with the GEMM its backward matches; evaluation with the chain kernel,
// on the layer's threads.
TEST(Dense, EvaluationModeForwardsWithTheChainKernel) {
  Rng init(kSeed), rng(kSeed + 1);
  Dense d("dense0", 70, 90, init);
  const Mat x = random_matrix(70, 13, rng);
  const Mat& W = d.params()[0]->value;
  const Mat& b = d.params()[1]->value;
  Mat gemm(90, 13), chain(90, 13), y(90, 13);
  kernels::dense_forward(W, b, x, gemm);
  kernels::dense_forward_chain(W, b, x, chain, 1);
  ASSERT_NE(gemm, chain);  // otherwise this test could not tell the two apart
  d.forward(x, y);
  EXPECT_EQ(y, gemm);
  d.set_training(false);
  d.set_threads(2);
  d.forward(x, y);
  EXPECT_EQ(y, chain);
  d.set_training(true);
  d.forward(x, y);
  EXPECT_EQ(y, gemm);
}

TEST(Dense, WeightGradientMatchesCentralDifferences) {
  Rng rng(kSeed);
  Dense d("d", 5, 3, rng);
  const Mat x = random_matrix(5, 4, rng);
  forward_backward(d, x);
  const Mat analytic = d.weight()->latent().grad;
  const double err =
      relative_gradient_error([&] { return half_squared_norm(d, x); }, d.weight()->latent().value, analytic);
  EXPECT_LT(err, kGradTol);
}

TEST(Dense, BiasGradientMatchesCentralDifferences) {
  Rng rng(kSeed);
  Dense d("d", 5, 3, rng);
  const Mat x = random_matrix(5, 4, rng);
  forward_backward(d, x);
  const Mat analytic = d.bias().grad;
  const double err = relative_gradient_error([&] { return half_squared_norm(d, x); }, d.bias().value, analytic);
  EXPECT_LT(err, kGradTol);
}

TEST(Dense, InputGradientMatchesCentralDifferences) {
  Rng rng(kSeed);
  Dense d("d", 5, 3, rng);
  Mat x = random_matrix(5, 4, rng);
  const Grads g = forward_backward(d, x);
  const double err = relative_gradient_error([&] { return half_squared_norm(d, x); }, x, g.dx);
  EXPECT_LT(err, kGradTol);
}

TEST(Dense, InitIsPyTorchUniformWithinOneOverSqrtFanIn) {
  Rng rng(kSeed);
  Dense d("d", 400, 50, rng);
  const float bound = 1.0f / 20.0f;
  const Mat& W = d.weight()->latent().value;
  EXPECT_LE(W.cwiseAbs().maxCoeff(), bound);
  EXPECT_LE(d.bias().value.cwiseAbs().maxCoeff(), bound);
  // U(-a, a) has variance a^2/3; 20,000 draws put the estimate within a few percent.
  const double var = W.cast<double>().squaredNorm() / static_cast<double>(W.size());
  EXPECT_NEAR(var, bound * bound / 3.0, 0.05 * bound * bound / 3.0);
  EXPECT_NEAR(W.cast<double>().mean(), 0.0, 0.01 * bound);
}

TEST(Dense, SameSeedGivesSameInit) {
  Rng a(kSeed), b(kSeed), c(kSeed + 1);
  Dense da("d", 7, 3, a), db("d", 7, 3, b), dc("d", 7, 3, c);
  EXPECT_EQ(da.weight()->latent().value, db.weight()->latent().value);
  EXPECT_EQ(da.bias().value, db.bias().value);
  EXPECT_NE(da.weight()->latent().value, dc.weight()->latent().value);
}

TEST(Dense, ParamsAreNamedByHdf5PathAndOnlyWeightsDecay) {
  Rng rng(kSeed);
  Dense d("dense0", 4, 2, rng);
  const auto ps = d.params();
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[0]->name, "dense0/W");
  EXPECT_TRUE(ps[0]->decay);
  EXPECT_EQ(ps[0]->value.rows(), 2);
  EXPECT_EQ(ps[0]->value.cols(), 4);
  EXPECT_EQ(ps[1]->name, "dense0/b");
  EXPECT_FALSE(ps[1]->decay);
}

TEST(Dense, QuantizedLayerUsesTernaryWeightsAndPassesGradientStraightThrough) {
  Rng rng(kSeed);
  Dense d("d", 2, 2, rng);
  d.weight()->latent().value << 0.1f, -0.5f, 0.9f, -0.05f;
  d.bias().value.setZero();
  d.weight()->set_quantizer(std::make_unique<TwnQuantizer>(0.7));
  Mat x(2, 1);
  x << 1, 2;
  Mat y(2, 1), dy(2, 1), dx(2, 1);
  d.forward(x, y);
  // W_q = [[0, -0.7], [0.7, 0]] (see quantizer_test)
  EXPECT_FLOAT_EQ(y(0, 0), -1.4f);
  EXPECT_FLOAT_EQ(y(1, 0), 0.7f);
  dy << 1, 1;
  d.backward(x, y, dy, dx, true);
  // STE: dL/dW_latent = dL/dW_q = dy x^T, and dx uses W_q.
  const Mat& dW = d.weight()->latent().grad;
  EXPECT_FLOAT_EQ(dW(0, 0), 1.0f);
  EXPECT_FLOAT_EQ(dW(0, 1), 2.0f);
  EXPECT_FLOAT_EQ(dW(1, 0), 1.0f);
  EXPECT_FLOAT_EQ(dW(1, 1), 2.0f);
  EXPECT_FLOAT_EQ(dx(0, 0), 0.7f);
  EXPECT_FLOAT_EQ(dx(1, 0), -0.7f);
}

}  // namespace
}  // namespace ternbench::core
