#pragma once
// Element-wise activations. Pure functions; x, y, dx may alias (element-wise). `threads`:
// OpenMP threads for large activations, split by sample, so results do not depend on it.
#include <Eigen/Core>

namespace ternbench::kernels {

using Mat = Eigen::MatrixXf;

// y = max(x, 0)                     x, y: (n, B)
void relu_forward(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y, int threads = 1);

// dx = dy * 1{y > 0}                y, dy, dx: (n, B); y is the forward output (y > 0 iff x > 0)
void relu_backward(const Eigen::Ref<const Mat>& y, const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx,
                   int threads = 1);

}  // namespace ternbench::kernels
