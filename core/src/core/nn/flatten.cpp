#include "ternbench/core/nn/flatten.hpp"

namespace ternbench::core {

void Flatten::forward(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) { y = x; }

void Flatten::backward(const Eigen::Ref<const Mat>& /*x*/, const Eigen::Ref<const Mat>& /*y*/,
                       const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx, bool want_dx) {
  if (want_dx) dx = dy;
}

}  // namespace ternbench::core
