// Ternary matrices and the fully connected kernel (docs/inference.md). Three fast paths, all
// adding each output's +1 inputs in ascending column order into one float from 0, its -1
// inputs likewise, then fma(pos_scale, plus, fma(-neg_scale, minus, bias)):
//
//   batch >= 2   rows_panel (ternary_rows.hpp): each code adds up to 64 contiguous samples
//                with four zmm loads and adds; long rows are tiled by columns so the inputs
//                of a tile stay in L1 while 32 rows use them.
//   batch 1, dense layers: the 2-bit mask form. 16 rows are the 16 lanes of a vector and
//                every column adds its input under the block's +1 mask and its -1 mask
//                (two masked adds per 16 rows and column, whatever the sparsity); four
//                blocks share each broadcast. Loading the masks limits it (about one a cycle).
//   batch 1, sparse layers: the packed lists. The 2 * rows lists, sorted by length, are
//                walked 16 at a time with scalar loads and adds (16 independent chains; half
//                of them as fma(1, x, acc), the same bits, so the FMA pipes take a share),
//                then a last pass combines each row's two sums.
// Which batch-1 form a matrix gets is fixed when it is made: the mask form costs the same at
// every sparsity, the lists cost per code, and they break even near kMaskDensity.
#include "ternbench/core/kernels/ternary.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <string>

#include "ternary_rows.hpp"
#include "ternbench/base/error.hpp"

namespace ternbench::kernels {
namespace {

using namespace ternary_detail;

template <class T>
std::size_t vec_bytes(const std::vector<T>& v) {
  return v.size() * sizeof(T);
}

constexpr int kBlock = 16;  // rows of a mask block, lists of a packed group

#if defined(__AVX512F__)

void build_mask(TernaryMatrix& W) {
  const Index blocks = ceil_div(W.rows, kBlock);
  W.mask.assign(static_cast<std::size_t>(blocks * W.cols * 2), 0);
  for (Index o = 0; o < W.rows; ++o) {
    const auto uo = static_cast<std::size_t>(o);
    const auto bit = static_cast<std::uint16_t>(1u << (o % kBlock));
    std::uint16_t* m = W.mask.data() + (o / kBlock) * W.cols * 2;
    for (std::int64_t p = W.begin[uo]; p < W.split[uo]; ++p) m[W.index[static_cast<std::size_t>(p)] * 2] |= bit;
    for (std::int64_t p = W.split[uo]; p < W.begin[uo + 1]; ++p) {
      m[W.index[static_cast<std::size_t>(p)] * 2 + 1] |= bit;
    }
  }
}

void build_lanes(TernaryMatrix& W) {
  const Index lists = 2 * W.rows;
  auto list_range = [&W](Index l) {
    const auto uo = static_cast<std::size_t>(l / 2);
    return l % 2 == 0 ? std::pair{W.begin[uo], W.split[uo]} : std::pair{W.split[uo], W.begin[uo + 1]};
  };
  std::vector<std::int32_t> order(static_cast<std::size_t>(lists));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
    const auto [a0, a1] = list_range(a);
    const auto [b0, b1] = list_range(b);
    return a1 - a0 > b1 - b0;
  });
  const Index groups = ceil_div(lists, kBlock);
  W.list_lane.assign(static_cast<std::size_t>(lists), 0);
  for (std::size_t q = 0; q < order.size(); ++q) W.list_lane[static_cast<std::size_t>(order[q])] = static_cast<std::int32_t>(q);
  W.lane_begin.assign(static_cast<std::size_t>(groups + 1), 0);
  for (Index g = 0; g < groups; ++g) {  // the first list of a group is its longest
    const std::int32_t l = order[static_cast<std::size_t>(g * kBlock)];
    W.lane_begin[static_cast<std::size_t>(g + 1)] =
        W.lane_begin[static_cast<std::size_t>(g)] + list_range(l).second - list_range(l).first;
  }
  W.lanes.assign(static_cast<std::size_t>(W.lane_begin.back() * kBlock), static_cast<std::uint16_t>(W.cols));
  for (Index l = 0; l < lists; ++l) {
    const auto [p0, p1] = list_range(l);
    // An empty list owns no slot, and when all are empty lanes.data() may be null: no
    // pointer is formed for it (null + j is undefined behaviour).
    if (p0 == p1) continue;
    const Index q = W.list_lane[static_cast<std::size_t>(l)], g = q / kBlock, j = q % kBlock;
    std::uint16_t* dst = W.lanes.data() + W.lane_begin[static_cast<std::size_t>(g)] * kBlock + j;
    for (std::int64_t p = p0; p < p1; ++p) dst[(p - p0) * kBlock] = static_cast<std::uint16_t>(W.index[static_cast<std::size_t>(p)]);
  }
}

__m512 negate(__m512 v) { return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(v), _mm512_set1_epi32(INT32_MIN))); }

// Batch 1, mask form: blocks [b0, b0 + NB) of 16 rows.
template <int NB>
void mask_blocks(const TernaryMatrix& W, const float* x, Index b0, float* y) {
  const Index cols = W.cols;
  const std::uint16_t* m[NB];
  __m512 P[NB], M[NB];
  for (int j = 0; j < NB; ++j) {
    m[j] = W.mask.data() + (b0 + j) * cols * 2;
    P[j] = _mm512_setzero_ps();
    M[j] = _mm512_setzero_ps();
  }
  for (Index c = 0; c < cols; ++c) {
    const __m512 xv = _mm512_set1_ps(x[c]);
    for (int j = 0; j < NB; ++j) {
      P[j] = _mm512_mask_add_ps(P[j], m[j][2 * c], P[j], xv);
      M[j] = _mm512_mask_add_ps(M[j], m[j][2 * c + 1], M[j], xv);
    }
  }
  for (int j = 0; j < NB; ++j) {
    const Index r0 = (b0 + j) * kBlock;
    const int n = static_cast<int>(std::min<Index>(kBlock, W.rows - r0));
    const __mmask16 k = tail_mask(n);
    const __m512 ps = _mm512_maskz_loadu_ps(k, W.pos_scale.data() + r0);
    const __m512 ns = negate(_mm512_maskz_loadu_ps(k, W.neg_scale.data() + r0));
    const __m512 bs = _mm512_maskz_loadu_ps(k, W.bias.data() + r0);
    _mm512_mask_storeu_ps(y + r0, k, _mm512_fmadd_ps(ps, P[j], _mm512_fmadd_ps(ns, M[j], bs)));
  }
}

void dense_mask(const TernaryMatrix& W, const float* x, float* y, int threads) {
  constexpr Index kNb = 4;  // blocks sharing a broadcast: 8 independent chains
  const Index blocks = ceil_div(W.rows, kBlock), units = ceil_div(blocks, kNb);
  threads = useful_threads(threads, static_cast<double>(W.rows) * static_cast<double>(W.cols) / 8.0 * kNsPerAdd, units);
  run_threads(threads, [&](int t, int nt) {
    const auto [u0, u1] = share(units, t, nt);
    for (Index u = u0; u < u1; ++u) {
      const Index b0 = u * kNb;
      switch (std::min(kNb, blocks - b0)) {
        case 1: mask_blocks<1>(W, x, b0, y); break;
        case 2: mask_blocks<2>(W, x, b0, y); break;
        case 3: mask_blocks<3>(W, x, b0, y); break;
        default: mask_blocks<4>(W, x, b0, y); break;
      }
    }
  });
}

// Batch 1, packed lists: 16 lists at a time, one scalar chain each, into sums[g * 16 + j]. xz
// is x with a zero at index cols (where ended lists point). Even lanes add, odd lanes
// fma(1, x, acc): equal bits.
void lane_group(const TernaryMatrix& W, const float* xz, Index g, float* sums) {
  float a[kBlock] = {};
  const std::uint16_t* p = W.lanes.data() + W.lane_begin[static_cast<std::size_t>(g)] * kBlock;
  const std::int64_t steps = W.lane_begin[static_cast<std::size_t>(g) + 1] - W.lane_begin[static_cast<std::size_t>(g)];
  for (std::int64_t k = 0; k < steps; ++k, p += kBlock) {
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) {
      std::uint64_t w;
      std::memcpy(&w, p + 4 * q, sizeof w);
      a[4 * q] += xz[w & 0xFFFF];
      a[4 * q + 1] = std::fma(1.0f, xz[(w >> 16) & 0xFFFF], a[4 * q + 1]);
      a[4 * q + 2] += xz[(w >> 32) & 0xFFFF];
      a[4 * q + 3] = std::fma(1.0f, xz[w >> 48], a[4 * q + 3]);
    }
  }
  // In group order: each thread writes its own stretch of sums (by list, the threads' writes
  // would share cache lines).
  std::copy(a, a + kBlock, sums + g * kBlock);
}

void dense_lanes(const TernaryMatrix& W, const float* x, float* y, int threads) {
  // Scratch kept by the calling thread between calls: x with its zero, then a sum per lane.
  thread_local std::vector<float> scratch;
  const auto need = static_cast<std::size_t>(W.cols + 1 + (W.lane_begin.size() - 1) * kBlock);
  if (scratch.size() < need) scratch.resize(need);
  float* xz = scratch.data();
  float* sums = xz + W.cols + 1;
  std::copy(x, x + W.cols, xz);
  xz[W.cols] = 0.0f;
  const Index groups = static_cast<Index>(W.lane_begin.size()) - 1;
  threads = useful_threads(threads, static_cast<double>(W.lanes.size()) * kNsPerCode, groups);
  run_threads(threads, [&](int t, int nt) {
    // Equal shares of steps, not of groups: the groups are sorted longest first.
    const std::int64_t total = W.lane_begin.back();
    const auto first_at = [&](std::int64_t s) {
      return static_cast<Index>(std::lower_bound(W.lane_begin.begin(), W.lane_begin.end() - 1, s) -
                                W.lane_begin.begin());
    };
    const Index g0 = t == 0 ? 0 : first_at(total * t / nt), g1 = t == nt - 1 ? groups : first_at(total * (t + 1) / nt);
    for (Index g = g0; g < g1; ++g) lane_group(W, xz, g, sums);
#pragma omp barrier
    const auto [r0, r1] = share(W.rows, t, nt);
    for (Index o = r0; o < r1; ++o) {
      const auto uo = static_cast<std::size_t>(o);
      y[o] = finish(W, uo, sums[W.list_lane[2 * uo]], sums[W.list_lane[2 * uo + 1]]);
    }
  });
}

// batch >= 2 (or a batch-1 matrix without a batch-1 form): panels of 64 samples.
void dense_panels(const TernaryMatrix& W, const float* x, Index batch, float* y, int threads) {
  const Index chunks = ceil_div(batch, kLanes), groups = ceil_div(W.rows, kRowGroup);
  const int lanes0 = static_cast<int>(std::min<Index>(batch, kLanes));
  std::vector<std::int32_t> stops;
  tile_stops(W.cols, tile_width(static_cast<double>(ceil_div(lanes0, 16)) * 64.0, density(W)), 1, stops);
  threads = useful_threads(threads, static_cast<double>(W.index.size()) * static_cast<double>(ceil_div(batch, 16)) * kNsPerAdd,
                           chunks * groups);
  run_threads(threads, [&](int t, int nt) {
    const auto [i0, i1] = share(chunks * groups, t, nt);
    for (Index item = i0; item < i1; ++item) {
      const Index l0 = item / groups * kLanes, r0 = item % groups * kRowGroup;
      const int lanes = static_cast<int>(std::min<Index>(kLanes, batch - l0));
      const __mmask16 tail = tail_mask(lanes);
      dispatch_panel(lanes, [&]<int NV, bool TAIL>() {
        rows_panel<NV, 1, TAIL>(W, W.index.data(), r0, std::min<Index>(W.rows, r0 + kRowGroup), x + l0, batch, 0,
                                tail, stops, [&](Index o, const __m512(&out)[NV]) {
                               float* dst = y + o * batch + l0;
                               for (int v = 0; v < NV; ++v) {
                                 if (TAIL && v == NV - 1) {
                                   _mm512_mask_storeu_ps(dst + 16 * v, tail, out[v]);
                                 } else {
                                   _mm512_storeu_ps(dst + 16 * v, out[v]);
                                 }
                               }
                             });
      });
    }
  });
}

#else  // portable: the naive order, rows split across threads

void dense_portable(const TernaryMatrix& W, const float* x, Index batch, float* y, int threads) {
  threads = useful_threads(threads, static_cast<double>(W.index.size()) * static_cast<double>(batch), W.rows);
  run_threads(threads, [&](int t, int nt) {
    const auto [r0, r1] = share(W.rows, t, nt);
    for (Index o = r0; o < r1; ++o) {
      const auto uo = static_cast<std::size_t>(o);
      for (Index b = 0; b < batch; ++b) {
        float plus = 0.0f, minus = 0.0f;
        for (std::int64_t p = W.begin[uo]; p < W.split[uo]; ++p) {
          plus += x[W.index[static_cast<std::size_t>(p)] * batch + b];
        }
        for (std::int64_t p = W.split[uo]; p < W.begin[uo + 1]; ++p) {
          minus += x[W.index[static_cast<std::size_t>(p)] * batch + b];
        }
        y[o * batch + b] = finish(W, uo, plus, minus);
      }
    }
  });
}

#endif

}  // namespace

std::size_t TernaryMatrix::bytes() const {
  return vec_bytes(begin) + vec_bytes(split) + vec_bytes(index) + vec_bytes(pos_scale) + vec_bytes(neg_scale) +
         vec_bytes(bias) + vec_bytes(mask) + vec_bytes(lanes) + vec_bytes(lane_begin) +
         vec_bytes(list_lane);
}

int TernaryMatrix::code(Eigen::Index r, Eigen::Index c) const {
  TB_CHECK(r >= 0 && r < rows && c >= 0 && c < cols, "TernaryMatrix::code: index out of range");
  const auto ur = static_cast<std::size_t>(r);
  const auto col = static_cast<std::int32_t>(c);
  const auto has = [&](std::int64_t p0, std::int64_t p1) {
    return std::binary_search(index.begin() + p0, index.begin() + p1, col);
  };
  if (has(begin[ur], split[ur])) return 1;
  if (has(split[ur], begin[ur + 1])) return -1;
  return 0;
}

TernaryMatrix make_ternary_matrix(std::span<const std::int8_t> codes, Eigen::Index rows, Eigen::Index cols,
                                  std::vector<float> pos_scale, std::vector<float> neg_scale,
                                  std::vector<float> bias) {
  TB_CHECK(rows >= 1 && cols >= 1 && cols <= std::numeric_limits<std::int32_t>::max(),
           "make_ternary_matrix: rows and cols must be positive (and cols below 2^31), got " + std::to_string(rows) +
               " x " + std::to_string(cols));
  TB_CHECK(codes.size() == static_cast<std::size_t>(rows * cols),
           "make_ternary_matrix: " + std::to_string(codes.size()) + " codes for a " + std::to_string(rows) + " x " +
               std::to_string(cols) + " matrix");
  const auto urows = static_cast<std::size_t>(rows);
  TB_CHECK(pos_scale.size() == urows && neg_scale.size() == urows && bias.size() == urows,
           "make_ternary_matrix: pos_scale, neg_scale and bias need " + std::to_string(rows) + " entries each, got " +
               std::to_string(pos_scale.size()) + ", " + std::to_string(neg_scale.size()) + " and " +
               std::to_string(bias.size()));
  TernaryMatrix W;
  W.rows = rows;
  W.cols = cols;
  W.begin.reserve(urows + 1);
  W.split.reserve(urows);
  W.begin.push_back(0);
  for (Index o = 0; o < rows; ++o) {
    const std::int8_t* row = codes.data() + o * cols;
    for (Index c = 0; c < cols; ++c) {
      TB_CHECK(row[c] >= -1 && row[c] <= 1, "make_ternary_matrix: code " + std::to_string(row[c]) + " at (" +
                                                std::to_string(o) + ", " + std::to_string(c) +
                                                ") is not -1, 0 or +1");
      if (row[c] == 1) W.index.push_back(static_cast<std::int32_t>(c));
    }
    W.split.push_back(static_cast<std::int64_t>(W.index.size()));
    for (Index c = 0; c < cols; ++c) {
      if (row[c] == -1) W.index.push_back(static_cast<std::int32_t>(c));
    }
    W.begin.push_back(static_cast<std::int64_t>(W.index.size()));
  }
  W.pos_scale = std::move(pos_scale);
  W.neg_scale = std::move(neg_scale);
  W.bias = std::move(bias);
#if defined(__AVX512F__)
  if (density(W) >= TernaryMatrix::kMaskDensity) {
    build_mask(W);
  } else if (cols < 0xFFFF) {
    build_lanes(W);
  }
#endif
  return W;
}

void ternary_dense_naive(const TernaryMatrix& W, const float* x, Eigen::Index batch, float* y) {
  check_matrix(W, "ternary_dense_naive");
  TB_CHECK(batch >= 1, "ternary_dense_naive: batch must be positive");
  for (Index o = 0; o < W.rows; ++o) {
    const auto uo = static_cast<std::size_t>(o);
    for (Index b = 0; b < batch; ++b) {
      float plus = 0.0f, minus = 0.0f;
      for (std::int64_t p = W.begin[uo]; p < W.split[uo]; ++p) plus += x[W.index[static_cast<std::size_t>(p)] * batch + b];
      for (std::int64_t p = W.split[uo]; p < W.begin[uo + 1]; ++p) {
        minus += x[W.index[static_cast<std::size_t>(p)] * batch + b];
      }
      y[o * batch + b] = finish(W, uo, plus, minus);
    }
  }
}

void ternary_dense(const TernaryMatrix& W, const float* x, Eigen::Index batch, float* y, int threads) {
  check_matrix(W, "ternary_dense");
  TB_CHECK(batch >= 1, "ternary_dense: batch must be positive");
  threads = std::max(threads, 1);
#if defined(__AVX512F__)
  if (batch == 1 && W.mask.size() == static_cast<std::size_t>(ceil_div(W.rows, kBlock) * W.cols * 2)) {
    dense_mask(W, x, y, threads);
  } else if (batch == 1 && !W.lane_begin.empty()) {
    dense_lanes(W, x, y, threads);
  } else {
    dense_panels(W, x, batch, y, threads);
  }
#else
  dense_portable(W, x, batch, y, threads);
#endif
}

}  // namespace ternbench::kernels
