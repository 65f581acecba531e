#pragma once
// Sums in double that split over threads and still do not depend on the thread count.
// The values, in column-major order, are cut into blocks whose size depends on their number
// alone; element e of a block adds into lane e % 64 of that block's 64 lanes, a block's
// total is its lanes added in lane order, and the sum is the block totals added in block
// order. Threads take whole blocks, so every addition happens in the same order on any
// count, and a strided view sums as its contiguous copy does.
#include <omp.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include <Eigen/Core>
#include <algorithm>

namespace ternbench::kernels::detail {

// 64 lanes: eight registers of doubles, so that the adds of a pass do not wait on each
// other (with 16 lanes in two registers a sum ran at the add's latency, 2% of the mlp's step).
constexpr int kSumLanes = 64;
constexpr int kVector = 16;  // floats per AVX-512 register
// 64 KB of floats: large enough that a block's fork and bookkeeping vanish, small enough
// that a 400k-weight layer gives each of two threads a dozen blocks.
constexpr Eigen::Index kSumBlock = Eigen::Index{1} << 14;
constexpr Eigen::Index kMaxSumBlocks = 256;

using Lanes = double[kSumLanes];

// Elements per block for n values: kSumBlock, or more (a multiple of the lanes) so that
// there are at most kMaxSumBlocks blocks, whose totals then fit on the stack.
inline Eigen::Index sum_block(Eigen::Index n) {
  const Eigen::Index spread = (n + kMaxSumBlocks - 1) / kMaxSumBlocks;
  return std::max(kSumBlock, (spread + kSumLanes - 1) / kSumLanes * kSumLanes);
}

#if defined(__AVX512F__)
// The 64 lanes in eight registers: r[2q] holds lanes 16q..16q+7, r[2q+1] lanes 16q+8..16q+15.
// GCC left the plain loops partly scalar (one conversion and add per value).
struct WideLanes {
  __m512d r[8];
  explicit WideLanes(const Lanes& acc) {
    for (int k = 0; k < 8; ++k) r[k] = _mm512_loadu_pd(acc + 8 * k);
  }
  // Lanes 16q + k += v[k], widened to double.
  void add(int q, __m512 v) {
    r[2 * q] = _mm512_add_pd(r[2 * q], _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    r[2 * q + 1] = _mm512_add_pd(r[2 * q + 1],
                                 _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
  }
  void store(Lanes& acc) const {
    for (int k = 0; k < 8; ++k) _mm512_storeu_pd(acc + 8 * k, r[k]);
  }
};
#endif

// acc[(lane + i) % 64] += v[i] for i < n, widened to double; each lane adds its values in order.
inline void add_lanes(const float* v, Eigen::Index n, int lane, Lanes& acc) {
  Eigen::Index i = 0;
  for (; i < n && lane != 0; ++i, lane = (lane + 1) % kSumLanes) acc[lane] += v[i];
#if defined(__AVX512F__)
  WideLanes lanes(acc);
  for (; i + kSumLanes <= n; i += kSumLanes) {
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) lanes.add(q, _mm512_loadu_ps(v + i + kVector * q));
  }
  lanes.store(acc);
#else
  for (; i + kSumLanes <= n; i += kSumLanes) {
    for (int k = 0; k < kSumLanes; ++k) acc[k] += v[i + k];
  }
#endif
  for (int k = 0; i < n; ++i, ++k) acc[k] += v[i];
}

inline double lanes_total(const Lanes& acc) {
  double total = 0;
  for (double v : acc) total += v;
  return total;
}

// Address of element e (column-major) of a view with `rows` rows and outer stride `stride`.
template <class T>
T* element(T* data, Eigen::Index rows, Eigen::Index stride, Eigen::Index e) {
  return data + e / rows * stride + e % rows;
}

// f(e, n) for the runs of [e0, e1) that are contiguous in memory: the whole range when every
// view involved is contiguous, else the range cut at column ends.
template <class F>
void for_each_run_in(Eigen::Index rows, bool contiguous, Eigen::Index e0, Eigen::Index e1, F&& f) {
  if (contiguous) {
    if (e1 > e0) f(e0, e1 - e0);
    return;
  }
  for (Eigen::Index e = e0; e < e1;) {
    const Eigen::Index n = std::min(rows - e % rows, e1 - e);
    f(e, n);
    e += n;
  }
}

// block(e0, e1) -> Partial for every block of n values, the blocks split over `threads`;
// returns the partials added in block order with add(total, partial).
template <class Partial, class Block, class Add>
Partial blocked_sum(Eigen::Index n, int threads, Block&& block, Add&& add) {
  const Eigen::Index size = sum_block(n);
  const Eigen::Index blocks = (n + size - 1) / size;
  Partial parts[kMaxSumBlocks];
  const int t = static_cast<int>(std::min<Eigen::Index>(std::max(threads, 1), std::max<Eigen::Index>(blocks, 1)));
#pragma omp parallel for num_threads(t) if (t > 1) schedule(static)
  for (Eigen::Index b = 0; b < blocks; ++b) parts[b] = block(b * size, std::min(n, (b + 1) * size));
  Partial total{};
  for (Eigen::Index b = 0; b < blocks; ++b) add(total, parts[b]);
  return total;
}

}  // namespace ternbench::kernels::detail
