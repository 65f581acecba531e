// The fused quantizer passes (TTQ backward, BWN row means + codes, SCA tanh backward + WDR)
// by hand, against central differences where they compute a gradient, and bit for bit
// against the separate passes they replace (TTQ: against its value-by-value reference,
// tests/support/blocked_sum_reference.hpp); and every kernel that splits its columns across
// threads against its one-thread result, bit for bit.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cmath>
#include <cstring>
#include <functional>
#include <utility>
#include <vector>

#include "support/blocked_sum_reference.hpp"
#include "support/gradient_check.hpp"
#include "support/quantizer_inputs.hpp"
#include "support/same_bits.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/kernels/quantize.hpp"

namespace ternbench::core {
namespace {

using namespace quantizer_tests;
using testing::relative_gradient_error;

using ternbench::testing::same_bits;

// Runs f with Eigen's (and so the kernels') thread count set to n, then restores it.
void with_threads(int n, const std::function<void()>& f) {
  const int saved = Eigen::nbThreads();
  Eigen::setNbThreads(n);
  f();
  Eigen::setNbThreads(saved);
}

// ---- TTQ backward --------------------------------------------------------------------------

TEST(QuantizeFused, TtqBackwardByHand) {
  Mat w(2, 3), dq(2, 3), dw(2, 3);
  w << 0.3f, -0.3f, 0.1f,  // delta 0.2: regions +, -, 0 / -, 0, +
      -0.5f, 0.2f, 0.25f;
  dq << 1, 2, 3, 4, 5, 6;
  const kernels::ScaleGrads g = kernels::ttq_backward(w, 0.2f, 2.0f, 3.0f, dq, dw);
  Mat expect(2, 3);
  expect << 2 * 1, 3 * 2, 3,  // Wp dq, Wn dq, dq
      3 * 4, 5, 2 * 6;        // |w| = delta is in the middle region
  EXPECT_EQ(dw, expect);
  EXPECT_EQ(g.pos, 1.0 + 6.0);
  EXPECT_EQ(g.neg, 2.0 + 4.0);
}

// Views of several shapes and offsets, against the value-by-value reference (block_sums_test.cpp
// adds thread counts).
TEST(QuantizeFused, TtqBackwardEqualsItsReferenceBitForBit) {
  const int saved = Eigen::nbThreads();
  Eigen::setNbThreads(1);
  Rng rng(21);
  Mat w = random_matrix(301, 517, rng);  // above the parallel size, rows not a lane multiple
  const Mat dq = random_matrix(301, 517, rng, -3, 3);
  w(0, 0) = 0.0f;
  w(1, 0) = -0.0f;
  const float delta = 0.4f, wp = 1.7f, wn = 0.6f;
  struct Case {
    Eigen::Index r0, c0, rows, cols;
  };
  for (const Case c : {Case{0, 0, 301, 517}, Case{3, 5, 250, 400}, Case{0, 0, 7, 3}, Case{0, 0, 301, 1}}) {
    const Eigen::Ref<const Mat> wv = w.block(c.r0, c.c0, c.rows, c.cols);
    const Eigen::Ref<const Mat> dv = dq.block(c.r0, c.c0, c.rows, c.cols);
    Mat fused(c.rows, c.cols), reference(c.rows, c.cols);
    const kernels::ScaleGrads gf = kernels::ttq_backward(wv, delta, wp, wn, dv, fused);
    const kernels::ScaleGrads gu = testing::ttq_backward_reference(wv, delta, wp, wn, dv, reference);
    EXPECT_TRUE(same_bits(fused, reference)) << c.rows << "x" << c.cols;
    EXPECT_TRUE(same_bits(gf.pos, gu.pos));
    EXPECT_TRUE(same_bits(gf.neg, gu.neg));
    // In place (dw aliases dq), as the Weight calls it.
    Mat inplace = dv;
    const kernels::ScaleGrads gi = kernels::ttq_backward(wv, delta, wp, wn, inplace, inplace);
    EXPECT_TRUE(same_bits(inplace, reference));
    EXPECT_TRUE(same_bits(gi.pos, gu.pos));
    EXPECT_TRUE(same_bits(gi.neg, gu.neg));
  }
  // dw strided while w and dq are contiguous: the layouts differ, still the same bits.
  Mat big_out = Mat::Zero(310, 520);
  Mat wc = w.block(0, 0, 300, 500), dc = dq.block(0, 0, 300, 500), reference(300, 500);
  const kernels::ScaleGrads gs = kernels::ttq_backward(wc, delta, wp, wn, dc, big_out.block(2, 3, 300, 500));
  const kernels::ScaleGrads gu = testing::ttq_backward_reference(wc, delta, wp, wn, dc, reference);
  EXPECT_TRUE(same_bits(Mat(big_out.block(2, 3, 300, 500)), reference));
  EXPECT_TRUE(same_bits(gs.pos, gu.pos));
  EXPECT_TRUE(same_bits(gs.neg, gu.neg));
  Eigen::setNbThreads(saved);
}

// ---- BWN row means + codes -----------------------------------------------------------------

TEST(QuantizeFused, BinarizeRowsByMeanByHand) {
  Mat w(2, 3), scale(2, 1), q(2, 3);
  w << 0.5f, -1.0f, 0.0f,  // mean |w| = 0.5; sign(0) = +1
      -0.25f, -0.0f, 1.0f;  // mean |w| = 1.25 / 3; sign(-0) = +1
  kernels::binarize_rows_by_mean(w, scale, q);
  const float a = 0.5f, b = static_cast<float>(1.25 / 3.0);
  EXPECT_EQ(scale(0, 0), a);
  EXPECT_EQ(scale(1, 0), b);
  Mat expect(2, 3);
  expect << a, -a, a, -b, b, b;
  EXPECT_EQ(q, expect);
}

// On two threads: the row-block pass (one thread runs the two passes themselves).
TEST(QuantizeFused, BinarizeRowsByMeanEqualsRowMeansThenCodesBitForBit) {
  const int saved = Eigen::nbThreads();
  Eigen::setNbThreads(2);
  Rng rng(22);
  const Mat big = random_matrix(420, 2200, rng, -2, 2);
  // Row counts around the 64-row blocks; column counts below and above the parallel size.
  for (const Eigen::Index rows : {1, 17, 63, 64, 65, 127, 128, 129, 300, 419}) {
    for (const Eigen::Index cols : {1, 9, 784, 2100}) {
      const Eigen::Ref<const Mat> w = big.block(1, 2, rows, cols);
      Mat s_fused(rows, 1), q_fused(w.rows(), w.cols()), s_ref(rows, 1), q_ref(w.rows(), w.cols());
      kernels::binarize_rows_by_mean(w, s_fused, q_fused);
      kernels::row_abs_mean(w, s_ref);
      kernels::binarize_rows(w, s_ref, q_ref);
      EXPECT_TRUE(same_bits(s_fused, s_ref)) << rows << "x" << cols;
      EXPECT_TRUE(same_bits(q_fused, q_ref)) << rows << "x" << cols;
    }
  }
  Eigen::setNbThreads(saved);
}

// ---- SCA tanh backward + WDR ---------------------------------------------------------------

TEST(QuantizeFused, TanhBackwardAddWdrByHand) {
  Mat t(1, 3), dq(1, 3), out(1, 3);
  t << 0.5f, -0.5f, 0.0f;
  dq << 2.0f, 1.0f, 4.0f;
  const double alpha = 1.0, coeff = 0.25;  // term: 2 coeff w (1 - w^2)(alpha - 2 w^2)
  kernels::tanh_backward_add_wdr(t, dq, alpha, coeff, out);
  // w = 0.5: 1 - w^2 = 0.75, alpha - 2 w^2 = 0.5, term = 0.5 * 0.5 * 0.75 * 0.5 = 0.09375
  EXPECT_EQ(out(0, 0), 2.0f * 0.75f + 0.09375f);
  EXPECT_EQ(out(0, 1), 1.0f * 0.75f - 0.09375f);
  EXPECT_EQ(out(0, 2), 4.0f);
}

TEST(QuantizeFused, TanhBackwardAddWdrMatchesCentralDifferences) {
  Rng rng(kSeed);
  Mat theta = random_matrix(5, 4, rng, -1.5, 1.5);
  const Mat g = random_matrix(5, 4, rng);
  const double alpha = 0.7, coeff = 0.3;
  Mat t(5, 4), analytic(5, 4);
  kernels::tanh_forward(theta, t);
  kernels::tanh_backward_add_wdr(t, g, alpha, coeff, analytic);
  // L = sum g .* tanh(theta) + coeff * WDR(theta), in double.
  const auto loss = [&] {
    double sum = 0;
    for (Eigen::Index i = 0; i < theta.size(); ++i) {
      const double w = std::tanh(static_cast<double>(theta(i)));
      sum += static_cast<double>(g(i)) * w + coeff * (alpha - w * w) * w * w;
    }
    return sum;
  };
  EXPECT_LT(relative_gradient_error(loss, theta, analytic), kGradTol);
}

TEST(QuantizeFused, TanhBackwardAddWdrEqualsTheTwoPassesBitForBit) {
  Rng rng(23);
  // One column more than the largest case: the blocks start at column 1.
  const Mat theta_all = random_matrix(300, 521, rng, -3, 3);
  const Mat dq_all = random_matrix(300, 521, rng, -2, 2);
  for (const double coeff : {1e-4, 0.5, 3.0}) {
    for (const auto& [rows, cols] : {std::pair<Eigen::Index, Eigen::Index>{300, 520}, {299, 17}, {5, 3}}) {
      const Eigen::Ref<const Mat> theta = theta_all.block(0, 1, rows, cols);
      const Eigen::Ref<const Mat> dq = dq_all.block(0, 1, rows, cols);
      Mat t(rows, cols), ref(rows, cols), fused(rows, cols);
      kernels::tanh_forward(theta, t);
      kernels::tanh_backward_from_output(t, dq, ref);
      kernels::wdr_add_gradient(theta, 0.9, coeff, ref);
      kernels::tanh_backward_add_wdr(t, dq, 0.9, coeff, fused);
      EXPECT_TRUE(same_bits(fused, ref)) << rows << "x" << cols << " coeff " << coeff;
      Mat inplace = dq;  // dtheta aliasing dq, as the Weight calls it
      kernels::tanh_backward_add_wdr(t, inplace, 0.9, coeff, inplace);
      EXPECT_TRUE(same_bits(inplace, ref));
    }
  }
}

TEST(QuantizeFused, TanhForwardEqualsEigensWholeMatrixTanhBitForBit) {
  Rng rng(24);
  const Mat theta = random_matrix(301, 211, rng, -4, 4);
  Mat t(301, 211);
  kernels::tanh_forward(theta, t);
  const Mat whole = theta.array().tanh().matrix();
  EXPECT_TRUE(same_bits(t, whole));
}

// ---- threads -------------------------------------------------------------------------------

TEST(QuantizeFused, TwoThreadsGiveTheOneThreadBits) {
  Rng rng(25);
  const Mat w = random_matrix(300, 517, rng, -1.5, 1.5);  // 155k entries: split on 2 threads
  const Mat dq = random_matrix(300, 517, rng, -2, 2);
  const Mat scale = random_matrix(300, 1, rng, 0, 1);
  // Every threaded kernel into one output list, once per thread count.
  const auto run = [&](int threads) {
    std::vector<Mat> out;
    std::vector<double> sums;
    with_threads(threads, [&] {
      Mat m(300, 517), s(300, 1);
      std::vector<std::uint16_t> codes(static_cast<std::size_t>(kernels::ternary_code_words(w.size())));
      kernels::kept_abs(w, 0.3f, codes.data());
      kernels::ternarize_codes(codes.data(), 0.7f, m);
      out.push_back(m);
      kernels::binarize(w, 0.5f, m);
      out.push_back(m);
      kernels::ttq_forward(w, 0.3f, 1.2f, 0.8f, m);
      out.push_back(m);
      kernels::bwn_backward(w, scale, dq, m);
      out.push_back(m);
      kernels::binarize_rows(w, scale, m);
      out.push_back(m);
      kernels::binarize_rows_by_mean(w, s, m);
      out.push_back(m);
      out.push_back(s);
      kernels::tanh_forward(w, m);
      out.push_back(m);
      Mat t = m;
      kernels::tanh_backward_from_output(t, dq, m);
      out.push_back(m);
      kernels::tanh_backward_add_wdr(t, dq, 0.8, 0.01, m);
      out.push_back(m);
      m = w;
      kernels::clip(m, -0.5f, 0.5f);
      out.push_back(m);
      const kernels::ScaleGrads g = kernels::ttq_backward(w, 0.3f, 1.2f, 0.8f, dq, m);
      out.push_back(m);
      sums.push_back(g.pos);
      sums.push_back(g.neg);
      sums.push_back(kernels::abs_max(w));
      sums.push_back(kernels::abs_max(w.block(1, 1, 250, 400)));
    });
    return std::make_pair(out, sums);
  };
  const auto one = run(1);
  const auto two = run(2);
  ASSERT_EQ(one.first.size(), two.first.size());
  for (std::size_t i = 0; i < one.first.size(); ++i) EXPECT_TRUE(same_bits(one.first[i], two.first[i])) << "output " << i;
  ASSERT_EQ(one.second.size(), two.second.size());
  for (std::size_t i = 0; i < one.second.size(); ++i) EXPECT_TRUE(same_bits(one.second[i], two.second[i])) << "sum " << i;
}

}  // namespace
}  // namespace ternbench::core
