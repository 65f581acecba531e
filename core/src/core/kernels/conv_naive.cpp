// Naive references of the convolution kernels: direct loops in double, the ground truth the
// tests compare conv.cpp against.
#include <Eigen/Core>

#include "conv_check.hpp"
#include "ternbench/core/kernels/conv.hpp"

namespace ternbench::kernels {

using detail::check_geometry;
using Index = Eigen::Index;

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
