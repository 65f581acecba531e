#pragma once
// Batch normalisation with PyTorch semantics, for dense features (spatial = 1, statistics per
// feature over the batch) and for images (statistics per channel over the batch and the H*W
// positions; features in CHW order).
//   training:   y = gamma * (x - mean_B) / sqrt(var_B + eps) + beta, with the batch's mean and
//               biased variance; running_mean/var <- (1 - momentum) * running + momentum * batch,
//               the variance unbiased (times M / (M - 1), M = B * spatial values per channel).
//   evaluation: the same with running_mean and running_var.
#include <string>
#include <utility>
#include <vector>

#include "ternbench/core/kernels/normalization.hpp"
#include "ternbench/core/nn/layer.hpp"

namespace ternbench::core {

class BatchNorm final : public Layer {
 public:
  static constexpr double kMomentum = 0.1;
  static constexpr double kEps = 1e-5;

  // Parameters "<name>/gamma" (ones) and "<name>/beta" (zeros), shape {channels}, no weight
  // decay; buffers "<name>/running_mean" (zeros) and "<name>/running_var" (ones).
  BatchNorm(std::string name, int channels, int spatial);

  const std::string& name() const override { return name_; }
  Eigen::Index in_features() const override { return channels_ * spatial_; }
  Eigen::Index out_features() const override { return channels_ * spatial_; }
  void forward(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) override;
  // forward followed by ReLU in one pass (y = max(forward(x), 0), bit for bit): the Model
  // calls it for a BatchNorm -> ReLU pair, whose ReLU then only runs backward.
  void forward_relu(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y);
  // The part of forward that precedes the per-element affine map: batch statistics and the
  // running averages (training) and center()/scale(). Fused kernels apply the map themselves,
  // after which backward works as after forward.
  void prepare(const Eigen::Ref<const Mat>& x);
  // y = scale_c * (x - center_c) + shift_c, valid after prepare or forward.
  const kernels::VecF& center() const { return center_; }
  const kernels::VecF& scale() const { return scale_; }
  Eigen::Ref<const kernels::VecF> shift() const { return beta_.value.col(0); }
  // Exact gradients of the forward that ran last (batch statistics in training mode, where the
  // mean and variance depend on x; constants in evaluation mode). dy and dx may be one buffer.
  void backward(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& y, const Eigen::Ref<const Mat>& dy,
                Eigen::Ref<Mat> dx, bool want_dx) override;
  // Fused backward (MaxPool2d::backward_relu): a kernel that writes dy fills
  // sum_terms(B) with the per-sample terms of channel_backward_sums (channel_sum_terms);
  // backward_from_terms then gives what backward gives.
  std::pair<Eigen::Ref<Mat>, Eigen::Ref<Mat>> sum_terms(Eigen::Index batch);
  void backward_from_terms(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx,
                           bool want_dx);
  std::vector<Param*> params() override { return {&gamma_, &beta_}; }
  std::vector<Param*> buffers() override { return {&running_mean_, &running_var_}; }
  void set_training(bool training) override { training_ = training; }
  void set_threads(int threads) override { threads_ = threads < 1 ? 1 : threads; }

  bool training() const { return training_; }
  Eigen::Index channels() const { return channels_; }
  Eigen::Index spatial() const { return spatial_; }
  Param& gamma() { return gamma_; }
  Param& beta() { return beta_; }
  Param& running_mean() { return running_mean_; }
  Param& running_var() { return running_var_; }

 private:
  void backward_from_sums(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx,
                          bool want_dx);

  std::string name_;
  Eigen::Index channels_, spatial_;
  bool training_ = true;
  bool batch_stats_ = true;  // the last forward normalised with batch statistics
  int threads_ = 1;
  Param gamma_, beta_, running_mean_, running_var_;
  // Per-channel work vectors, sized once here so that a step allocates nothing.
  kernels::VecD mean_, var_, sum_dy_, sum_dyxc_;
  kernels::VecF center_, inv_std_, scale_, a_, b_, k_;
  Mat terms_dy_, terms_dyxc_;  // (channels, capacity): sum_terms, grown once
};

}  // namespace ternbench::core
