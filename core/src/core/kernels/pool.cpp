// GCC 12 reports -W(maybe-)uninitialized inside avx512fintrin.h (_mm512_undefined_*) when
// its intrinsics are inlined here (GCC bug 105593); the pragmas must precede every include.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include "ternbench/core/kernels/pool.hpp"

#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "ternbench/base/error.hpp"
#include "ternbench/core/kernels/normalization.hpp"
#include "threads.hpp"

namespace ternbench::kernels {
namespace {

using Index = Eigen::Index;

using detail::elementwise_threads;

void check_geometry(const PoolGeometry& g, const char* who) {
  TB_CHECK(g.channels >= 1 && g.kernel >= 1 && g.stride >= 1 && g.in_h >= g.kernel && g.in_w >= g.kernel,
           std::string(who) + ": invalid pooling geometry");
}

// One image: y/argmax of every window.           xs: (channels*h*w)  ys, as: (channels*oh*ow)
// The argmax indices are offset by `base` (xs is then one plane of a larger image).
void pool_image(const PoolGeometry& g, const float* xs, float* ys, std::int32_t* as, int base = 0) {
  const int H = g.in_h, W = g.in_w, k = g.kernel, s = g.stride, oh_n = g.out_h(), ow_n = g.out_w();
  for (int c = 0; c < g.channels; ++c) {
    const int plane = c * H * W;
    for (int oy = 0; oy < oh_n; ++oy) {
      for (int ox = 0; ox < ow_n; ++ox) {
        const int first = plane + oy * s * W + ox * s;
        int best = first;
        float v = xs[first];
        for (int kh = 0; kh < k; ++kh) {
          for (int kw = 0; kw < k; ++kw) {
            const int i = first + kh * W + kw;
            if (xs[i] > v) {  // strict: ties keep the first index
              v = xs[i];
              best = i;
            }
          }
        }
        *ys++ = v;
        *as++ = base + best;
      }
    }
  }
}

#if defined(__AVX512F__)
inline __mmask16 lane_mask(int n) {
  if (n >= 16) return static_cast<__mmask16>(0xFFFF);
  if (n <= 0) return 0;
  return static_cast<__mmask16>((1u << n) - 1u);
}

// The common 2x2, stride 2 window, 16 outputs at a time and without branches: data-dependent
// branches on random activations mispredict about every other window. The four candidates
// are compared in window order with a strict >, so ties keep the first, as pool_image does.
void pool_image_2x2(const PoolGeometry& g, const float* xs, float* ys, std::int32_t* as, int base = 0) {
  const int H = g.in_h, W = g.in_w, oh_n = g.out_h(), ow_n = g.out_w();
  const float* xs_end = xs + g.in_features();
  const float* ys_end = ys + g.out_features();
  const __m512i lane2 = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i lane2_odd = _mm512_add_epi32(lane2, _mm512_set1_epi32(1));
  const __m512i one = _mm512_set1_epi32(1), below = _mm512_set1_epi32(W);
  for (int c = 0; c < g.channels; ++c) {
    for (int oy = 0; oy < oh_n; ++oy) {
      const int row0 = (c * H + 2 * oy) * W;
      for (int ox = 0; ox < ow_n; ox += 16) {
        const int n = std::min(16, ow_n - ox);
        const float* r0 = xs + row0 + 2 * ox;
        const float* r1 = r0 + W;
        const __mmask16 m_lo = lane_mask(2 * n), m_hi = lane_mask(2 * n - 16);
        // Masked loads and stores are several times slower than plain ones here, so a partial
        // chunk also reads and writes whole vectors while they stay inside this image: lanes
        // past the row read values that are never used and write outputs of the next row,
        // which is computed (and written) after this one.
        const bool whole_in = r1 + 32 <= xs_end, whole_out = ys + ox + 16 <= ys_end;
        const __m512 a0 = whole_in ? _mm512_loadu_ps(r0) : _mm512_maskz_loadu_ps(m_lo, r0);
        const __m512 a1 = whole_in ? _mm512_loadu_ps(r0 + 16) : _mm512_maskz_loadu_ps(m_hi, r0 + 16);
        const __m512 b0 = whole_in ? _mm512_loadu_ps(r1) : _mm512_maskz_loadu_ps(m_lo, r1);
        const __m512 b1 = whole_in ? _mm512_loadu_ps(r1 + 16) : _mm512_maskz_loadu_ps(m_hi, r1 + 16);
        const __m512i i00 = _mm512_add_epi32(_mm512_set1_epi32(base + row0 + 2 * ox), lane2);
        __m512 v = _mm512_permutex2var_ps(a0, lane2, a1);
        __m512i id = i00;
        const __m512 c01 = _mm512_permutex2var_ps(a0, lane2_odd, a1);
        __mmask16 gt = _mm512_cmp_ps_mask(c01, v, _CMP_GT_OQ);
        v = _mm512_mask_mov_ps(v, gt, c01);
        id = _mm512_mask_add_epi32(id, gt, i00, one);
        const __m512 c10 = _mm512_permutex2var_ps(b0, lane2, b1);
        gt = _mm512_cmp_ps_mask(c10, v, _CMP_GT_OQ);
        v = _mm512_mask_mov_ps(v, gt, c10);
        id = _mm512_mask_add_epi32(id, gt, i00, below);
        const __m512 c11 = _mm512_permutex2var_ps(b0, lane2_odd, b1);
        gt = _mm512_cmp_ps_mask(c11, v, _CMP_GT_OQ);
        v = _mm512_mask_mov_ps(v, gt, c11);
        id = _mm512_mask_add_epi32(id, gt, i00, _mm512_add_epi32(below, one));
        const __mmask16 m = lane_mask(n);
        if (whole_out) {
          _mm512_storeu_ps(ys + ox, v);
          _mm512_storeu_si512(as + ox, id);
        } else {
          _mm512_mask_storeu_ps(ys + ox, m, v);
          _mm512_mask_storeu_epi32(as + ox, m, id);
        }
      }
      ys += ow_n;
      as += ow_n;
    }
  }
}

// maxpool2d_relu_backward's plane for 2x2, stride 2 windows, 16 windows at a time. The
// windows tile the plane but for an odd last row or column, so every input is written once
// (zeros and the masked gradient) instead of zeroing the plane and then adding into it. The
// gradient is written as 0 + g, the value the zero-then-add path gives (-0 becomes +0).
void unpool_relu_plane_2x2(const PoolGeometry& g, const std::int32_t* as, const float* ys, const float* dys, int base,
                           float* dx) {
  const int H = g.in_h, W = g.in_w, oh_n = g.out_h(), ow_n = g.out_w(), out_plane = oh_n * ow_n;
  const float* dx_end = dx + H * W;
  const __m512 zero = _mm512_setzero_ps();
  const __m512i lane2 = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  // Interleave the even-column and odd-column values of 16 windows into 32 consecutive inputs.
  const __m512i first = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i second = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const __m512i one = _mm512_set1_epi32(1), below = _mm512_set1_epi32(W), below1 = _mm512_set1_epi32(W + 1);
  for (int oy = 0; oy < oh_n; ++oy) {
    float* r0 = dx + 2 * oy * W;
    float* r1 = r0 + W;
    for (int ox = 0; ox < ow_n; ox += 16) {
      const int n = std::min(16, ow_n - ox), o = oy * ow_n + ox;
      // Masked loads and stores are slow here, so a partial chunk reads and writes whole
      // vectors while they stay inside this plane, as pool_image_2x2 does: lanes past the row
      // write inputs of the next rows, which are written (again) after these. Not for a
      // partial chunk after a first one: row r0's spill would land on r1's earlier chunks.
      const bool whole_in = o + 16 <= out_plane;
      const bool whole_out = (ox == 0 || 2 * ox + 32 <= W) && r1 + 2 * ox + 32 <= dx_end;
      const __mmask16 m = lane_mask(n);
      const __m512 dyv = whole_in ? _mm512_loadu_ps(dys + o) : _mm512_maskz_loadu_ps(m, dys + o);
      const __m512 yv = whole_in ? _mm512_loadu_ps(ys + o) : _mm512_maskz_loadu_ps(m, ys + o);
      const __m512i av = whole_in ? _mm512_loadu_si512(as + o) : _mm512_maskz_loadu_epi32(m, as + o);
      const __mmask16 pos = _mm512_cmp_ps_mask(yv, zero, _CMP_GT_OQ);
      const __m512 gv = _mm512_add_ps(zero, _mm512_maskz_mov_ps(pos, dyv));
      // Offset of each argmax within its window: 0, 1, W or W + 1 (anything for lanes past n).
      const __m512i d = _mm512_sub_epi32(av, _mm512_add_epi32(_mm512_set1_epi32(base + 2 * oy * W + 2 * ox), lane2));
      const __m512 v00 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(d, _mm512_setzero_si512()), gv);
      const __m512 v01 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(d, one), gv);
      const __m512 v10 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(d, below), gv);
      const __m512 v11 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(d, below1), gv);
      const __m512 a0 = _mm512_permutex2var_ps(v00, first, v01), a1 = _mm512_permutex2var_ps(v00, second, v01);
      const __m512 b0 = _mm512_permutex2var_ps(v10, first, v11), b1 = _mm512_permutex2var_ps(v10, second, v11);
      if (whole_out) {
        _mm512_storeu_ps(r0 + 2 * ox, a0);
        _mm512_storeu_ps(r0 + 2 * ox + 16, a1);
        _mm512_storeu_ps(r1 + 2 * ox, b0);
        _mm512_storeu_ps(r1 + 2 * ox + 16, b1);
      } else {
        const __mmask16 m_lo = lane_mask(2 * n), m_hi = lane_mask(2 * n - 16);
        _mm512_mask_storeu_ps(r0 + 2 * ox, m_lo, a0);
        _mm512_mask_storeu_ps(r0 + 2 * ox + 16, m_hi, a1);
        _mm512_mask_storeu_ps(r1 + 2 * ox, m_lo, b0);
        _mm512_mask_storeu_ps(r1 + 2 * ox + 16, m_hi, b1);
      }
    }
    for (int x = 2 * ow_n; x < W; ++x) r0[x] = r1[x] = 0.0f;  // an odd last column
  }
  std::fill(dx + 2 * oh_n * W, dx + H * W, 0.0f);  // an odd last row
}

#else

// The common 2x2, stride 2 window, unrolled.
void pool_image_2x2(const PoolGeometry& g, const float* xs, float* ys, std::int32_t* as, int base = 0) {
  const int H = g.in_h, W = g.in_w, oh_n = g.out_h(), ow_n = g.out_w();
  for (int c = 0; c < g.channels; ++c) {
    for (int oy = 0; oy < oh_n; ++oy) {
      const int r0 = (c * H + 2 * oy) * W, r1 = r0 + W;
      for (int ox = 0; ox < ow_n; ++ox) {
        const int i0 = r0 + 2 * ox, i2 = r1 + 2 * ox;
        int best = i0;
        float v = xs[i0];
        if (xs[i0 + 1] > v) v = xs[best = i0 + 1];
        if (xs[i2] > v) v = xs[best = i2];
        if (xs[i2 + 1] > v) v = xs[best = i2 + 1];
        *ys++ = v;
        *as++ = base + best;
      }
    }
  }
}

#endif


}  // namespace

void maxpool2d_forward(const PoolGeometry& g, const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y,
                       Eigen::Ref<IndexMat> argmax, int threads) {
  check_geometry(g, "maxpool2d_forward");
  const Index B = x.cols();
  TB_CHECK(x.rows() == g.in_features() && y.rows() == g.out_features() && y.cols() == B &&
               argmax.rows() == g.out_features() && argmax.cols() == B,
           "maxpool2d_forward: shape mismatch");
  TB_CHECK(g.in_features() <= Index{INT32_MAX}, "maxpool2d_forward: image too large for 32-bit indices");
  const bool two = g.kernel == 2 && g.stride == 2;
  threads = elementwise_threads(threads, x.size(), B);
  const std::ptrdiff_t ldx = x.outerStride(), ldy = y.outerStride(), lda = argmax.outerStride();
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
  for (Index img = 0; img < B; ++img) {
    if (two) {
      pool_image_2x2(g, x.data() + img * ldx, y.data() + img * ldy, argmax.data() + img * lda);
    } else {
      pool_image(g, x.data() + img * ldx, y.data() + img * ldy, argmax.data() + img * lda);
    }
  }
}

void maxpool2d_backward(const PoolGeometry& g, const Eigen::Ref<const IndexMat>& argmax,
                        const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx, int threads) {
  check_geometry(g, "maxpool2d_backward");
  const Index B = dy.cols(), out_n = g.out_features();
  TB_CHECK(argmax.rows() == out_n && argmax.cols() == B && dy.rows() == out_n && dx.rows() == g.in_features() &&
               dx.cols() == B,
           "maxpool2d_backward: shape mismatch");
  threads = elementwise_threads(threads, dx.size(), B);
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
  for (Index img = 0; img < B; ++img) {
    auto dxs = dx.col(img);
    dxs.setZero();
    const std::int32_t* as = argmax.data() + img * argmax.outerStride();
    const float* dys = dy.data() + img * dy.outerStride();
    for (Index i = 0; i < out_n; ++i) dxs(as[i]) += dys[i];
  }
}

Index bn_relu_maxpool2d_workspace_size(const PoolGeometry& g, int threads) {
  // One plane per thread, plus a vector of slack so the 2x2 path reads whole vectors.
  return std::max(threads, 1) * (Index{g.in_h} * g.in_w + 32);
}

void bn_relu_maxpool2d_forward(const PoolGeometry& g, const Eigen::Ref<const Mat>& x,
                               const Eigen::Ref<const Eigen::VectorXf>& center,
                               const Eigen::Ref<const Eigen::VectorXf>& scale,
                               const Eigen::Ref<const Eigen::VectorXf>& shift, Eigen::Ref<Mat> y,
                               Eigen::Ref<IndexMat> argmax, Eigen::Ref<Eigen::VectorXf> work, int threads) {
  check_geometry(g, "bn_relu_maxpool2d_forward");
  const Index B = x.cols(), S = Index{g.in_h} * g.in_w, C = g.channels;
  TB_CHECK(x.rows() == g.in_features() && y.rows() == g.out_features() && y.cols() == B &&
               argmax.rows() == g.out_features() && argmax.cols() == B && center.size() == C &&
               scale.size() == C && shift.size() == C,
           "bn_relu_maxpool2d_forward: shape mismatch");
  TB_CHECK(g.in_features() <= Index{INT32_MAX}, "bn_relu_maxpool2d_forward: image too large for 32-bit indices");
  threads = elementwise_threads(threads, x.size(), B);
  TB_CHECK(work.size() >= bn_relu_maxpool2d_workspace_size(g, threads), "bn_relu_maxpool2d_forward: workspace too small");
  const bool two = g.kernel == 2 && g.stride == 2;
  PoolGeometry plane_g = g;
  plane_g.channels = 1;
  const Index out_plane = Index{g.out_h()} * g.out_w();
  const std::ptrdiff_t ldy = y.outerStride(), lda = argmax.outerStride();
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    float* plane = work.data() + omp_get_thread_num() * (S + 32);
#pragma omp for schedule(static)
    for (Index img = 0; img < B; ++img) {
      for (Index c = 0; c < C; ++c) {
        // BatchNorm then ReLU as channel_affine_relu computes them, into a plane kept in L1.
        channel_affine_span(x.col(img).data() + c * S, S, center(c), scale(c), shift(c), true, plane);
        float* ys = y.data() + img * ldy + c * out_plane;
        std::int32_t* as = argmax.data() + img * lda + c * out_plane;
        const int base = static_cast<int>(c * S);
        if (two) {
          pool_image_2x2(plane_g, plane, ys, as, base);
        } else {
          pool_image(plane_g, plane, ys, as, base);
        }
      }
    }
  }
}

namespace {

struct BnTerms {
  const Eigen::Ref<const Mat>* x;
  const Eigen::Ref<const Eigen::VectorXf>* center;
  Eigen::Ref<Mat>* dy;
  Eigen::Ref<Mat>* dyxc;
};

void unpool_relu(const PoolGeometry& g, const Eigen::Ref<const IndexMat>& argmax, const Eigen::Ref<const Mat>& y,
                 const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx, const BnTerms* terms, int threads) {
  check_geometry(g, "maxpool2d_relu_backward");
  const Index B = dy.cols(), out_n = g.out_features();
  TB_CHECK(argmax.rows() == out_n && argmax.cols() == B && y.rows() == out_n && y.cols() == B && dy.rows() == out_n &&
               dx.rows() == g.in_features() && dx.cols() == B,
           "maxpool2d_relu_backward: shape mismatch");
  const Index S = Index{g.in_h} * g.in_w, out_plane = Index{g.out_h()} * g.out_w();
  if (terms != nullptr) {
    TB_CHECK(terms->x->rows() == dx.rows() && terms->x->cols() == B && terms->center->size() == g.channels &&
                 terms->dy->rows() == g.channels && terms->dy->cols() == B && terms->dyxc->rows() == g.channels &&
                 terms->dyxc->cols() == B,
             "maxpool2d_relu_backward: batch-norm terms shape mismatch");
  }
  [[maybe_unused]] const bool two = g.kernel == 2 && g.stride == 2;
  threads = elementwise_threads(threads, dx.size(), B);
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
  for (Index img = 0; img < B; ++img) {
    float* dxs = dx.data() + img * dx.outerStride();
    const std::int32_t* as = argmax.data() + img * argmax.outerStride();
    const float* ys = y.data() + img * y.outerStride();
    const float* dys = dy.data() + img * dy.outerStride();
    // A plane's windows stay inside it, so each plane is zeroed and filled while in L1. The
    // pooled value is the ReLU output at its argmax: ReLU's mask there, as relu_backward
    // applies it after maxpool2d_backward (the sum of masked terms equals the masked sum,
    // since every window routing to one position sees the same value).
    for (Index c = 0; c < g.channels; ++c) {
      bool done = false;
#if defined(__AVX512F__)
      if (two) {
        const Index o = c * out_plane;
        unpool_relu_plane_2x2(g, as + o, ys + o, dys + o, static_cast<int>(c * S), dxs + c * S);
        done = true;
      }
#endif
      if (!done) {
        std::fill(dxs + c * S, dxs + (c + 1) * S, 0.0f);
        for (Index i = c * out_plane; i < (c + 1) * out_plane; ++i) dxs[as[i]] += ys[i] > 0.0f ? dys[i] : 0.0f;
      }
      if (terms != nullptr) {
        const float* xs = terms->x->data() + img * terms->x->outerStride() + c * S;
        channel_sum_terms(dxs + c * S, xs, S, (*terms->center)(c), (*terms->dy)(c, img), (*terms->dyxc)(c, img));
      }
    }
  }
}

}  // namespace

void maxpool2d_relu_backward(const PoolGeometry& g, const Eigen::Ref<const IndexMat>& argmax,
                             const Eigen::Ref<const Mat>& y, const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx,
                             int threads) {
  unpool_relu(g, argmax, y, dy, dx, nullptr, threads);
}

void maxpool2d_relu_backward(const PoolGeometry& g, const Eigen::Ref<const IndexMat>& argmax,
                             const Eigen::Ref<const Mat>& y, const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx,
                             const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Eigen::VectorXf>& center,
                             Eigen::Ref<Mat> terms_dy, Eigen::Ref<Mat> terms_dyxc, int threads) {
  const BnTerms terms{&x, &center, &terms_dy, &terms_dyxc};
  unpool_relu(g, argmax, y, dy, dx, &terms, threads);
}

void maxpool2d_forward_naive(const PoolGeometry& g, const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) {
  check_geometry(g, "maxpool2d_forward_naive");
  const int oh_n = g.out_h(), ow_n = g.out_w();
  TB_CHECK(x.rows() == g.in_features() && y.rows() == g.out_features() && y.cols() == x.cols(),
           "maxpool2d_forward_naive: shape mismatch");
  for (Index img = 0; img < x.cols(); ++img) {
    for (int c = 0; c < g.channels; ++c) {
      for (int oy = 0; oy < oh_n; ++oy) {
        for (int ox = 0; ox < ow_n; ++ox) {
          float v = -std::numeric_limits<float>::infinity();
          for (int kh = 0; kh < g.kernel; ++kh) {
            for (int kw = 0; kw < g.kernel; ++kw) {
              v = std::max(v, x((Index{c} * g.in_h + oy * g.stride + kh) * g.in_w + ox * g.stride + kw, img));
            }
          }
          y((Index{c} * oh_n + oy) * ow_n + ox, img) = v;
        }
      }
    }
  }
}

}  // namespace ternbench::kernels
