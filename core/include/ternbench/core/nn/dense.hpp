#pragma once
// Fully connected layer y = W x + b with W: (out, in), one sample per column.
#include <string>
#include <vector>

#include "ternbench/base/rng.hpp"
#include "ternbench/core/nn/layer.hpp"
#include "ternbench/core/nn/weight.hpp"

namespace ternbench::core {

class Dense final : public Layer {
 public:
  // Parameters are "<name>/W" (out, in) and "<name>/b" (out, 1), initialised as PyTorch's
  // nn.Linear does (kaiming-uniform with a = sqrt(5)): both U(-1/sqrt(in), 1/sqrt(in)),
  // drawn from rng in row-major order of W, then b.
  Dense(std::string name, Eigen::Index in, Eigen::Index out, Rng& rng);

  const std::string& name() const override { return name_; }
  Eigen::Index in_features() const override { return W_.latent().value.cols(); }
  Eigen::Index out_features() const override { return W_.latent().value.rows(); }
  void forward(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) override;
  void backward(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& y, const Eigen::Ref<const Mat>& dy,
                Eigen::Ref<Mat> dx, bool want_dx) override;
  std::vector<Param*> params() override { return {&W_.latent(), &b_}; }
  Weight* weight() override { return &W_; }
  void refresh() override { W_.refresh(); }
  // Evaluation forwards with kernels::dense_forward_chain (on `threads` threads), training
  // forwards with the GEMM that backward's gradients are consistent with.
  void set_training(bool training) override { training_ = training; }
  void set_threads(int threads) override { threads_ = threads < 1 ? 1 : threads; }

  Param& bias() { return b_; }

 private:
  std::string name_;
  Weight W_;
  Param b_;
  bool training_ = true;
  int threads_ = 1;
};

}  // namespace ternbench::core
