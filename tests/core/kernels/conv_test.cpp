// The convolution kernels at the kernel level: hand-computed values for the paths that depend on
// the geometry (im2col of output rows >= 16 wide, stride-1 col2im, 32-lane weight-gradient
// tiles for 33-64 output channels), central-difference gradients there, and every result bit
// for bit against the summation order the kernels are defined to keep (written out below as
// scalar loops), on 1 and 2 threads. Layer-level checks against double loops are in
// tests/core/nn/conv2d_test.cpp.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "support/gradient_check.hpp"
#include "support/same_bits.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/kernels/conv.hpp"

namespace ternbench::kernels {
namespace {

using Eigen::Index;
using ternbench::testing::relative_gradient_error;
using ternbench::testing::same_bits;

constexpr std::uint64_t kSeed = 23;
constexpr double kGradTol = 1e-3;  // float central differences of a quadratic loss

Mat random_matrix(Index rows, Index cols, Rng& rng) {
  Mat m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m(i) = 2.0f * rng.uniform_float() - 1.0f;
  return m;
}

std::string describe(const ConvGeometry& g) {
  return std::to_string(g.in_c) + "x" + std::to_string(g.in_h) + "x" + std::to_string(g.in_w) + " -> " +
         std::to_string(g.out_c) + "@" + std::to_string(g.kernel) + " s" + std::to_string(g.stride) + " p" +
         std::to_string(g.padding);
}

Eigen::VectorXf workspace(const ConvGeometry& g, int threads) {
  return Eigen::VectorXf::Zero(conv2d_workspace_size(g, threads));
}

TEST(ConvKernels, ForwardOnOutputRowsWiderThan16MatchesHandComputedValues) {
  // 1x4x19 image x = 0..75, a 3x3 kernel whose only tap is (kh 1, kw 2), bias 0.5: a 2x17
  // output, y(oh, ow) = x(oh + 1, ow + 2) + 0.5. Lanes 16-31 of the panel straddle the two
  // output rows.
  const ConvGeometry g{1, 4, 19, 1, 3, 1, 0};
  Mat W = Mat::Zero(1, 9), b(1, 1), x(76, 1), y(34, 1);
  W(0, 1 * 3 + 2) = 1.0f;
  b << 0.5f;
  for (int i = 0; i < 76; ++i) x(i, 0) = static_cast<float>(i);
  Eigen::VectorXf work = workspace(g, 1);
  conv2d_forward(g, W, b, x, y, work, 1);
  for (int oh = 0; oh < 2; ++oh) {
    for (int ow = 0; ow < 17; ++ow) {
      EXPECT_EQ(y(oh * 17 + ow, 0), static_cast<float>((oh + 1) * 19 + ow + 2) + 0.5f) << oh << "," << ow;
    }
  }
}

TEST(ConvKernels, StrideOneInputGradientMatchesHandComputedValues) {
  // 1x4x4 input, 3x3 kernel with taps W(0, 0) = 1 and W(2, 1) = 2, dy = [[1, 2], [3, 4]]:
  // dx(y, x) = dy(y, x) + 2 dy(y - 2, x - 1) where those exist.
  const ConvGeometry g{1, 4, 4, 1, 3, 1, 0};
  Mat W = Mat::Zero(1, 9), dy(4, 1), dx = Mat::Constant(16, 1, 99.0f);
  W(0, 0) = 1.0f;
  W(0, 2 * 3 + 1) = 2.0f;
  dy << 1, 2, 3, 4;
  Eigen::VectorXf work = workspace(g, 1);
  conv2d_backward_input(g, W, dy, dx, work, 1);
  const float expected[16] = {1, 2, 0, 0, 3, 4, 0, 0, 0, 2, 4, 0, 0, 6, 8, 0};
  for (int i = 0; i < 16; ++i) EXPECT_EQ(dx(i, 0), expected[i]) << "input " << i;
}

TEST(ConvKernels, WeightGradientWith40ChannelsMatchesHandComputedValues) {
  // 1x1x2 image [1, 2], 1x1 kernel, 40 output channels (two passes of 32-lane tiles):
  // dy(o, 0) = o + 1 and dy(o, 1) = -o give dW(o) = (o + 1) - 2o = 1 - o, db(o) = 1.
  const ConvGeometry g{1, 1, 2, 40, 1, 1, 0};
  Mat x(2, 1), dy(80, 1), dW(40, 1), db(40, 1);
  x << 1, 2;
  for (int o = 0; o < 40; ++o) {
    dy(o * 2, 0) = static_cast<float>(o + 1);
    dy(o * 2 + 1, 0) = -static_cast<float>(o);
  }
  Eigen::VectorXf work = workspace(g, 1);
  conv2d_backward_params(g, x, dy, dW, db, work, 1);
  for (int o = 0; o < 40; ++o) {
    EXPECT_EQ(dW(o, 0), static_cast<float>(1 - o)) << "channel " << o;
    EXPECT_EQ(db(o, 0), 1.0f) << "channel " << o;
  }
}

// 0.5 ||conv(x)||^2 in double.
double half_squared_norm(const ConvGeometry& g, const Mat& W, const Mat& b, const Mat& x) {
  Mat y(g.out_features(), x.cols());
  Eigen::VectorXf work = workspace(g, 1);
  conv2d_forward(g, W, b, x, y, work, 1);
  return 0.5 * y.cast<double>().squaredNorm();
}

// Geometries of the paths above, small enough for central differences: output rows of 16
// and 18 pixels with 40 channels; kernel widths 5 (LeNet), 3 and 4 at stride 1, with padding.
const std::vector<ConvGeometry>& gradient_geometries() {
  static const std::vector<ConvGeometry> all = {
      {3, 5, 18, 40, 3, 1, 0}, {2, 8, 8, 5, 5, 1, 0}, {2, 6, 20, 3, 5, 1, 2}, {3, 5, 6, 4, 4, 1, 1}};
  return all;
}

TEST(ConvKernels, GradientsMatchCentralDifferences) {
  Rng rng(kSeed);
  for (const ConvGeometry& g : gradient_geometries()) {
    SCOPED_TRACE(describe(g));
    Mat W = random_matrix(g.out_c, g.patch(), rng), b = random_matrix(g.out_c, 1, rng);
    Mat x = random_matrix(g.in_features(), 2, rng);
    Mat y(g.out_features(), 2), dW(g.out_c, g.patch()), db(g.out_c, 1), dx(g.in_features(), 2);
    Eigen::VectorXf work = workspace(g, 1);
    conv2d_forward(g, W, b, x, y, work, 1);
    conv2d_backward_params(g, x, y, dW, db, work, 1);  // dL/dy = y
    conv2d_backward_input(g, W, y, dx, work, 1);
    auto loss = [&] { return half_squared_norm(g, W, b, x); };
    EXPECT_LT(relative_gradient_error(loss, W, dW), kGradTol);
    EXPECT_LT(relative_gradient_error(loss, b, db), kGradTol);
    EXPECT_LT(relative_gradient_error(loss, x, dx), kGradTol);
  }
}

// The summation order the AVX-512 kernels keep, written out one value at a time. Each FMA is
// std::fma (one rounding, as the vector instruction); every other operation is a float add
// in the order listed.
struct Reference {
  ConvGeometry g;
  int P, ow_n, hp, wp;
  explicit Reference(const ConvGeometry& geo)
      : g(geo), P(geo.out_h() * geo.out_w()), ow_n(geo.out_w()), hp(geo.in_h + 2 * geo.padding),
        wp(geo.in_w + 2 * geo.padding) {}

  // Patch entry k of output pixel p in image column xs (0 in the zero border).
  float col(const float* xs, Index k, int p) const {
    const int kk = g.kernel * g.kernel, c = static_cast<int>(k / kk), r = static_cast<int>(k % kk);
    const int iy = (p / ow_n) * g.stride + r / g.kernel - g.padding;
    const int ix = (p % ow_n) * g.stride + r % g.kernel - g.padding;
    if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) return 0.0f;
    return xs[(Index{c} * g.in_h + iy) * g.in_w + ix];
  }

  // y(o, p): from the bias, 128 patch entries per FMA chain; later chains are added to it.
  Mat forward(const Mat& W, const Mat& b, const Mat& x) const {
    const Index K = g.patch();
    Mat y(g.out_features(), x.cols());
    for (Index img = 0; img < x.cols(); ++img) {
      for (int o = 0; o < g.out_c; ++o) {
        for (int p = 0; p < P; ++p) {
          float acc = b(o, 0);
          for (Index k0 = 0; k0 < K; k0 += 128) {
            float part = k0 == 0 ? acc : 0.0f;
            for (Index k = k0; k < std::min<Index>(K, k0 + 128); ++k) part = std::fma(W(o, k), col(&x(0, img), k, p), part);
            acc = k0 == 0 ? part : acc + part;
          }
          y(Index{o} * P + p, img) = acc;
        }
      }
    }
    return y;
  }

  // dW(o, k): one FMA chain per block of pixels (whole images while two fit in 256 pixels,
  // else 256-pixel slices of one image), the blocks' chains added in order.
  Mat weight_gradient(const Mat& x, const Mat& dy) const {
    const Index K = g.patch(), B = x.cols();
    const int ipb = P * 2 > 256 ? 1 : 256 / P;
    Mat dW(g.out_c, K);
    for (int o = 0; o < g.out_c; ++o) {
      for (Index k = 0; k < K; ++k) {
        float acc = 0.0f;
        bool first = true;
        auto add_block = [&](Index img0, Index img1, int p0, int p1) {
          float part = 0.0f;
          for (Index img = img0; img < img1; ++img) {
            for (int p = p0; p < p1; ++p) part = std::fma(col(&x(0, img), k, p), dy(Index{o} * P + p, img), part);
          }
          acc = first ? part : acc + part;
          first = false;
        };
        for (Index img0 = 0; img0 < B; img0 += ipb) {
          if (ipb > 1) {
            add_block(img0, std::min<Index>(B, img0 + ipb), 0, P);
          } else {
            for (int p0 = 0; p0 < P; p0 += 256) add_block(img0, img0 + 1, p0, std::min(P, p0 + 256));
          }
        }
        dW(o, k) = acc;
      }
    }
    return dW;
  }

  // dx at stride 1: per 64-pixel panel, t(r, p) = an FMA chain over the output channels; then
  // per (c, kh) in order, each element adds (sum0 + sum1), sum0 the even kw terms and sum1 the
  // odd ones, each from +0, a term being +0 where its pixel is not in the panel.
  Mat input_gradient(const Mat& W, const Mat& dy) const {
    const Index K = g.patch(), B = dy.cols();
    const int k = g.kernel, pad = g.padding;
    Mat dx(g.in_features(), B);
    std::vector<float> dxp(static_cast<std::size_t>(g.in_c) * hp * wp), t(static_cast<std::size_t>(K) * 64);
    for (Index img = 0; img < B; ++img) {
      std::fill(dxp.begin(), dxp.end(), 0.0f);
      for (int p0 = 0; p0 < P; p0 += 64) {
        const int n = std::min(64, P - p0);
        for (Index r = 0; r < K; ++r) {
          for (int j = 0; j < n; ++j) {
            float acc = 0.0f;
            for (int o = 0; o < g.out_c; ++o) acc = std::fma(W(o, r), dy(Index{o} * P + p0 + j, img), acc);
            t[static_cast<std::size_t>(r * 64 + j)] = acc;
          }
        }
        auto term = [&](int c, int kh, int kw, int y, int x) {
          const int oh = y - kh, ow = x - kw, p = oh * ow_n + ow;
          if (oh < 0 || ow < 0 || ow >= ow_n || p < p0 || p >= p0 + n) return 0.0f;
          return t[static_cast<std::size_t>(((Index{c} * k + kh) * k + kw) * 64 + (p - p0))];
        };
        for (int c = 0; c < g.in_c; ++c) {
          for (int kh = 0; kh < k; ++kh) {
            for (int y = 0; y < hp; ++y) {
              for (int x = 0; x < wp; ++x) {
                float sum0 = 0.0f, sum1 = 0.0f;
                for (int kw = 0; kw < k; ++kw) (kw % 2 == 0 ? sum0 : sum1) += term(c, kh, kw, y, x);
                float& d = dxp[(static_cast<std::size_t>(c) * hp + y) * wp + x];
                d = d + (sum0 + sum1);
              }
            }
          }
        }
      }
      for (int c = 0; c < g.in_c; ++c) {
        for (int y = 0; y < g.in_h; ++y) {
          for (int x = 0; x < g.in_w; ++x) {
            dx((Index{c} * g.in_h + y) * g.in_w + x, img) =
                dxp[(static_cast<std::size_t>(c) * hp + y + pad) * wp + x + pad];
          }
        }
      }
    }
    return dx;
  }
};

// LeNet-5's two convolutions; padded maps of several panels; partial panels whose segments
// straddle rows 16+ wide; kernel widths 2, 3, 4, 5 and 7; 33, 40 and 64 output channels (32-lane
// weight-gradient tiles) and 96 (64-lane tiles); patches of 25, 27 and 147 entries (13-row
// tiles) and of more than one 128-entry chain; stride 2 (forward and weight gradient only: its
// input gradient adds row by row); a 30-wide kernel over one-pixel output rows (more lane
// masks per panel than col2im caches). Batch 9 gives every LeNet-5 kernel its second thread.
const std::vector<ConvGeometry>& exact_geometries() {
  static const std::vector<ConvGeometry> all = {
      {1, 28, 28, 32, 5, 1, 0}, {32, 12, 12, 64, 5, 1, 0}, {3, 32, 32, 16, 3, 1, 1}, {5, 9, 20, 33, 3, 1, 0},
      {7, 13, 11, 9, 5, 1, 2},  {3, 30, 30, 8, 7, 1, 3},   {2, 6, 40, 3, 2, 1, 0},   {4, 10, 10, 40, 4, 1, 1},
      {24, 8, 8, 96, 3, 1, 1},  {2, 11, 9, 5, 3, 2, 1},    {1, 9, 9, 40, 5, 1, 0},
      {2, 80, 30, 2, 30, 1, 0},
  };
  return all;
}

TEST(ConvKernels, EveryResultBitMatchesTheKeptSummationOrderOnOneAndTwoThreads) {
#if !defined(__AVX512F__)
  GTEST_SKIP() << "the portable kernels add in a different order";
#else
  Rng rng(kSeed);
  for (const ConvGeometry& g : exact_geometries()) {
    SCOPED_TRACE(describe(g));
    const Index B = 9;
    const Mat W = random_matrix(g.out_c, g.patch(), rng), b = random_matrix(g.out_c, 1, rng);
    const Mat x = random_matrix(g.in_features(), B, rng), dy = random_matrix(g.out_features(), B, rng);
    const Reference ref(g);
    const Mat want_y = ref.forward(W, b, x), want_dW = ref.weight_gradient(x, dy);
    const Mat want_dx = g.stride == 1 ? ref.input_gradient(W, dy) : Mat();
    for (const int threads : {1, 2}) {
      SCOPED_TRACE("threads " + std::to_string(threads));
      Eigen::VectorXf work = workspace(g, threads);
      Mat y(g.out_features(), B), dW(g.out_c, g.patch()), db(g.out_c, 1), dx(g.in_features(), B);
      conv2d_forward(g, W, b, x, y, work, threads);
      conv2d_backward_params(g, x, dy, dW, db, work, threads);
      conv2d_backward_input(g, W, dy, dx, work, threads);
      EXPECT_TRUE(same_bits(y, want_y));
      EXPECT_TRUE(same_bits(dW, want_dW));
      if (g.stride == 1) {
        EXPECT_TRUE(same_bits(dx, want_dx));
      }
    }
  }
#endif
}

}  // namespace
}  // namespace ternbench::kernels
