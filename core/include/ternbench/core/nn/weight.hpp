#pragma once
// A weight matrix as trained (latent, full precision), as the training forward uses it
// (training(): quantize() of the latent values) and as the deployed model uses it
// (deployed(): deploy() of the latent values). The last two differ only for quantizers
// whose deploy_differs() (SCA, stochastic BinaryConnect); without a quantizer all three are
// the latent matrix itself, with no copy.
#include <memory>
#include <string>
#include <vector>

#include "ternbench/core/nn/layer.hpp"
#include "ternbench/core/methods/quantizer.hpp"

namespace ternbench::core {

class Regularizer;

class Weight {
 public:
  // Zero latent weights of shape (rows, cols); full precision until set_quantizer().
  Weight(std::string name, Eigen::Index rows, Eigen::Index cols);

  Param& latent() { return latent_; }
  const Param& latent() const { return latent_; }
  // nullptr keeps the matrix full precision without a copy. Refreshes the deployed matrix.
  void set_quantizer(std::unique_ptr<Quantizer> q);
  Quantizer* quantizer() { return quantizer_.get(); }
  const Quantizer* quantizer() const { return quantizer_.get(); }
  bool quantized() const { return quantizer_ != nullptr; }
  const char* precision() const { return quantizer_ ? quantizer_->precision() : "fp32"; }
  // The quantizer's trainable parameters (TTQ's Wp, Wn); empty without a quantizer.
  std::vector<Param*> quantizer_params();

  // Re-quantizes the training-forward matrix from the latent values and marks the deployed
  // matrix stale; once per step, before forward (a stochastic quantizer draws anew).
  void refresh();
  // The same, bit for bit, right after an optimizer step (and after_step()) with nothing
  // else written to the latent values since: uses what the quantizer's update hook took in
  // that step's update. The trainer's step loop calls it from its second step on.
  void refresh_after_update();
  // The training-forward matrix (as of the last refresh()); what backward differentiates.
  const Mat& training() const { return quantizer_ ? training_ : latent_.value; }
  // Recomputes the deployed matrix now (deployed() also does it on first use).
  void refresh_deployed();
  // The deployed-model matrix: deploy() of the latent values as of the last refresh() or
  // refresh_deployed(), computed on first use after refresh(). Same object as training()
  // unless the quantizer's deploy_differs().
  const Mat& deployed() const;
  // Which matrix forward_weights() returns: deployed() when on (evaluation of the deployed
  // model), training() when off (training, and SCA's continuous evaluation). Off by default.
  void use_deployed(bool on) { use_deployed_ = on; }
  bool using_deployed() const { return use_deployed_; }
  // What a layer's forward multiplies by.
  const Mat& forward_weights() const { return use_deployed_ ? deployed() : training(); }

  // latent().grad holds dL/dW_q on entry and dL/dW on return (the quantizer's backward rule,
  // which also sets the grads of quantizer_params()), plus the gradient of the regularizer
  // set by set_regularizer(), if any.
  void to_latent_gradient();
  // The regularizer whose gradient on the latent values to_latent_gradient() adds (nullptr:
  // none), fused with the quantizer's backward where the two allow it. Must outlive its use;
  // see RegularizerScope.
  void set_regularizer(const Regularizer* reg) { reg_ = reg; }
  // After each optimizer step: the quantizer's constraint on the latent values (clip, mask).
  void after_step();
  // Once on a freshly initialised weight (not a restored one): the quantizer's
  // re-parameterisation of the init (SCA's theta). Refreshes.
  void init_latent();

 private:
  Param latent_;
  std::unique_ptr<Quantizer> quantizer_;
  Mat training_;
  // Lazily filled by deployed() const: the matrix is a cache of deploy(latent).
  mutable Mat deployed_;
  mutable bool deployed_fresh_ = false;
  bool use_deployed_ = false;
  const Regularizer* reg_ = nullptr;
};

// Sets reg on the weights for its own lifetime (a training stage), then clears it.
class RegularizerScope {
 public:
  RegularizerScope(const std::vector<Weight*>& weights, const Regularizer* reg) : weights_(weights) {
    for (Weight* w : weights_) w->set_regularizer(reg);
  }
  ~RegularizerScope() {
    for (Weight* w : weights_) w->set_regularizer(nullptr);
  }
  RegularizerScope(const RegularizerScope&) = delete;
  RegularizerScope& operator=(const RegularizerScope&) = delete;

 private:
  std::vector<Weight*> weights_;
};

}  // namespace ternbench::core
