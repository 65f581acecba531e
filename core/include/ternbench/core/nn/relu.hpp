#pragma once
// y = max(x, 0), element-wise.
#include <string>
#include <utility>

#include "ternbench/core/nn/layer.hpp"

namespace ternbench::core {

class Relu final : public Layer {
 public:
  Relu(std::string name, Eigen::Index features) : name_(std::move(name)), features_(features) {}

  const std::string& name() const override { return name_; }
  Eigen::Index in_features() const override { return features_; }
  Eigen::Index out_features() const override { return features_; }
  void forward(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) override;
  void backward(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& y, const Eigen::Ref<const Mat>& dy,
                Eigen::Ref<Mat> dx, bool want_dx) override;
  void set_threads(int threads) override { threads_ = threads < 1 ? 1 : threads; }

 private:
  std::string name_;
  Eigen::Index features_;
  int threads_ = 1;
};

}  // namespace ternbench::core
