#include "ternbench/core/nn/weight.hpp"

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
  if (quantizer_ && quantizer_->deploy_differs()) {
    inference_.resize(latent_.value.rows(), latent_.value.cols());
  } else {
    inference_.resize(0, 0);
  }
  refresh();
}

std::vector<Param*> Weight::quantizer_params() {
  if (!quantizer_) return {};
  return quantizer_->params();
}

void Weight::refresh() {
  if (quantizer_) quantizer_->quantize(latent_.value, deployed_);
  inference_fresh_ = false;
}

void Weight::refresh_inference() {
  if (quantizer_ && quantizer_->deploy_differs()) quantizer_->deploy(latent_.value, inference_);
  inference_fresh_ = true;
}

const Mat& Weight::inference() const {
  if (!quantizer_) return latent_.value;
  if (!quantizer_->deploy_differs()) return deployed_;
  if (!inference_fresh_) {
    // Logically const: inference_ caches deploy(latent) for the current latent values.
    quantizer_->deploy(latent_.value, inference_);
    inference_fresh_ = true;
  }
  return inference_;
}

void Weight::to_latent_gradient() {
  // deployed_ holds the last quantize(latent): refresh() runs before every forward.
  if (quantizer_) quantizer_->backward_given_output(latent_.value, deployed_, latent_.grad, latent_.grad);
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
