// The fused pooling kernels: bn_relu_maxpool2d_forward and maxpool2d_relu_backward against
// hand-computed values and against the separate kernels they replace, bit for bit.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cstring>
#include <string>
#include <vector>

#include "support/same_bits.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/kernels/activation.hpp"
#include "ternbench/core/kernels/normalization.hpp"
#include "ternbench/core/kernels/pool.hpp"

namespace ternbench::kernels {
namespace {

constexpr std::uint64_t kSeed = 11;

using ternbench::testing::same_bits;

// Values on a coarse grid around zero, so windows hold ties and ReLU makes many exact zeros.
Mat grid_values(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  Mat m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m(i) = 0.5f * static_cast<float>(rng.uniform_index(9)) - 2.0f;
  return m;
}

Eigen::VectorXf random_vector(Eigen::Index n, float lo, float hi, Rng& rng) {
  Eigen::VectorXf v(n);
  for (Eigen::Index i = 0; i < n; ++i) v(i) = lo + (hi - lo) * rng.uniform_float();
  return v;
}

TEST(FusedPool, BnReluMaxpoolForwardAndBackwardMatchHandComputedValues) {
  const PoolGeometry g{2, 4, 4, 2, 2};
  Mat x(32, 1);
  x.col(0).head(16) << 1, 5, 2, 0, 3, 4, 8, 7, -1, -2, 6, 6, -3, -4, 9, 1;
  x.col(0).tail(16) = x.col(0).head(16);
  Eigen::VectorXf center(2), scale(2), shift(2);
  center << 1.0f, 0.0f;
  scale << 2.0f, -1.0f;
  shift << -1.0f, 0.5f;
  // Channel 0: relu(2x - 3) = 0 7 1 0 / 3 5 13 11 / 0 0 9 9 / 0 0 15 0.
  // Channel 1: relu(0.5 - x) = 0 0 0 .5 / 0 0 0 0 / 1.5 2.5 0 0 / 3.5 4.5 0 0.
  Mat y(8, 1);
  IndexMat argmax(8, 1);
  Eigen::VectorXf work(bn_relu_maxpool2d_workspace_size(g, 1));
  bn_relu_maxpool2d_forward(g, x, center, scale, shift, y, argmax, work, 1);
  const float want_y[8] = {7, 13, 0, 15, 0, 0.5f, 4.5f, 0};
  const int want_arg[8] = {1, 6, 8, 14, 16, 19, 29, 26};  // all-zero windows keep their first index
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(y(i, 0), want_y[i]) << "output " << i;
    EXPECT_EQ(argmax(i, 0), want_arg[i]) << "output " << i;
  }
  Mat dy(8, 1), dx(32, 1);
  dy << 1, 2, 3, 4, 5, 6, 7, 8;
  maxpool2d_relu_backward(g, argmax, y, dy, dx, 1);
  Mat want_dx = Mat::Zero(32, 1);
  want_dx(1, 0) = 1;   // 7 > 0
  want_dx(6, 0) = 2;   // 13
  want_dx(14, 0) = 4;  // 15; output 2 pooled a ReLU zero, so input 8 gets nothing
  want_dx(19, 0) = 6;
  want_dx(29, 0) = 7;
  EXPECT_EQ(dx, want_dx);
}

struct Shape {
  int c, h, w, k, s;
  Eigen::Index batch;
};

// channel_affine -> relu_forward -> maxpool2d_forward and back through maxpool2d_backward ->
// relu_backward, each into its own buffer: the chain the fused kernels replace.
void check_against_separate_kernels(const Shape& sh, int threads) {
  SCOPED_TRACE(std::to_string(sh.c) + "x" + std::to_string(sh.h) + "x" + std::to_string(sh.w) + " k" +
               std::to_string(sh.k) + " s" + std::to_string(sh.s) + " B" + std::to_string(sh.batch) + " threads " +
               std::to_string(threads));
  const PoolGeometry g{sh.c, sh.h, sh.w, sh.k, sh.s};
  const Eigen::Index S = Eigen::Index{sh.h} * sh.w, B = sh.batch;
  Rng rng(kSeed + static_cast<std::uint64_t>(sh.c * 131 + sh.h * 7 + sh.w + sh.k));
  const Mat x = grid_values(g.in_features(), B, rng);
  const Eigen::VectorXf center = random_vector(sh.c, -0.5f, 0.5f, rng);
  const Eigen::VectorXf scale = random_vector(sh.c, -1.5f, 1.5f, rng);
  const Eigen::VectorXf shift = random_vector(sh.c, -0.3f, 0.3f, rng);
  const Mat dy = grid_values(g.out_features(), B, rng);

  Mat bn(g.in_features(), B), relu(g.in_features(), B), y_ref(g.out_features(), B), d_relu(g.in_features(), B),
      dx_ref(g.in_features(), B);
  IndexMat arg_ref(g.out_features(), B);
  channel_affine(x, S, center, scale, shift, bn);
  relu_forward(bn, relu);
  maxpool2d_forward(g, relu, y_ref, arg_ref, 1);
  maxpool2d_backward(g, arg_ref, dy, d_relu, 1);
  relu_backward(relu, d_relu, dx_ref);

  Mat y(g.out_features(), B), dx = Mat::Constant(g.in_features(), B, 9.0f);
  IndexMat arg(g.out_features(), B);
  Eigen::VectorXf work(bn_relu_maxpool2d_workspace_size(g, threads));
  bn_relu_maxpool2d_forward(g, x, center, scale, shift, y, arg, work, threads);
  maxpool2d_relu_backward(g, arg, y, dy, dx, threads);
  EXPECT_TRUE(same_bits(y, y_ref));
  EXPECT_TRUE(same_bits(arg, arg_ref));
  EXPECT_TRUE(same_bits(dx, dx_ref));

  // With batch norm's sum terms: the same dx, and the sums channel_backward_sums gives.
  Mat dx2(g.in_features(), B), terms_dy(sh.c, B), terms_dyxc(sh.c, B);
  maxpool2d_relu_backward(g, arg, y, dy, dx2, x, center, terms_dy, terms_dyxc, threads);
  EXPECT_TRUE(same_bits(dx2, dx_ref));
  VecD sum_dy(sh.c), sum_dyxc(sh.c), ref_dy(sh.c), ref_dyxc(sh.c);
  channel_sums_of_terms(terms_dy, terms_dyxc, sum_dy, sum_dyxc);
  channel_backward_sums(x, dx_ref, S, center, ref_dy, ref_dyxc);
  EXPECT_TRUE(same_bits(sum_dy, ref_dy));
  EXPECT_TRUE(same_bits(sum_dyxc, ref_dyxc));
}

TEST(FusedPool, EqualsTheSeparateKernelsBitForBitOnRandomShapes) {
  const std::vector<Shape> shapes = {{3, 8, 8, 2, 2, 4},  {2, 7, 9, 2, 2, 3},  {4, 9, 7, 3, 2, 2}, {1, 6, 6, 3, 3, 5},
                                     {5, 5, 4, 2, 1, 3},  {2, 4, 34, 2, 2, 2}, {1, 3, 67, 2, 2, 1},
                                     {32, 24, 24, 2, 2, 3}};
  for (const Shape& s : shapes) check_against_separate_kernels(s, 1);
}

TEST(FusedPool, EqualsTheSeparateKernelsBitForBitOnTwoThreads) {
  // Large enough (>= 2^18 values) for the kernels to split the batch across threads.
  check_against_separate_kernels({8, 24, 24, 2, 2, 64}, 2);
  check_against_separate_kernels({6, 13, 11, 3, 2, 200}, 2);
}

}  // namespace
}  // namespace ternbench::kernels
