#pragma once
// A weight matrix as trained (latent, full precision) and as deployed (quantized or not).
#include <memory>
#include <string>

#include "ternbench/core/layer.hpp"
#include "ternbench/core/quantizer.hpp"

namespace ternbench::core {

class Weight {
 public:
  // Zero latent weights of shape (rows, cols); full precision until set_quantizer().
  Weight(std::string name, Eigen::Index rows, Eigen::Index cols);

  Param& latent() { return latent_; }
  const Param& latent() const { return latent_; }
  // nullptr keeps the matrix full precision without a copy. Refreshes the deployed matrix.
  void set_quantizer(std::unique_ptr<Quantizer> q);
  const Quantizer* quantizer() const { return quantizer_.get(); }
  bool quantized() const { return quantizer_ != nullptr; }
  const char* precision() const { return quantizer_ ? quantizer_->precision() : "fp32"; }

  // Re-quantizes from the latent values; once per step, before forward.
  void refresh();
  // What forward and backward use: the quantized copy, or the latent values themselves.
  const Mat& deployed() const { return quantizer_ ? deployed_ : latent_.value; }
  // latent().grad holds dL/dW_q on entry and dL/dW on return (the quantizer's backward rule).
  void to_latent_gradient();

 private:
  Param latent_;
  std::unique_ptr<Quantizer> quantizer_;
  Mat deployed_;
};

}  // namespace ternbench::core
