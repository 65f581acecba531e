// SCA (Deng & Zhang 2022): W = tanh(theta) trained with the weight discretization regularizer,
// no straight-through estimator, deployed as round(tanh(theta)) (docs/methods.md).
#include <cmath>
#include <memory>
#include <algorithm>
#include <vector>

#include "option_checks.hpp"
#include "quantizer_util.hpp"
#include "ternbench/core/kernels/quantize.hpp"
#include "ternbench/core/methods/method.hpp"
#include "ternbench/core/model/model.hpp"
#include "ternbench/core/train/optimizer.hpp"

namespace ternbench::core {

using namespace quantizer_util;

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

namespace {

class Sca final : public Method {
 public:
  const char* name() const override { return "sca"; }
  const char* natural_encoding() const override { return "sparse ternary"; }
  void check(const TrainConfig& cfg) const override {
    using namespace method_options;
    check_range("sca_alpha", cfg.sca_alpha, 0, true, 2, true);
    check_range("sca_lambda", cfg.sca_lambda, 0, false, kInf, false);
    check_range("sca_init_std", cfg.sca_init_std, 0, true, kInf, false);
    check_choice("sca_wdr", cfg.sca_wdr, {"sum", "mean"});
    check_range("sca_lambda_warmup_epochs", cfg.sca_lambda_warmup_epochs, 0, false, kInf, false);
    check_range("sca_theta_lr_scale", cfg.sca_theta_lr_scale, 0, true, kInf, false);
    check_range("sca_lambda_final", cfg.sca_lambda_final, 0, false, kInf, false);
    if (cfg.sca_lambda_final > 0 && !(cfg.sca_lambda > 0))
      fail("sca_lambda_final needs sca_lambda > 0 (lambda grows geometrically from sca_lambda)");
    if (cfg.sca_finetune_epochs < 0) fail("sca_finetune_epochs must be >= 0 (0 = none)");
  }
  std::unique_ptr<Quantizer> quantizer(const TrainConfig& cfg, const QuantizerSite& site) const override {
    return std::make_unique<ScaQuantizer>(site.last && cfg.sca_scale_last, cfg.sca_init_std);
  }
  std::unique_ptr<Regularizer> regularizer(const TrainConfig& cfg) const override {
    TB_CHECK(cfg.sca_wdr == "sum" || cfg.sca_wdr == "mean", "sca_wdr must be \"sum\" or \"mean\"");
    return std::make_unique<WdrRegularizer>(cfg.sca_alpha, cfg.sca_lambda,
                                            cfg.sca_wdr == "mean" ? WdrForm::kMean : WdrForm::kSum,
                                            cfg.sca_lambda_warmup_epochs,
                                            WdrGrowth{cfg.sca_lambda_final, static_cast<double>(cfg.epochs)});
  }
  void adopt(Weight& w, const TrainConfig& cfg, const QuantizerSite& site) const override {
    Method::adopt(w, cfg, site);
    // SCA's latent matrix is theta, which the WDR already pulls towards its targets; an L2
    // on theta would pull every weight to 0 instead (docs/methods.md).
    w.latent().decay = false;
    w.latent().lr_scale = static_cast<float>(cfg.sca_theta_lr_scale);
  }
  int planned_epochs(const TrainConfig& cfg) const override { return cfg.epochs + cfg.sca_finetune_epochs; }
  // Stage "train" through tanh(theta) with the WDR, the evaluations "continuous" and
  // "rounded", then the optional fine-tune of the float parameters on the rounded weights.
  void train(StageRunner& run) const override {
    const TrainConfig& cfg = run.config();
    if (!run.passed(0)) {
      const std::unique_ptr<Optimizer> opt = make_optimizer(cfg, run.model().params());
      const std::unique_ptr<Regularizer> wdr = regularizer(cfg);
      run.train_stage(0, StageSpec{"train", cfg.epochs, opt.get(), wdr.get(), true, false});
      if (run.stopped()) return;
      run.record("continuous", StageEval::kContinuous);
      run.record("rounded", StageEval::kDeployed);
    }
    if (cfg.sca_finetune_epochs == 0) return;
    const std::unique_ptr<Optimizer> ft = float_only_optimizer(cfg, run.model());
    run.train_stage(1, StageSpec{"finetune", cfg.sca_finetune_epochs, ft.get(), nullptr, false, true});
    if (!run.stopped()) run.record("finetuned", StageEval::kDeployed, true);
  }

 private:
  // Every parameter except the quantized weight matrices: the fine-tune keeps the rounded
  // ternary weights fixed and trains biases, batch norm and fp layers.
  static std::unique_ptr<Optimizer> float_only_optimizer(const TrainConfig& cfg, Model& model) {
    std::vector<Param*> params;
    std::vector<const Param*> frozen;
    for (Weight* w : model.weights()) {
      if (w->quantized()) frozen.push_back(&w->latent());
    }
    for (Param* p : model.params()) {
      if (std::find(frozen.begin(), frozen.end(), p) == frozen.end()) params.push_back(p);
    }
    return make_optimizer(cfg, params);
  }
};

}  // namespace

const Method& sca_method() {
  static const Sca m;
  return m;
}

}  // namespace ternbench::core
