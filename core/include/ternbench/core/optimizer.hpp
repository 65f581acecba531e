#pragma once
// SGD with momentum in PyTorch's convention (dampening 0, not Nesterov):
//   g = grad + weight_decay * w   (only for params with Param::decay)
//   v = momentum * v + g
//   w = w - lr * v
#include <vector>

#include "ternbench/core/layer.hpp"

namespace ternbench::core {

class Sgd {
 public:
  // params must outlive the optimizer; velocities start at zero (so the first v equals g).
  Sgd(std::vector<Param*> params, double lr, double momentum, double weight_decay);

  void step();
  void set_lr(double lr) { lr_ = static_cast<float>(lr); }
  double lr() const { return lr_; }

 private:
  std::vector<Param*> params_;
  std::vector<Mat> velocity_;
  float lr_, momentum_, weight_decay_;
};

}  // namespace ternbench::core
