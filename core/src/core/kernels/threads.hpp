#pragma once
// How the kernels split their work over the run's threads. No kernel's result depends on
// the split: each value goes through the same operations on any thread count.
#include <Eigen/Core>

#include <algorithm>
#include <utility>

namespace ternbench::kernels::detail {

// Items [begin, end) of `count` for thread t of n (contiguous, in order).
inline std::pair<Eigen::Index, Eigen::Index> share(Eigen::Index count, int t, int n) {
  return {count * t / n, count * (t + 1) / n};
}

// Threads for an element-wise pass over `elements` values split into `items` parts: a
// parallel region costs microseconds (milliseconds when the cores are shared), so passes
// over fewer than 2^18 values run on one thread.
inline int elementwise_threads(int threads, Eigen::Index elements, Eigen::Index items) {
  constexpr Eigen::Index kMinElements = Eigen::Index{1} << 18;
  if (elements < kMinElements) return 1;
  return static_cast<int>(std::max<Eigen::Index>(1, std::min<Eigen::Index>(std::max(threads, 1), items)));
}

}  // namespace ternbench::kernels::detail
