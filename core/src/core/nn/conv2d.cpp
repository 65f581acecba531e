#include "ternbench/core/nn/conv2d.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "ternbench/base/error.hpp"

namespace ternbench::core {

Conv2d::Conv2d(std::string name, int in_c, int in_h, int in_w, int out_c, int kernel, int stride, int padding,
               Rng& rng)
    : name_(std::move(name)),
      g_{in_c, in_h, in_w, out_c, kernel, stride, padding},
      W_(name_ + "/W", out_c, Eigen::Index{in_c} * kernel * kernel) {
  TB_CHECK(in_c >= 1 && in_h >= 1 && in_w >= 1 && out_c >= 1 && kernel >= 1 && stride >= 1 && padding >= 0,
           "Conv2d " + name_ + ": channels, sizes, kernel and stride must be >= 1 and padding >= 0");
  TB_CHECK(kernel <= in_h + 2 * padding && kernel <= in_w + 2 * padding,
           "Conv2d " + name_ + ": kernel " + std::to_string(kernel) + " is larger than the " + std::to_string(in_h) +
               "x" + std::to_string(in_w) + " input plus padding " + std::to_string(padding));
  W_.latent().shape = {out_c, in_c, kernel, kernel};
  b_.name = name_ + "/b";
  b_.value = Mat::Zero(out_c, 1);
  b_.grad = Mat::Zero(out_c, 1);
  b_.shape = {out_c};
  // PyTorch's kaiming_uniform_(a = sqrt(5)) has gain sqrt(1/3), so its bound
  // gain * sqrt(3 / fan_in) is 1/sqrt(fan_in); the bias uses the same bound.
  const Eigen::Index fan_in = g_.patch();
  const float bound = static_cast<float>(1.0 / std::sqrt(static_cast<double>(fan_in)));
  auto draw = [&] { return (2.0f * rng.uniform_float() - 1.0f) * bound; };
  Mat& W = W_.latent().value;
  for (Eigen::Index r = 0; r < W.rows(); ++r) {
    for (Eigen::Index c = 0; c < W.cols(); ++c) W(r, c) = draw();
  }
  for (Eigen::Index r = 0; r < out_c; ++r) b_.value(r, 0) = draw();
}

void Conv2d::reserve_workspace() {
  const Eigen::Index need = kernels::conv2d_workspace_size(g_, threads_);
  if (work_.size() < need) work_.resize(need);
}

void Conv2d::forward(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) {
  reserve_workspace();
  kernels::conv2d_forward(g_, W_.forward_weights(), b_.value, x, y, work_, threads_);
}

void Conv2d::backward(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& /*y*/,
                      const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx, bool want_dx) {
  reserve_workspace();
  // Gradients with respect to the deployed (possibly quantized) weights ...
  kernels::conv2d_backward_params(g_, x, dy, W_.latent().grad, b_.grad, work_, threads_);
  if (want_dx) kernels::conv2d_backward_input(g_, W_.forward_weights(), dy, dx, work_, threads_);
  // ... which the quantizer's rule turns into gradients of the latent weights.
  W_.to_latent_gradient();
}

}  // namespace ternbench::core
