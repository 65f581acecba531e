#pragma once
// 2-D convolution layer (PyTorch's Conv2d: cross-correlation, zero padding, square kernel).
//   x: (in_c*in_h*in_w, B) CHW  ->  y: (out_c*oh*ow, B) CHW,  oh = (in_h + 2p - k)/s + 1
#include <string>
#include <vector>

#include "ternbench/base/rng.hpp"
#include "ternbench/core/kernels/conv.hpp"
#include "ternbench/core/nn/layer.hpp"
#include "ternbench/core/nn/weight.hpp"

namespace ternbench::core {

class Conv2d final : public Layer {
 public:
  // Parameters are "<name>/W" (out_c, in_c*k*k), stored as {out_c, in_c, k, k}, and "<name>/b"
  // (out_c, 1), stored as {out_c}. Initialised as PyTorch's nn.Conv2d (kaiming-uniform with
  // a = sqrt(5)): both U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_c*k*k, drawn from
  // rng in row-major order of W, then b.
  Conv2d(std::string name, int in_c, int in_h, int in_w, int out_c, int kernel, int stride, int padding, Rng& rng);

  const std::string& name() const override { return name_; }
  Eigen::Index in_features() const override { return g_.in_features(); }
  Eigen::Index out_features() const override { return g_.out_features(); }
  // Both use set_threads() threads (split by image; results do not depend on it).
  void forward(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) override;
  void backward(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& y, const Eigen::Ref<const Mat>& dy,
                Eigen::Ref<Mat> dx, bool want_dx) override;
  std::vector<Param*> params() override { return {&W_.latent(), &b_}; }
  Weight* weight() override { return &W_; }
  void refresh() override { W_.refresh(); }
  void set_threads(int threads) override { threads_ = threads < 1 ? 1 : threads; }
  int threads() const { return threads_; }

  int out_channels() const { return g_.out_c; }
  int out_height() const { return g_.out_h(); }
  int out_width() const { return g_.out_w(); }
  const kernels::ConvGeometry& geometry() const { return g_; }
  Param& bias() { return b_; }

 private:
  // Grows the scratch (once) when the thread count grows.
  void reserve_workspace();

  std::string name_;
  kernels::ConvGeometry g_;
  Weight W_;
  Param b_;
  Eigen::VectorXf work_;  // kernel scratch, independent of the batch size
  int threads_ = 1;
};

}  // namespace ternbench::core
