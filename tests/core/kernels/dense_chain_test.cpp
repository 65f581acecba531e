// dense_forward_chain: hand-computed values, the exact chain order against scalar std::fma,
// tile and pass edges, strided operands, and bits that do not depend on the thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "support/quantizer_inputs.hpp"
#include "support/same_bits.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/kernels/dense.hpp"

namespace ternbench::kernels {
namespace {

using core::quantizer_tests::random_matrix;  // U(-1, 1)

// The documented order, one output at a time.
Mat scalar_chain(const Mat& W, const Mat& b, const Mat& x) {
  Mat y(W.rows(), x.cols());
  for (Eigen::Index n = 0; n < x.cols(); ++n) {
    for (Eigen::Index o = 0; o < W.rows(); ++o) {
      float acc = b(o, 0);
      for (Eigen::Index k = 0; k < W.cols(); ++k) acc = std::fma(W(o, k), x(k, n), acc);
      y(o, n) = acc;
    }
  }
  return y;
}

using ternbench::testing::same_bits;

TEST(DenseChain, MatchesHandComputedValues) {
  Mat W(2, 3), b(2, 1), x(3, 2);
  W << 1, -2, 3,
       0.5f, 4, -1;
  b << 0.25f, -1;
  x << 1, 2,
       -1, 0,
       2, -3;
  // y(0,0) = 0.25 + 1 + 2 + 6 = 9.25     y(0,1) = 0.25 + 2 + 0 - 9 = -6.75
  // y(1,0) = -1 + 0.5 - 4 - 2 = -6.5     y(1,1) = -1 + 1 + 0 + 3 = 3
  Mat y(2, 2);
  dense_forward_chain(W, b, x, y, 1);
  Mat want(2, 2);
  want << 9.25f, -6.75f,
          -6.5f, 3;
  EXPECT_TRUE(same_bits(y, want)) << y;
}

// Outputs around the 16-lane vectors and 64-lane tiles, inputs around the 128-input pass,
// samples around the 6-sample tile.
TEST(DenseChain, EqualsTheScalarChainBitForBitAtEveryEdge) {
  Rng rng(7);
  for (const Eigen::Index out : {1, 10, 16, 17, 52, 64, 65, 130}) {
    for (const Eigen::Index in : {1, 3, 127, 128, 129, 300}) {
      for (const Eigen::Index B : {1, 5, 6, 7, 13}) {
        const Mat W = random_matrix(out, in, rng), b = random_matrix(out, 1, rng), x = random_matrix(in, B, rng);
        Mat y(out, B);
        dense_forward_chain(W, b, x, y, 1);
        EXPECT_TRUE(same_bits(y, scalar_chain(W, b, x))) << "out " << out << " in " << in << " B " << B;
      }
    }
  }
}

TEST(DenseChain, NoInputsGiveTheBias) {
  const Mat W(3, 0), x(0, 2);
  Mat b(3, 1), y(3, 2);
  b << 1, -2, 0.5f;
  dense_forward_chain(W, b, x, y, 1);
  EXPECT_TRUE(same_bits(y, Mat(b.replicate(1, 2))));
}

TEST(DenseChain, ThreadsDoNotChangeABit) {
  Rng rng(11);
  const Mat W = random_matrix(500, 784, rng), b = random_matrix(500, 1, rng), x = random_matrix(784, 128, rng);
  Mat one(500, 128);
  dense_forward_chain(W, b, x, one, 1);
  EXPECT_TRUE(same_bits(one, scalar_chain(W, b, x)));
  // Two threads, as the trainer runs: 22 tiles of samples, 11 each. (More threads would change
  // libomp's team, which LeakSanitizer reports as a leak of libomp's own.)
  Mat two(500, 128);
  dense_forward_chain(W, b, x, two, 2);
  EXPECT_TRUE(same_bits(two, one));
  // An uneven split: 3 tiles of samples, 1 and 2.
  const Mat x13 = x.leftCols(13);
  Mat y1(500, 13), y2(500, 13);
  dense_forward_chain(W, b, x13, y1, 1);
  dense_forward_chain(W, b, x13, y2, 2);
  EXPECT_TRUE(same_bits(y1, y2));
}

// Operands that are blocks of larger matrices (outer stride > rows) leave the rest alone.
TEST(DenseChain, ReadsAndWritesStridedBlocks) {
  Rng rng(5);
  const Mat Wbig = random_matrix(80, 140, rng), b = random_matrix(70, 1, rng), xbig = random_matrix(140, 9, rng);
  Mat ybig = Mat::Constant(75, 9, 42.0f);
  const auto W = Wbig.block(3, 2, 70, 130);
  const auto x = xbig.block(5, 1, 130, 8);
  dense_forward_chain(W, b, x, ybig.block(2, 1, 70, 8), 2);
  EXPECT_TRUE(same_bits(Mat(ybig.block(2, 1, 70, 8)), scalar_chain(W, b, x)));
  Mat untouched = ybig;
  untouched.block(2, 1, 70, 8).setConstant(42.0f);
  EXPECT_TRUE((untouched.array() == 42.0f).all());
}

TEST(DenseChain, AgreesWithTheGemmWithinRounding) {
  Rng rng(3);
  const Mat W = random_matrix(37, 53, rng), b = random_matrix(37, 1, rng), x = random_matrix(53, 19, rng);
  Mat chain(37, 19), gemm(37, 19);
  dense_forward_chain(W, b, x, chain, 1);
  dense_forward(W, b, x, gemm);
  EXPECT_LT((chain - gemm).cwiseAbs().maxCoeff(), 1e-4f);
}

}  // namespace
}  // namespace ternbench::kernels
