#pragma once
// A weight matrix as trained (latent, full precision), as the training forward uses it
// (deployed(): quantize() of the latent values) and as the deployed model uses it
// (inference(): deploy() of the latent values). The last two differ only for quantizers
// whose deploy_differs() (SCA, stochastic BinaryConnect); without a quantizer all three are
// the latent matrix itself, with no copy.
#include <memory>
#include <string>
#include <vector>

#include "ternbench/core/nn/layer.hpp"
#include "ternbench/core/methods/quantizer.hpp"

namespace ternbench::core {

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

  // Re-quantizes the training-forward matrix from the latent values and marks the inference
  // matrix stale; once per step, before forward (a stochastic quantizer draws anew).
  void refresh();
  // The training-forward matrix (as of the last refresh()); what backward differentiates.
  const Mat& deployed() const { return quantizer_ ? deployed_ : latent_.value; }
  // Recomputes the inference matrix now (inference() also does it on first use).
  void refresh_inference();
  // The deployed-model matrix: deploy() of the latent values as of the last refresh() or
  // refresh_inference(), computed on first use after refresh(). Same object as deployed()
  // unless the quantizer's deploy_differs().
  const Mat& inference() const;
  // Which matrix forward_weights() returns: inference() when on (evaluation of the deployed
  // model), deployed() when off (training, and SCA's continuous evaluation). Off by default.
  void use_inference(bool on) { use_inference_ = on; }
  bool using_inference() const { return use_inference_; }
  // What a layer's forward multiplies by.
  const Mat& forward_weights() const { return use_inference_ ? inference() : deployed(); }

  // latent().grad holds dL/dW_q on entry and dL/dW on return (the quantizer's backward rule,
  // which also sets the grads of quantizer_params()).
  void to_latent_gradient();
  // After each optimizer step: the quantizer's constraint on the latent values (clip, mask).
  void after_step();
  // Once on a freshly initialised weight (not a restored one): the quantizer's
  // re-parameterisation of the init (SCA's theta). Refreshes.
  void init_latent();

 private:
  Param latent_;
  std::unique_ptr<Quantizer> quantizer_;
  Mat deployed_;
  // Lazily filled by inference() const: the matrix is a cache of deploy(latent).
  mutable Mat inference_;
  mutable bool inference_fresh_ = false;
  bool use_inference_ = false;
};

}  // namespace ternbench::core
