// GCC 12 reports -Wmaybe-uninitialized inside avx512fintrin.h (_mm512_undefined_ps) when
// Eigen's AVX-512 packet code is inlined here: a known false positive of that compiler. The
// location is the system header, so the pragma must precede the first Eigen include; it is
// confined to this file, which holds the kernels that instantiate that code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "ternbench/core/kernels/dense.hpp"

#include "ternbench/base/error.hpp"

namespace ternbench::kernels {

void dense_forward(const Eigen::Ref<const Mat>& W, const Eigen::Ref<const Mat>& b,
                   const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) {
  TB_CHECK(W.cols() == x.rows() && b.rows() == W.rows() && b.cols() == 1 && y.rows() == W.rows() &&
               y.cols() == x.cols(),
           "dense_forward: shape mismatch");
  y.noalias() = W * x;
  y.colwise() += b.col(0);
}

void dense_backward_params(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& dy,
                           Eigen::Ref<Mat> dW, Eigen::Ref<Mat> db) {
  TB_CHECK(x.cols() == dy.cols() && dW.rows() == dy.rows() && dW.cols() == x.rows() && db.rows() == dy.rows() &&
               db.cols() == 1,
           "dense_backward_params: shape mismatch");
  dW.noalias() = dy * x.transpose();
  db.col(0) = dy.rowwise().sum();
}

void dense_backward_input(const Eigen::Ref<const Mat>& W, const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx) {
  TB_CHECK(W.rows() == dy.rows() && dx.rows() == W.cols() && dx.cols() == dy.cols(),
           "dense_backward_input: shape mismatch");
  dx.noalias() = W.transpose() * dy;
}

void dense_forward_naive(const Eigen::Ref<const Mat>& W, const Eigen::Ref<const Mat>& b,
                         const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) {
  TB_CHECK(W.cols() == x.rows() && b.rows() == W.rows() && y.rows() == W.rows() && y.cols() == x.cols(),
           "dense_forward_naive: shape mismatch");
  for (Eigen::Index n = 0; n < x.cols(); ++n) {
    for (Eigen::Index o = 0; o < W.rows(); ++o) {
      double acc = b(o, 0);
      for (Eigen::Index i = 0; i < W.cols(); ++i) acc += static_cast<double>(W(o, i)) * x(i, n);
      y(o, n) = static_cast<float>(acc);
    }
  }
}

}  // namespace ternbench::kernels
