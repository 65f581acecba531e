// TTQ (Zhu et al. 2017): threshold t max|W|, learned scales Wp and Wn per layer.
#include <cmath>
#include <memory>

#include "option_checks.hpp"
#include "quantizer_util.hpp"
#include "ternbench/core/kernels/quantize.hpp"
#include "ternbench/core/methods/method.hpp"

namespace ternbench::core {

using namespace quantizer_util;

TtqQuantizer::TtqQuantizer(const std::string& layer, double threshold)
    : threshold_(threshold), wp_(scale_param(layer, "Wp")), wn_(scale_param(layer, "Wn")) {
  TB_CHECK(!layer.empty(), "TtqQuantizer: empty layer name (it names the Wp, Wn parameters)");
  TB_CHECK(threshold >= 0 && threshold <= 1, "TtqQuantizer: threshold must be in [0, 1]");
}

void TtqQuantizer::quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) {
  abs_max_.discard();
  quantize_at(w, kernels::abs_max(w), q);
}

void TtqQuantizer::quantize_after_update(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) {
  if (!abs_max_.fresh()) return quantize(w, q);
  quantize_at(w, abs_max_.take(), q);
}

void TtqQuantizer::quantize_at(const Eigen::Ref<const Mat>& w, float abs_max, Eigen::Ref<Mat> q) {
  check_shape(w, q, "TtqQuantizer");
  delta_ = static_cast<float>(threshold_ * static_cast<double>(abs_max));
  kernels::ttq_forward(w, delta_, wp_.value(0, 0), wn_.value(0, 0), q);
}

void TtqQuantizer::backward(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) {
  const kernels::ScaleGrads g = kernels::ttq_backward(w, delta_, wp_.value(0, 0), wn_.value(0, 0), dq, dw);
  wp_.grad(0, 0) = static_cast<float>(g.pos);
  wn_.grad(0, 0) = static_cast<float>(-g.neg);  // q = -Wn on that region
}

double TtqQuantizer::scale() const { return 0.5 * (static_cast<double>(wp_.value(0, 0)) + wn_.value(0, 0)); }

std::vector<float> TtqQuantizer::scales() const { return {wp_.value(0, 0), wn_.value(0, 0)}; }

namespace {

class Ttq final : public Method {
 public:
  const char* name() const override { return "ttq"; }
  const char* title() const override { return "TTQ"; }
  const char* natural_encoding() const override { return "ternary 2-bit"; }
  std::vector<MethodOption> options() const override {
    return {real_option("ttq_threshold", &TrainConfig::ttq_threshold, 0, false, 1,
                        "TTQ threshold factor: D = ttq_threshold * max|W| per layer.")};
  }
  std::unique_ptr<Quantizer> quantizer(const TrainConfig& cfg, const QuantizerSite& site) const override {
    return std::make_unique<TtqQuantizer>(site.layer, cfg.ttq_threshold);
  }
};

}  // namespace

const Method& ttq_method() {
  static const Ttq m;
  return m;
}

}  // namespace ternbench::core
