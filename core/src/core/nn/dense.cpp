#include "ternbench/core/nn/dense.hpp"

#include <cmath>
#include <utility>

#include "ternbench/core/kernels/dense.hpp"

namespace ternbench::core {

Dense::Dense(std::string name, Eigen::Index in, Eigen::Index out, Rng& rng)
    : name_(std::move(name)), W_(name_ + "/W", out, in) {
  b_.name = name_ + "/b";
  b_.value = Mat::Zero(out, 1);
  b_.grad = Mat::Zero(out, 1);
  // PyTorch's kaiming_uniform_(a = sqrt(5)) gives gain sqrt(1/3), so the bound
  // gain * sqrt(3 / fan_in) is 1/sqrt(fan_in); the bias uses the same bound.
  const float bound = in > 0 ? static_cast<float>(1.0 / std::sqrt(static_cast<double>(in))) : 0.0f;
  auto draw = [&] { return (2.0f * rng.uniform_float() - 1.0f) * bound; };
  Mat& W = W_.latent().value;
  for (Eigen::Index r = 0; r < out; ++r) {
    for (Eigen::Index c = 0; c < in; ++c) W(r, c) = draw();
  }
  for (Eigen::Index r = 0; r < out; ++r) b_.value(r, 0) = draw();
}

void Dense::forward(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) {
  if (training_) {
    kernels::dense_forward(W_.forward_weights(), b_.value, x, y);
  } else {
    kernels::dense_forward_chain(W_.forward_weights(), b_.value, x, y, threads_);
  }
}

void Dense::backward(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& /*y*/,
                     const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx, bool want_dx) {
  // The product used W_q, so these are gradients with respect to W_q ...
  kernels::dense_backward_params(x, dy, W_.latent().grad, b_.grad);
  if (want_dx) kernels::dense_backward_input(W_.forward_weights(), dy, dx);
  // ... which the quantizer's rule turns into gradients of the latent weights.
  W_.to_latent_gradient();
}

}  // namespace ternbench::core
