#pragma once
// The UpdateHooks (nn/layer.hpp) quantizers give the optimizer: statistics of the new latent
// values that the quantizer's next forward needs, and constraints on them, taken in the
// optimizer's update pass instead of a pass of their own.
#include <Eigen/Core>
#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "ternbench/core/kernels/quantize.hpp"
#include "ternbench/core/nn/layer.hpp"

namespace ternbench::core {

// A statistic the update pass took: fresh from end() until take() or discard(). The trainer
// asks for it (Quantizer::quantize_after_update) only right after the step that took it; a
// plain quantize() discards it, so values written any other way never meet a stale one.
class StatHook : public UpdateHook {
 public:
  Eigen::Index block_size(Eigen::Index n) const override { return kernels::sum_block_size(n); }
  bool fresh() const { return fresh_; }
  void discard() { fresh_ = false; }

 protected:
  bool fresh_ = false;
};

// A statistic made of one part per block (Part), the parts combined in block order
// (Combine, starting from T{}).
template <class T, T (*Part)(const float*, Eigen::Index), T (*Combine)(T, T)>
class BlockStatHook final : public StatHook {
 public:
  void begin(Eigen::Index blocks) override {
    fresh_ = false;
    parts_.assign(static_cast<std::size_t>(blocks), T{});  // keeps its capacity: no allocation per step
  }
  void block(Eigen::Index b, float* values, Eigen::Index e0, Eigen::Index e1) override {
    parts_[static_cast<std::size_t>(b)] = Part(values + e0, e1 - e0);
  }
  void end() override {
    value_ = T{};
    for (const T p : parts_) value_ = Combine(value_, p);
    fresh_ = true;
  }
  T take() {
    fresh_ = false;
    return value_;
  }

 private:
  std::vector<T> parts_;
  T value_{};
};

namespace update_hooks_detail {
inline double add(double a, double b) { return a + b; }
inline float max(float a, float b) { return std::max(a, b); }
}  // namespace update_hooks_detail

// sum |W|, as kernels::abs_sum gives it bit for bit: the same blocks, totalled in block order.
using AbsSumHook = BlockStatHook<double, kernels::abs_sum_block, update_hooks_detail::add>;
// max |W|, as kernels::abs_max gives it (a maximum does not depend on the blocks).
using AbsMaxHook = BlockStatHook<float, kernels::abs_max_span, update_hooks_detail::max>;

// W = min(max(W, lo), hi) in the update pass, as kernels::clip would after it. clipped()
// tells the quantizer's after_step, which the trainer calls right after the step, that the
// clip is done.
class ClipHook final : public UpdateHook {
 public:
  ClipHook(float lo, float hi) : lo_(lo), hi_(hi) {}
  Eigen::Index block_size(Eigen::Index n) const override { return kernels::sum_block_size(n); }
  void begin(Eigen::Index) override { clipped_ = false; }
  void block(Eigen::Index, float* values, Eigen::Index e0, Eigen::Index e1) override {
    kernels::clip_span(values + e0, e1 - e0, lo_, hi_);
  }
  void end() override { clipped_ = true; }
  // Whether the last update clipped, once: the flag is cleared.
  bool take_clipped() { return std::exchange(clipped_, false); }

 private:
  float lo_, hi_;
  bool clipped_ = false;
};

}  // namespace ternbench::core
