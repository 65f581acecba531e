#include "ternbench/reports/stats.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ternbench/reports/escape.hpp"

namespace tr = ternbench::reports;

// Reference quantiles: R's qt(0.975, df), 6 decimals.
TEST(TQuantile, TableAndExpansionMatchReferenceValues) {
  EXPECT_DOUBLE_EQ(tr::t_quantile_975(1), 12.706204736);
  EXPECT_DOUBLE_EQ(tr::t_quantile_975(2), 4.302652730);
  EXPECT_DOUBLE_EQ(tr::t_quantile_975(30), 2.042272456);
  constexpr double kTol = 1e-5;  // the three-term Cornish-Fisher expansion at df > 30
  EXPECT_NEAR(tr::t_quantile_975(31), 2.039513, kTol);
  EXPECT_NEAR(tr::t_quantile_975(40), 2.021075, kTol);
  EXPECT_NEAR(tr::t_quantile_975(120), 1.979930, kTol);
  EXPECT_NEAR(tr::t_quantile_975(100000), 1.959985, kTol);
  EXPECT_ANY_THROW(tr::t_quantile_975(0));
}

TEST(SeedStats, MeanSampleStdAndStudentInterval) {
  const auto s = tr::seed_stats({0.95, 0.96, 0.97});
  EXPECT_EQ(s.n, 3);
  EXPECT_NEAR(s.mean, 0.96, 1e-15);
  EXPECT_NEAR(s.std, 0.01, 1e-15);  // sqrt((0.01^2 + 0 + 0.01^2) / 2)
  // half width = t(0.975, 2) * 0.01 / sqrt(3) = 4.30265273 * 0.01 / 1.7320508 = 0.0248413771
  EXPECT_NEAR(s.ci_low, 0.96 - 0.024841377118949782, 1e-12);
  EXPECT_NEAR(s.ci_high, 0.96 + 0.024841377118949782, 1e-12);
}

TEST(SeedStats, OneValueHasNoSpreadAndNaNIsSkipped) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto s = tr::seed_stats({0.5, nan});
  EXPECT_EQ(s.n, 1);
  EXPECT_DOUBLE_EQ(s.mean, 0.5);
  EXPECT_DOUBLE_EQ(s.std, 0.0);
  EXPECT_DOUBLE_EQ(s.ci_low, 0.5);
  EXPECT_DOUBLE_EQ(s.ci_high, 0.5);
  EXPECT_EQ(tr::seed_stats({}).n, 0);
}

TEST(Spearman, MonotoneTiesAndConstant) {
  EXPECT_DOUBLE_EQ(tr::spearman({0.1, 0.5, 1.0, 1.5}, {0.2, 0.3, 0.8, 0.99}), 1.0);
  EXPECT_DOUBLE_EQ(tr::spearman({1, 2, 3}, {3, 2, 1}), -1.0);
  // Ranks x = 1 2 3, y = 1.5 1.5 3: rho = 1.5 / sqrt(2 * 1.5) = 0.8660254
  EXPECT_NEAR(tr::spearman({1, 2, 3}, {5, 5, 7}), 0.8660254037844386, 1e-12);
  EXPECT_TRUE(std::isnan(tr::spearman({1, 2, 3}, {4, 4, 4})));
  EXPECT_TRUE(std::isnan(tr::spearman({1}, {1})));
}

// A claim's threshold is printed exactly: 0.975 must not read as 0.97.
TEST(FixedExact, ShowsAsManyDecimalsAsTheValueNeeds) {
  EXPECT_EQ(ternbench::reports::fixed_exact(0.975, 2), "0.975");
  EXPECT_EQ(ternbench::reports::fixed_exact(5.0, 2), "5.00");
  EXPECT_EQ(ternbench::reports::fixed_exact(11.0, 2), "11.00");
  EXPECT_EQ(ternbench::reports::fixed_exact(1.0 / 3.0, 2), "0.333333");
}
