#include "ternbench/core/optimizer.hpp"

#include <utility>

#include "ternbench/base/error.hpp"

namespace ternbench::core {

Sgd::Sgd(std::vector<Param*> params, double lr, double momentum, double weight_decay)
    : params_(std::move(params)),
      lr_(static_cast<float>(lr)),
      momentum_(static_cast<float>(momentum)),
      weight_decay_(static_cast<float>(weight_decay)) {
  velocity_.reserve(params_.size());
  for (const Param* p : params_) {
    TB_CHECK(p != nullptr && p->grad.rows() == p->value.rows() && p->grad.cols() == p->value.cols(),
             "Sgd: parameter and gradient shapes differ");
    velocity_.push_back(Mat::Zero(p->value.rows(), p->value.cols()));
  }
}

void Sgd::step() {
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Param& p = *params_[i];
    Mat& v = velocity_[i];
    // Single fused element-wise expressions: no temporaries.
    if (p.decay && weight_decay_ != 0.0f) {
      v = momentum_ * v + (p.grad + weight_decay_ * p.value);
    } else {
      v = momentum_ * v + p.grad;
    }
    p.value -= lr_ * v;
  }
}

}  // namespace ternbench::core
