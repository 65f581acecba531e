// Conv2d: hand-computed forward values, fast-vs-naive (several geometries and batch sizes
// through one layer object), central-difference gradients, init, parameter names and shapes,
// and independence of the thread count.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cmath>
#include <string>
#include <vector>

#include "support/gradient_check.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/nn/conv2d.hpp"
#include "ternbench/core/kernels/conv.hpp"

namespace ternbench::core {
namespace {

using testing::relative_gradient_error;

// float32 central differences of a quadratic loss: truncation error is zero, so what is left
// is float rounding of y, well below this.
constexpr double kGradTol = 1e-3;
// Fast float kernels vs double-accumulated loops, relative to the largest |value| (sums of up
// to a few thousand products of O(1) terms).
constexpr float kNaiveTol = 2e-5f;
constexpr std::uint64_t kSeed = 42;

Mat random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  Mat m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m(i) = 2.0f * rng.uniform_float() - 1.0f;
  return m;
}

float relative_max_error(const Mat& fast, const Mat& naive) {
  const float scale = std::max(1.0f, naive.cwiseAbs().maxCoeff());
  return (fast - naive).cwiseAbs().maxCoeff() / scale;
}

// 1x3x3 image 1..9 and a 2x2 kernel [[1, 0], [0, -1]] with bias 0.5.
Conv2d tiny_conv(int stride, int padding) {
  Rng rng(kSeed);
  Conv2d c("c", 1, 3, 3, 1, 2, stride, padding, rng);
  c.weight()->latent().value << 1, 0, 0, -1;
  c.bias().value << 0.5f;
  return c;
}

Mat tiny_image() {
  Mat x(9, 1);
  x << 1, 2, 3, 4, 5, 6, 7, 8, 9;
  return x;
}

TEST(Conv2d, ForwardMatchesHandComputedValuesWithStrideOneAndPadding) {
  Conv2d c = tiny_conv(1, 1);
  ASSERT_EQ(c.out_height(), 4);
  ASSERT_EQ(c.out_width(), 4);
  Mat y(16, 1);
  c.forward(tiny_image(), y);
  // y(i, j) = x(i-1, j-1) - x(i, j) + 0.5, zero outside the image.
  const float expected[16] = {-0.5f, -1.5f, -2.5f, 0.5f,  -3.5f, -3.5f, -3.5f, 3.5f,
                              -6.5f, -3.5f, -3.5f, 6.5f, 0.5f,  7.5f,  8.5f,  9.5f};
  for (int i = 0; i < 16; ++i) EXPECT_FLOAT_EQ(y(i, 0), expected[i]) << "output " << i;
}

TEST(Conv2d, ForwardMatchesHandComputedValuesWithStrideTwo) {
  Conv2d c = tiny_conv(2, 1);
  ASSERT_EQ(c.out_height(), 2);
  Mat y(4, 1);
  c.forward(tiny_image(), y);
  EXPECT_FLOAT_EQ(y(0, 0), -0.5f);  // 0 - x(0,0) + 0.5
  EXPECT_FLOAT_EQ(y(1, 0), -2.5f);  // 0 - x(0,2) + 0.5
  EXPECT_FLOAT_EQ(y(2, 0), -6.5f);  // 0 - x(2,0) + 0.5
  EXPECT_FLOAT_EQ(y(3, 0), -3.5f);  // x(1,1) - x(2,2) + 0.5
}

TEST(Conv2d, ForwardMatchesHandComputedValuesWithoutPadding) {
  Conv2d c = tiny_conv(1, 0);
  Mat y(4, 1);
  c.forward(tiny_image(), y);
  EXPECT_FLOAT_EQ(y(0, 0), -3.5f);  // 1 - 5 + 0.5
  EXPECT_FLOAT_EQ(y(1, 0), -3.5f);  // 2 - 6 + 0.5
  EXPECT_FLOAT_EQ(y(2, 0), -3.5f);  // 4 - 8 + 0.5
  EXPECT_FLOAT_EQ(y(3, 0), -3.5f);  // 5 - 9 + 0.5
}

TEST(Conv2d, BackwardMatchesHandComputedValues) {
  Conv2d c = tiny_conv(1, 0);
  const Mat x = tiny_image();
  Mat y(4, 1), dy(4, 1), dx(9, 1);
  c.forward(x, y);
  dy << 1, 0, 0, -1;
  c.backward(x, y, dy, dx, true);
  const Mat& dW = c.weight()->latent().grad;
  EXPECT_FLOAT_EQ(dW(0, 0), 1 - 5);  // dy(0,0) x(0,0) + dy(1,1) x(1,1)
  EXPECT_FLOAT_EQ(dW(0, 1), 2 - 6);
  EXPECT_FLOAT_EQ(dW(0, 2), 4 - 8);
  EXPECT_FLOAT_EQ(dW(0, 3), 5 - 9);
  EXPECT_FLOAT_EQ(c.bias().grad(0, 0), 0.0f);
  // dx = dy(0,0) W at (0,0) + dy(1,1) W at (1,1):  [[1,0,0],[0,-1-1,0],[0,0,1]]
  const float expected[9] = {1, 0, 0, 0, -2, 0, 0, 0, 1};
  for (int i = 0; i < 9; ++i) EXPECT_FLOAT_EQ(dx(i, 0), expected[i]) << "input " << i;
}

struct Geometry {
  int in_c, h, w, out_c, k, stride, pad;
};

std::string describe(const Geometry& s) {
  return std::to_string(s.in_c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w) + " -> " +
         std::to_string(s.out_c) + "@" + std::to_string(s.k) + " s" + std::to_string(s.stride) + " p" +
         std::to_string(s.pad);
}

// Shapes that reach every edge of the blocking: pixels per image below, at and above one
// 64-pixel panel and not a multiple of it; channel counts off the 6-row and 64-lane tiles;
// patches longer than one 128-step reduction block; more than 128 output channels; strides
// and paddings other than 1.
const std::vector<Geometry>& geometries() {
  static const std::vector<Geometry> all = {
      {1, 28, 28, 32, 5, 1, 0}, {32, 12, 12, 64, 5, 1, 0}, {3, 9, 7, 5, 3, 1, 1},   {7, 10, 10, 13, 3, 2, 1},
      {4, 6, 5, 70, 1, 1, 0},   {20, 8, 8, 150, 3, 1, 1},  {2, 11, 9, 3, 4, 3, 2},  {16, 9, 9, 8, 3, 1, 2},
      {5, 5, 5, 131, 5, 1, 2},  {9, 17, 3, 6, 3, 1, 0},
  };
  return all;
}

TEST(Conv2d, FastKernelsMatchNaiveLoopsOnRandomShapesAndShrinkingBatches) {
  Rng rng(kSeed);
  for (const Geometry& s : geometries()) {
    SCOPED_TRACE(describe(s));
    Conv2d conv("c", s.in_c, s.h, s.w, s.out_c, s.k, s.stride, s.pad, rng);
    const kernels::ConvGeometry& g = conv.geometry();
    // Buffers sized for the largest batch; later batches go through column views.
    Mat y_buf(conv.out_features(), 5), dx_buf(conv.in_features(), 5);
    for (const Eigen::Index B : {5, 2, 1, 3}) {
      SCOPED_TRACE("batch " + std::to_string(B));
      const Mat x = random_matrix(conv.in_features(), B, rng), dy = random_matrix(conv.out_features(), B, rng);
      conv.forward(x, y_buf.leftCols(B));
      conv.backward(x, y_buf.leftCols(B), dy, dx_buf.leftCols(B), true);
      Mat y(conv.out_features(), B), dW(s.out_c, g.patch()), db(s.out_c, 1), dx(conv.in_features(), B);
      kernels::conv2d_forward_naive(g, conv.weight()->latent().value, conv.bias().value, x, y);
      kernels::conv2d_backward_naive(g, conv.weight()->latent().value, x, dy, dW, db, dx);
      EXPECT_LT(relative_max_error(y_buf.leftCols(B), y), kNaiveTol);
      EXPECT_LT(relative_max_error(conv.weight()->latent().grad, dW), kNaiveTol);
      EXPECT_LT(relative_max_error(conv.bias().grad, db), kNaiveTol);
      EXPECT_LT(relative_max_error(dx_buf.leftCols(B), dx), kNaiveTol);
    }
  }
}

TEST(Conv2d, ResultsDoNotDependOnTheThreadCount) {
  Rng rng(kSeed);
  // Large enough (9-12 MFLOP) that the kernels do start a second thread; one layer with at
  // most 32 output channels (narrow weight-gradient tiles) and one with more.
  for (const Geometry& s : {Geometry{16, 12, 12, 32, 3, 1, 1}, Geometry{8, 10, 10, 70, 3, 1, 1}}) {
    SCOPED_TRACE(describe(s));
    Conv2d conv("c", s.in_c, s.h, s.w, s.out_c, s.k, s.stride, s.pad, rng);
    const Eigen::Index B = 9;
    const Mat x = random_matrix(conv.in_features(), B, rng), dy = random_matrix(conv.out_features(), B, rng);
    Mat y[2], dx[2], dW[2], db[2];
    for (int t = 1; t <= 2; ++t) {
      conv.set_threads(t);
      y[t - 1].resize(conv.out_features(), B);
      dx[t - 1].resize(conv.in_features(), B);
      conv.forward(x, y[t - 1]);
      conv.backward(x, y[t - 1], dy, dx[t - 1], true);
      dW[t - 1] = conv.weight()->latent().grad;
      db[t - 1] = conv.bias().grad;
    }
    EXPECT_EQ(y[0], y[1]);
    EXPECT_EQ(dx[0], dx[1]);
    EXPECT_EQ(dW[0], dW[1]);
    EXPECT_EQ(db[0], db[1]);
  }
}

// 0.5 ||conv(x)||^2 in double, with the layer's current parameters.
double half_squared_norm(Conv2d& c, const Mat& x) {
  Mat y(c.out_features(), x.cols());
  c.forward(x, y);
  return 0.5 * y.cast<double>().squaredNorm();
}

// Forward and backward with dL/dy = y (the gradient of half_squared_norm); returns dx.
Mat forward_backward(Conv2d& c, const Mat& x) {
  Mat y(c.out_features(), x.cols()), dx(c.in_features(), x.cols());
  c.forward(x, y);
  c.backward(x, y, y, dx, true);
  return dx;
}

Conv2d small_conv(Rng& rng) { return Conv2d("c", 2, 5, 4, 3, 3, 2, 1, rng); }

TEST(Conv2d, WeightGradientMatchesCentralDifferences) {
  Rng rng(kSeed);
  Conv2d c = small_conv(rng);
  const Mat x = random_matrix(c.in_features(), 3, rng);
  forward_backward(c, x);
  const Mat analytic = c.weight()->latent().grad;
  EXPECT_LT(relative_gradient_error([&] { return half_squared_norm(c, x); }, c.weight()->latent().value, analytic),
            kGradTol);
}

TEST(Conv2d, BiasGradientMatchesCentralDifferences) {
  Rng rng(kSeed);
  Conv2d c = small_conv(rng);
  const Mat x = random_matrix(c.in_features(), 3, rng);
  forward_backward(c, x);
  const Mat analytic = c.bias().grad;
  EXPECT_LT(relative_gradient_error([&] { return half_squared_norm(c, x); }, c.bias().value, analytic), kGradTol);
}

TEST(Conv2d, InputGradientMatchesCentralDifferences) {
  Rng rng(kSeed);
  Conv2d c = small_conv(rng);
  Mat x = random_matrix(c.in_features(), 3, rng);
  const Mat dx = forward_backward(c, x);
  EXPECT_LT(relative_gradient_error([&] { return half_squared_norm(c, x); }, x, dx), kGradTol);
}

TEST(Conv2d, WithoutInputGradientLeavesDxUntouched) {
  Rng rng(kSeed);
  Conv2d c = small_conv(rng);
  const Mat x = random_matrix(c.in_features(), 2, rng);
  Mat y(c.out_features(), 2), dx = Mat::Constant(c.in_features(), 2, 7.0f);
  c.forward(x, y);
  c.backward(x, y, y, dx, false);
  EXPECT_TRUE((dx.array() == 7.0f).all());
  EXPECT_GT(c.weight()->latent().grad.norm(), 0.0f);
}

TEST(Conv2d, OutputShapeFollowsTheConvolutionArithmetic) {
  Rng rng(kSeed);
  Conv2d a("a", 3, 32, 32, 128, 3, 1, 1, rng);
  EXPECT_EQ(a.out_channels(), 128);
  EXPECT_EQ(a.out_height(), 32);
  EXPECT_EQ(a.out_width(), 32);
  EXPECT_EQ(a.in_features(), 3 * 32 * 32);
  EXPECT_EQ(a.out_features(), 128 * 32 * 32);
  Conv2d b("b", 1, 28, 28, 32, 5, 1, 0, rng);
  EXPECT_EQ(b.out_height(), 24);
  Conv2d c("c", 16, 32, 31, 32, 3, 2, 1, rng);
  EXPECT_EQ(c.out_height(), 16);  // (32 + 2 - 3)/2 + 1
  EXPECT_EQ(c.out_width(), 16);   // (31 + 2 - 3)/2 + 1
}

TEST(Conv2d, InitIsPyTorchUniformWithinOneOverSqrtFanIn) {
  Rng rng(kSeed);
  Conv2d c("c", 16, 8, 8, 64, 5, 1, 2, rng);  // fan_in 400
  const float bound = 1.0f / 20.0f;
  const Mat& W = c.weight()->latent().value;
  EXPECT_LE(W.cwiseAbs().maxCoeff(), bound);
  EXPECT_LE(c.bias().value.cwiseAbs().maxCoeff(), bound);
  // U(-a, a) has variance a^2/3; 25,600 draws put the estimate within a few percent.
  const double var = W.cast<double>().squaredNorm() / static_cast<double>(W.size());
  EXPECT_NEAR(var, bound * bound / 3.0, 0.05 * bound * bound / 3.0);
  EXPECT_NEAR(W.cast<double>().mean(), 0.0, 0.01 * bound);
}

TEST(Conv2d, SameSeedGivesSameInit) {
  Rng a(kSeed), b(kSeed), c(kSeed + 1);
  Conv2d ca("c", 2, 6, 6, 4, 3, 1, 1, a), cb("c", 2, 6, 6, 4, 3, 1, 1, b), cc("c", 2, 6, 6, 4, 3, 1, 1, c);
  EXPECT_EQ(ca.weight()->latent().value, cb.weight()->latent().value);
  EXPECT_EQ(ca.bias().value, cb.bias().value);
  EXPECT_NE(ca.weight()->latent().value, cc.weight()->latent().value);
}

TEST(Conv2d, ParamsAreNamedByHdf5PathWithPyTorchShapes) {
  Rng rng(kSeed);
  Conv2d c("conv0", 3, 8, 8, 16, 5, 1, 2, rng);
  const auto ps = c.params();
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[0]->name, "conv0/W");
  EXPECT_TRUE(ps[0]->decay);
  EXPECT_EQ(ps[0]->value.rows(), 16);
  EXPECT_EQ(ps[0]->value.cols(), 3 * 5 * 5);
  EXPECT_EQ(ps[0]->shape, (std::vector<std::int64_t>{16, 3, 5, 5}));
  EXPECT_EQ(ps[1]->name, "conv0/b");
  EXPECT_FALSE(ps[1]->decay);
  EXPECT_EQ(ps[1]->shape, (std::vector<std::int64_t>{16}));
  EXPECT_EQ(c.weight(), c.weights().front());
}

TEST(Conv2d, RejectsAKernelLargerThanThePaddedInput) {
  Rng rng(kSeed);
  EXPECT_THROW(Conv2d("c", 1, 4, 4, 2, 7, 1, 1, rng), ternbench::Error);
}

}  // namespace
}  // namespace ternbench::core
