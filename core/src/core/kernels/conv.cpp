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
//   dW       rows = patch entries (6 im2col rows at a time; 12 or 13 with 32 lanes for up
//            to 64 output channels), lanes = output channels (dy transposed, 256 pixels at
//            a time), C = dW's columns, which hold the output channels contiguously.
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

#include "conv_check.hpp"
#include "threads.hpp"
#include "ternbench/base/error.hpp"

namespace ternbench::kernels {
namespace {

using detail::check_geometry;

using Index = Eigen::Index;
using std::ptrdiff_t;

constexpr int kMr = 6;    // rows of a micro-tile
constexpr int kNr = 64;   // lanes of a micro-tile (four 16-float vectors)
constexpr int kNarrowRows = 2 * kMr + 1;  // most rows of a 32-lane tile (26 accumulators)
constexpr int kKc = 128;  // reduction steps per micro-kernel call: the B panel (kKc x kNr) stays in L1
constexpr int kDxRows = 16 * kMr;  // rows of W^T dy computed before col2im adds them (24 KiB)
constexpr int kDwChunk = 256;  // pixels per weight-gradient block (its reduction length)

Index round16(Index n) { return (n + 15) / 16 * 16; }
Index ceil_div(Index a, Index b) { return (a + b - 1) / b; }

struct Tile {
  float* c;          // row 0, lane 0
  ptrdiff_t c_row;   // floats between rows
  int m;             // rows: 1..kMr (1..kNarrowRows for micro_kernel_narrow)
  int n;             // valid lanes (1..kNr)
  const float* bias; // per-row initial value, or nullptr for zero
  bool accumulate;   // C += result instead of C = result
};

#if defined(__AVX512F__)
#include "conv_micro_avx512.hpp"
#else  // portable fallback: the same blocking with plain loops the compiler vectorises
#include "conv_micro_portable.hpp"
#endif

#include "conv_panels.hpp"

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
          col2im_add(g, pd, tile_buf, kNr, r0, rows, segs, nseg, acc);
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
  // Up to 64 output channels fill 32-lane tiles of 12 rows; more fill 64-lane tiles of 6 rows.
  // With 33-64 channels the 32-lane tiles take two passes over the rows, but each pass's
  // transposed dy (kDwChunk pixels x 32 lanes, 32 KiB) stays in L1 next to the im2col rows,
  // where a 64-lane block (64 KiB) streams from L2 on every tile. A last tile of 1-3 rows has
  // too few accumulators to hide the FMA latency (and makes one thread's share a tile longer),
  // so then the tiles take 13 rows instead (LeNet-5's first conv: 25 = 13 + 12, not 12 + 12 + 1).
  const bool narrow = M <= kNr;
  const int narrow_rows = K % (2 * kMr) != 0 && K % (2 * kMr) < 4 ? kNarrowRows : 2 * kMr;
  const int lanes = narrow ? kNr / 2 : kNr, tile_rows = narrow ? narrow_rows : kMr;
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

}  // namespace ternbench::kernels
