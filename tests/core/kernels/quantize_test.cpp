// The element-wise quantizer passes against plain loops: lane sums and counts, kept |w|, the
// tanh backward from the output, row means for every block tail.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "support/blocked_sum_reference.hpp"
#include "support/gradient_check.hpp"
#include "support/same_bits.hpp"
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
  std::vector<std::uint16_t> codes(static_cast<std::size_t>(kernels::ternary_code_words(w.size())));
  const kernels::KeptAbs k = kernels::kept_abs(w, 0.3f, codes.data());  // |w| > 0.3: 0.5, 2.0 (0.3 is not)
  EXPECT_EQ(k.count, 2);
  EXPECT_EQ(k.abs_sum, 2.5);
  EXPECT_EQ(kernels::kept_abs(w, 5.0f, codes.data()).count, 0);
}

TEST(QuantizeKernels, TernaryCodesByHand) {
  Mat w(2, 3);
  w << 0.5f, -0.1f, -2.0f,  //
      0.25f, 0.3f, -0.3f;
  std::vector<std::uint16_t> codes(static_cast<std::size_t>(kernels::ternary_code_words(w.size())), 0xffff);
  ASSERT_EQ(codes.size(), 2u);
  const kernels::KeptAbs k = kernels::kept_abs(w, 0.3f, codes.data());
  EXPECT_EQ(k.count, 2);
  EXPECT_EQ(k.abs_sum, 2.5);
  // Column-major entries 0.5, 0.25, -0.1, 0.3, -2.0, -0.3: entries 0 and 4 are kept, 4 is negative.
  EXPECT_EQ(codes[0], 0b10001);
  EXPECT_EQ(codes[1], 0b10000);
  Mat q(2, 3);
  kernels::ternarize_codes(codes.data(), 1.25f, q);
  Mat expect(2, 3);
  expect << 1.25f, 0.0f, -1.25f,  //
      0.0f, 0.0f, 0.0f;
  EXPECT_EQ(q, expect);
  EXPECT_EQ(kernels::ternary_code_words(0), 0);
  EXPECT_EQ(kernels::ternary_code_words(16), 2);
  EXPECT_EQ(kernels::ternary_code_words(17), 4);
}

// TWN's pass through codes gives the kept statistics and q of the plain loops, bit for bit: on every
// tail and block edge, contiguous and strided (w and q), q over w, 1 to 3 threads, with the
// values where a sign or comparison could go astray (signed zeros, NaN, infinities, delta).
TEST(QuantizeKernels, TernarizeFromCodesEqualsThePlainLoops) {
  const float delta = 0.3f;
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const float special[] = {0.0f, -0.0f, nan, -nan, inf, -inf, delta, -delta, std::nextafter(delta, 1.0f), -1e-30f};
  Rng rng(41);
  struct Shape {
    Eigen::Index rows, cols;
  };
  for (const Shape s : {Shape{5, 3}, Shape{16, 1}, Shape{301, 17}, Shape{16384, 1}, Shape{301, 150}, Shape{4099, 1025}}) {
    Mat big = random_matrix(s.rows + 3, s.cols + 2, rng);
    for (Eigen::Index i = 0; i < big.size(); i += 7) big(i) = special[(i / 7) % std::size(special)];
    const Mat w = big.block(1, 2, s.rows, s.cols);
    const float scale = -0.75f;  // a negative scale: copysign takes only its magnitude
    Mat expect;
    const kernels::KeptAbs plain = testing::twn_reference(w, delta, scale, expect);
    const int saved = Eigen::nbThreads();
    for (const int t : {1, 2, 3}) {
      Eigen::setNbThreads(t);
      const std::string at = std::to_string(s.rows) + "x" + std::to_string(s.cols) + " t" + std::to_string(t);
      for (const bool strided : {false, true}) {
        std::vector<std::uint16_t> codes(static_cast<std::size_t>(kernels::ternary_code_words(w.size())), 0xffff);
        const kernels::KeptAbs k = strided ? kernels::kept_abs(big.block(1, 2, s.rows, s.cols), delta, codes.data())
                                           : kernels::kept_abs(w, delta, codes.data());
        EXPECT_EQ(k.count, plain.count) << at;
        EXPECT_TRUE(testing::same_bits(k.abs_sum, plain.abs_sum)) << at;
        Mat q(s.rows, s.cols);
        kernels::ternarize_codes(codes.data(), scale, q);
        EXPECT_TRUE(testing::same_bits(q, expect)) << at << (strided ? " strided w" : "");
        Mat into = Mat::Constant(s.rows + 1, s.cols + 1, 9.0f);
        kernels::ternarize_codes(codes.data(), scale, into.block(1, 0, s.rows, s.cols));
        EXPECT_TRUE(testing::same_bits(Mat(into.block(1, 0, s.rows, s.cols)), expect)) << at << " strided q";
        EXPECT_TRUE((into.row(0).array() == 9.0f).all()) << at << " wrote outside q";
        Mat over = w;
        kernels::kept_abs(over, delta, codes.data());
        kernels::ternarize_codes(codes.data(), scale, over);
        EXPECT_TRUE(testing::same_bits(over, expect)) << at << " q over w";
      }
    }
    Eigen::setNbThreads(saved);
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

// tanh_forward runs a contiguous matrix as long spans, and a strided one column by column,
// where Eigen evaluates each column's last rows % 16 values with its scalar tanh. The split
// must not show: every value as Eigen's vector tanh gives it, across the range where tanh
// is not yet +-1, with the spans cut at other places on 2 and 3 threads.
TEST(QuantizeKernels, TanhForwardGivesTheVectorBitsOnEveryValueAndSplit) {
  Rng rng(15);
  const Mat theta = random_matrix(500, 301, rng, -9.5f, 9.5f);  // 150k values: split on 2 threads
  Mat big = Mat::Zero(503, 302);
  big.block(2, 1, 500, 301) = theta;
  Mat expect(500, 301);
  Eigen::Map<Eigen::ArrayXf>(expect.data(), expect.size()) =
      Eigen::Map<const Eigen::ArrayXf>(theta.data(), theta.size()).tanh();  // all but 4 values as vectors
  const int saved = Eigen::nbThreads();
  for (const int t : {1, 2, 3}) {
    Eigen::setNbThreads(t);
    Mat contiguous(500, 301), strided(500, 301);
    kernels::tanh_forward(theta, contiguous);
    kernels::tanh_forward(big.block(2, 1, 500, 301), strided);
    EXPECT_TRUE(testing::same_bits(contiguous, expect)) << "t" << t;
    EXPECT_TRUE(testing::same_bits(strided, expect)) << "strided t" << t;
  }
  Eigen::setNbThreads(saved);
  EXPECT_NEAR(expect(0), std::tanh(theta(0)), 1e-6f);
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
