#include "ternbench/core/kernels/quantize.hpp"

#include <cmath>

#include "ternbench/base/error.hpp"

namespace ternbench::kernels {
namespace {

constexpr int kLanes = 16;

// Calls f(offset_a, offset_b, length) for each contiguous run: once when both matrices are
// contiguous, else once per column. Offsets are in elements from data().
template <class F>
void for_each_run(const Eigen::Ref<const Mat>& a, const Eigen::Ref<const Mat>& b, F&& f) {
  if (a.outerStride() == a.rows() && b.outerStride() == b.rows()) {
    f(Eigen::Index{0}, Eigen::Index{0}, a.size());
  } else {
    for (Eigen::Index j = 0; j < a.cols(); ++j) f(j * a.outerStride(), j * b.outerStride(), a.rows());
  }
}

// Sum over the lanes, in lane order.
template <class T>
T lane_total(const T (&lanes)[kLanes]) {
  T total = 0;
  for (T v : lanes) total += v;
  return total;
}

}  // namespace

double abs_sum(const Eigen::Ref<const Mat>& w) {
  double acc[kLanes] = {};
  const float* p = w.data();
  for_each_run(w, w, [&](Eigen::Index o, Eigen::Index, Eigen::Index n) {
    Eigen::Index i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      for (int k = 0; k < kLanes; ++k) acc[k] += static_cast<double>(std::fabs(p[o + i + k]));
    }
    for (; i < n; ++i) acc[0] += static_cast<double>(std::fabs(p[o + i]));
  });
  return lane_total(acc);
}

double dot(const Eigen::Ref<const Mat>& a, const Eigen::Ref<const Mat>& b) {
  TB_CHECK(a.rows() == b.rows() && a.cols() == b.cols(), "dot: shape mismatch");
  double acc[kLanes] = {};
  const float* pa = a.data();
  const float* pb = b.data();
  for_each_run(a, b, [&](Eigen::Index oa, Eigen::Index ob, Eigen::Index n) {
    Eigen::Index i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      for (int k = 0; k < kLanes; ++k) acc[k] += static_cast<double>(pa[oa + i + k]) * pb[ob + i + k];
    }
    for (; i < n; ++i) acc[0] += static_cast<double>(pa[oa + i]) * pb[ob + i];
  });
  return lane_total(acc);
}

std::int64_t count_nonzero(const Eigen::Ref<const Mat>& w) {
  std::int64_t total = 0;
  const float* p = w.data();
  for_each_run(w, w, [&](Eigen::Index o, Eigen::Index, Eigen::Index n) {
    // int32 lanes vectorise twice as wide; a run of n < 2^31 * kLanes cannot overflow them.
    std::int32_t cnt[kLanes] = {};
    Eigen::Index i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      for (int k = 0; k < kLanes; ++k) cnt[k] += p[o + i + k] != 0.0f ? 1 : 0;
    }
    for (; i < n; ++i) cnt[0] += p[o + i] != 0.0f ? 1 : 0;
    total += lane_total(cnt);
  });
  return total;
}

void ternarize(const Eigen::Ref<const Mat>& w, float delta, float scale, Eigen::Ref<Mat> q) {
  TB_CHECK(w.rows() == q.rows() && w.cols() == q.cols(), "ternarize: shape mismatch");
  for (Eigen::Index j = 0; j < w.cols(); ++j) {
    const float* p = w.col(j).data();
    float* o = q.col(j).data();
    for (Eigen::Index i = 0; i < w.rows(); ++i) o[i] = std::fabs(p[i]) > delta ? std::copysign(scale, p[i]) : 0.0f;
  }
}

SignCounts sign_counts(const Eigen::Ref<const Mat>& w) {
  SignCounts c;
  const float* p = w.data();
  for_each_run(w, w, [&](Eigen::Index o, Eigen::Index, Eigen::Index n) {
    std::int32_t neg[kLanes] = {}, pos[kLanes] = {};
    Eigen::Index i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      for (int k = 0; k < kLanes; ++k) neg[k] += p[o + i + k] < 0.0f ? 1 : 0;
      for (int k = 0; k < kLanes; ++k) pos[k] += p[o + i + k] > 0.0f ? 1 : 0;
    }
    for (; i < n; ++i) {
      neg[0] += p[o + i] < 0.0f ? 1 : 0;
      pos[0] += p[o + i] > 0.0f ? 1 : 0;
    }
    c.neg += lane_total(neg);
    c.pos += lane_total(pos);
  });
  c.zero = static_cast<std::int64_t>(w.size()) - count_nonzero(w);
  return c;
}

}  // namespace ternbench::kernels
