#include "ternbench/core/nn/maxpool2d.hpp"

#include <string>
#include <utility>

#include "ternbench/base/error.hpp"

namespace ternbench::core {

MaxPool2d::MaxPool2d(std::string name, int channels, int in_h, int in_w, int kernel, int stride)
    : name_(std::move(name)), g_{channels, in_h, in_w, kernel, stride == 0 ? kernel : stride} {
  TB_CHECK(channels >= 1 && kernel >= 1 && stride >= 0,
           "MaxPool2d " + name_ + ": channels and kernel must be >= 1 and stride >= 0");
  TB_CHECK(kernel <= in_h && kernel <= in_w, "MaxPool2d " + name_ + ": kernel " + std::to_string(kernel) +
                                                 " is larger than the " + std::to_string(in_h) + "x" +
                                                 std::to_string(in_w) + " input");
}

void MaxPool2d::forward(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) {
  const Eigen::Index B = x.cols();
  if (argmax_.cols() < B) argmax_.resize(g_.out_features(), B);
  kernels::maxpool2d_forward(g_, x, y, argmax_.leftCols(B), threads_);
  batch_ = B;
}

void MaxPool2d::backward(const Eigen::Ref<const Mat>& /*x*/, const Eigen::Ref<const Mat>& /*y*/,
                         const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx, bool want_dx) {
  if (!want_dx) return;
  TB_CHECK(dy.cols() == batch_, "MaxPool2d " + name_ + ": backward without a matching forward");
  kernels::maxpool2d_backward(g_, argmax_.leftCols(batch_), dy, dx, threads_);
}

}  // namespace ternbench::core
