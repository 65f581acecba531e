// The panel kernel shared by ternary_dense (batch >= 2) and ternary_conv: a group of output
// rows walks its index lists over one panel of NC x NV vectors (up to four), whose lanes are
// batch samples (dense; conv at batch >= 2, NC output positions of a row at once), output
// positions (conv at batch 1) or, in the conv row form, NC output rows of 16 positions.
// A partial last vector is loaded under a mask, so nothing past the input is read.
//
// Long lists are cut into tiles of the index range (columns for dense, input channels for
// conv) whose inputs stay in L1 while every row of the group uses them; a row's two running
// sums are parked in a small buffer between tiles. Tiles are visited in ascending index
// order, so each sum still adds its inputs in ascending order from 0: the bits are those of
// the naive loop, whatever the tiling.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#include <omp.h>

#include "ternbench/base/error.hpp"
#include "ternbench/core/kernels/ternary.hpp"
#include "threads.hpp"

namespace ternbench::kernels::ternary_detail {

using Index = Eigen::Index;

constexpr int kLanes = 64;      // lanes of a one-column panel
constexpr int kRowGroup = 32;   // rows that share one pass over a tile
constexpr int kTileBytes = 32 * 1024;  // inputs of one tile, for one panel (two thirds of L1)
constexpr int kMinCodesPerTile = 48;   // fewer codes per row and tile would not repay the parking
constexpr std::int32_t kNoStop = std::numeric_limits<std::int32_t>::max();

inline Index ceil_div(Index a, Index b) { return (a + b - 1) / b; }
using detail::share;

// Threads worth starting for a kernel estimated to take `ns` on one thread (the estimates
// below: about 0.3 ns a vector add from L1, 0.18 ns a packed-list code, 0.1 ns a copied
// float). Measured: a second thread pays from about 25 us of dense work, and from about
// 100 us for the convolutions, whose copy of the input is then split between two caches.
constexpr double kMinNsPerThread = 25e3, kConvThreadCost = 4.0;
inline int useful_threads(int threads, double ns, Index items) {
  const double by_work = std::max(1.0, ns / kMinNsPerThread);
  return static_cast<int>(std::max<Index>(1, std::min<Index>({Index{std::max(threads, 1)}, items,
                                                              static_cast<Index>(by_work)})));
}
constexpr double kNsPerAdd = 0.3, kNsPerCode = 0.18, kNsPerFloatCopied = 0.1;

// body(t, nt) on `threads` OpenMP threads, or directly on this one: a team of one still costs
// libgomp a few microseconds, as much as a whole small layer. A barrier in body is fine
// either way (alone, it binds to the implicit team of one).
template <class F>
void run_threads(int threads, F&& body) {
  if (threads <= 1) {
    body(0, 1);
    return;
  }
#pragma omp parallel num_threads(threads)
  body(omp_get_thread_num(), omp_get_num_threads());
}

#if defined(__AVX512F__)

// A panel is NC columns of NV vectors: lane l of vector v of column j, for a code with index
// i, reads x[i * step + j * cstep + 16 v + l]. Dense: one column (step = batch). Conv at
// batch 1: one column of positions (step 1), or NC output rows (cstep = k * row_pitch). Conv
// otherwise: NC positions along an output row of a 16-sample panel (step 16, cstep
// stride * 16).
template <int NV, int NC, bool TAIL>
inline void add_code(__m512 (&acc)[NC * NV], const float* p, std::ptrdiff_t cstep, __mmask16 tail) {
  for (int j = 0; j < NC; ++j) {
    for (int v = 0; v < NV; ++v) {
      if (TAIL && v == NV - 1) {
        acc[j * NV + v] = _mm512_add_ps(acc[j * NV + v], _mm512_maskz_loadu_ps(tail, p + j * cstep + 16 * v));
      } else {
        acc[j * NV + v] = _mm512_add_ps(acc[j * NV + v], _mm512_loadu_ps(p + j * cstep + 16 * v));
      }
    }
  }
}

// Adds the codes of one row's lists below `stop`, advancing the cursors. The +1 and the -1
// list are walked together while both have codes in the tile: twice the independent chains.
template <int NV, int NC, bool TAIL>
inline void accumulate(const std::int32_t* idx, std::int64_t& cur_p, std::int64_t pe, std::int64_t& cur_m,
                       std::int64_t me, std::int32_t stop, const float* x, std::ptrdiff_t step, std::ptrdiff_t cstep,
                       __mmask16 tail, __m512 (&P)[NC * NV], __m512 (&M)[NC * NV]) {
  std::int64_t pp = cur_p, pm = cur_m;
  while (pp < pe && pm < me) {
    const std::int32_t a = idx[pp], b = idx[pm];
    if (a >= stop || b >= stop) break;
    add_code<NV, NC, TAIL>(P, x + a * step, cstep, tail);
    add_code<NV, NC, TAIL>(M, x + b * step, cstep, tail);
    ++pp;
    ++pm;
  }
  for (; pp < pe && idx[pp] < stop; ++pp) add_code<NV, NC, TAIL>(P, x + idx[pp] * step, cstep, tail);
  for (; pm < me && idx[pm] < stop; ++pm) add_code<NV, NC, TAIL>(M, x + idx[pm] * step, cstep, tail);
  cur_p = pp;
  cur_m = pm;
}

// Rows [r0, r1) of W over one panel. idx: W.index or the conv offsets (ascending per list, as
// are the tile stops; the last stop is kNoStop). store(o, out) receives row o's NC * NV
// finished vectors: fma(pos_scale, plus, fma(-neg_scale, minus, bias)) per lane.
template <int NV, int NC, bool TAIL, class Store>
void rows_panel(const TernaryMatrix& W, const std::int32_t* idx, Index r0, Index r1, const float* x,
                std::ptrdiff_t step, std::ptrdiff_t cstep, __mmask16 tail, std::span<const std::int32_t> stops,
                Store&& store) {
  constexpr int A = NC * NV;  // accumulators per sign
  alignas(64) float park[kRowGroup * 2 * A * 16];
  std::int64_t cur_p[kRowGroup], cur_m[kRowGroup];
  const std::size_t last = stops.size() - 1;
  for (Index g0 = r0; g0 < r1; g0 += kRowGroup) {
    const Index g1 = std::min<Index>(r1, g0 + kRowGroup);
    for (Index o = g0; o < g1; ++o) {
      cur_p[o - g0] = W.begin[static_cast<std::size_t>(o)];
      cur_m[o - g0] = W.split[static_cast<std::size_t>(o)];
    }
    for (std::size_t t = 0; t <= last; ++t) {
      const std::int32_t stop = stops[t];
      for (Index o = g0; o < g1; ++o) {
        const auto uo = static_cast<std::size_t>(o);
        float* pk = park + (o - g0) * 2 * A * 16;
        __m512 P[A], M[A];
        for (int a = 0; a < A; ++a) {
          P[a] = t == 0 ? _mm512_setzero_ps() : _mm512_load_ps(pk + 16 * a);
          M[a] = t == 0 ? _mm512_setzero_ps() : _mm512_load_ps(pk + 16 * (A + a));
        }
        accumulate<NV, NC, TAIL>(idx, cur_p[o - g0], W.split[uo], cur_m[o - g0], W.begin[uo + 1], stop, x, step,
                                 cstep, tail, P, M);
        if (t < last) {
          for (int a = 0; a < A; ++a) {
            _mm512_store_ps(pk + 16 * a, P[a]);
            _mm512_store_ps(pk + 16 * (A + a), M[a]);
          }
          continue;
        }
        const __m512 ps = _mm512_set1_ps(W.pos_scale[uo]), nns = _mm512_set1_ps(-W.neg_scale[uo]),
                     bs = _mm512_set1_ps(W.bias[uo]);
        __m512 out[A];
        for (int a = 0; a < A; ++a) out[a] = _mm512_fmadd_ps(ps, P[a], _mm512_fmadd_ps(nns, M[a], bs));
        store(o, out);
      }
    }
  }
}

// Calls f.template operator()<NV, TAIL>() for a one-column panel of `lanes` (1..64) lanes.
template <class F>
void dispatch_panel(int lanes, F&& f) {
  const bool tail = lanes % 16 != 0;
  switch ((lanes + 15) / 16) {
    case 1: tail ? f.template operator()<1, true>() : f.template operator()<1, false>(); break;
    case 2: tail ? f.template operator()<2, true>() : f.template operator()<2, false>(); break;
    case 3: tail ? f.template operator()<3, true>() : f.template operator()<3, false>(); break;
    default: tail ? f.template operator()<4, true>() : f.template operator()<4, false>(); break;
  }
}

// Calls f.template operator()<NC, TAIL>() for `cols` (1..4) columns of one vector, `lanes`
// (1..16) of whose lanes are used.
template <class F>
void dispatch_columns(int cols, int lanes, F&& f) {
  const bool tail = lanes != 16;
  switch (cols) {
    case 1: tail ? f.template operator()<1, true>() : f.template operator()<1, false>(); break;
    case 2: tail ? f.template operator()<2, true>() : f.template operator()<2, false>(); break;
    case 3: tail ? f.template operator()<3, true>() : f.template operator()<3, false>(); break;
    default: tail ? f.template operator()<4, true>() : f.template operator()<4, false>(); break;
  }
}

inline __mmask16 tail_mask(int lanes) {
  const int r = lanes % 16;
  return r == 0 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << r) - 1u);
}

#endif  // __AVX512F__

// Tile stops over an index range [0, n) cut every `width` (one stop, kNoStop, when a tile
// would hold the whole range). `scale` maps a cut to index units (conv: floats per channel).
inline void tile_stops(Index n, Index width, Index scale, std::vector<std::int32_t>& stops) {
  stops.clear();
  for (Index c = width; c < n; c += width) stops.push_back(static_cast<std::int32_t>(c * scale));
  stops.push_back(kNoStop);
}

// Columns per tile: as many as fit kTileBytes for a panel of `lanes`, but at least enough for
// kMinCodesPerTile codes per row at this density. bytes_per_col: input bytes one column adds.
inline Index tile_width(double bytes_per_col, double codes_per_col) {
  const double by_cache = kTileBytes / std::max(bytes_per_col, 1.0);
  const double by_codes = kMinCodesPerTile / std::max(codes_per_col, 1e-9);
  return std::max<Index>(1, static_cast<Index>(std::max(by_cache, by_codes)));
}

inline void check_matrix(const TernaryMatrix& W, const char* who) {
  TB_CHECK(W.rows >= 1 && W.cols >= 1 && W.begin.size() == static_cast<std::size_t>(W.rows) + 1 &&
               W.split.size() == static_cast<std::size_t>(W.rows) &&
               W.index.size() == static_cast<std::size_t>(W.begin.back()) &&
               W.pos_scale.size() == static_cast<std::size_t>(W.rows) &&
               W.neg_scale.size() == static_cast<std::size_t>(W.rows) && W.bias.size() == static_cast<std::size_t>(W.rows),
           std::string(who) + ": malformed ternary matrix (build it with make_ternary_matrix)");
}

// The output of row o from its two sums (the scalar form of rows_panel's last step).
inline float finish(const TernaryMatrix& W, std::size_t o, float plus, float minus) {
  return std::fma(W.pos_scale[o], plus, std::fma(-W.neg_scale[o], minus, W.bias[o]));
}

inline double density(const TernaryMatrix& W) {
  return W.rows * W.cols == 0 ? 0.0 : static_cast<double>(W.index.size()) / (static_cast<double>(W.rows) * static_cast<double>(W.cols));
}

}  // namespace ternbench::kernels::ternary_detail
