// The ternary convolution (docs/inference.md): each output channel is a row of the ternary
// (out_c, in_c*k*k) matrix whose codes carry, besides their column, the offset of their input
// in the zero-padded image, so an output at base position q reads padded[(q + offset) * batch].
// Three fast paths over rows_panel (ternary_rows.hpp), all adding every output's +1 inputs in
// ascending column order from 0 (offsets ascend with the column), the -1 inputs likewise:
//
//   batch 1, stride 1, out_w a multiple of 16 (the row form, TernaryConv::row_offset): the
//       lanes are 16 positions of an output row, read from k copies of the padded rows shifted
//       by kw, so every load is aligned; 1-4 output rows share each walk of the lists.
//   batch 1, stride 1, other widths (flattened): the base of (oh, ow) is q = oh * padded_w +
//       ow, so 64 consecutive q read 64 consecutive floats at every offset. The q with ow >=
//       out_w (the k - 1 columns that wrap into the next row) are computed and dropped: their
//       lanes are compressed out before the store.
//   otherwise: the input is repacked into panels of 16 samples, and the lanes are the samples
//       of one panel at four output positions of a row.
// All tile the input channels so a tile's inputs stay in L1 while 32 output channels use it.
// Where the time goes, per path and sparsity: bench/RESULTS.md, "Ternary inference kernels".
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "conv_check.hpp"
#include "ternary_rows.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/core/kernels/ternary.hpp"

namespace ternbench::kernels {
namespace {

using namespace ternary_detail;

struct Padded {
  int h, w;  // padded height and width
  explicit Padded(const ConvGeometry& g) : h(g.in_h + 2 * g.padding), w(g.in_w + 2 * g.padding) {}
  Index plane() const { return Index{h} * w; }
};

// x (C, H, W, B) into the zero-bordered (C, H + 2p, W + 2p, B).
void pad_input(const ConvGeometry& g, const float* x, Index batch, float* dst, int threads) {
  const Padded pd(g);
  const Index row = Index{g.in_w} * batch, prow = Index{pd.w} * batch, edge = Index{g.padding} * batch;
  threads = useful_threads(threads, static_cast<double>(g.in_c * pd.plane() * batch) * kNsPerFloatCopied, g.in_c);
  run_threads(threads, [&](int t, int nt) {
    const auto [c0, c1] = share(g.in_c, t, nt);
    for (Index c = c0; c < c1; ++c) {
      float* plane = dst + c * pd.plane() * batch;
      std::memset(plane, 0, sizeof(float) * static_cast<std::size_t>(g.padding * prow));
      for (int iy = 0; iy < g.in_h; ++iy) {
        float* out = plane + (iy + g.padding) * prow;
        const float* in = x + (Index{c} * g.in_h + iy) * row;
#if defined(__AVX512F__)
        // Rows of a few floats (batch 1): masked vectors rather than three library calls.
        if (prow <= 256) {
          for (Index i0 = 0; i0 < prow; i0 += 16) {
            const auto a = static_cast<unsigned>(std::clamp<Index>(edge - i0, 0, 16));
            const auto b = static_cast<unsigned>(std::clamp<Index>(edge + row - i0, 0, 16));
            const auto in_row = static_cast<__mmask16>(((1u << b) - 1u) & ~((1u << a) - 1u));
            const auto all = static_cast<__mmask16>((1u << std::min<Index>(16, prow - i0)) - 1u);
            // Lane l is input float i0 + l - edge; lanes outside the row are masked (not read).
            _mm512_mask_storeu_ps(out + i0, all, _mm512_maskz_loadu_ps(in_row, in + (i0 - edge)));
          }
          continue;
        }
#endif
        std::memset(out, 0, sizeof(float) * static_cast<std::size_t>(edge));
        std::memcpy(out + edge, in, sizeof(float) * static_cast<std::size_t>(row));
        std::memset(out + edge + row, 0, sizeof(float) * static_cast<std::size_t>(edge));
      }
      std::memset(plane + (g.padding + g.in_h) * prow, 0, sizeof(float) * static_cast<std::size_t>(g.padding * prow));
    }
  });
}

void check_conv(const TernaryConv& c, const char* who) {
  detail::check_geometry(c.g, who);
  check_matrix(c.W, who);
  TB_CHECK(c.W.rows == c.g.out_c && c.W.cols == c.g.patch() && c.offset.size() == c.W.index.size(),
           std::string(who) + ": malformed ternary convolution (build it with make_ternary_conv)");
}

// Whether a stride-1 layer gets the batch-1 row form: when its output rows fill whole
// vectors (out_w a multiple of 16, up to 64). Measured on the VGG-7 shapes it is 1.2-1.6x the
// flattened path at 50-98% sparsity; with 8-wide rows half its lanes would be wasted, and
// the flattened path (a fifth of them wasted) wins.
#if defined(__AVX512F__)

bool use_rows(const ConvGeometry& g) { return g.stride == 1 && g.out_w() % 16 == 0 && g.out_w() <= 64; }

// Batch 1, stride 1: panels of 64 base positions q, output channels split across threads.
void conv_positions(const TernaryConv& c, const float* src, float* y, int threads) {
  const ConvGeometry& g = c.g;
  const Padded pd(g);
  const int k = g.kernel, ow_n = g.out_w();
  const Index P = Index{g.out_h()} * ow_n;
  const Index Q = Index{g.out_h() - 1} * pd.w + ow_n;  // one past the last valid q
  const Index chunks = ceil_div(Q, kLanes), groups = ceil_div(g.out_c, kRowGroup);
  // A channel's inputs for one panel: 64 floats plus the window's reach.
  const double chan_bytes = 4.0 * static_cast<double>(std::min<Index>(pd.plane(), kLanes + Index{k - 1} * pd.w + k - 1));
  std::vector<std::int32_t> stops;
  tile_stops(g.in_c, tile_width(chan_bytes, k * k * density(c.W)), pd.plane(), stops);
  threads = useful_threads(
      threads, static_cast<double>(c.W.index.size()) * static_cast<double>(chunks) * 4.0 * kNsPerAdd / kConvThreadCost,
      chunks * groups);
  run_threads(threads, [&](int t, int nt) {
    const auto [i0, i1] = share(chunks * groups, t, nt);
    for (Index item = i0; item < i1; ++item) {
      const Index q0 = item / groups * kLanes, r0 = item % groups * kRowGroup;
      const int lanes = static_cast<int>(std::min<Index>(kLanes, Q - q0));
      // Per vector: the lanes that are outputs, and where the first of them goes.
      __mmask16 keep[4] = {};
      Index dst[4] = {};
      for (int v = 0; v < 4; ++v) {
        const Index qv = q0 + 16 * v;
        dst[v] = qv / pd.w * ow_n + std::min<Index>(qv % pd.w, ow_n);
        for (int l = 0; l < 16; ++l) {
          const Index q = qv + l;
          if (q < Q && q % pd.w < ow_n) keep[v] = static_cast<__mmask16>(keep[v] | (1u << l));
        }
      }
      dispatch_panel(lanes, [&]<int NV, bool TAIL>() {
        rows_panel<NV, 1, TAIL>(c.W, c.offset.data(), r0, std::min<Index>(g.out_c, r0 + kRowGroup), src + q0, 1, 0,
                                tail_mask(lanes), stops, [&](Index o, const __m512(&out)[NV]) {
                               float* yo = y + o * P;
                               for (int v = 0; v < NV; ++v) {
                                 const auto n = static_cast<unsigned>(__builtin_popcount(keep[v]));
                                 _mm512_mask_storeu_ps(yo + dst[v], static_cast<__mmask16>((1u << n) - 1u),
                                                       _mm512_maskz_compress_ps(keep[v], out[v]));
                               }
                             });
      });
    }
  });
}

// Batch 1, stride 1, with the row_offset form: the lanes are 16 consecutive positions of one
// output row, read from k copies of each padded input row shifted by kw = 0..k-1 (so every
// load is aligned: unaligned loads of the flattened path cost half again as much). nc output
// rows (nc * out_w / 16 <= 4 vectors), k * row_pitch apart in the copies, share each walk of
// the lists. (Copying per block of output rows instead, into a buffer that stays in L2,
// measured slower: it copies the k - 1 shared rows twice.)
int rows_per_block(int pitch) { return std::max(1, 4 / (pitch / 16)); }

// The copies of padded rows [r0, r1) of every channel: dst[((ch * padded_h + r) * k + kw) *
// pitch + i] = padded input (ch, r, i + kw) for i < out_w, zero up to the pitch. One masked
// load a vector (masked lanes are not read); keep[kw * pitch / 16 + v]: vector v's lanes
// that come from inside the image.
void shift_rows(const TernaryConv& c, const float* x, const __mmask16* keep, int r0, int r1, float* dst) {
  const ConvGeometry& g = c.g;
  const Padded pd(g);
  const int k = g.kernel, pitch = c.row_pitch, nv = pitch / 16;
  for (Index ch = 0; ch < g.in_c; ++ch) {
    for (int r = r0; r < r1; ++r) {
      const int iy = r - g.padding;
      float* out = dst + (ch * pd.h + r) * k * pitch;
      if (iy < 0 || iy >= g.in_h) {
        for (int i = 0; i < k * pitch; i += 16) _mm512_store_ps(out + i, _mm512_setzero_ps());
        continue;
      }
      const float* src = x + (ch * g.in_h + iy) * g.in_w - g.padding;
      for (int kw = 0; kw < k; ++kw, out += pitch) {
        for (int v = 0; v < nv; ++v) _mm512_store_ps(out + 16 * v, _mm512_maskz_loadu_ps(keep[kw * nv + v], src + kw + 16 * v));
      }
    }
  }
}

void conv_rows(const TernaryConv& c, const float* x, float* y, float* work, int threads) {
  const ConvGeometry& g = c.g;
  const Padded pd(g);
  const int k = g.kernel, oh_n = g.out_h(), ow_n = g.out_w(), pitch = c.row_pitch, nv = pitch / 16;
  const int nc = rows_per_block(pitch);
  std::vector<__mmask16> keep(static_cast<std::size_t>(k * nv));
  for (int kw = 0; kw < k; ++kw) {
    const int lo = std::clamp(g.padding - kw, 0, ow_n), hi = std::clamp(g.in_w + g.padding - kw, lo, ow_n);
    for (int v = 0; v < nv; ++v) {
      const int a = std::clamp(lo - 16 * v, 0, 16), b = std::clamp(hi - 16 * v, 0, 16);
      keep[static_cast<std::size_t>(kw * nv + v)] = static_cast<__mmask16>(((1u << b) - 1u) & ~((1u << a) - 1u));
    }
  }
  const Index P = Index{oh_n} * ow_n, blocks = ceil_div(oh_n, nc), groups = ceil_div(g.out_c, kRowGroup);
  std::vector<std::int32_t> stops;
  tile_stops(g.in_c, tile_width(4.0 * (nc + k - 1) * k * pitch, k * k * density(c.W)), Index{pd.h} * k * pitch, stops);
  threads = useful_threads(
      threads, static_cast<double>(c.W.index.size()) * static_cast<double>(blocks) * 4.0 * kNsPerAdd / kConvThreadCost,
      blocks * groups);
  const __mmask16 tail = tail_mask(ow_n);
  run_threads(threads, [&](int t, int nt) {
    const auto [i0, i1] = share(blocks * groups, t, nt);
    // Each thread copies the padded rows from its first block's to the next thread's: the rows
    // its blocks read but for the k - 1 the next thread copies.
    const auto first_row = [&](int u) {
      return u == 0 ? 0 : u == nt ? pd.h : static_cast<int>(share(blocks * groups, u, nt).first / groups * nc);
    };
    shift_rows(c, x, keep.data(), first_row(t), first_row(t + 1), work);
#pragma omp barrier
    for (Index item = i0; item < i1; ++item) {
      const Index oh0 = item / groups * nc, r0 = item % groups * kRowGroup, r1 = std::min<Index>(g.out_c, r0 + kRowGroup);
      const int rows = static_cast<int>(std::min<Index>(nc, oh_n - oh0));
      const float* src = work + oh0 * k * pitch;
      const auto run = [&]<int NV, int NC>() {
        rows_panel<NV, NC, false>(c.W, c.row_offset.data(), r0, r1, src, 1, Index{k} * pitch, 0xFFFF, stops,
                                  [&](Index o, const __m512(&out)[NC * NV]) {
                                    for (int j = 0; j < NC; ++j) {
                                      float* dst = y + o * P + (oh0 + j) * ow_n;
                                      for (int v = 0; v < NV; ++v) {
                                        if (v == NV - 1) {
                                          _mm512_mask_storeu_ps(dst + 16 * v, tail, out[j * NV + v]);
                                        } else {
                                          _mm512_storeu_ps(dst + 16 * v, out[j * NV + v]);
                                        }
                                      }
                                    }
                                  });
      };
      switch (nv * 8 + rows) {
        case 8 + 1: run.template operator()<1, 1>(); break;
        case 8 + 2: run.template operator()<1, 2>(); break;
        case 8 + 3: run.template operator()<1, 3>(); break;
        case 8 + 4: run.template operator()<1, 4>(); break;
        case 16 + 1: run.template operator()<2, 1>(); break;
        case 16 + 2: run.template operator()<2, 2>(); break;
        case 24 + 1: run.template operator()<3, 1>(); break;
        default: run.template operator()<4, 1>(); break;
      }
    }
  });
}

// x (C, H, W, B) into panels of 16 samples: panel n is the zero-padded (C, H + 2p, W + 2p, 16)
// image of samples 16n..16n+15 (zeros past the batch). A panel's pixel is then one cache
// line: read in place, 16 samples of a batch of 64 would use every fourth line, so a quarter
// of the L1 sets.
void pack_panels(const ConvGeometry& g, const float* x, Index batch, float* dst, int threads) {
  const Padded pd(g);
  const Index panels = ceil_div(batch, 16), panel = Index{g.in_c} * pd.plane() * 16;
  threads = useful_threads(threads, static_cast<double>(panel * panels) * kNsPerFloatCopied, g.in_c);
  run_threads(threads, [&](int t, int nt) {
    const auto [ch0, ch1] = share(g.in_c, t, nt);
    for (Index ch = ch0; ch < ch1; ++ch) {
      for (int r = 0; r < pd.h; ++r) {
        const int iy = r - g.padding;
        for (int w = 0; w < pd.w; ++w) {
          const int ix = w - g.padding;
          const bool inside = iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w;
          const float* in = x + ((Index{ch} * g.in_h + iy) * g.in_w + ix) * batch;
          float* out = dst + ((Index{ch} * pd.h + r) * pd.w + w) * 16;
          for (Index n = 0; n < panels; ++n, in += 16, out += panel) {
            const __mmask16 lanes = inside ? tail_mask(static_cast<int>(std::min<Index>(16, batch - n * 16))) : 0;
            _mm512_store_ps(out, _mm512_maskz_loadu_ps(lanes, in));
          }
        }
      }
    }
  });
}

// Any batch and stride: panels of 16 samples (pack_panels) at kCols output positions along a
// row, which read the same offsets kCols * stride pixels apart (so the index lists are walked
// once for four outputs). Per output row and panel the inputs are in_c * k padded rows of one
// line a pixel, which stay in L2 while the positions slide along the row. Items (output row,
// panel, positions) are split across threads.
void conv_samples(const TernaryConv& c, const float* panels_src, Index batch, float* y, int threads) {
  constexpr int kCols = 4;
  const ConvGeometry& g = c.g;
  const Padded pd(g);
  const int k = g.kernel, s = g.stride, oh_n = g.out_h(), ow_n = g.out_w();
  const Index P = Index{oh_n} * ow_n, panels = ceil_div(batch, 16), blocks = ceil_div(ow_n, kCols);
  std::vector<std::int32_t> stops;
  tile_stops(g.in_c, tile_width(k * (kCols * s + k - 1) * 64.0, k * k * density(c.W)), pd.plane(), stops);
  threads = useful_threads(
      threads, static_cast<double>(c.W.index.size()) * static_cast<double>(P * panels) * kNsPerAdd / kConvThreadCost,
      oh_n * panels * blocks);
  run_threads(threads, [&](int t, int nt) {
    const auto [i0, i1] = share(oh_n * panels * blocks, t, nt);
    for (Index item = i0; item < i1; ++item) {
      const Index oh = item / (panels * blocks), n = item / blocks % panels, ow0 = item % blocks * kCols;
      const int lanes = static_cast<int>(std::min<Index>(16, batch - n * 16));
      const int cols = static_cast<int>(std::min<Index>(kCols, ow_n - ow0));
      const float* src = panels_src + (n * g.in_c * pd.plane() + oh * s * pd.w + ow0 * s) * 16;
      const __mmask16 tail = tail_mask(lanes);
      dispatch_columns(cols, lanes, [&]<int NC, bool TAIL>() {
        rows_panel<1, NC, TAIL>(c.W, c.offset.data(), 0, g.out_c, src, 16, Index{s} * 16, tail, stops,
                                [&](Index o, const __m512(&out)[NC]) {
                                  float* dst = y + (o * P + oh * ow_n + ow0) * batch + n * 16;
                                  for (int j = 0; j < NC; ++j) {
                                    if (TAIL) {
                                      _mm512_mask_storeu_ps(dst + j * batch, tail, out[j]);
                                    } else {
                                      _mm512_storeu_ps(dst + j * batch, out[j]);
                                    }
                                  }
                                });
      });
    }
  });
}

#else  // portable: the naive order over the padded input, output channels split across threads

void conv_portable(const TernaryConv& c, const float* src, Index batch, float* y, int threads) {
  const ConvGeometry& g = c.g;
  const Padded pd(g);
  const int ow_n = g.out_w();
  const Index P = Index{g.out_h()} * ow_n;
  threads = useful_threads(threads, static_cast<double>(c.W.index.size()) * static_cast<double>(P * batch), g.out_c);
  run_threads(threads, [&](int t, int nt) {
    const auto [o0, o1] = share(g.out_c, t, nt);
    for (Index o = o0; o < o1; ++o) {
      const auto uo = static_cast<std::size_t>(o);
      for (Index p = 0; p < P; ++p) {
        const Index base = (p / ow_n) * g.stride * pd.w + (p % ow_n) * g.stride;
        for (Index b = 0; b < batch; ++b) {
          float plus = 0.0f, minus = 0.0f;
          for (std::int64_t i = c.W.begin[uo]; i < c.W.split[uo]; ++i) {
            plus += src[(base + c.offset[static_cast<std::size_t>(i)]) * batch + b];
          }
          for (std::int64_t i = c.W.split[uo]; i < c.W.begin[uo + 1]; ++i) {
            minus += src[(base + c.offset[static_cast<std::size_t>(i)]) * batch + b];
          }
          y[(o * P + p) * batch + b] = finish(c.W, uo, plus, minus);
        }
      }
    }
  });
}

#endif

}  // namespace

std::size_t TernaryConv::bytes() const { return W.bytes() + (offset.size() + row_offset.size()) * sizeof(std::int32_t); }

TernaryConv make_ternary_conv(const ConvGeometry& g, TernaryMatrix W) {
  detail::check_geometry(g, "make_ternary_conv");
  check_matrix(W, "make_ternary_conv");
  TB_CHECK(W.rows == g.out_c && W.cols == g.patch(),
           "make_ternary_conv: the matrix is " + std::to_string(W.rows) + " x " + std::to_string(W.cols) +
               ", the geometry needs " + std::to_string(g.out_c) + " x " + std::to_string(g.patch()));
  const Padded pd(g);
  TB_CHECK(Index{g.in_c} * pd.plane() * g.kernel * 2 < std::numeric_limits<std::int32_t>::max(),
           "make_ternary_conv: the padded input is too large for 32-bit offsets");
  TernaryConv c;
  c.g = g;
  // The conv kernels walk the lists; the dense batch-1 forms would only hold memory.
  for (auto* v : {&W.mask, &W.lanes}) std::vector<std::uint16_t>().swap(*v);
  std::vector<std::int64_t>().swap(W.lane_begin);
  std::vector<std::int32_t>().swap(W.list_lane);
  c.W = std::move(W);
  const int k = g.kernel;
  c.offset.reserve(c.W.index.size());
  for (const std::int32_t col : c.W.index) {
    const int ch = col / (k * k), kh = col / k % k, kw = col % k;
    c.offset.push_back(static_cast<std::int32_t>((Index{ch} * pd.h + kh) * pd.w + kw));
  }
#if defined(__AVX512F__)
  if (use_rows(g)) {
    c.row_pitch = static_cast<int>(ceil_div(g.out_w(), 16) * 16);
    c.row_offset.reserve(c.W.index.size());
    for (const std::int32_t col : c.W.index) {
      const int ch = col / (k * k), kh = col / k % k, kw = col % k;
      c.row_offset.push_back(static_cast<std::int32_t>(((Index{ch} * pd.h + kh) * k + kw) * c.row_pitch));
    }
  }
#endif
  return c;
}

Eigen::Index ternary_conv_workspace_size(const TernaryConv& c, Eigen::Index batch) {
  // + 15: the kernels start their scratch at the first 64-byte boundary of `work`.
  const Index plane = Padded(c.g).plane();
#if defined(__AVX512F__)
  if (batch == 1 && !c.row_offset.empty()) return Index{c.g.in_c} * Padded(c.g).h * c.g.kernel * c.row_pitch + 15;
  if (batch > 1 || c.g.stride > 1) return ceil_div(batch, 16) * 16 * c.g.in_c * plane + 15;
#endif
  return c.g.padding > 0 ? Index{c.g.in_c} * plane * batch + 15 : 0;
}

void ternary_conv(const TernaryConv& c, const float* x, Eigen::Index batch, float* y, float* work, int threads) {
  check_conv(c, "ternary_conv");
  TB_CHECK(batch >= 1, "ternary_conv: batch must be positive");
  threads = std::max(threads, 1);
  // Aligned scratch: a 16-sample pixel (or 16 positions of a row form) is then one cache line.
  float* scratch = work == nullptr ? nullptr
                                   : reinterpret_cast<float*>((reinterpret_cast<std::uintptr_t>(work) + 63) &
                                                              ~std::uintptr_t{63});
  TB_CHECK(work != nullptr || ternary_conv_workspace_size(c, batch) == 0, "ternary_conv: the workspace is missing");
#if defined(__AVX512F__)
  if (batch == 1 && !c.row_offset.empty()) {
    conv_rows(c, x, y, scratch, threads);
  } else if (batch == 1 && c.g.stride == 1) {
    if (c.g.padding > 0) pad_input(c.g, x, batch, scratch, threads);
    conv_positions(c, c.g.padding > 0 ? scratch : x, y, threads);
  } else {
    pack_panels(c.g, x, batch, scratch, threads);
    conv_samples(c, scratch, batch, y, threads);
  }
#else
  if (c.g.padding > 0) pad_input(c.g, x, batch, scratch, threads);
  conv_portable(c, c.g.padding > 0 ? scratch : x, batch, y, threads);
#endif
}

void ternary_conv_naive(const TernaryConv& c, const float* x, Eigen::Index batch, float* y) {
  check_conv(c, "ternary_conv_naive");
  TB_CHECK(batch >= 1, "ternary_conv_naive: batch must be positive");
  const ConvGeometry& g = c.g;
  const int k = g.kernel, oh_n = g.out_h(), ow_n = g.out_w();
  // The input at (channel, row, column) of the zero-padded image, from the column index alone.
  const auto input = [&](std::int32_t col, int oy, int ox, Index b) {
    const int ch = col / (k * k), iy = oy * g.stride + col / k % k - g.padding,
              ix = ox * g.stride + col % k - g.padding;
    if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) return 0.0f;
    return x[((Index{ch} * g.in_h + iy) * g.in_w + ix) * batch + b];
  };
  for (int o = 0; o < g.out_c; ++o) {
    const auto uo = static_cast<std::size_t>(o);
    for (int oy = 0; oy < oh_n; ++oy) {
      for (int ox = 0; ox < ow_n; ++ox) {
        for (Index b = 0; b < batch; ++b) {
          float plus = 0.0f, minus = 0.0f;
          for (std::int64_t i = c.W.begin[uo]; i < c.W.split[uo]; ++i) {
            plus += input(c.W.index[static_cast<std::size_t>(i)], oy, ox, b);
          }
          for (std::int64_t i = c.W.split[uo]; i < c.W.begin[uo + 1]; ++i) {
            minus += input(c.W.index[static_cast<std::size_t>(i)], oy, ox, b);
          }
          y[((Index{o} * oh_n + oy) * ow_n + ox) * batch + b] = finish(c.W, uo, plus, minus);
        }
      }
    }
  }
}

}  // namespace ternbench::kernels
