#include "ternbench/core/nn/dropout.hpp"

#include <utility>

#include "ternbench/base/error.hpp"

namespace ternbench::core {

Dropout::Dropout(std::string name, Eigen::Index features, double rate, std::uint64_t seed)
    : name_(std::move(name)), features_(features), rate_(rate), rng_(seed) {
  TB_CHECK(rate >= 0.0 && rate <= 1.0, "Dropout " + name_ + ": rate must be in [0, 1]");
}

void Dropout::forward(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) {
  TB_CHECK(x.rows() == features_ && y.rows() == features_ && y.cols() == x.cols(), "Dropout: shape mismatch");
  masked_ = training_ && rate_ > 0.0;
  if (!masked_) {
    y = x;
    return;
  }
  const Eigen::Index B = x.cols();
  if (mask_.cols() < B) mask_.resize(features_, B);
  auto m = mask_.leftCols(B);
  if (rate_ >= 1.0) {
    m.setZero();  // the scale 1 / (1 - rate) is infinite: every activation is dropped
  } else {
    const float threshold = static_cast<float>(rate_);
    const float keep = static_cast<float>(1.0 / (1.0 - rate_));
    for (Eigen::Index j = 0; j < B; ++j) {
      for (Eigen::Index i = 0; i < features_; ++i) m(i, j) = rng_.uniform_float() < threshold ? 0.0f : keep;
    }
  }
  y = x.cwiseProduct(m);
}

void Dropout::backward(const Eigen::Ref<const Mat>& /*x*/, const Eigen::Ref<const Mat>& /*y*/,
                       const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx, bool want_dx) {
  if (!want_dx) return;
  if (masked_) {
    dx = dy.cwiseProduct(mask_.leftCols(dy.cols()));
  } else {
    dx = dy;
  }
}

}  // namespace ternbench::core
