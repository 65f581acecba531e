// The blocked sums of a training step (abs_sum, kept_abs, ttq_backward's region sums)
// against the order block_sums.hpp documents, written out plainly here: element e adds into
// lane e % 64 of its block, a block's lanes add in lane order, the block totals in block
// order. Bit for bit on 1, 2 and 3 threads, contiguous and strided, across block, chunk and
// lane edges, and past the size where blocks grow.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "support/blocked_sum_reference.hpp"
#include "support/quantizer_inputs.hpp"
#include "support/same_bits.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/kernels/quantize.hpp"

namespace ternbench::core {
namespace {

using quantizer_tests::random_matrix;
using ternbench::testing::blocked_reference;
using ternbench::testing::same_bits;

// Values over 2^61 of magnitudes, more than a double holds exactly, so that a different
// order of additions gives different bits.
Mat spread_values(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  Rng rng(seed);
  Mat m = random_matrix(rows, cols, rng);
  for (Eigen::Index i = 0; i < m.size(); ++i) m(i) *= std::ldexp(1.0f, static_cast<int>(i % 61) - 30);
  return m;
}

void for_threads(const std::function<void()>& f) {
  const int saved = Eigen::nbThreads();
  for (const int t : {1, 2, 3}) {
    Eigen::setNbThreads(t);
    f();
  }
  Eigen::setNbThreads(saved);
}

TEST(BlockSums, AbsSumByHand) {
  Mat w(2, 2);
  w << 0.5f, -0.25f, -2.0f, 0.0f;
  EXPECT_EQ(kernels::abs_sum(w), 2.75);
  EXPECT_EQ(kernels::abs_sum(Mat(0, 3)), 0.0);
}

// Sizes: under one lane vector, one block with a lane tail, a block edge, three blocks with a
// tail, and more than 256 * 2^14 values (blocks grow to keep 256 of them).
TEST(BlockSums, AbsSumAddsInTheBlockOrderOnAnyThreadCount) {
  struct Shape {
    Eigen::Index rows, cols;
  };
  for (const Shape s : {Shape{7, 1}, Shape{301, 17}, Shape{16384, 1}, Shape{301, 150}, Shape{4099, 1025}}) {
    const Mat w = spread_values(s.rows, s.cols, 5);
    const double expect = blocked_reference(w.size(), [&](Eigen::Index e) { return std::fabs(w(e)); });
    if (w.size() > 1000) {  // the values make the order show: one chain of additions differs
      double chain = 0;
      for (Eigen::Index e = 0; e < w.size(); ++e) chain += std::fabs(w(e));
      EXPECT_FALSE(same_bits(chain, expect)) << s.rows << "x" << s.cols;
    }
    Mat big = Mat::Zero(s.rows + 3, s.cols + 2);
    big.block(1, 2, s.rows, s.cols) = w;
    for_threads([&] {
      EXPECT_TRUE(same_bits(kernels::abs_sum(w), expect)) << s.rows << "x" << s.cols << " t" << Eigen::nbThreads();
      EXPECT_TRUE(same_bits(kernels::abs_sum(big.block(1, 2, s.rows, s.cols)), expect))
          << "strided " << s.rows << "x" << s.cols << " t" << Eigen::nbThreads();
    });
  }
}

TEST(BlockSums, KeptAbsIsTheAbsSumOfTheKeptEntries) {
  const Mat w = spread_values(517, 301, 6);
  const float delta = 0.01f;
  std::int64_t count = 0;
  for (Eigen::Index e = 0; e < w.size(); ++e) count += std::fabs(w(e)) > delta ? 1 : 0;
  const double expect = blocked_reference(w.size(), [&](Eigen::Index e) {
    const float a = std::fabs(w(e));
    return a > delta ? a : 0.0f;
  });
  Mat big = Mat::Zero(520, 303);
  big.block(2, 1, 517, 301) = w;
  std::vector<std::uint16_t> codes(static_cast<std::size_t>(kernels::ternary_code_words(w.size())));
  for_threads([&] {
    for (const bool strided : {false, true}) {
      const kernels::KeptAbs k = strided ? kernels::kept_abs(big.block(2, 1, 517, 301), delta, codes.data())
                                         : kernels::kept_abs(w, delta, codes.data());
      EXPECT_EQ(k.count, count);
      EXPECT_TRUE(same_bits(k.abs_sum, expect)) << (strided ? "strided" : "contiguous") << " t" << Eigen::nbThreads();
    }
  });
}

TEST(BlockSums, TtqRegionSumsAddInTheBlockOrderOnAnyThreadCount) {
  const Mat w = spread_values(301, 517, 7);
  Rng rng(8);
  const Mat dq = random_matrix(301, 517, rng, -3, 3);
  const float delta = 0.02f, wp = 1.7f, wn = 0.6f;
  const double pos = blocked_reference(w.size(), [&](Eigen::Index e) { return w(e) > delta ? dq(e) : 0.0f; });
  const double neg = blocked_reference(w.size(), [&](Eigen::Index e) { return w(e) < -delta ? dq(e) : 0.0f; });
  Mat expect_dw(301, 517);
  for (Eigen::Index e = 0; e < w.size(); ++e) expect_dw(e) = dq(e) * (w(e) > delta ? wp : (w(e) < -delta ? wn : 1.0f));
  Mat big = Mat::Zero(305, 520);
  for_threads([&] {
    // Contiguous; in place (dw aliases dq, as the Weight calls it); dw strided.
    Mat dw(301, 517);
    const kernels::ScaleGrads g = kernels::ttq_backward(w, delta, wp, wn, dq, dw);
    Mat inplace = dq;
    const kernels::ScaleGrads gi = kernels::ttq_backward(w, delta, wp, wn, inplace, inplace);
    const kernels::ScaleGrads gs = kernels::ttq_backward(w, delta, wp, wn, dq, big.block(3, 2, 301, 517));
    for (const kernels::ScaleGrads& r : {g, gi, gs}) {
      EXPECT_TRUE(same_bits(r.pos, pos)) << "t" << Eigen::nbThreads();
      EXPECT_TRUE(same_bits(r.neg, neg)) << "t" << Eigen::nbThreads();
    }
    EXPECT_TRUE(same_bits(dw, expect_dw));
    EXPECT_TRUE(same_bits(inplace, expect_dw));
    EXPECT_TRUE(same_bits(Mat(big.block(3, 2, 301, 517)), expect_dw));
  });
}

}  // namespace
}  // namespace ternbench::core
