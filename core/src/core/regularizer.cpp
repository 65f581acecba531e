#include "ternbench/core/regularizer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "ternbench/base/error.hpp"
#include "ternbench/core/kernels/quantize.hpp"
#include "ternbench/core/quantizer.hpp"
#include "ternbench/core/weight.hpp"

namespace ternbench::core {

double ramp_lambda(double lambda, double warmup_epochs, double epochs_done) {
  if (!(warmup_epochs > 0)) return lambda;
  return lambda * std::clamp(epochs_done / warmup_epochs, 0.0, 1.0);
}

// ---- SCA WDR -----------------------------------------------------------------------------

double grow_lambda(double lambda, double lambda_final, double epochs, double epochs_done) {
  if (!(lambda_final > 0) || !(lambda > 0) || !(epochs > 0)) return lambda;
  return lambda * std::pow(lambda_final / lambda, std::clamp(epochs_done / epochs, 0.0, 1.0));
}

WdrRegularizer::WdrRegularizer(double alpha, double lambda, WdrForm form, double warmup_epochs,
                               WdrGrowth growth)
    : alpha_(alpha), lambda_(lambda), warmup_(warmup_epochs), growth_(growth), form_(form), lambda_now_(0) {
  TB_CHECK(std::isfinite(alpha) && std::isfinite(lambda) && lambda >= 0, "WdrRegularizer: bad alpha or lambda");
  TB_CHECK(std::isfinite(growth.lambda_final) && growth.lambda_final >= 0, "WdrRegularizer: bad final lambda");
  set_progress(0);
}

void WdrRegularizer::set_progress(double epochs_done) {
  const double grown = grow_lambda(lambda_, growth_.lambda_final, growth_.epochs, epochs_done);
  lambda_now_ = ramp_lambda(grown, warmup_, epochs_done);
}

double WdrRegularizer::coeff(const Eigen::Ref<const Mat>& theta) const {
  if (form_ == WdrForm::kSum || theta.size() == 0) return lambda_now_;
  return lambda_now_ / static_cast<double>(theta.size());
}

double WdrRegularizer::penalty(const Eigen::Ref<const Mat>& theta) const {
  return coeff(theta) * kernels::wdr_sum(theta, alpha_);
}

void WdrRegularizer::add_gradient(const Eigen::Ref<const Mat>& theta, Eigen::Ref<Mat> grad) const {
  TB_CHECK(grad.rows() == theta.rows() && grad.cols() == theta.cols(), "WdrRegularizer: shape mismatch");
  const double c = coeff(theta);
  if (c == 0.0) return;
  kernels::wdr_add_gradient(theta, alpha_, c, grad);
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

// ---- Faraone stage 1 ---------------------------------------------------------------------

FaraoneRegularizer::FaraoneRegularizer(double lambda2, double lambdaq, ThresholdRule rule, double factor)
    : lambda2_(lambda2), lambdaq_(lambdaq), rule_(rule), factor_(factor) {
  TB_CHECK(lambda2 >= 0 && lambdaq >= 0 && factor >= 0, "FaraoneRegularizer: strengths and factor must be >= 0");
}

double FaraoneRegularizer::penalty(const Eigen::Ref<const Mat>& w) const {
  const float d = static_cast<float>(ternary_threshold(w, rule_, factor_));
  return lambda2_ * kernels::squared_sum(w) + lambdaq_ * kernels::below_threshold_abs_sum(w, d);
}

void FaraoneRegularizer::add_gradient(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> grad) const {
  TB_CHECK(grad.rows() == w.rows() && grad.cols() == w.cols(), "FaraoneRegularizer: shape mismatch");
  const float d = static_cast<float>(ternary_threshold(w, rule_, factor_));
  kernels::l2_threshold_add_gradient(w, d, static_cast<float>(lambda2_), static_cast<float>(lambdaq_), grad);
}

std::unique_ptr<Regularizer> make_regularizer(const TrainConfig& cfg) {
  if (cfg.method == "sca") {
    TB_CHECK(cfg.sca_wdr == "sum" || cfg.sca_wdr == "mean", "sca_wdr must be \"sum\" or \"mean\"");
    return std::make_unique<WdrRegularizer>(cfg.sca_alpha, cfg.sca_lambda,
                                            cfg.sca_wdr == "mean" ? WdrForm::kMean : WdrForm::kSum,
                                            cfg.sca_lambda_warmup_epochs,
                                            WdrGrowth{cfg.sca_lambda_final, static_cast<double>(cfg.epochs)});
  }
  if (cfg.method == "faraone") {
    const ThresholdRule rule = parse_threshold_rule(cfg.faraone_threshold);
    return std::make_unique<FaraoneRegularizer>(cfg.faraone_lambda2, cfg.faraone_lambdaq, rule,
                                                rule == ThresholdRule::kMax ? cfg.faraone_t : cfg.faraone_mean_factor);
  }
  return nullptr;
}

// ---- Faraone stage 2 ---------------------------------------------------------------------

double prune_threshold(const Eigen::Ref<const Mat>& w, ThresholdRule rule, double factor, double target_sparsity) {
  TB_CHECK(target_sparsity >= 0 && target_sparsity <= 1, "prune_threshold: target_sparsity must be in [0, 1]");
  const float d0 = static_cast<float>(ternary_threshold(w, rule, factor));
  const std::int64_t n = static_cast<std::int64_t>(w.size());
  if (target_sparsity <= 0 || n == 0) return d0;
  // k = ceil(s n), without letting 0.3 * 10 = 3.0000000000000004 round up to 4.
  const double kd = target_sparsity * static_cast<double>(n);
  const double nearest = std::round(kd);
  const std::int64_t k = static_cast<std::int64_t>(std::fabs(kd - nearest) < 1e-9 * static_cast<double>(n) ? nearest : std::ceil(kd));
  if (k <= 0) return d0;
  std::int64_t pruned = 0;  // entries with |w| <= d0
  for (Eigen::Index j = 0; j < w.cols(); ++j) {
    for (Eigen::Index i = 0; i < w.rows(); ++i) pruned += std::fabs(w(i, j)) <= d0 ? 1 : 0;
  }
  if (pruned >= k) return d0;
  std::vector<float> mags;
  mags.reserve(static_cast<std::size_t>(n));
  for (Eigen::Index j = 0; j < w.cols(); ++j) {
    for (Eigen::Index i = 0; i < w.rows(); ++i) mags.push_back(std::fabs(w(i, j)));
  }
  // The k-th smallest value is unique as a value, so ties cannot make this order-dependent.
  auto kth = mags.begin() + (k - 1);
  std::nth_element(mags.begin(), kth, mags.end());
  return *kth;
}

Mat prune_mask(const Eigen::Ref<const Mat>& w, ThresholdRule rule, double factor, double target_sparsity) {
  const float d = static_cast<float>(prune_threshold(w, rule, factor, target_sparsity));
  return (w.array().abs() > d).cast<float>().matrix();
}

FaraoneSchedule faraone_schedule(const TrainConfig& cfg) {
  FaraoneSchedule s;
  s.stage1_epochs = cfg.faraone_stage1_epochs > 0 ? cfg.faraone_stage1_epochs : cfg.epochs;
  s.retrain_epochs = cfg.faraone_retrain_epochs > 0 ? cfg.faraone_retrain_epochs : cfg.epochs;
  return s;
}

double faraone_prune(Weight& w, const TrainConfig& cfg) {
  auto* f = dynamic_cast<FaraoneQuantizer*>(w.quantizer());
  TB_CHECK(f != nullptr, "faraone_prune: " + w.latent().name + " has no Faraone quantizer");
  const ThresholdRule rule = parse_threshold_rule(cfg.faraone_threshold);
  const double factor = rule == ThresholdRule::kMax ? cfg.faraone_t : cfg.faraone_mean_factor;
  const Mat& latent = w.latent().value;
  const double d = prune_threshold(latent, rule, factor, cfg.faraone_target_sparsity);
  f->set_mask((latent.array().abs() > static_cast<float>(d)).cast<float>().matrix(), d);
  f->init_scales_from(latent);
  w.after_step();
  w.refresh();
  return d;
}

}  // namespace ternbench::core
