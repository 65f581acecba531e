// TWN (Li & Liu 2016): threshold delta_factor mean|W|, scale the mean |W| of the kept weights,
// per layer or per output channel; straight-through gradient.
#include <cmath>
#include <memory>

#include "option_checks.hpp"
#include "quantizer_util.hpp"
#include "ternbench/core/kernels/quantize.hpp"
#include "ternbench/core/methods/method.hpp"

namespace ternbench::core {

using namespace quantizer_util;

TwnQuantizer::TwnQuantizer(double delta_factor, bool per_channel)
    : delta_factor_(delta_factor), per_channel_(per_channel) {
  TB_CHECK(delta_factor >= 0, "TwnQuantizer: delta_factor must be >= 0");
}

void TwnQuantizer::quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) {
  abs_sum_.discard();
  check_shape(w, q, "TwnQuantizer");
  if (w.size() == 0) return;
  if (per_channel_) {
    row_scale_.resize(w.rows(), 1);
    row_delta_.resize(w.rows(), 1);
    kernels::ternarize_rows(w, static_cast<float>(delta_factor_), row_delta_, row_scale_, q);
    return;
  }
  ternarize_layer(w, kernels::abs_sum(w), q);
}

void TwnQuantizer::quantize_after_update(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) {
  if (!abs_sum_.fresh()) return quantize(w, q);
  check_shape(w, q, "TwnQuantizer");
  ternarize_layer(w, abs_sum_.take(), q);
}

void TwnQuantizer::ternarize_layer(const Eigen::Ref<const Mat>& w, double abs_sum, Eigen::Ref<Mat> q) {
  if (w.size() == 0) return;
  const double mean_abs = abs_sum / static_cast<double>(w.size());
  delta_ = static_cast<float>(delta_factor_ * mean_abs);
  // One pass over w after the |w| sum: the scale needs every kept entry before the first q,
  // so the kept statistics write compact codes and q is made from those. A pass over a
  // large layer costs as much as a small GEMM.
  codes_.resize(static_cast<std::size_t>(kernels::ternary_code_words(w.size())));
  const kernels::KeptAbs kept = kernels::kept_abs(w, delta_, codes_.data());
  scale_ = kept.count > 0 ? static_cast<float>(kept.abs_sum / static_cast<double>(kept.count)) : 0.0f;
  kernels::ternarize_codes(codes_.data(), scale_, q);
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

namespace {

class Twn final : public Method {
 public:
  const char* name() const override { return "twn"; }
  const char* title() const override { return "TWN"; }
  const char* natural_encoding() const override { return "ternary 2-bit"; }
  std::vector<MethodOption> options() const override {
    return {real_option("delta_factor", &TrainConfig::delta_factor, 0, true, kNoBound,
                        "TWN threshold: delta = delta_factor * mean|W| per layer."),
            flag_option("twn_per_channel", &TrainConfig::twn_per_channel,
                        "TWN threshold and scale per output channel instead of per layer.")};
  }
  std::unique_ptr<Quantizer> quantizer(const TrainConfig& cfg, const QuantizerSite&) const override {
    return std::make_unique<TwnQuantizer>(cfg.delta_factor, cfg.twn_per_channel);
  }
};

}  // namespace

const Method& twn_method() {
  static const Twn m;
  return m;
}

}  // namespace ternbench::core
