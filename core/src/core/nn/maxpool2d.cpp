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

bool MaxPool2d::fuses(const BatchNorm& bn) const {
  return bn.channels() == g_.channels && bn.spatial() == Eigen::Index{g_.in_h} * g_.in_w;
}

void MaxPool2d::forward_bn_relu(BatchNorm& bn, const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) {
  TB_CHECK(fuses(bn), "MaxPool2d " + name_ + ": batch norm " + bn.name() + " does not match its channels");
  const Eigen::Index B = x.cols();
  if (argmax_.cols() < B) argmax_.resize(g_.out_features(), B);
  const Eigen::Index need = kernels::bn_relu_maxpool2d_workspace_size(g_, threads_);
  if (work_.size() < need) work_.resize(need);
  bn.prepare(x);
  kernels::bn_relu_maxpool2d_forward(g_, x, bn.center(), bn.scale(), bn.shift(), y, argmax_.leftCols(B), work_,
                                     threads_);
  batch_ = B;
}

void MaxPool2d::backward_relu(const Eigen::Ref<const Mat>& y, const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx) {
  TB_CHECK(dy.cols() == batch_, "MaxPool2d " + name_ + ": backward without a matching forward");
  kernels::maxpool2d_relu_backward(g_, argmax_.leftCols(batch_), y, dy, dx, threads_);
}

void MaxPool2d::backward_relu_bn(const Eigen::Ref<const Mat>& y, const Eigen::Ref<const Mat>& dy, BatchNorm& bn,
                                 const Eigen::Ref<const Mat>& bn_x, Eigen::Ref<Mat> dx) {
  TB_CHECK(dy.cols() == batch_, "MaxPool2d " + name_ + ": backward without a matching forward");
  TB_CHECK(fuses(bn), "MaxPool2d " + name_ + ": batch norm " + bn.name() + " does not match its channels");
  auto [terms_dy, terms_dyxc] = bn.sum_terms(batch_);
  kernels::maxpool2d_relu_backward(g_, argmax_.leftCols(batch_), y, dy, dx, bn_x, bn.center(), terms_dy, terms_dyxc,
                                   threads_);
}

void MaxPool2d::backward(const Eigen::Ref<const Mat>& /*x*/, const Eigen::Ref<const Mat>& /*y*/,
                         const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx, bool want_dx) {
  if (!want_dx) return;
  TB_CHECK(dy.cols() == batch_, "MaxPool2d " + name_ + ": backward without a matching forward");
  kernels::maxpool2d_backward(g_, argmax_.leftCols(batch_), dy, dx, threads_);
}

}  // namespace ternbench::core
