#include "ternbench/core/quantizer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <limits>

#include "ternbench/base/error.hpp"
#include "ternbench/core/kernels/quantize.hpp"

namespace ternbench::core {
namespace {

void check_shape(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& q, const char* who) {
  TB_CHECK(w.rows() == q.rows() && w.cols() == q.cols(), std::string(who) + ": shape mismatch");
}

void pass_through(const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) {
  if (dw.data() != dq.data()) dw = dq;
}

// A learned scalar scale of a layer: 1x1, init 1, no weight decay (DESIGN.md §2, TTQ).
Param scale_param(const std::string& layer, const char* which) {
  Param p;
  p.name = layer + "/" + which;
  p.value = Mat::Ones(1, 1);
  p.grad = Mat::Zero(1, 1);
  p.decay = false;
  return p;
}

double row_mean(const Mat& v) { return v.size() > 0 ? static_cast<double>(v.mean()) : 0.0; }

std::vector<float> as_vector(const Mat& v) { return std::vector<float>(v.data(), v.data() + v.size()); }

}  // namespace

// ---- fp ----------------------------------------------------------------------------------

void IdentityQuantizer::quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) {
  check_shape(w, q, "IdentityQuantizer");
  q = w;
}

void IdentityQuantizer::backward(const Eigen::Ref<const Mat>& /*w*/, const Eigen::Ref<const Mat>& dq,
                                 Eigen::Ref<Mat> dw) {
  pass_through(dq, dw);
}

// ---- binaryconnect -----------------------------------------------------------------------

BinaryConnectQuantizer::BinaryConnectQuantizer(double h, bool stochastic, std::uint64_t seed)
    : h_(static_cast<float>(h)), stochastic_(stochastic), rng_(seed) {
  TB_CHECK(h > 0 && std::isfinite(h), "BinaryConnectQuantizer: H must be a finite number > 0");
}

void BinaryConnectQuantizer::quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) {
  check_shape(w, q, "BinaryConnectQuantizer");
  if (stochastic_) {
    kernels::binarize_stochastic(w, h_, rng_, q);
  } else {
    kernels::binarize(w, h_, q);
  }
}

void BinaryConnectQuantizer::deploy(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) {
  check_shape(w, q, "BinaryConnectQuantizer");
  kernels::binarize(w, h_, q);
}

void BinaryConnectQuantizer::backward(const Eigen::Ref<const Mat>& /*w*/, const Eigen::Ref<const Mat>& dq,
                                      Eigen::Ref<Mat> dw) {
  pass_through(dq, dw);
}

void BinaryConnectQuantizer::after_step(Eigen::Ref<Mat> w) { kernels::clip(w, -h_, h_); }

std::vector<float> BinaryConnectQuantizer::scales() const {
  if (h_ == 1.0f) return {};
  return {h_};
}

// ---- bwn ---------------------------------------------------------------------------------

void BwnQuantizer::quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) {
  check_shape(w, q, "BwnQuantizer");
  scale_.resize(w.rows(), 1);  // no-op after the first call
  kernels::row_abs_mean(w, scale_);
  kernels::binarize_rows(w, scale_, q);
}

void BwnQuantizer::backward(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) {
  TB_CHECK(scale_.rows() == w.rows(), "BwnQuantizer: backward before quantize");
  kernels::bwn_backward(w, scale_, dq, dw);
}

double BwnQuantizer::scale() const { return row_mean(scale_); }

std::vector<float> BwnQuantizer::scales() const { return as_vector(scale_); }

// ---- twn ---------------------------------------------------------------------------------

TwnQuantizer::TwnQuantizer(double delta_factor, bool per_channel)
    : delta_factor_(delta_factor), per_channel_(per_channel) {
  TB_CHECK(delta_factor >= 0, "TwnQuantizer: delta_factor must be >= 0");
}

void TwnQuantizer::quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) {
  check_shape(w, q, "TwnQuantizer");
  if (w.size() == 0) return;
  if (per_channel_) {
    row_scale_.resize(w.rows(), 1);
    row_delta_.resize(w.rows(), 1);
    kernels::ternarize_rows(w, static_cast<float>(delta_factor_), row_delta_, row_scale_, q);
    return;
  }
  const double mean_abs = kernels::abs_sum(w) / static_cast<double>(w.size());
  delta_ = static_cast<float>(delta_factor_ * mean_abs);
  // Three passes over w (|w| sum, kept statistics, codes): the step is bound by memory
  // traffic here, and each pass over a large layer costs as much as a small GEMM.
  const kernels::KeptAbs kept = kernels::kept_abs(w, delta_);
  scale_ = kept.count > 0 ? static_cast<float>(kept.abs_sum / static_cast<double>(kept.count)) : 0.0f;
  kernels::ternarize(w, delta_, scale_, q);
}

void TwnQuantizer::backward(const Eigen::Ref<const Mat>& /*w*/, const Eigen::Ref<const Mat>& dq,
                            Eigen::Ref<Mat> dw) {
  pass_through(dq, dw);  // identity straight-through estimator
}

double TwnQuantizer::scale() const { return per_channel_ ? row_mean(row_scale_) : scale_; }

double TwnQuantizer::delta() const { return per_channel_ ? row_mean(row_delta_) : delta_; }

std::vector<float> TwnQuantizer::scales() const {
  if (per_channel_) return as_vector(row_scale_);
  return {scale_};
}

// ---- ttq ---------------------------------------------------------------------------------

TtqQuantizer::TtqQuantizer(const std::string& layer, double threshold)
    : threshold_(threshold), wp_(scale_param(layer, "Wp")), wn_(scale_param(layer, "Wn")) {
  TB_CHECK(!layer.empty(), "TtqQuantizer: empty layer name (it names the Wp, Wn parameters)");
  TB_CHECK(threshold >= 0 && threshold <= 1, "TtqQuantizer: threshold must be in [0, 1]");
}

void TtqQuantizer::quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) {
  check_shape(w, q, "TtqQuantizer");
  delta_ = static_cast<float>(threshold_ * static_cast<double>(kernels::abs_max(w)));
  kernels::ttq_forward(w, delta_, wp_.value(0, 0), wn_.value(0, 0), q);
}

void TtqQuantizer::backward(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) {
  const kernels::ScaleGrads g = kernels::ttq_backward(w, delta_, wp_.value(0, 0), wn_.value(0, 0), dq, dw);
  wp_.grad(0, 0) = static_cast<float>(g.pos);
  wn_.grad(0, 0) = static_cast<float>(-g.neg);  // q = -Wn on that region
}

double TtqQuantizer::scale() const { return 0.5 * (static_cast<double>(wp_.value(0, 0)) + wn_.value(0, 0)); }

std::vector<float> TtqQuantizer::scales() const { return {wp_.value(0, 0), wn_.value(0, 0)}; }

// ---- sca ---------------------------------------------------------------------------------

ScaQuantizer::ScaQuantizer(bool scaled, double init_std) : scaled_(scaled), init_std_(init_std) {
  TB_CHECK(init_std > 0 && std::isfinite(init_std), "ScaQuantizer: init_std must be a finite number > 0");
}

void ScaQuantizer::quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) {
  check_shape(w, q, "ScaQuantizer");
  kernels::tanh_forward(w, q);
}

void ScaQuantizer::deploy(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) {
  check_shape(w, q, "ScaQuantizer");
  kernels::tanh_forward(w, q);
  scale_ = scaled_ ? static_cast<float>(kernels::round_support_mean_abs(q)) : 1.0f;
  kernels::round_ternary(q, scale_, q);
}

void ScaQuantizer::backward(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) {
  kernels::tanh_backward(w, dq, dw);
}

void ScaQuantizer::backward_given_output(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& q,
                                         const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) {
  check_shape(w, q, "ScaQuantizer");
  kernels::tanh_backward_from_output(q, dq, dw);
}

void ScaQuantizer::init_latent(Eigen::Ref<Mat> w) { sca_init_theta(w, init_std_); }

std::vector<float> ScaQuantizer::scales() const {
  if (!scaled_) return {};
  return {scale_};
}

namespace {

// init_std / std(w), std the population standard deviation; 0 for a constant matrix.
double spread_gain(const Eigen::Ref<const Mat>& w, double init_std) {
  TB_CHECK(init_std > 0 && std::isfinite(init_std), "the init spread must be a finite number > 0");
  const double n = static_cast<double>(w.size());
  double sum = 0;
  for (Eigen::Index j = 0; j < w.cols(); ++j) {
    for (Eigen::Index i = 0; i < w.rows(); ++i) sum += static_cast<double>(w(i, j));
  }
  const double mean = sum / n;
  double var = 0;
  for (Eigen::Index j = 0; j < w.cols(); ++j) {
    for (Eigen::Index i = 0; i < w.rows(); ++i) {
      const double d = static_cast<double>(w(i, j)) - mean;
      var += d * d;
    }
  }
  const double sd = std::sqrt(var / n);
  return sd > 0 ? init_std / sd : 0.0;
}

// f(clip(gain * w, -0.99, 0.99)) in place, computed in double.
template <class F>
void map_clipped(Eigen::Ref<Mat> w, double gain, F f) {
  for (Eigen::Index j = 0; j < w.cols(); ++j) {
    for (Eigen::Index i = 0; i < w.rows(); ++i) {
      const double x = std::clamp(gain * static_cast<double>(w(i, j)), -0.99, 0.99);
      w(i, j) = static_cast<float>(f(x));
    }
  }
}

}  // namespace

void sca_init_theta(Eigen::Ref<Mat> w, double init_std) {
  if (w.size() == 0) return;
  map_clipped(w, spread_gain(w, init_std), [](double x) { return std::atanh(x); });
}

void scale_to_spread(Eigen::Ref<Mat> w, double init_std) {
  if (w.size() == 0) return;
  map_clipped(w, spread_gain(w, init_std), [](double x) { return x; });
}

// ---- faraone -----------------------------------------------------------------------------

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

const char* Quantizer::scale_layout() const {
  const std::size_t n = scales().size();
  return n == 0 ? "none" : n == 1 ? "layer" : "row";
}

// ---- registry ----------------------------------------------------------------------------

std::vector<std::string> method_names() { return {"fp", "binaryconnect", "bwn", "twn", "ttq", "sca", "faraone"}; }

namespace {

[[noreturn]] void unknown_method(const std::string& method) {
  std::string valid;
  for (const auto& m : method_names()) valid += (valid.empty() ? "" : ", ") + m;
  throw Error("method '" + method + "' is unknown (valid: " + valid + ")");
}

[[noreturn]] void bad_option(const std::string& msg) { throw Error("train config: " + msg); }

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void check_finite_range(const char* name, double v, double lo, bool lo_open, double hi, bool hi_open) {
  const bool ok = std::isfinite(v) && (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
  if (!ok) {
    const std::string upper = hi == std::numeric_limits<double>::max() ? "inf" : num(hi);
    bad_option(std::string(name) + " must be a finite number in " + (lo_open ? "(" : "[") + num(lo) + ", " + upper +
               (hi_open || upper == "inf" ? ")" : "]") + " (got " + num(v) + ")");
  }
}

void check_choice(const char* name, const std::string& v, std::initializer_list<const char*> valid) {
  std::string list;
  for (const char* c : valid) {
    if (v == c) return;
    list += (list.empty() ? "" : ", ") + std::string(c);
  }
  bad_option(std::string(name) + " '" + v + "' is unknown (valid: " + list + ")");
}

FaraoneStyle faraone_style(const std::string& s) {
  check_choice("faraone_retrain_quantizer", s, {"twn", "ttq"});
  return s == "ttq" ? FaraoneStyle::kTtq : FaraoneStyle::kTwn;
}

}  // namespace

bool method_quantizes(const std::string& method) {
  for (const auto& m : method_names()) {
    if (m == method) return method != "fp";
  }
  unknown_method(method);
}

void check_method_config(const TrainConfig& cfg) {
  constexpr double kInf = std::numeric_limits<double>::max();
  check_finite_range("bc_h", cfg.bc_h, 0, true, kInf, false);
  check_finite_range("ttq_threshold", cfg.ttq_threshold, 0, false, 1, false);
  check_finite_range("sca_alpha", cfg.sca_alpha, 0, true, 2, true);
  check_finite_range("sca_lambda", cfg.sca_lambda, 0, false, kInf, false);
  check_finite_range("sca_init_std", cfg.sca_init_std, 0, true, kInf, false);
  check_choice("sca_wdr", cfg.sca_wdr, {"sum", "mean"});
  check_finite_range("sca_lambda_warmup_epochs", cfg.sca_lambda_warmup_epochs, 0, false, kInf, false);
  check_choice("faraone_threshold", cfg.faraone_threshold, {"max", "mean"});
  check_finite_range("faraone_t", cfg.faraone_t, 0, false, 1, false);
  check_finite_range("faraone_mean_factor", cfg.faraone_mean_factor, 0, false, kInf, false);
  check_finite_range("faraone_lambda2", cfg.faraone_lambda2, 0, false, kInf, false);
  check_finite_range("faraone_lambdaq", cfg.faraone_lambdaq, 0, false, kInf, false);
  check_finite_range("faraone_target_sparsity", cfg.faraone_target_sparsity, 0, false, 1, false);
  check_finite_range("sca_theta_lr_scale", cfg.sca_theta_lr_scale, 0, true, kInf, false);
  check_finite_range("sca_lambda_final", cfg.sca_lambda_final, 0, false, kInf, false);
  if (cfg.sca_lambda_final > 0 && !(cfg.sca_lambda > 0))
    bad_option("sca_lambda_final needs sca_lambda > 0 (lambda grows geometrically from sca_lambda)");
  check_finite_range("fp_init_std", cfg.fp_init_std, 0, false, kInf, false);
  if (cfg.sca_finetune_epochs < 0) bad_option("sca_finetune_epochs must be >= 0 (0 = none)");
  if (cfg.faraone_stage1_epochs < 0) bad_option("faraone_stage1_epochs must be >= 0 (0 = epochs)");
  if (cfg.faraone_retrain_epochs < 0) bad_option("faraone_retrain_epochs must be >= 0 (0 = epochs)");
  faraone_style(cfg.faraone_retrain_quantizer);
}

std::unique_ptr<Quantizer> make_quantizer(const TrainConfig& cfg, const QuantizerSite& site) {
  const std::string& m = cfg.method;
  if (m == "fp") return std::make_unique<IdentityQuantizer>();
  if (m == "binaryconnect") return std::make_unique<BinaryConnectQuantizer>(cfg.bc_h, cfg.bc_stochastic, site.seed);
  if (m == "bwn") return std::make_unique<BwnQuantizer>();
  if (m == "twn") return std::make_unique<TwnQuantizer>(cfg.delta_factor, cfg.twn_per_channel);
  if (m == "ttq") return std::make_unique<TtqQuantizer>(site.layer, cfg.ttq_threshold);
  if (m == "sca") return std::make_unique<ScaQuantizer>(site.last && cfg.sca_scale_last, cfg.sca_init_std);
  if (m == "faraone") return std::make_unique<FaraoneQuantizer>(faraone_style(cfg.faraone_retrain_quantizer), site.layer);
  unknown_method(m);
}

}  // namespace ternbench::core
