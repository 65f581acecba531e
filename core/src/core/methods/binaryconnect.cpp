// BinaryConnect (Courbariaux et al. 2015): H sign(W), deterministic or stochastic, straight-
// through gradient, latent weights clipped to [-H, H].
#include <cmath>
#include <memory>

#include "option_checks.hpp"
#include "quantizer_util.hpp"
#include "ternbench/core/kernels/quantize.hpp"
#include "ternbench/core/methods/method.hpp"

namespace ternbench::core {

using namespace quantizer_util;

BinaryConnectQuantizer::BinaryConnectQuantizer(double h, bool stochastic, std::uint64_t seed)
    : h_(static_cast<float>(h)), stochastic_(stochastic), rng_(seed), clip_(-h_, h_) {
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

void BinaryConnectQuantizer::after_step(Eigen::Ref<Mat> w) {
  if (clip_.take_clipped()) return;  // the optimizer's update clipped (update_hook)
  kernels::clip(w, -h_, h_);
}

std::vector<float> BinaryConnectQuantizer::scales() const {
  if (h_ == 1.0f) return {};
  return {h_};
}

namespace {

class BinaryConnect final : public Method {
 public:
  const char* name() const override { return "binaryconnect"; }
  const char* title() const override { return "BinaryConnect"; }
  const char* natural_encoding() const override { return "binary"; }
  std::vector<MethodOption> options() const override {
    return {flag_option("bc_stochastic", &TrainConfig::bc_stochastic,
                        "BinaryConnect: stochastic binarization (true) or deterministic sign (false)."),
            real_option("bc_h", &TrainConfig::bc_h, 0, true, kNoBound,
                        "BinaryConnect: weights are +-bc_h; latent weights are clipped to [-bc_h, bc_h].")};
  }
  std::unique_ptr<Quantizer> quantizer(const TrainConfig& cfg, const QuantizerSite& site) const override {
    return std::make_unique<BinaryConnectQuantizer>(cfg.bc_h, cfg.bc_stochastic, site.seed);
  }
};

}  // namespace

const Method& binaryconnect_method() {
  static const BinaryConnect m;
  return m;
}

}  // namespace ternbench::core
