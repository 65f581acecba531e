#include "ternbench/reports/stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "ternbench/base/error.hpp"

namespace ternbench::reports {
namespace {

// t(0.975, df) for df = 1..30, to 9 decimals (standard tables, e.g. R's qt(0.975, df)).
constexpr double kT975[30] = {12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836,
                              2.446911851,  2.364624252, 2.306004135, 2.262157163, 2.228138852,
                              2.200985160,  2.178812830, 2.160368656, 2.144786688, 2.131449546,
                              2.119905299,  2.109815578, 2.100922040, 2.093024054, 2.085963447,
                              2.079613845,  2.073873068, 2.068657610, 2.063898562, 2.059538553,
                              2.055529439,  2.051830516, 2.048407142, 2.045229642, 2.042272456};

std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double avg = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (std::size_t k = i; k <= j; ++k) r[order[k]] = avg;
    i = j + 1;
  }
  return r;
}

}  // namespace

double t_quantile_975(int df) {
  TB_CHECK(df >= 1, "t quantile needs df >= 1");
  if (df <= 30) return kT975[df - 1];
  // Cornish-Fisher expansion of the t quantile around the normal one (Abramowitz & Stegun 26.7.5).
  const double z = 1.959963984540054, d = df;
  const double z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z;
  return z + (z3 + z) / (4 * d) + (5 * z5 + 16 * z3 + 3 * z) / (96 * d * d) +
         (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * d * d * d);
}

SeedStats seed_stats(const std::vector<double>& values) {
  SeedStats s;
  double sum = 0;
  for (double v : values)
    if (!std::isnan(v)) {
      sum += v;
      ++s.n;
    }
  if (s.n == 0) return s;
  s.mean = sum / s.n;
  s.ci_low = s.ci_high = s.mean;
  if (s.n < 2) return s;
  double ss = 0;
  for (double v : values)
    if (!std::isnan(v)) ss += (v - s.mean) * (v - s.mean);
  s.std = std::sqrt(ss / (s.n - 1));
  const double half = t_quantile_975(s.n - 1) * s.std / std::sqrt(static_cast<double>(s.n));
  s.ci_low = s.mean - half;
  s.ci_high = s.mean + half;
  return s;
}

void clip_interval(SeedStats& s, double lo, double hi) {
  s.ci_low = std::clamp(s.ci_low, lo, hi);
  s.ci_high = std::clamp(s.ci_high, lo, hi);
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  TB_CHECK(x.size() == y.size(), "spearman needs equal lengths");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (x.size() < 2) return nan;
  const auto rx = ranks(x), ry = ranks(y);
  const double n = static_cast<double>(x.size());
  const double mx = (n + 1) / 2, my = mx;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < rx.size(); ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  if (sxx == 0 || syy == 0) return nan;
  return sxy / std::sqrt(sxx * syy);
}

}  // namespace ternbench::reports
