#pragma once
// Statistics over the seeds of one cell: mean, sample std, Student-t 95% interval; and the
// rank correlation used by monotone claims.
#include <vector>

namespace ternbench::reports {

struct SeedStats {
  int n = 0;
  double mean = 0;
  double std = 0;                  // sample std (n - 1); 0 when n < 2
  double ci_low = 0, ci_high = 0;  // mean -/+ t(0.975, n-1) * std / sqrt(n); equal to mean when n < 2
};

// The 0.975 quantile of Student's t with df degrees of freedom (df >= 1): exact table values
// for df 1..30, the Cornish-Fisher expansion beyond (error below 1e-5 there).
double t_quantile_975(int df);

// NaN values are skipped (a diverged run's loss); n counts the values used.
SeedStats seed_stats(const std::vector<double>& values);

// Clips the interval to a metric's range [lo, hi] (an accuracy's interval stops at 100%);
// the mean and std are left as they are.
void clip_interval(SeedStats& s, double lo, double hi);

// Spearman's rank correlation (average ranks for ties); NaN when fewer than 2 points or a
// constant input.
double spearman(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace ternbench::reports
