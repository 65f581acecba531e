// Faraone et al. (2017), as docs/methods.md interprets it: stage 1 L2 + quantization-threshold
// regularizer in full precision, stage 2 quantization pruning (optionally to a target
// sparsity), stage 3 ternary retraining with the frozen mask.
#include <cmath>
#include <memory>
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "option_checks.hpp"
#include "quantizer_util.hpp"
#include "ternbench/core/kernels/quantize.hpp"
#include "ternbench/core/methods/method.hpp"
#include "ternbench/core/model/model.hpp"
#include "ternbench/core/train/optimizer.hpp"

namespace ternbench::core {

using namespace quantizer_util;

FaraoneQuantizer::FaraoneQuantizer(FaraoneStyle style, const std::string& layer)
    : style_(style), wp_(scale_param(layer, "Wp")), wn_(scale_param(layer, "Wn")) {
  TB_CHECK(style != FaraoneStyle::kTtq || !layer.empty(),
           "FaraoneQuantizer: empty layer name (it names the Wp, Wn parameters)");
}

void FaraoneQuantizer::set_mask(const Mat& mask, double threshold) {
  TB_CHECK(mask.size() > 0, "FaraoneQuantizer::set_mask: empty mask");
  TB_CHECK(((mask.array() == 0.0f) || (mask.array() == 1.0f)).all(), "FaraoneQuantizer::set_mask: entries must be 0 or 1");
  mask_ = mask;
  threshold_ = threshold;
}

void FaraoneQuantizer::init_scales_from(const Eigen::Ref<const Mat>& w) {
  if (style_ != FaraoneStyle::kTtq) return;
  TB_CHECK(has_mask(), "FaraoneQuantizer::init_scales_from: set_mask first");
  const kernels::SignedMaskStats s = kernels::masked_sign_stats(w, mask_);
  wp_.value(0, 0) = s.pos > 0 ? static_cast<float>(s.pos_abs_sum / static_cast<double>(s.pos)) : 1.0f;
  wn_.value(0, 0) = s.neg > 0 ? static_cast<float>(s.neg_abs_sum / static_cast<double>(s.neg)) : 1.0f;
}

void FaraoneQuantizer::quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) {
  check_shape(w, q, "FaraoneQuantizer");
  if (!has_mask()) {
    q = w;  // stage 1: full precision
    return;
  }
  TB_CHECK(mask_.rows() == w.rows() && mask_.cols() == w.cols(), "FaraoneQuantizer: mask shape differs from the weight");
  if (style_ == FaraoneStyle::kTwn) {
    const std::int64_t kept = kernels::count_nonzero(mask_);
    alpha_ = kept > 0 ? static_cast<float>(kernels::masked_abs_sum(w, mask_) / static_cast<double>(kept)) : 0.0f;
    kernels::ternarize_masked(w, mask_, alpha_, alpha_, q);
  } else {
    kernels::ternarize_masked(w, mask_, wp_.value(0, 0), wn_.value(0, 0), q);
  }
}

void FaraoneQuantizer::backward(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) {
  if (!has_mask()) {
    pass_through(dq, dw);
    wp_.grad.setZero();
    wn_.grad.setZero();
    return;
  }
  if (style_ == FaraoneStyle::kTwn) {
    kernels::mask_gradient(dq, mask_, dw);
    return;
  }
  const kernels::ScaleGrads g = kernels::masked_ttq_backward(w, mask_, wp_.value(0, 0), wn_.value(0, 0), dq, dw);
  wp_.grad(0, 0) = static_cast<float>(g.pos);
  wn_.grad(0, 0) = static_cast<float>(-g.neg);
}

void FaraoneQuantizer::after_step(Eigen::Ref<Mat> w) {
  if (has_mask()) kernels::apply_mask(w, mask_);
}

std::vector<Param*> FaraoneQuantizer::params() {
  if (style_ == FaraoneStyle::kTtq) return {&wp_, &wn_};
  return {};
}

double FaraoneQuantizer::scale() const {
  if (!has_mask()) return 0;
  if (style_ == FaraoneStyle::kTwn) return alpha_;
  return 0.5 * (static_cast<double>(wp_.value(0, 0)) + wn_.value(0, 0));
}

std::vector<float> FaraoneQuantizer::scales() const {
  if (!has_mask()) return {};
  if (style_ == FaraoneStyle::kTwn) return {alpha_};
  return {wp_.value(0, 0), wn_.value(0, 0)};
}

const char* FaraoneQuantizer::scale_layout() const {
  if (has_mask() && style_ == FaraoneStyle::kTtq) return "sign";
  return Quantizer::scale_layout();
}

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

namespace {

FaraoneStyle faraone_style(const std::string& s) {
  method_options::check_choice("faraone_retrain_quantizer", s, {"twn", "ttq"});
  return s == "ttq" ? FaraoneStyle::kTtq : FaraoneStyle::kTwn;
}

class Faraone final : public Method {
 public:
  const char* name() const override { return "faraone"; }
  const char* title() const override { return "Faraone"; }
  const char* natural_encoding() const override { return "sparse ternary"; }
  std::vector<MethodOption> options() const override {
    using TC = TrainConfig;
    return {
        choice_option("faraone_threshold", &TC::faraone_threshold, {"max", "mean"}, "rule",
                      "Faraone: threshold rule, D = faraone_t * max|W| (max) or faraone_mean_factor * mean|W| (mean)."),
        real_option("faraone_t", &TC::faraone_t, 0, false, 1, "Faraone: factor of the max rule."),
        real_option("faraone_mean_factor", &TC::faraone_mean_factor, 0, false, kNoBound,
                    "Faraone: factor of the mean rule."),
        real_option("faraone_lambda2", &TC::faraone_lambda2, 0, false, kNoBound,
                    "Faraone stage 1: weight of the L2 term lambda2 * ||W||^2."),
        real_option("faraone_lambdaq", &TC::faraone_lambdaq, 0, false, kNoBound,
                    "Faraone stage 1: weight of the quantization-threshold term lambdaq * sum_{|w| < D} |w|."),
        real_option("faraone_target_sparsity", &TC::faraone_target_sparsity, 0, false, 1,
                    "Faraone stage 2: raise the threshold until at least this share is pruned (0 = rule only)."),
        int_option("faraone_stage1_epochs", &TC::faraone_stage1_epochs, 0, "Faraone: epochs of stage 1 (0 = epochs)."),
        int_option("faraone_retrain_epochs", &TC::faraone_retrain_epochs, 0,
                   "Faraone: epochs of stage 3, ternary retraining with the frozen mask (0 = epochs)."),
        choice_option("faraone_retrain_quantizer", &TC::faraone_retrain_quantizer, {"twn", "ttq"}, "style",
                      "Faraone stage 3: twn (scale = mean|W| on the mask) or ttq (learned Wp, Wn)."),
    };
  }
  std::unique_ptr<Quantizer> quantizer(const TrainConfig& cfg, const QuantizerSite& site) const override {
    return std::make_unique<FaraoneQuantizer>(faraone_style(cfg.faraone_retrain_quantizer), site.layer);
  }
  std::unique_ptr<Regularizer> regularizer(const TrainConfig& cfg) const override {
    const ThresholdRule rule = parse_threshold_rule(cfg.faraone_threshold);
    return std::make_unique<FaraoneRegularizer>(cfg.faraone_lambda2, cfg.faraone_lambdaq, rule,
                                                rule == ThresholdRule::kMax ? cfg.faraone_t : cfg.faraone_mean_factor);
  }
  int planned_epochs(const TrainConfig& cfg) const override {
    const FaraoneSchedule plan = faraone_schedule(cfg);
    return plan.stage1_epochs + plan.retrain_epochs;
  }
  // Stage 1 regularized in full precision, stage 2 the pruning, stage 3 ternary retraining.
  void train(StageRunner& run) const override {
    const TrainConfig& cfg = run.config();
    const FaraoneSchedule plan = faraone_schedule(cfg);
    if (!run.passed(0)) {
      const std::unique_ptr<Optimizer> opt = make_optimizer(cfg, run.model().params());
      const std::unique_ptr<Regularizer> reg = regularizer(cfg);
      run.train_stage(0, StageSpec{"stage1", plan.stage1_epochs, opt.get(), reg.get(), false, false});
      if (run.stopped()) return;
      run.record("stage1", StageEval::kDeployed);
      for (Weight* w : run.model().weights()) {
        if (w->quantized()) faraone_prune(*w, cfg);
      }
      run.record("stage2", StageEval::kDeployed);
    }
    // A fresh optimizer: retraining starts from the pruned weights without stage 1's
    // momentum, and now includes the learned scales of the "ttq" style.
    const std::unique_ptr<Optimizer> opt = make_optimizer(cfg, run.model().params());
    run.train_stage(1, StageSpec{"stage3", plan.retrain_epochs, opt.get(), nullptr, false, false});
    if (!run.stopped()) run.record("stage3", StageEval::kDeployed);
  }
};

}  // namespace

const Method& faraone_method() {
  static const Faraone m;
  return m;
}

}  // namespace ternbench::core
