// Batch-norm kernels: channel_affine_relu against hand-computed values and against
// channel_affine then relu_forward bit for bit; every kernel's threaded split against its
// one-thread result bit for bit.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cstring>
#include <string>

#include "support/same_bits.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/kernels/activation.hpp"
#include "ternbench/core/kernels/normalization.hpp"

namespace ternbench::kernels {
namespace {

constexpr std::uint64_t kSeed = 13;

using ternbench::testing::same_bits;

Mat random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  Mat m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m(i) = 4.0f * rng.uniform_float() - 1.5f;
  return m;
}

VecF random_vector(Eigen::Index n, Rng& rng) {
  VecF v(n);
  for (Eigen::Index i = 0; i < n; ++i) v(i) = 2.0f * rng.uniform_float() - 1.0f;
  return v;
}

TEST(NormalizationKernels, AffineReluMatchesHandComputedValues) {
  Mat x(4, 2);  // two channels of two positions
  x << 1, 2,  //
      3, -1,  //
      0, 4,   //
      2, 2;
  VecF center(2), scale(2), shift(2);
  center << 1, 2;
  scale << 2, -0.5f;
  shift << -1, 0.25f;
  Mat y(4, 2);
  channel_affine_relu(x, 2, center, scale, shift, y);
  Mat want(4, 2);
  // channel 0: 2(x - 1) - 1; channel 1: -0.5(x - 2) + 0.25; then max(., 0)
  want << 0, 1,  //
      3, 0,      //
      1.25f, 0,  //
      0.25f, 0.25f;
  EXPECT_EQ(y, want);
}

TEST(NormalizationKernels, AffineReluEqualsAffineThenReluBitForBit) {
  Rng rng(kSeed);
  struct Case {
    Eigen::Index C, S, B;
    int threads;
  };
  for (const Case& c : {Case{7, 1, 5, 1}, Case{3, 25, 4, 1}, Case{32, 576, 3, 1}, Case{5, 13, 2, 1},
                        Case{32, 576, 16, 2}, Case{512, 1, 600, 2}}) {
    SCOPED_TRACE("C " + std::to_string(c.C) + " S " + std::to_string(c.S) + " B " + std::to_string(c.B));
    const Mat x = random_matrix(c.C * c.S, c.B, rng);
    const VecF center = random_vector(c.C, rng), scale = random_vector(c.C, rng), shift = random_vector(c.C, rng);
    Mat bn(x.rows(), x.cols()), ref(x.rows(), x.cols()), y(x.rows(), x.cols());
    channel_affine(x, c.S, center, scale, shift, bn);
    relu_forward(bn, ref);
    channel_affine_relu(x, c.S, center, scale, shift, y, c.threads);
    EXPECT_TRUE(same_bits(y, ref));
  }
}

TEST(NormalizationKernels, SumTermsAreChannelSumsOfOneSampleAndAddUpToChannelBackwardSums) {
  Rng rng(kSeed);
  const Eigen::Index C = 5, S = 37, B = 4;  // segments at every alignment
  const Mat x = random_matrix(C * S, B, rng), dy = random_matrix(C * S, B, rng);
  const VecF center = random_vector(C, rng);
  Mat terms_dy(C, B), terms_dyxc(C, B);
  for (Eigen::Index j = 0; j < B; ++j) {
    for (Eigen::Index c = 0; c < C; ++c) {
      channel_sum_terms(dy.col(j).data() + c * S, x.col(j).data() + c * S, S, center(c), terms_dy(c, j),
                        terms_dyxc(c, j));
      // Sums of S values in float: close to the double ones (the bits are the kernels' business).
      const Eigen::ArrayXd g = dy.col(j).segment(c * S, S).cast<double>().array();
      const Eigen::ArrayXd xc = x.col(j).segment(c * S, S).cast<double>().array() - center(c);
      EXPECT_NEAR(terms_dy(c, j), g.sum(), 1e-4);
      EXPECT_NEAR(terms_dyxc(c, j), (g * xc).sum(), 1e-4);
    }
  }
  VecD sum_dy(C), sum_dyxc(C), ref_dy(C), ref_dyxc(C);
  channel_sums_of_terms(terms_dy, terms_dyxc, sum_dy, sum_dyxc);
  channel_backward_sums(x, dy, S, center, ref_dy, ref_dyxc);
  EXPECT_TRUE(same_bits(sum_dy, ref_dy));
  EXPECT_TRUE(same_bits(sum_dyxc, ref_dyxc));
}

TEST(NormalizationKernels, TwoThreadsGiveTheOneThreadBits) {
  Rng rng(kSeed);
  for (const Eigen::Index S : {Eigen::Index{576}, Eigen::Index{1}}) {
    SCOPED_TRACE("S " + std::to_string(S));
    const Eigen::Index C = S == 1 ? 512 : 16, B = S == 1 ? 600 : 40;  // >= 2^18 values
    const Mat x = random_matrix(C * S, B, rng), dy = random_matrix(C * S, B, rng);
    const VecF center = random_vector(C, rng), scale = random_vector(C, rng), shift = random_vector(C, rng);
    const VecF a = random_vector(C, rng), b = random_vector(C, rng), k = random_vector(C, rng);
    VecD mean1(C), var1(C), mean2(C), var2(C), sdy1(C), sdyx1(C), sdy2(C), sdyx2(C);
    channel_mean_var(x, S, mean1, var1, 1);
    channel_mean_var(x, S, mean2, var2, 2);
    EXPECT_TRUE(same_bits(mean1, mean2));
    EXPECT_TRUE(same_bits(var1, var2));
    channel_backward_sums(x, dy, S, center, sdy1, sdyx1, 1);
    channel_backward_sums(x, dy, S, center, sdy2, sdyx2, 2);
    EXPECT_TRUE(same_bits(sdy1, sdy2));
    EXPECT_TRUE(same_bits(sdyx1, sdyx2));
    Mat y1(x.rows(), B), y2(x.rows(), B), dx1(x.rows(), B), dx2(x.rows(), B);
    channel_affine(x, S, center, scale, shift, y1, 1);
    channel_affine(x, S, center, scale, shift, y2, 2);
    EXPECT_TRUE(same_bits(y1, y2));
    channel_backward_input(x, dy, S, center, a, b, k, dx1, 1);
    channel_backward_input(x, dy, S, center, a, b, k, dx2, 2);
    EXPECT_TRUE(same_bits(dx1, dx2));
    relu_forward(x, y1, 1);
    relu_forward(x, y2, 2);
    EXPECT_TRUE(same_bits(y1, y2));
    relu_backward(x, dy, dx1, 1);
    relu_backward(x, dy, dx2, 2);
    EXPECT_TRUE(same_bits(dx1, dx2));
  }
}

}  // namespace
}  // namespace ternbench::kernels
