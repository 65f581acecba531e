// Dropout: the rate-0 and rate-1 edge cases, the expectation of inverted dropout, the identity
// in evaluation mode, backward through the same mask, and determinism from the seed.
#include <gtest/gtest.h>

#include "ternbench/base/error.hpp"
#include "ternbench/core/nn/dropout.hpp"

namespace ternbench::core {
namespace {

constexpr std::uint64_t kSeed = 3;

TEST(Dropout, RateZeroIsTheIdentityInTraining) {
  Dropout d("dropout0", 3, 0.0, kSeed);
  Mat x(3, 2), y(3, 2), dy(3, 2), dx(3, 2);
  x << 1, -2, 3, 4, -5, 6;
  dy << 0.5f, 1, 2, 3, 4, 5;
  d.forward(x, y);
  EXPECT_EQ(y, x);
  d.backward(x, y, dy, dx, true);
  EXPECT_EQ(dx, dy);
}

TEST(Dropout, RateOneDropsEverything) {
  Dropout d("dropout0", 3, 1.0, kSeed);
  const Mat x = Mat::Constant(3, 4, 2.0f), dy = Mat::Ones(3, 4);
  Mat y(3, 4), dx(3, 4);
  d.forward(x, y);
  EXPECT_EQ(y, Mat::Zero(3, 4));
  d.backward(x, y, dy, dx, true);
  EXPECT_EQ(dx, Mat::Zero(3, 4));
}

TEST(Dropout, EvalModeIsTheIdentity) {
  Dropout d("dropout0", 4, 0.5, kSeed);
  d.set_training(false);
  Mat x(4, 1), y(4, 1), dx(4, 1);
  x << 1, 2, 3, 4;
  d.forward(x, y);
  EXPECT_EQ(y, x);
  d.backward(x, y, x, dx, true);
  EXPECT_EQ(dx, x);
}

TEST(Dropout, KeepsOneMinusRateScaledSoTheExpectationIsUnchanged) {
  // 10^5 activations of 1 at rate 0.25: each survives with p = 0.75 as 1/0.75. The fraction of
  // zeros has standard deviation sqrt(0.25 * 0.75 / 1e5) ~ 0.0014; 0.01 is 7 of them.
  constexpr double kTol = 0.01;
  Dropout d("dropout0", 1000, 0.25, kSeed);
  const Mat x = Mat::Ones(1000, 100);
  Mat y(1000, 100);
  d.forward(x, y);
  const auto zeros = (y.array() == 0.0f).count();
  const auto kept = (y.array() == static_cast<float>(1.0 / 0.75)).count();
  EXPECT_EQ(zeros + kept, y.size());  // nothing else appears
  EXPECT_NEAR(static_cast<double>(zeros) / static_cast<double>(y.size()), 0.25, kTol);
  EXPECT_NEAR(y.cast<double>().mean(), 1.0, kTol * 4.0 / 3.0);
}

TEST(Dropout, BackwardUsesTheMaskOfTheLastForward) {
  Dropout d("dropout0", 50, 0.5, kSeed);
  const Mat x = Mat::Ones(50, 4), dy = Mat::Constant(50, 4, 3.0f);
  Mat y(50, 4), dx(50, 4);
  d.forward(x, y);
  d.backward(x, y, dy, dx, true);
  EXPECT_EQ(dx, Mat(3.0f * y));  // x = 1, so y is the mask itself
}

TEST(Dropout, MasksFollowTheSeedAndNothingElse) {
  Dropout a("a", 20, 0.5, kSeed), b("b", 20, 0.5, kSeed), c("c", 20, 0.5, kSeed + 1);
  const Mat x = Mat::Ones(20, 8);
  Mat ya(20, 8), yb(20, 8), yc(20, 8);
  a.forward(x, ya);
  b.forward(x, yb);
  c.forward(x, yc);
  EXPECT_EQ(ya, yb);
  EXPECT_NE(ya, yc);
  // The stream advances: the next mask differs from the first.
  Mat ya2(20, 8);
  a.forward(x, ya2);
  EXPECT_NE(ya, ya2);
}

TEST(Dropout, SmallerBatchDrawsOnlyItsOwnColumns) {
  // A batch of 3 after one of 8 reuses the mask buffer and consumes 3 columns of the stream,
  // as a fresh layer drawing 3 columns would.
  Dropout a("a", 10, 0.5, kSeed), b("b", 10, 0.5, kSeed);
  Mat big(10, 8), small(10, 3);
  a.forward(Mat::Ones(10, 8), big);
  a.forward(Mat::Ones(10, 3), small);
  Mat ref_big(10, 8), ref_small(10, 3);
  b.forward(Mat::Ones(10, 8), ref_big);
  b.forward(Mat::Ones(10, 3), ref_small);
  EXPECT_EQ(small, ref_small);
}

TEST(Dropout, RejectsRatesOutsideZeroOne) {
  EXPECT_THROW(Dropout("d", 3, -0.1, kSeed), Error);
  EXPECT_THROW(Dropout("d", 3, 1.5, kSeed), Error);
}

}  // namespace
}  // namespace ternbench::core
