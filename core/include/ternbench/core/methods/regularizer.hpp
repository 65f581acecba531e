#pragma once
// Loss terms on the latent weights of quantized layers, and Faraone's quantization pruning
// (DESIGN.md §2, docs/methods.md). A regularizer is stateless with respect to the matrix it
// sees: one instance serves every layer (the per-layer forms read n and the threshold from
// the matrix passed in).
#include <Eigen/Core>
#include <memory>
#include <string>

#include "ternbench/core/nn/layer.hpp"
#include "ternbench/core/train/train_config.hpp"

namespace ternbench::core {

class Weight;

class Regularizer {
 public:
  virtual ~Regularizer() = default;
  // The term added to the loss for one latent matrix, strength included.
  virtual double penalty(const Eigen::Ref<const Mat>& w) const = 0;
  // grad += d penalty / d w                          w, grad: same shape
  virtual void add_gradient(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> grad) const = 0;
  // Training progress in epochs (fractional; 0 before the first step). Strength schedules
  // read it; the default ignores it.
  virtual void set_progress(double /*epochs_done*/) {}
  // The strength in effect (after set_progress).
  virtual double strength() const = 0;
};

// Linear warm-up: lambda * min(1, epochs_done / warmup_epochs); lambda itself when
// warmup_epochs <= 0.
double ramp_lambda(double lambda, double warmup_epochs, double epochs_done);

// Geometric growth over a stage: lambda * (lambda_final / lambda)^min(1, epochs_done / epochs),
// so lambda_final is reached at the stage's end; lambda itself when lambda_final <= 0.
double grow_lambda(double lambda, double lambda_final, double epochs, double epochs_done);

// SCA's weight discretization regularizer on theta, w = tanh(theta):
//   WDR = sum_i (alpha - w_i^2) w_i^2,   dWDR/dtheta = 2 w (1 - w^2)(alpha - 2 w^2),
// times lambda (grown by grow_lambda, then ramped by ramp_lambda), and divided by
// n = w.size() in the kMean form.
enum class WdrForm { kSum, kMean };

struct WdrGrowth {
  double lambda_final = 0;  // 0 = lambda stays constant
  double epochs = 0;        // the stage's length
};

class WdrRegularizer final : public Regularizer {
 public:
  WdrRegularizer(double alpha, double lambda, WdrForm form, double warmup_epochs = 0, WdrGrowth growth = {});
  double penalty(const Eigen::Ref<const Mat>& theta) const override;
  void add_gradient(const Eigen::Ref<const Mat>& theta, Eigen::Ref<Mat> grad) const override;
  // dtheta = dq (1 - t^2) + dWDR/dtheta given t = tanh(theta): SCA's backward and
  // add_gradient(theta, dtheta) in one pass, bit for bit.   (dtheta may alias dq)
  void tanh_backward_add_gradient(const Eigen::Ref<const Mat>& t, const Eigen::Ref<const Mat>& dq,
                                  Eigen::Ref<Mat> dtheta) const;
  void set_progress(double epochs_done) override;
  double strength() const override { return lambda_now_; }
  double alpha() const { return alpha_; }

 private:
  double coeff(const Eigen::Ref<const Mat>& theta) const;
  double alpha_, lambda_, warmup_;
  WdrGrowth growth_;
  WdrForm form_;
  double lambda_now_;
};

// Ternarization threshold of one layer: D = factor * max|W| (kMax) or factor * mean|W| (kMean).
enum class ThresholdRule { kMax, kMean };
ThresholdRule parse_threshold_rule(const std::string& rule);  // "max" | "mean"; throws otherwise
double ternary_threshold(const Eigen::Ref<const Mat>& w, ThresholdRule rule, double factor);

// Faraone stage 1 (interpretation): lambda2 ||W||^2 + lambdaq sum_{|w| < D} |w|, with D
// recomputed from the W passed in. The gradient treats D as a constant:
// 2 lambda2 w + lambdaq sign(w) 1{|w| < D} (sign(0) = 0).
class FaraoneRegularizer final : public Regularizer {
 public:
  FaraoneRegularizer(double lambda2, double lambdaq, ThresholdRule rule, double factor);
  double penalty(const Eigen::Ref<const Mat>& w) const override;
  void add_gradient(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> grad) const override;
  double strength() const override { return lambdaq_; }
  double lambda2() const { return lambda2_; }

 private:
  double lambda2_, lambdaq_;
  ThresholdRule rule_;
  double factor_;
};

// The regularizer of cfg.method: sca -> WdrRegularizer(sca_alpha, sca_lambda, sca_wdr,
// sca_lambda_warmup_epochs, growth to sca_lambda_final over epochs); faraone -> FaraoneRegularizer (stage 1 only); others -> nullptr.
// Apply it to the latent matrix of every quantized weight.
std::unique_ptr<Regularizer> make_regularizer(const TrainConfig& cfg);

// Faraone stage 2. The threshold: D0 = ternary_threshold(w, rule, factor); with
// target_sparsity s > 0 and fewer than k = ceil(s N) entries at or below D0, D is raised to
// the k-th smallest |w|, so at least k entries are pruned (every entry tied with it too).
double prune_threshold(const Eigen::Ref<const Mat>& w, ThresholdRule rule, double factor, double target_sparsity);
// mask = 1{|W| > D} with D = prune_threshold(...); float 0/1 of w's shape.
Mat prune_mask(const Eigen::Ref<const Mat>& w, ThresholdRule rule, double factor, double target_sparsity);

// Stage lengths in epochs (0 in the config means cfg.epochs).
struct FaraoneSchedule {
  int stage1_epochs = 0;
  int retrain_epochs = 0;
};
FaraoneSchedule faraone_schedule(const TrainConfig& cfg);

// Stage 2 on one weight whose quantizer is a FaraoneQuantizer (method faraone): computes the
// mask from the latent values with cfg's rule, factor and target sparsity, freezes it
// (set_mask), starts learned scales at the masked means (ttq style), zeroes the pruned
// latent values and refreshes. Returns the threshold. Throws if the quantizer is not Faraone's.
double faraone_prune(Weight& w, const TrainConfig& cfg);

}  // namespace ternbench::core
