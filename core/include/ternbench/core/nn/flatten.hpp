#pragma once
// Image (C, H, W) to feature vector. Activations are already stored one sample per column in
// CHW order, so this is the identity; it exists so that a model reads like its paper.
#include <string>
#include <utility>

#include "ternbench/core/nn/layer.hpp"

namespace ternbench::core {

class Flatten final : public Layer {
 public:
  Flatten(std::string name, Eigen::Index features) : name_(std::move(name)), features_(features) {}

  const std::string& name() const override { return name_; }
  Eigen::Index in_features() const override { return features_; }
  Eigen::Index out_features() const override { return features_; }
  void forward(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) override;
  void backward(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& y, const Eigen::Ref<const Mat>& dy,
                Eigen::Ref<Mat> dx, bool want_dx) override;

 private:
  std::string name_;
  Eigen::Index features_;
};

}  // namespace ternbench::core
