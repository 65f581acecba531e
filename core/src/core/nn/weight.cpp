#include "ternbench/core/nn/weight.hpp"

#include <utility>

#include "ternbench/core/methods/regularizer.hpp"

namespace ternbench::core {

Weight::Weight(std::string name, Eigen::Index rows, Eigen::Index cols) {
  latent_.name = std::move(name);
  latent_.value = Mat::Zero(rows, cols);
  latent_.grad = Mat::Zero(rows, cols);
  latent_.decay = true;
}

void Weight::set_quantizer(std::unique_ptr<Quantizer> q) {
  quantizer_ = std::move(q);
  latent_.after_update = quantizer_ ? quantizer_->update_hook() : nullptr;
  if (quantizer_) {
    training_.resize(latent_.value.rows(), latent_.value.cols());
  } else {
    training_.resize(0, 0);
  }
  if (quantizer_ && quantizer_->deploy_differs()) {
    deployed_.resize(latent_.value.rows(), latent_.value.cols());
  } else {
    deployed_.resize(0, 0);
  }
  refresh();
}

std::vector<Param*> Weight::quantizer_params() {
  if (!quantizer_) return {};
  return quantizer_->params();
}

void Weight::refresh() {
  if (quantizer_) quantizer_->quantize(latent_.value, training_);
  deployed_fresh_ = false;
}

void Weight::refresh_after_update() {
  if (quantizer_) quantizer_->quantize_after_update(latent_.value, training_);
  deployed_fresh_ = false;
}

void Weight::refresh_deployed() {
  if (quantizer_ && quantizer_->deploy_differs()) quantizer_->deploy(latent_.value, deployed_);
  deployed_fresh_ = true;
}

const Mat& Weight::deployed() const {
  if (!quantizer_) return latent_.value;
  if (!quantizer_->deploy_differs()) return training_;
  if (!deployed_fresh_) {
    // Logically const: deployed_ caches deploy(latent) for the current latent values.
    quantizer_->deploy(latent_.value, deployed_);
    deployed_fresh_ = true;
  }
  return deployed_;
}

void Weight::to_latent_gradient() {
  // training_ holds the last quantize(latent): refresh() runs before every forward.
  if (!quantizer_) {
    if (reg_ != nullptr) reg_->add_gradient(latent_.value, latent_.grad);
  } else if (reg_ != nullptr) {
    quantizer_->backward_regularized(latent_.value, training_, latent_.grad, latent_.grad, *reg_);
  } else {
    quantizer_->backward_given_output(latent_.value, training_, latent_.grad, latent_.grad);
  }
}

void Weight::after_step() {
  if (quantizer_) quantizer_->after_step(latent_.value);
}

void Weight::init_latent() {
  if (!quantizer_) return;
  quantizer_->init_latent(latent_.value);
  refresh();
}

}  // namespace ternbench::core
