#pragma once
// 2-D max pooling, no padding, floor output size (PyTorch's MaxPool2d defaults).
//   x: (channels*in_h*in_w, B) CHW  ->  y: (channels*oh*ow, B) CHW,  oh = (in_h - k)/s + 1
#include <string>

#include "ternbench/core/kernels/pool.hpp"
#include "ternbench/core/nn/batchnorm.hpp"
#include "ternbench/core/nn/layer.hpp"

namespace ternbench::core {

class MaxPool2d final : public Layer {
 public:
  // stride 0 means stride = kernel.
  MaxPool2d(std::string name, int channels, int in_h, int in_w, int kernel, int stride = 0);

  const std::string& name() const override { return name_; }
  Eigen::Index in_features() const override { return g_.in_features(); }
  Eigen::Index out_features() const override { return g_.out_features(); }
  // Records each window's argmax for backward (in a buffer grown once to the largest batch).
  void forward(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) override;
  // Routes dy to the argmax of the last forward, which must have had the same batch size.
  void backward(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& y, const Eigen::Ref<const Mat>& dy,
                Eigen::Ref<Mat> dx, bool want_dx) override;
  // The Model's fused BatchNorm -> ReLU -> MaxPool2d run: forward_bn_relu(bn, x, y) gives
  // forward(relu(bn.forward(x))) bit for bit, with bn's side effects (statistics, running
  // averages) but without storing bn's or ReLU's output; backward_relu(y, dy, dx) then gives
  // ReLU's backward of this layer's backward, dx being bn's dy. fuses(bn): the shapes match.
  bool fuses(const BatchNorm& bn) const;
  void forward_bn_relu(BatchNorm& bn, const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y);
  void backward_relu(const Eigen::Ref<const Mat>& y, const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx);
  // backward_relu that also hands bn (whose input was bn_x) the terms of its sums, for
  // bn.backward_from_terms(bn_x, dx, ...).
  void backward_relu_bn(const Eigen::Ref<const Mat>& y, const Eigen::Ref<const Mat>& dy, BatchNorm& bn,
                        const Eigen::Ref<const Mat>& bn_x, Eigen::Ref<Mat> dx);
  void set_threads(int threads) override { threads_ = threads < 1 ? 1 : threads; }

  int channels() const { return g_.channels; }
  int out_height() const { return g_.out_h(); }
  int out_width() const { return g_.out_w(); }
  const kernels::PoolGeometry& geometry() const { return g_; }

 private:
  std::string name_;
  kernels::PoolGeometry g_;
  kernels::IndexMat argmax_;  // (out_features, capacity)
  Eigen::VectorXf work_;      // forward_bn_relu's planes, grown once
  Eigen::Index batch_ = 0;    // columns of the last forward
  int threads_ = 1;
};

}  // namespace ternbench::core
