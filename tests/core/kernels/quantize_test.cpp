// The element-wise quantizer passes against plain loops: lane sums and counts, kept |w|, the
// tanh backward from the output, row means for every block tail.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
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

// The maximum skips NaN wherever it sits: in a vector of the main loop, in the tail, first.
TEST(QuantizeKernels, AbsMaxSkipsNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Mat w = Mat::Constant(37, 3, 0.25f);
  w(5, 0) = nan;     // main loop
  w(36, 1) = nan;    // tail of a column
  w(0, 2) = nan;     // first value of a column
  w(20, 2) = -3.0f;  // the maximum, by absolute value
  EXPECT_EQ(kernels::abs_max(w), 3.0f);
  w(20, 2) = 0.25f;
  EXPECT_EQ(kernels::abs_max(w), 0.25f);
  EXPECT_EQ(kernels::abs_max(Mat::Constant(16, 1, nan)), 0.0f);
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
