#include "ternbench/core/nn/relu.hpp"

#include "ternbench/core/kernels/activation.hpp"

namespace ternbench::core {

void Relu::forward(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) { kernels::relu_forward(x, y, threads_); }

void Relu::backward(const Eigen::Ref<const Mat>& /*x*/, const Eigen::Ref<const Mat>& y,
                    const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx, bool want_dx) {
  if (want_dx) kernels::relu_backward(y, dy, dx, threads_);
}

}  // namespace ternbench::core
