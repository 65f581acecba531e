#include "ternbench/core/nn/global_avg_pool.hpp"

#include <utility>

#include "ternbench/base/error.hpp"
#include "ternbench/core/kernels/normalization.hpp"

namespace ternbench::core {

GlobalAvgPool::GlobalAvgPool(std::string name, int channels, int h, int w)
    : name_(std::move(name)), channels_(channels), spatial_(Eigen::Index{h} * w) {
  TB_CHECK(channels > 0 && h > 0 && w > 0, "GlobalAvgPool " + name_ + ": channels, h and w must be > 0");
}

void GlobalAvgPool::forward(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) {
  kernels::global_avg_pool_forward(x, spatial_, y);
}

void GlobalAvgPool::backward(const Eigen::Ref<const Mat>& /*x*/, const Eigen::Ref<const Mat>& /*y*/,
                             const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx, bool want_dx) {
  if (want_dx) kernels::global_avg_pool_backward(dy, spatial_, dx);
}

}  // namespace ternbench::core
