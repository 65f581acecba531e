// fp: full precision. Deploys the weights as trained; optionally starts them at SCA's init
// spread (fp_init_std) to measure what that spread alone costs.
#include <cmath>
#include <memory>

#include "option_checks.hpp"
#include "quantizer_util.hpp"
#include "ternbench/core/kernels/quantize.hpp"
#include "ternbench/core/methods/method.hpp"

namespace ternbench::core {

using namespace quantizer_util;

void IdentityQuantizer::quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) {
  check_shape(w, q, "IdentityQuantizer");
  q = w;
}

void IdentityQuantizer::backward(const Eigen::Ref<const Mat>& /*w*/, const Eigen::Ref<const Mat>& dq,
                                 Eigen::Ref<Mat> dw) {
  pass_through(dq, dw);
}

namespace {

class Fp final : public Method {
 public:
  const char* name() const override { return "fp"; }
  const char* title() const override { return "FP"; }
  const char* natural_encoding() const override { return "fp32"; }
  bool quantizes() const override { return false; }
  bool seeds_warm_starts() const override { return true; }
  std::vector<MethodOption> options() const override {
    return {added_after_runs(real_option(
        "fp_init_std", &TrainConfig::fp_init_std, 0, false, kNoBound,
        "fp: the weight matrices a quantized method would quantize start at "
        "clip(fp_init_std * W0 / std(W0), +-0.99), SCA's tanh(theta) at init (0 = standard init)."))};
  }
  std::unique_ptr<Quantizer> quantizer(const TrainConfig&, const QuantizerSite&) const override {
    return std::make_unique<IdentityQuantizer>();
  }
  // The matrices SCA would re-parameterise start where tanh(theta) starts.
  void adopt(Weight& w, const TrainConfig& cfg, const QuantizerSite&) const override {
    if (cfg.fp_init_std > 0) scale_to_spread(w.latent().value, cfg.fp_init_std);
  }
};

}  // namespace

const Method& fp_method() {
  static const Fp m;
  return m;
}

}  // namespace ternbench::core
