// The evaluation forward of a dense layer, y = W x + b, as one FMA chain per output started
// from the bias (dense.hpp gives the exact order). Evaluation multiplies the same W by
// every test batch, and Eigen's product repacks W on each call (about 6% of an mlp
// inference) with a 48 x 4 kernel that reaches about 75% of the FMA peak. Here W is read in
// place, with no packing: W is column-major, so a column holds the out values of one input
// contiguously, and 64 of them are the lanes of a 6 x 64 tile of FMAs (6 samples by
// broadcast, 24 zmm accumulators), the blocking conv.cpp uses. The inputs are taken
// kSteps at a time so that the 64-lane block of W (32 KiB) stays in L1 while every tile of
// samples passes over it; a tile's partial sums go back to y between blocks and are
// reloaded unchanged, so each output is still a single chain.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "ternbench/base/error.hpp"
#include "ternbench/core/kernels/dense.hpp"
#include "threads.hpp"

namespace ternbench::kernels {
namespace {

using Index = Eigen::Index;
using std::ptrdiff_t;

constexpr int kRows = 6;      // samples per tile
constexpr int kLanes = 64;    // outputs per tile
constexpr int kSteps = 128;   // inputs per pass over a tile

struct Operands {
  const float* w;  // W(0, 0) of this tile's lanes
  ptrdiff_t ldw;
  const float* x;  // x(0, n0)
  ptrdiff_t ldx;
  float* y;        // y(lane 0, n0)
  ptrdiff_t ldy;
  const float* bias;  // b(lane 0)
};

#if defined(__AVX512F__)

// MR samples by NV vectors of 16 outputs, the last vector masked to `last` lanes.
template <int MR, int NV>
void tile(const Operands& op, Index k0, int steps, bool first, __mmask16 last) {
  const float* xp[MR];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) xp[i] = op.x + i * op.ldx + k0;
  __m512 acc[MR][NV];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      const float* src = first ? op.bias + 16 * j : op.y + i * op.ldy + 16 * j;
      acc[i][j] = j == NV - 1 ? _mm512_maskz_loadu_ps(last, src) : _mm512_loadu_ps(src);
    }
  }
  const float* w = op.w + k0 * op.ldw;
  for (int s = 0; s < steps; ++s) {
    __m512 wv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) wv[j] = j == NV - 1 ? _mm512_maskz_loadu_ps(last, w + 16 * j) : _mm512_loadu_ps(w + 16 * j);
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      const __m512 xv = _mm512_set1_ps(xp[i][s]);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
    }
    w += op.ldw;
  }
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    float* dst = op.y + i * op.ldy;
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      if (j == NV - 1) {
        _mm512_mask_storeu_ps(dst + 16 * j, last, acc[i][j]);
      } else {
        _mm512_storeu_ps(dst + 16 * j, acc[i][j]);
      }
    }
  }
}

template <int NV, int... R>
void tile_rows(int rows, const Operands& op, Index k0, int steps, bool first, __mmask16 last,
               std::integer_sequence<int, R...>) {
  ((rows == R + 1 ? (tile<R + 1, NV>(op, k0, steps, first, last), true) : false) || ...);
}

void run_tile(int rows, int lanes, const Operands& op, Index k0, int steps, bool first) {
  const int nv = (lanes + 15) / 16;
  const int tail = lanes - 16 * (nv - 1);
  const auto last = static_cast<__mmask16>(tail >= 16 ? 0xFFFFu : (1u << tail) - 1u);
  const auto r = std::make_integer_sequence<int, kRows>{};
  switch (nv) {
    case 1: tile_rows<1>(rows, op, k0, steps, first, last, r); break;
    case 2: tile_rows<2>(rows, op, k0, steps, first, last, r); break;
    case 3: tile_rows<3>(rows, op, k0, steps, first, last, r); break;
    default: tile_rows<4>(rows, op, k0, steps, first, last, r); break;
  }
}

#else  // portable: the same chains, one output at a time

void run_tile(int rows, int lanes, const Operands& op, Index k0, int steps, bool first) {
  for (int i = 0; i < rows; ++i) {
    float* dst = op.y + i * op.ldy;
    const float* xs = op.x + i * op.ldx + k0;
    for (int l = 0; l < lanes; ++l) {
      float acc = first ? op.bias[l] : dst[l];
      const float* w = op.w + k0 * op.ldw + l;
      for (int s = 0; s < steps; ++s) acc = std::fma(xs[s], w[s * op.ldw], acc);
      dst[l] = acc;
    }
  }
}

#endif

// Samples [n0, n1) of every output, pass by pass.
void forward_columns(const Eigen::Ref<const Mat>& W, const float* bias, const Eigen::Ref<const Mat>& x,
                     Eigen::Ref<Mat> y, Index n0, Index n1) {
  const Index out = W.rows(), in = W.cols();
  for (Index o = 0; o < out; o += kLanes) {
    const int lanes = static_cast<int>(std::min<Index>(kLanes, out - o));
    for (Index k0 = 0; k0 < in || k0 == 0; k0 += kSteps) {
      const int steps = static_cast<int>(std::min<Index>(kSteps, in - k0));
      for (Index n = n0; n < n1; n += kRows) {
        const Operands op{W.data() + o, W.outerStride(), x.data() + n * x.outerStride(), x.outerStride(),
                          y.data() + n * y.outerStride() + o, y.outerStride(), bias + o};
        run_tile(static_cast<int>(std::min<Index>(kRows, n1 - n)), lanes, op, k0, steps, k0 == 0);
      }
    }
  }
}

}  // namespace

void dense_forward_chain(const Eigen::Ref<const Mat>& W, const Eigen::Ref<const Mat>& b,
                         const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y, int threads) {
  TB_CHECK(W.cols() == x.rows() && b.rows() == W.rows() && b.cols() == 1 && y.rows() == W.rows() &&
               y.cols() == x.cols(),
           "dense_forward_chain: shape mismatch");
  const Index B = x.cols();
  if (W.rows() == 0 || B == 0) return;
  // Each thread takes whole tiles of samples; a region is only worth starting for a few
  // million multiply-adds per thread. Results do not depend on the split.
  const Index tiles = (B + kRows - 1) / kRows;
  const double work = static_cast<double>(W.rows()) * static_cast<double>(W.cols()) * static_cast<double>(B);
  const int nt = static_cast<int>(std::clamp<Index>(static_cast<Index>(work / 2e6), 1,
                                                    std::min<Index>(std::max(threads, 1), tiles)));
  const float* bias = b.data();
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const auto [t0, t1] = detail::share(tiles, omp_get_thread_num(), omp_get_num_threads());
    const Index n0 = std::min(B, t0 * kRows), n1 = std::min(B, t1 * kRows);
    if (n0 < n1) forward_columns(W, bias, x, y, n0, n1);
  }
}

}  // namespace ternbench::kernels
