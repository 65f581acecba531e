#include "ternbench/core/methods/regularizer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "ternbench/base/error.hpp"
#include "ternbench/core/kernels/quantize.hpp"
#include "ternbench/core/methods/method.hpp"

namespace ternbench::core {

double ramp_lambda(double lambda, double warmup_epochs, double epochs_done) {
  if (!(warmup_epochs > 0)) return lambda;
  return lambda * std::clamp(epochs_done / warmup_epochs, 0.0, 1.0);
}

// ---- thresholds --------------------------------------------------------------------------

ThresholdRule parse_threshold_rule(const std::string& rule) {
  if (rule == "max") return ThresholdRule::kMax;
  if (rule == "mean") return ThresholdRule::kMean;
  throw Error("threshold rule '" + rule + "' is unknown (valid: max, mean)");
}

double ternary_threshold(const Eigen::Ref<const Mat>& w, ThresholdRule rule, double factor) {
  if (w.size() == 0) return 0;
  if (rule == ThresholdRule::kMax) return factor * static_cast<double>(kernels::abs_max(w));
  return factor * kernels::abs_sum(w) / static_cast<double>(w.size());
}

std::unique_ptr<Regularizer> make_regularizer(const TrainConfig& cfg) { return find_method(cfg.method).regularizer(cfg); }

}  // namespace ternbench::core
