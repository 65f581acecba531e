// Implicit-GEMM convolution. One micro-kernel serves all three products:
//
//   C(m, n) (+)= sum_s A(m, s) * B(s, n)     m < kMr rows, n < kNr = 64 lanes
//
// A is read by broadcast from kMr row pointers (a + i*a_row + s*a_step), B as 64 contiguous
// floats per step (b + s*b_step), C as kMr rows of 64 contiguous floats. The three products
// map onto it without transposing anything large:
//   forward  rows = output channels (W packed once per call), lanes = output pixels (an
//            im2col panel of 64 pixels), C = rows of the CHW output column itself;
//   dx       rows = patch entries (read straight from W's columns), lanes = pixels (dy's rows
//            read in place), C = ~96 rows of a 64-pixel column panel, which col2im adds into
//            dx while they are in L1;
//   dW       rows = patch entries (6 im2col rows at a time), lanes = output channels (dy
//            transposed, 256 pixels at a time), C = dW's columns, which hold the output
//            channels contiguously.
// 6 x 64 keeps 24 zmm accumulators busy with 4 loads and 6 broadcasts per 24 FMAs, enough
// independent chains to cover the FMA latency on both pipes (~95% of peak with operands in
// L1). Images are copied into a zero-bordered buffer first, so im2col and col2im are copies
// and adds of row segments without bounds tests.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include "ternbench/core/kernels/conv.hpp"

#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <numeric>
#include <string>
#include <utility>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "ternbench/base/error.hpp"

namespace ternbench::kernels {
namespace {

using Index = Eigen::Index;
using std::ptrdiff_t;

constexpr int kMr = 6;    // rows of a micro-tile
constexpr int kNr = 64;   // lanes of a micro-tile (four 16-float vectors)
constexpr int kKc = 128;  // reduction steps per micro-kernel call: the B panel (kKc x kNr) stays in L1
constexpr int kDxRows = 16 * kMr;  // rows of W^T dy computed before col2im adds them (24 KiB)
constexpr int kDwChunk = 256;  // pixels per weight-gradient block (its reduction length)

Index round16(Index n) { return (n + 15) / 16 * 16; }
Index ceil_div(Index a, Index b) { return (a + b - 1) / b; }

struct Tile {
  float* c;          // row 0, lane 0
  ptrdiff_t c_row;   // floats between rows
  int m;             // rows: 1..kMr (1..2*kMr for micro_kernel_narrow)
  int n;             // valid lanes (1..kNr)
  const float* bias; // per-row initial value, or nullptr for zero
  bool accumulate;   // C += result instead of C = result
};

#if defined(__AVX512F__)

inline __mmask16 lane_mask(int n) {
  if (n >= 16) return static_cast<__mmask16>(0xFFFF);
  if (n <= 0) return 0;
  return static_cast<__mmask16>((1u << n) - 1u);
}

// The tile with exactly MR rows and NV vectors of lanes (edge tiles get their own
// instantiation instead of computing rows that are thrown away).
template <int MR, int NV>
void micro_tile(int steps, const float* a, ptrdiff_t a_row, ptrdiff_t a_step, const float* b, ptrdiff_t b_step,
                const Tile& t) {
  const float* ap[MR];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) ap[i] = a + i * a_row;
  __m512 acc[MR][NV];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) {
    const __m512 init = t.bias != nullptr ? _mm512_set1_ps(t.bias[i]) : _mm512_setzero_ps();
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[i][j] = init;
  }
  for (int s = 0; s < steps; ++s) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) bv[j] = _mm512_loadu_ps(b + 16 * j);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      const __m512 av = _mm512_set1_ps(*ap[i]);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);
      ap[i] += a_step;
    }
    b += b_step;
  }
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) {
    float* c = t.c + i * t.c_row;
    if (t.n == 16 * NV) {  // masked loads and stores cost about twice as much: only for edges
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) {
        __m512 v = acc[i][j];
        if (t.accumulate) v = _mm512_add_ps(v, _mm512_loadu_ps(c + 16 * j));
        _mm512_storeu_ps(c + 16 * j, v);
      }
      continue;
    }
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      const __mmask16 m = lane_mask(t.n - 16 * j);
      __m512 v = acc[i][j];
      if (t.accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, c + 16 * j));
      _mm512_mask_storeu_ps(c + 16 * j, m, v);
    }
  }
}

template <int NV, int... R>
void dispatch_rows(int steps, const float* a, ptrdiff_t a_row, ptrdiff_t a_step, const float* b, ptrdiff_t b_step,
                   const Tile& t, std::integer_sequence<int, R...>) {
  // Tile::m selects micro_tile<m, NV>; m is in 1..sizeof...(R).
  ((t.m == R + 1 ? (micro_tile<R + 1, NV>(steps, a, a_row, a_step, b, b_step, t), true) : false) || ...);
}

// 6 rows x 64 lanes.
void micro_kernel(int steps, const float* a, ptrdiff_t a_row, ptrdiff_t a_step, const float* b, ptrdiff_t b_step,
                  const Tile& t) {
  dispatch_rows<4>(steps, a, a_row, a_step, b, b_step, t, std::make_integer_sequence<int, kMr>{});
}

// 12 rows x 32 lanes: the same 24 accumulators for products with at most 32 lanes (the weight
// gradient of layers with <= 32 output channels).
void micro_kernel_narrow(int steps, const float* a, ptrdiff_t a_row, ptrdiff_t a_step, const float* b,
                         ptrdiff_t b_step, const Tile& t) {
  dispatch_rows<2>(steps, a, a_row, a_step, b, b_step, t, std::make_integer_sequence<int, 2 * kMr>{});
}

inline void zero_span(float* dst, int n) {
  int t = 0;
  for (; t + 16 <= n; t += 16) _mm512_storeu_ps(dst + t, _mm512_setzero_ps());
  if (t < n) _mm512_mask_storeu_ps(dst + t, lane_mask(n - t), _mm512_setzero_ps());
}
inline void copy_span(float* dst, const float* src, int n) {
  int t = 0;
  for (; t + 16 <= n; t += 16) _mm512_storeu_ps(dst + t, _mm512_loadu_ps(src + t));
  if (t < n) {
    const __mmask16 m = lane_mask(n - t);
    _mm512_mask_storeu_ps(dst + t, m, _mm512_maskz_loadu_ps(m, src + t));
  }
}
inline void add_span(float* dst, const float* src, int n) {
  int t = 0;
  for (; t + 16 <= n; t += 16) _mm512_storeu_ps(dst + t, _mm512_add_ps(_mm512_loadu_ps(dst + t), _mm512_loadu_ps(src + t)));
  if (t < n) {
    const __mmask16 m = lane_mask(n - t);
    _mm512_mask_storeu_ps(dst + t, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, dst + t), _mm512_maskz_loadu_ps(m, src + t)));
  }
}

// dst(j, i) = src(i, j) for i < rows, j < cols (both <= 16)   rows of src_ld / dst_ld floats
void transpose16(const float* src, ptrdiff_t src_ld, int rows, int cols, float* dst, ptrdiff_t dst_ld) {
  __m512 r[16], t[16];
  const __mmask16 cm = lane_mask(cols);
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) {
    if (i >= rows) {
      r[i] = _mm512_setzero_ps();
    } else {
      r[i] = cols == 16 ? _mm512_loadu_ps(src + i * src_ld) : _mm512_maskz_loadu_ps(cm, src + i * src_ld);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
#pragma GCC unroll 2
  for (int i = 0; i < 16; i += 8) {
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) {
      t[i + q] = _mm512_shuffle_f32x4(r[i + q], r[i + 4 + q], 0x88);
      t[i + 4 + q] = _mm512_shuffle_f32x4(r[i + q], r[i + 4 + q], 0xDD);
    }
  }
#pragma GCC unroll 8
  for (int q = 0; q < 8; ++q) {
    r[q] = _mm512_shuffle_f32x4(t[q], t[8 + q], 0x88);
    r[8 + q] = _mm512_shuffle_f32x4(t[q], t[8 + q], 0xDD);
  }
  if (rows == 16) {
    for (int j = 0; j < cols; ++j) _mm512_storeu_ps(dst + j * dst_ld, r[j]);
    return;
  }
  const __mmask16 rm = lane_mask(rows);
  for (int j = 0; j < cols; ++j) _mm512_mask_storeu_ps(dst + j * dst_ld, rm, r[j]);
}

#else  // portable fallback: the same blocking with plain loops the compiler vectorises

// Up to 2*kMr rows of `lanes` (64 or 32) lanes.
void fallback_tile(int steps, const float* a, ptrdiff_t a_row, ptrdiff_t a_step, const float* b, ptrdiff_t b_step,
                   const Tile& t, int lanes) {
  float acc[2 * kMr][kNr];
  for (int i = 0; i < t.m; ++i) {
    const float init = t.bias != nullptr ? t.bias[i] : 0.0f;
    for (int j = 0; j < lanes; ++j) acc[i][j] = init;
  }
  for (int s = 0; s < steps; ++s) {
    const float* bs = b + s * b_step;
    for (int i = 0; i < t.m; ++i) {
      const float av = a[i * a_row + s * a_step];
      for (int j = 0; j < lanes; ++j) acc[i][j] += av * bs[j];
    }
  }
  for (int i = 0; i < t.m; ++i) {
    float* c = t.c + i * t.c_row;
    for (int j = 0; j < t.n; ++j) c[j] = t.accumulate ? c[j] + acc[i][j] : acc[i][j];
  }
}

void micro_kernel(int steps, const float* a, ptrdiff_t a_row, ptrdiff_t a_step, const float* b, ptrdiff_t b_step,
                  const Tile& t) {
  fallback_tile(steps, a, a_row, a_step, b, b_step, t, kNr);
}

void micro_kernel_narrow(int steps, const float* a, ptrdiff_t a_row, ptrdiff_t a_step, const float* b,
                         ptrdiff_t b_step, const Tile& t) {
  fallback_tile(steps, a, a_row, a_step, b, b_step, t, kNr / 2);
}

inline void zero_span(float* dst, int n) {
  for (int t = 0; t < n; ++t) dst[t] = 0.0f;
}
inline void copy_span(float* dst, const float* src, int n) {
  for (int t = 0; t < n; ++t) dst[t] = src[t];
}
inline void add_span(float* dst, const float* src, int n) {
  for (int t = 0; t < n; ++t) dst[t] += src[t];
}

void transpose16(const float* src, ptrdiff_t src_ld, int rows, int cols, float* dst, ptrdiff_t dst_ld) {
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < cols; ++j) dst[j * dst_ld + i] = src[i * src_ld + j];
  }
}

#endif

// Position (c, kh, kw) of patch entry k, stepped without divisions.
struct PatchPos {
  int c, kh, kw, k;
  PatchPos(Index entry, int kernel) : k(kernel) {
    const int kk = kernel * kernel;
    c = static_cast<int>(entry / kk);
    const int r = static_cast<int>(entry - Index{c} * kk);
    kh = r / kernel;
    kw = r - kh * kernel;
  }
  void next() {
    if (++kw == k) {
      kw = 0;
      if (++kh == k) {
        kh = 0;
        ++c;
      }
    }
  }
};

// Images are first copied into a zero-bordered buffer (when padding > 0), so that im2col and
// col2im become plain copies and adds of output-row segments with no bounds tests: a panel
// of pixels is cut once into segments that lie in one output row, and every patch entry
// reuses that list with its own base offset.
struct Padded {
  int hp, wp;    // padded plane size
  Index plane;   // hp * wp
  explicit Padded(const ConvGeometry& g)
      : hp(g.in_h + 2 * g.padding), wp(g.in_w + 2 * g.padding), plane(Index{hp} * wp) {}
};

struct Segment {
  int dst;  // first lane in the panel
  int src;  // offset of its first patch origin in the padded plane
  int len;
};

// Splits pixels p0..p0+n of the output plane into row segments.   segs: at least n entries
int cut_segments(const ConvGeometry& g, const Padded& pd, int p0, int n, Segment* segs) {
  const int ow_n = g.out_w(), s = g.stride;
  int oh = p0 / ow_n, ow = p0 - oh * ow_n, j = 0, count = 0;
  while (j < n) {
    const int len = std::min(n - j, ow_n - ow);
    segs[count++] = {j, oh * s * pd.wp + ow * s, len};
    j += len;
    ow = 0;
    ++oh;
  }
  return count;
}

// xp = channels [c0, c1) of one image with a zero border of g.padding   xs: (in_c*h*w)
void pad_image(const ConvGeometry& g, const Padded& pd, const float* xs, int c0, int c1, float* xp) {
  const int p = g.padding, H = g.in_h, W = g.in_w;
  for (int c = c0; c < c1; ++c) {
    float* dst = xp + (c - c0) * pd.plane;
    const float* src = xs + ptrdiff_t{c} * H * W;
    zero_span(dst, p * pd.wp + p);
    for (int y = 0; y < H; ++y) {
      float* row = dst + ptrdiff_t{y + p} * pd.wp + p;
      copy_span(row, src + ptrdiff_t{y} * W, W);
      zero_span(row + W, y + 1 < H ? 2 * p : p + p * pd.wp);
    }
  }
}

// out(r, seg lanes) = cols(k0 + r, segment pixels)   xp: padded image from channel c_base
// (r < kn); lanes outside the segments are left as they are.
void pack_cols(const ConvGeometry& g, const Padded& pd, const float* xp, int c_base, const Segment* segs, int nseg,
               Index k0, Index kn, float* out, ptrdiff_t ld) {
  const int s = g.stride;
  PatchPos pos(k0, g.kernel);
#if defined(__AVX512DQ__)
  // Output rows of 8 pixels (8x8 maps: LeNet's second conv, VGG's last stage): two rows make
  // one vector, built from two unmasked 8-float loads.
  bool eights = s == 1 && nseg % 2 == 0;
  for (int i = 0; i < nseg && eights; ++i) eights = segs[i].len == 8 && segs[i].dst == 8 * i;
  if (eights) {
    for (Index r = 0; r < kn; ++r, pos.next()) {
      const float* base = xp + (pos.c - c_base) * pd.plane + ptrdiff_t{pos.kh} * pd.wp + pos.kw;
      float* o = out + r * ld;
      for (int i = 0; i < nseg; i += 2) {
        const __m512 lo = _mm512_castps256_ps512(_mm256_loadu_ps(base + segs[i].src));
        _mm512_storeu_ps(o + 8 * i, _mm512_insertf32x8(lo, _mm256_loadu_ps(base + segs[i + 1].src), 1));
      }
    }
    return;
  }
#endif
  for (Index r = 0; r < kn; ++r, pos.next()) {
    const float* base = xp + (pos.c - c_base) * pd.plane + ptrdiff_t{pos.kh} * pd.wp + pos.kw;
    float* o = out + r * ld;
    if (s == 1) {
      for (int i = 0; i < nseg; ++i) copy_span(o + segs[i].dst, base + segs[i].src, segs[i].len);
    } else {
      for (int i = 0; i < nseg; ++i) {
        const float* src = base + segs[i].src;
        for (int t = 0; t < segs[i].len; ++t) o[segs[i].dst + t] = src[t * s];
      }
    }
  }
}

// dxp(image) += col2im(rows k0..k0+kn of a column panel) over the segments   cols: (kn, ld) rows
// With stride 1, k0 and kn multiples of the kernel width, the kw rows of one (c, kh) all land
// in the same input row at shifts 0..k-1, so they are summed in registers and the input row is
// read and written once: read-modify-writes of overlapping, shifted spans would otherwise stall
// on store-to-load forwarding.
void col2im_add(const ConvGeometry& g, const Padded& pd, const float* cols, ptrdiff_t ld, Index k0, Index kn,
                const Segment* segs, int nseg, float* dxp, [[maybe_unused]] const float* dxp_end) {
  const int s = g.stride, k = g.kernel;
  PatchPos pos(k0, k);
#if defined(__AVX512F__)
  if (s == 1 && pos.kw == 0 && kn % k == 0) {
    for (Index r = 0; r < kn; r += k, pos.kh += 1) {
      if (pos.kh == k) {
        pos.kh = 0;
        ++pos.c;
      }
      float* base = dxp + pos.c * pd.plane + ptrdiff_t{pos.kh} * pd.wp;
      const float* src = cols + r * ld;
      // Even segments (output rows) first, then odd ones: the vectors written for one row
      // overlap the start of the next row, and reading that right after the store would
      // stall on store-to-load forwarding.
      for (int e = 0; e < nseg; ++e) {
        const int i = 2 * e < nseg ? 2 * e : 2 * (e - (nseg + 1) / 2) + 1;
        const int len = segs[i].len, span = len + k - 1;
        float* dst = base + segs[i].src;
        for (int q = 0; q < span; q += 16) {
          // A partial chunk still reads and writes back all 16 lanes (unchanged past the span)
          // when they lie inside this image's buffer: masked stores cost twice as much.
          const bool whole = dst + q + 16 <= dxp_end;
          const __mmask16 m = lane_mask(span - q);
          // Lanes j of this chunk with 0 <= q + j - kw < len take row kw's value q + j - kw.
          // Two partial sums in named registers halve the dependent add chain (an indexed
          // array of them would live on the stack).
          const float* row0 = src + segs[i].dst + q;
          auto term = [&](int kw) {
            const int lo = std::max(0, kw - q), hi = std::min(16, len + kw - q);
            const __mmask16 mk = hi > lo ? static_cast<__mmask16>(lane_mask(hi) & ~lane_mask(lo)) : 0;
            return _mm512_maskz_loadu_ps(mk, row0 + kw * ld - kw);
          };
          __m512 sum0 = _mm512_setzero_ps(), sum1 = _mm512_setzero_ps();
          int kw = 0;
          for (; kw + 1 < k; kw += 2) {
            sum0 = _mm512_add_ps(sum0, term(kw));
            sum1 = _mm512_add_ps(sum1, term(kw + 1));
          }
          if (kw < k) sum0 = _mm512_add_ps(sum0, term(kw));
          const __m512 old = whole ? _mm512_loadu_ps(dst + q) : _mm512_maskz_loadu_ps(m, dst + q);
          const __m512 acc = _mm512_add_ps(old, _mm512_add_ps(sum0, sum1));
          if (whole) {
            _mm512_storeu_ps(dst + q, acc);
          } else {
            _mm512_mask_storeu_ps(dst + q, m, acc);
          }
        }
      }
    }
    return;
  }
#endif
  for (Index r = 0; r < kn; ++r, pos.next()) {
    float* base = dxp + pos.c * pd.plane + ptrdiff_t{pos.kh} * pd.wp + pos.kw;
    const float* src = cols + r * ld;
    if (s == 1) {
      for (int i = 0; i < nseg; ++i) add_span(base + segs[i].src, src + segs[i].dst, segs[i].len);
    } else {
      for (int i = 0; i < nseg; ++i) {
        float* dst = base + segs[i].src;
        for (int t = 0; t < segs[i].len; ++t) dst[t * s] += src[segs[i].dst + t];
      }
    }
  }
}

// dxs = the interior of the padded gradient dxp                     dxs: (in_c*h*w)
void unpad_image(const ConvGeometry& g, const Padded& pd, const float* dxp, float* dxs) {
  const int p = g.padding, H = g.in_h, W = g.in_w;
  for (int c = 0; c < g.in_c; ++c) {
    for (int y = 0; y < H; ++y) {
      copy_span(dxs + (ptrdiff_t{c} * H + y) * W, dxp + c * pd.plane + ptrdiff_t{y + p} * pd.wp + p, W);
    }
  }
}

// Forward panels are processed kGroup at a time, so each block of packed W (all output
// channels x kKc steps) is brought into L2 once per group rather than once per panel.
constexpr int kGroup = 4;

// Images per weight-gradient block: several small images fill one block; larger images are
// cut into blocks of kDwChunk pixels.
int images_per_dw_block(const ConvGeometry& g) {
  const int P = g.out_h() * g.out_w();
  return P * 2 > kDwChunk ? 1 : kDwChunk / P;
}

// Rows of W^T dy computed before col2im adds them: whole micro-tiles and whole (c, kh) runs of
// kernel-width rows, about kDxRows in all.
Index dx_row_group(const ConvGeometry& g) {
  const Index unit = std::lcm(Index{kMr}, Index{g.kernel});
  return unit * std::max<Index>(1, kDxRows / unit);
}

// Workspace slices (floats), each a multiple of 16 so every slice starts 64-byte aligned.
struct Layout {
  Index padded;                  // one zero-bordered image (0 without padding)
  Index fwd_shared, fwd_thread;  // packed W; im2col panels and padded images of a group
  Index dx_thread;               // result rows, a packed dy panel, a padded dx image
  Index dw_cols, dw_dyt, dw_thread;  // im2col rows of a tile; dy transposed; padded images
  Index total(int threads) const {
    const Index t = std::max(threads, 1);
    return std::max({fwd_shared + t * fwd_thread, t * dx_thread, t * dw_thread});
  }
};

Layout layout(const ConvGeometry& g) {
  const Index K = g.patch(), M = g.out_c;
  Layout l{};
  l.padded = g.padding > 0 ? round16(Padded(g).plane * g.in_c) : 0;
  l.fwd_shared = round16(ceil_div(M, kMr) * kMr * K);
  l.fwd_thread = kGroup * (round16(Index{kKc} * kNr) + l.padded);
  l.dx_thread = round16(dx_row_group(g) * kNr) + round16(M * kNr) + l.padded;
  l.dw_cols = round16(Index{2 * kMr} * kDwChunk);
  l.dw_dyt = round16(ceil_div(M, kNr) * kNr * kDwChunk);
  l.dw_thread = l.dw_cols + l.dw_dyt + images_per_dw_block(g) * l.padded;
  return l;
}

void check_geometry(const ConvGeometry& g, const char* who) {
  TB_CHECK(g.in_c >= 1 && g.in_h >= 1 && g.in_w >= 1 && g.out_c >= 1 && g.kernel >= 1 && g.stride >= 1 &&
               g.padding >= 0 && g.out_h() >= 1 && g.out_w() >= 1,
           std::string(who) + ": invalid convolution geometry");
}

// Threads worth starting for `flops` of work split into `items` parts: a parallel region
// costs microseconds (milliseconds when the cores are shared), so small calls run serially.
// Results do not depend on the choice.
int useful_threads(int threads, double flops, Index items) {
  constexpr double kMinFlopsPerThread = 4e6;
  const double by_work = std::max(1.0, flops / kMinFlopsPerThread);
  return static_cast<int>(std::max<Index>(1, std::min<Index>({Index{std::max(threads, 1)}, items,
                                                              static_cast<Index>(by_work)})));
}

// Items [begin, end) of `count` for thread t of n (contiguous, in order).
std::pair<Index, Index> share(Index count, int t, int n) { return {count * t / n, count * (t + 1) / n}; }

}  // namespace

Index conv2d_workspace_size(const ConvGeometry& g, int threads) { return layout(g).total(threads); }

void conv2d_forward(const ConvGeometry& g, const Eigen::Ref<const Mat>& W, const Eigen::Ref<const Mat>& b,
                    const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y, Eigen::Ref<Eigen::VectorXf> work,
                    int threads) {
  check_geometry(g, "conv2d_forward");
  const Index K = g.patch(), B = x.cols();
  const int M = g.out_c, P = g.out_h() * g.out_w();
  TB_CHECK(W.rows() == M && W.cols() == K && b.rows() == M && b.cols() == 1 && x.rows() == g.in_features() &&
               y.rows() == g.out_features() && y.cols() == B,
           "conv2d_forward: shape mismatch");
  threads = std::max(threads, 1);
  const Layout l = layout(g);
  TB_CHECK(work.size() >= l.total(threads), "conv2d_forward: workspace too small");

  // W in kMr-row slivers, step-major, zero rows past out_c: [block][k][i].
  float* Ap = work.data();
  threads = useful_threads(threads, 2.0 * static_cast<double>(K) * M * P * static_cast<double>(B), B);
  const Index blocks = ceil_div(M, kMr);
  for (Index ob = 0; ob < blocks; ++ob) {
    for (Index k = 0; k < K; ++k) {
      float* dst = Ap + (ob * K + k) * kMr;
      for (int i = 0; i < kMr; ++i) {
        const Index o = ob * kMr + i;
        dst[i] = o < M ? W(o, k) : 0.0f;
      }
    }
  }
  const float* bias = b.data();
  const ptrdiff_t ldx = x.outerStride(), ldy = y.outerStride();
  const Index panel_n = round16(Index{kKc} * kNr);
  const Padded pd(g);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    float* Bp = work.data() + l.fwd_shared + t * l.fwd_thread;
    float* pads = Bp + kGroup * panel_n;
    Segment segs[kGroup][kNr];
    int nseg[kGroup], p0s[kGroup], ns[kGroup];
    const float* srcs[kGroup];
    float* ys[kGroup];
    const auto [b0, b1] = share(B, t, nt);
    Index img = b0;
    int p0 = 0;
    while (img < b1) {
      // The next kGroup panels of this thread's images, in order. An image is padded at its
      // first panel into slot img % kGroup, which no other image of the same group can use.
      int np = 0;
      for (; np < kGroup && img < b1; ++np) {
        const int n = std::min(kNr, P - p0);
        const float* xs = x.data() + img * ldx;
        if (g.padding > 0) {
          float* slot = pads + (img % kGroup) * l.padded;
          if (p0 == 0) pad_image(g, pd, xs, 0, g.in_c, slot);
          xs = slot;
        }
        srcs[np] = xs;
        ys[np] = y.data() + img * ldy;
        p0s[np] = p0;
        ns[np] = n;
        nseg[np] = cut_segments(g, pd, p0, n, segs[np]);
        p0 += n;
        if (p0 >= P) {
          p0 = 0;
          ++img;
        }
      }
      for (Index pc = 0; pc < K; pc += kKc) {
        const Index kc = std::min<Index>(kKc, K - pc);
        for (int q = 0; q < np; ++q) {
          float* panel = Bp + q * panel_n;
          pack_cols(g, pd, srcs[q], 0, segs[q], nseg[q], pc, kc, panel, kNr);
          if (ns[q] < kNr) {
            for (Index r = 0; r < kc; ++r) zero_span(panel + r * kNr + ns[q], kNr - ns[q]);
          }
        }
        for (int q = 0; q < np; ++q) {
          for (Index ob = 0; ob < blocks; ++ob) {
            const Tile tile{ys[q] + ob * kMr * P + p0s[q], P, static_cast<int>(std::min<Index>(kMr, M - ob * kMr)),
                            ns[q], pc == 0 ? bias + ob * kMr : nullptr, pc > 0};
            micro_kernel(static_cast<int>(kc), Ap + (ob * K + pc) * kMr, 1, kMr, Bp + q * panel_n, kNr, tile);
          }
        }
      }
    }
  }
}

void conv2d_backward_input(const ConvGeometry& g, const Eigen::Ref<const Mat>& W, const Eigen::Ref<const Mat>& dy,
                           Eigen::Ref<Mat> dx, Eigen::Ref<Eigen::VectorXf> work, int threads) {
  check_geometry(g, "conv2d_backward_input");
  const Index K = g.patch(), B = dy.cols();
  const int M = g.out_c, P = g.out_h() * g.out_w();
  TB_CHECK(W.rows() == M && W.cols() == K && dy.rows() == g.out_features() && dx.rows() == g.in_features() &&
               dx.cols() == B,
           "conv2d_backward_input: shape mismatch");
  threads = std::max(threads, 1);
  const Layout l = layout(g);
  TB_CHECK(work.size() >= l.total(threads), "conv2d_backward_input: workspace too small");
  const ptrdiff_t ldw = W.outerStride(), ldy = dy.outerStride(), ldx = dx.outerStride();
  const Padded pd(g);
  threads = useful_threads(threads, 2.0 * static_cast<double>(K) * M * P * static_cast<double>(B), B);
  const Index acc_n = g.padding > 0 ? pd.plane * g.in_c : g.in_features();
  const Index dx_rows = dx_row_group(g);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    float* tile_buf = work.data() + t * l.dx_thread;
    float* dyp = tile_buf + round16(dx_row_group(g) * kNr);
    float* dxp = dyp + round16(Index{M} * kNr);
    Segment segs[kNr];
    const auto [b0, b1] = share(B, t, nt);
    for (Index img = b0; img < b1; ++img) {
      const float* dys = dy.data() + img * ldy;
      float* dxs = dx.data() + img * ldx;
      float* acc = g.padding > 0 ? dxp : dxs;
      std::memset(acc, 0, sizeof(float) * static_cast<std::size_t>(acc_n));
      for (int p0 = 0; p0 < P; p0 += kNr) {
        const int n = std::min(kNr, P - p0);
        // dy's rows are the panel's steps. Read in place only when they are contiguous (64-pixel
        // maps): rows 1 or 4 KiB apart fall into the same few L1 sets and evict each other
        // during every micro-kernel call. A partial panel is copied so all 64 lanes exist.
        const float* V = dys + p0;
        ptrdiff_t v_step = P;
        if (P != kNr) {
          for (int o = 0; o < M; ++o) {
            copy_span(dyp + o * kNr, dys + ptrdiff_t{o} * P + p0, n);
            zero_span(dyp + o * kNr + n, kNr - n);
          }
          V = dyp;
          v_step = kNr;
        }
        const int nseg = cut_segments(g, pd, p0, n, segs);
        // W^T dy is produced kDxRows patch entries at a time and added into dx while still
        // in L1, so the (patch x 64) column panel never exists in memory.
        for (Index r0 = 0; r0 < K; r0 += dx_rows) {
          const Index rows = std::min<Index>(dx_rows, K - r0);
          for (Index kb = r0; kb < r0 + rows; kb += kMr) {
            const int m = static_cast<int>(std::min<Index>(kMr, K - kb));
            micro_kernel(M, W.data() + kb * ldw, ldw, 1, V, v_step,
                         Tile{tile_buf + (kb - r0) * kNr, kNr, m, kNr, nullptr, false});
          }
          col2im_add(g, pd, tile_buf, kNr, r0, rows, segs, nseg, acc, acc + acc_n);
        }
      }
      if (g.padding > 0) unpad_image(g, pd, dxp, dxs);
    }
  }
}

void conv2d_backward_params(const ConvGeometry& g, const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& dy,
                            Eigen::Ref<Mat> dW, Eigen::Ref<Mat> db, Eigen::Ref<Eigen::VectorXf> work, int threads) {
  check_geometry(g, "conv2d_backward_params");
  const Index K = g.patch(), B = x.cols();
  const int M = g.out_c, P = g.out_h() * g.out_w();
  TB_CHECK(x.rows() == g.in_features() && dy.rows() == g.out_features() && dy.cols() == B && dW.rows() == M &&
               dW.cols() == K && db.rows() == M && db.cols() == 1,
           "conv2d_backward_params: shape mismatch");
  threads = std::max(threads, 1);
  const Layout l = layout(g);
  TB_CHECK(work.size() >= l.total(threads), "conv2d_backward_params: workspace too small");
  if (B == 0) {
    dW.setZero();
    db.setZero();
    return;
  }
  const ptrdiff_t ldx = x.outerStride(), ldy = dy.outerStride(), ldw = dW.outerStride();
  // Up to 32 output channels fill 32-lane tiles of 12 rows; more fill 64-lane tiles of 6 rows.
  const bool narrow = M <= kNr / 2;
  const int lanes = narrow ? kNr / 2 : kNr, tile_rows = narrow ? 2 * kMr : kMr;
  const Index k_blocks = ceil_div(K, tile_rows), o_blocks = ceil_div(M, lanes);
  const int ipb = images_per_dw_block(g), kk = g.kernel * g.kernel;
  threads = useful_threads(threads, 2.0 * static_cast<double>(K) * M * P * static_cast<double>(B), k_blocks);
  const Padded pd(g);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    float* cols = work.data() + t * l.dw_thread;  // tile_rows im2col rows of the block, kDwChunk apart
    float* dyt = cols + l.dw_cols;                // [o block][pixel][lanes channels]
    float* pads = dyt + l.dw_dyt;                 // one padded image per image of the block
    struct Piece {
      const float* src;  // padded image (from channel c0)
      int seg_begin, nseg, col;
    };
    Segment segs[kDwChunk];
    Piece pieces[kDwChunk];
    // This thread owns dW columns [k0, k1): it packs only those im2col rows (from channels
    // [c0, c1)), and sums every pixel for them in the same order whatever the thread count.
    const auto [kb0, kb1] = share(k_blocks, t, nt);
    const Index k0 = kb0 * tile_rows, k1 = std::min(K, kb1 * tile_rows);
    const int c0 = static_cast<int>(k0 / kk), c1 = k1 > k0 ? static_cast<int>((k1 - 1) / kk) + 1 : c0;
    if (M % lanes != 0) {
      // Lanes past out_c must read as zero in every pixel row of the last block.
      float* last = dyt + (o_blocks - 1) * lanes * kDwChunk;
      const int used = M % lanes;
      for (int j = 0; j < kDwChunk; ++j) zero_span(last + j * lanes + used, lanes - used);
    }
    bool first = true;
    for (Index img0 = 0; img0 < B && k1 > k0; img0 += ipb) {
      const Index img1 = std::min(B, img0 + ipb);
      // The block is whole images [img0, img1), or one slice of kDwChunk pixels of one image.
      for (int p_begin = 0; p_begin < P; p_begin += kDwChunk) {
        int chunk = 0, np = 0, nsegs = 0;
        for (Index img = img0; img < img1; ++img, ++np) {
          const int p = ipb > 1 ? 0 : p_begin, seg_n = ipb > 1 ? P : std::min(kDwChunk, P - p_begin);
          const float* xs = x.data() + img * ldx;
          const float* src = xs + ptrdiff_t{c0} * g.in_h * g.in_w;
          if (g.padding > 0) {
            float* slot = pads + (img - img0) * l.padded;
            if (p == 0) pad_image(g, pd, xs, c0, c1, slot);
            src = slot;
          }
          const int count = cut_segments(g, pd, p, seg_n, segs + nsegs);
          pieces[np] = {src, nsegs, count, chunk};
          nsegs += count;
          const float* dys = dy.data() + img * ldy;
          for (int o = 0; o < M; o += 16) {
            for (int u = 0; u < seg_n; u += 16) {
              transpose16(dys + ptrdiff_t{o} * P + p + u, P, std::min(16, M - o), std::min(16, seg_n - u),
                          dyt + (o / lanes) * lanes * kDwChunk + ptrdiff_t{chunk + u} * lanes + o % lanes, lanes);
            }
          }
          chunk += seg_n;
        }
        for (Index kb = kb0; kb < kb1; ++kb) {
          const int m = static_cast<int>(std::min<Index>(tile_rows, K - kb * tile_rows));
          for (int q = 0; q < np; ++q) {
            const Piece& pc = pieces[q];
            pack_cols(g, pd, pc.src, c0, segs + pc.seg_begin, pc.nseg, kb * tile_rows, m, cols + pc.col, kDwChunk);
          }
          for (Index ob = 0; ob < o_blocks; ++ob) {
            const Tile tile{dW.data() + kb * tile_rows * ldw + ob * lanes, ldw, m,
                            static_cast<int>(std::min<Index>(lanes, M - ob * lanes)), nullptr, !first};
            const float* V = dyt + ob * lanes * kDwChunk;
            if (narrow) {
              micro_kernel_narrow(chunk, cols, kDwChunk, 1, V, lanes, tile);
            } else {
              micro_kernel(chunk, cols, kDwChunk, 1, V, lanes, tile);
            }
          }
        }
        first = false;
        if (ipb > 1) break;
      }
    }
    const auto [o0, o1] = share(M, t, nt);
    for (Index o = o0; o < o1; ++o) {
      float s = 0.0f;
      for (Index img = 0; img < B; ++img) s += dy.col(img).segment(o * P, P).sum();
      db(o, 0) = s;
    }
  }
}

void conv2d_forward_naive(const ConvGeometry& g, const Eigen::Ref<const Mat>& W, const Eigen::Ref<const Mat>& b,
                          const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) {
  check_geometry(g, "conv2d_forward_naive");
  const int k = g.kernel, oh_n = g.out_h(), ow_n = g.out_w();
  TB_CHECK(W.rows() == g.out_c && W.cols() == g.patch() && b.rows() == g.out_c && x.rows() == g.in_features() &&
               y.rows() == g.out_features() && y.cols() == x.cols(),
           "conv2d_forward_naive: shape mismatch");
  for (Index img = 0; img < x.cols(); ++img) {
    for (int o = 0; o < g.out_c; ++o) {
      for (int oy = 0; oy < oh_n; ++oy) {
        for (int ox = 0; ox < ow_n; ++ox) {
          double acc = b(o, 0);
          for (int c = 0; c < g.in_c; ++c) {
            for (int kh = 0; kh < k; ++kh) {
              for (int kw = 0; kw < k; ++kw) {
                const int iy = oy * g.stride + kh - g.padding, ix = ox * g.stride + kw - g.padding;
                if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) continue;
                acc += static_cast<double>(W(o, (c * k + kh) * k + kw)) *
                       x((Index{c} * g.in_h + iy) * g.in_w + ix, img);
              }
            }
          }
          y((Index{o} * oh_n + oy) * ow_n + ox, img) = static_cast<float>(acc);
        }
      }
    }
  }
}

void conv2d_backward_naive(const ConvGeometry& g, const Eigen::Ref<const Mat>& W, const Eigen::Ref<const Mat>& x,
                           const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dW, Eigen::Ref<Mat> db,
                           Eigen::Ref<Mat> dx) {
  check_geometry(g, "conv2d_backward_naive");
  const int k = g.kernel, oh_n = g.out_h(), ow_n = g.out_w();
  TB_CHECK(W.rows() == g.out_c && W.cols() == g.patch() && x.rows() == g.in_features() &&
               dy.rows() == g.out_features() && dy.cols() == x.cols() && dW.rows() == g.out_c &&
               dW.cols() == g.patch() && db.rows() == g.out_c && dx.rows() == x.rows() && dx.cols() == x.cols(),
           "conv2d_backward_naive: shape mismatch");
  Eigen::MatrixXd gW = Eigen::MatrixXd::Zero(W.rows(), W.cols()), gx = Eigen::MatrixXd::Zero(x.rows(), x.cols());
  Eigen::VectorXd gb = Eigen::VectorXd::Zero(g.out_c);
  for (Index img = 0; img < x.cols(); ++img) {
    for (int o = 0; o < g.out_c; ++o) {
      for (int oy = 0; oy < oh_n; ++oy) {
        for (int ox = 0; ox < ow_n; ++ox) {
          const double d = dy((Index{o} * oh_n + oy) * ow_n + ox, img);
          gb(o) += d;
          for (int c = 0; c < g.in_c; ++c) {
            for (int kh = 0; kh < k; ++kh) {
              for (int kw = 0; kw < k; ++kw) {
                const int iy = oy * g.stride + kh - g.padding, ix = ox * g.stride + kw - g.padding;
                if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) continue;
                const Index xi = (Index{c} * g.in_h + iy) * g.in_w + ix, wi = (c * k + kh) * k + kw;
                gW(o, wi) += d * x(xi, img);
                gx(xi, img) += d * W(o, wi);
              }
            }
          }
        }
      }
    }
  }
  dW = gW.cast<float>();
  db.col(0) = gb.cast<float>();
  dx = gx.cast<float>();
}

}  // namespace ternbench::kernels
