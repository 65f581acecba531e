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

void ScaQuantizer::backward_regularized(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& q,
                                        const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw, const Regularizer& reg) {
  const auto* wdr = dynamic_cast<const WdrRegularizer*>(&reg);
  if (wdr == nullptr) {
    Quantizer::backward_regularized(w, q, dq, dw, reg);
    return;
  }
  check_shape(w, q, "ScaQuantizer");
  wdr->tanh_backward_add_gradient(q, dq, dw);
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

void WdrRegularizer::tanh_backward_add_gradient(const Eigen::Ref<const Mat>& t, const Eigen::Ref<const Mat>& dq,
                                                Eigen::Ref<Mat> dtheta) const {
  TB_CHECK(dtheta.rows() == t.rows() && dtheta.cols() == t.cols(), "WdrRegularizer: shape mismatch");
  const double c = coeff(t);  // coeff reads only the size, which t shares with theta
  if (c == 0.0) {
    kernels::tanh_backward_from_output(t, dq, dtheta);  // as add_gradient adds nothing then
    return;
  }
  kernels::tanh_backward_add_wdr(t, dq, alpha_, c, dtheta);
}

namespace {

class Sca final : public Method {
 public:
  const char* name() const override { return "sca"; }
  const char* title() const override { return "SCA"; }
  const char* control_key() const override { return "sca_alpha"; }
  const char* natural_encoding() const override { return "sparse ternary"; }
  std::vector<MethodOption> options() const override {
    using TC = TrainConfig;
    return {
        real_option("sca_alpha", &TC::sca_alpha, 0, true, 2, "SCA: the WDR controller alpha in (0, 2); sparsity grows with it."),
        real_option("sca_lambda", &TC::sca_lambda, 0, false, kNoBound,
                    "SCA: strength lambda of the weight discretization regularizer."),
        choice_option("sca_wdr", &TC::sca_wdr, {"sum", "mean"}, "form",
                      "SCA: WDR summed over a layer's weights (sum) or averaged per layer (mean)."),
        real_option("sca_init_std", &TC::sca_init_std, 0, true, kNoBound,
                    "SCA: spread of tanh(theta) at init: theta = atanh(clip(sca_init_std * W0 / std(W0), +-0.99))."),
        real_option("sca_lambda_warmup_epochs", &TC::sca_lambda_warmup_epochs, 0, false, kNoBound,
                    "SCA: lambda ramps linearly from 0 over this many epochs (0 = full strength at once)."),
        flag_option("sca_scale_last", &TC::sca_scale_last,
                    "SCA: a quantized last layer (no batch norm after it) is deployed with one float scale."),
        int_option("sca_finetune_epochs", &TC::sca_finetune_epochs, 0,
                   "SCA: after rounding, train the float parameters (biases, batch norm, fp layers) this many "
                   "epochs with the ternary weights frozen (0 = none)."),
        added_after_runs(real_option(
            "sca_theta_lr_scale", &TC::sca_theta_lr_scale, 0, true, kNoBound,
            "SCA: theta's learning rate is lr * sca_theta_lr_scale (the other parameters keep lr).")),
        added_after_runs(real_option("sca_lambda_final", &TC::sca_lambda_final, 0, false, kNoBound,
                                     "SCA: lambda grows geometrically from sca_lambda to this value at the end of "
                                     "training (0 = constant).")),
    };
  }
  void check(const TrainConfig& cfg) const override {
    if (cfg.sca_lambda_final > 0 && !(cfg.sca_lambda > 0))
      method_options::fail("sca_lambda_final needs sca_lambda > 0 (lambda grows geometrically from sca_lambda)");
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
