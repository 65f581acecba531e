#pragma once
// Pre-activation residual block (He et al., "Identity Mappings in Deep Residual Networks"):
//   r = relu(bn0(x));  y = conv1(relu(bn1(conv0(r)))) + shortcut
// conv0 is 3x3 with the block's stride, conv1 3x3 with stride 1, both padding 1. The shortcut
// is x itself when the shape is kept, else a 1x1 convolution of r with the block's stride
// (projection, option B), as in the reference pre-activation code.
//   x: (in_c*h*w, B)  ->  y: (out_c*out_h*out_w, B), CHW order
#include <memory>
#include <string>
#include <vector>

#include "ternbench/base/rng.hpp"
#include "ternbench/core/nn/batchnorm.hpp"
#include "ternbench/core/nn/conv2d.hpp"
#include "ternbench/core/nn/layer.hpp"
#include "ternbench/core/nn/relu.hpp"

namespace ternbench::core {

class ResidualBlock final : public Layer {
 public:
  // Sub-layers are "<name>/bn0", "<name>/conv0", "<name>/bn1", "<name>/conv1" and, when
  // stride != 1 or in_c != out_c, "<name>/shortcut"; weights drawn from rng in that order.
  ResidualBlock(std::string name, int in_c, int h, int w, int out_c, int stride, Rng& rng);

  const std::string& name() const override { return name_; }
  Eigen::Index in_features() const override { return bn0_.in_features(); }
  Eigen::Index out_features() const override { return conv1_.out_features(); }
  void forward(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) override;
  void backward(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& y, const Eigen::Ref<const Mat>& dy,
                Eigen::Ref<Mat> dx, bool want_dx) override;
  std::vector<Param*> params() override;
  std::vector<Param*> buffers() override;
  void set_training(bool training) override;
  void set_threads(int threads) override;
  std::vector<Weight*> weights() override;
  void refresh() override;

  int out_channels() const { return out_c_; }
  int out_height() const { return out_h_; }
  int out_width() const { return out_w_; }
  bool has_projection() const { return shortcut_ != nullptr; }
  BatchNorm& bn0() { return bn0_; }
  BatchNorm& bn1() { return bn1_; }
  Conv2d& conv0() { return conv0_; }
  Conv2d& conv1() { return conv1_; }
  Conv2d* shortcut() { return shortcut_.get(); }

 private:
  // Grows every buffer to b columns once; later (smaller or equal) batches reuse them.
  void reserve(Eigen::Index b);

  std::string name_;
  int out_c_, out_h_, out_w_;
  BatchNorm bn0_;
  Relu relu0_;
  Conv2d conv0_;
  BatchNorm bn1_;
  Relu relu1_;
  Conv2d conv1_;
  std::unique_ptr<Conv2d> shortcut_;
  // Forward activations, kept for backward:  a0 = bn0(x), r0 = relu(a0) (input size);
  // c0 = conv0(r0), a1 = bn1(c0), r1 = relu(a1), c1 = conv1(r1), s = shortcut(r0) (output size).
  Mat a0_, r0_, c0_, a1_, r1_, c1_, s_;
  // Backward scratch: one gradient per size, updated in place through the ReLUs and batch
  // norms (element-wise, so their kernels allow it), plus the projection's input gradient.
  Mat g_in_, g_out_, g_shortcut_;
};

}  // namespace ternbench::core
