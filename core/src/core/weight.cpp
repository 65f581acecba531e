#include "ternbench/core/weight.hpp"

#include <utility>

namespace ternbench::core {

Weight::Weight(std::string name, Eigen::Index rows, Eigen::Index cols) {
  latent_.name = std::move(name);
  latent_.value = Mat::Zero(rows, cols);
  latent_.grad = Mat::Zero(rows, cols);
  latent_.decay = true;
}

void Weight::set_quantizer(std::unique_ptr<Quantizer> q) {
  quantizer_ = std::move(q);
  if (quantizer_) {
    deployed_.resize(latent_.value.rows(), latent_.value.cols());
  } else {
    deployed_.resize(0, 0);
  }
  refresh();
}

void Weight::refresh() {
  if (quantizer_) quantizer_->quantize(latent_.value, deployed_);
}

void Weight::to_latent_gradient() {
  if (quantizer_) quantizer_->backward(latent_.value, latent_.grad, latent_.grad);
}

}  // namespace ternbench::core
