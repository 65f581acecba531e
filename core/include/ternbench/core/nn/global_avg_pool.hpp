#pragma once
// Global average pooling: the mean of each channel over its H*W positions.
//   x: (channels*h*w, B) in CHW order  ->  y: (channels, B)
#include <string>

#include "ternbench/core/nn/layer.hpp"

namespace ternbench::core {

class GlobalAvgPool final : public Layer {
 public:
  GlobalAvgPool(std::string name, int channels, int h, int w);

  const std::string& name() const override { return name_; }
  Eigen::Index in_features() const override { return channels_ * spatial_; }
  Eigen::Index out_features() const override { return channels_; }
  void forward(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) override;
  void backward(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& y, const Eigen::Ref<const Mat>& dy,
                Eigen::Ref<Mat> dx, bool want_dx) override;

 private:
  std::string name_;
  Eigen::Index channels_, spatial_;
};

}  // namespace ternbench::core
