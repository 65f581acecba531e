#include "ternbench/core/kernels/pool.hpp"

#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "ternbench/base/error.hpp"

namespace ternbench::kernels {
namespace {

using Index = Eigen::Index;

// A parallel region costs microseconds (milliseconds when the cores are shared): worth it
// only for large batches of images. Results do not depend on the choice.
int useful_threads(int threads, Index elements) {
  constexpr Index kMinElements = Index{1} << 18;
  return elements < kMinElements ? 1 : std::max(threads, 1);
}

void check_geometry(const PoolGeometry& g, const char* who) {
  TB_CHECK(g.channels >= 1 && g.kernel >= 1 && g.stride >= 1 && g.in_h >= g.kernel && g.in_w >= g.kernel,
           std::string(who) + ": invalid pooling geometry");
}

// One image: y/argmax of every window.           xs: (channels*h*w)  ys, as: (channels*oh*ow)
void pool_image(const PoolGeometry& g, const float* xs, float* ys, std::int32_t* as) {
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
        *as++ = best;
      }
    }
  }
}

// The common 2x2, stride 2 window, unrolled.
void pool_image_2x2(const PoolGeometry& g, const float* xs, float* ys, std::int32_t* as) {
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
        *as++ = best;
      }
    }
  }
}

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
  threads = useful_threads(threads, x.size());
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
  threads = useful_threads(threads, dx.size());
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
  for (Index img = 0; img < B; ++img) {
    auto dxs = dx.col(img);
    dxs.setZero();
    const std::int32_t* as = argmax.data() + img * argmax.outerStride();
    const float* dys = dy.data() + img * dy.outerStride();
    for (Index i = 0; i < out_n; ++i) dxs(as[i]) += dys[i];
  }
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
