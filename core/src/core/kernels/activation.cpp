// GCC 12 reports -Wmaybe-uninitialized inside avx512fintrin.h (_mm512_undefined_ps) when
// Eigen's AVX-512 packet code is inlined here: a known false positive of that compiler. The
// location is the system header, so the pragma must precede the first Eigen include; it is
// confined to this file, which holds the kernels that instantiate that code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "ternbench/core/kernels/activation.hpp"

#include <omp.h>

#include <algorithm>

#include "ternbench/base/error.hpp"
#include "threads.hpp"

namespace ternbench::kernels {
using detail::elementwise_threads;

void relu_forward(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y, int threads) {
  TB_CHECK(x.rows() == y.rows() && x.cols() == y.cols(), "relu_forward: shape mismatch");
  threads = elementwise_threads(threads, x.size(), x.cols());
  if (threads == 1) {
    y = x.cwiseMax(0.0f);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (Eigen::Index j = 0; j < x.cols(); ++j) y.col(j) = x.col(j).cwiseMax(0.0f);
}

void relu_backward(const Eigen::Ref<const Mat>& y, const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx, int threads) {
  TB_CHECK(y.rows() == dy.rows() && y.cols() == dy.cols() && dx.rows() == dy.rows() && dx.cols() == dy.cols(),
           "relu_backward: shape mismatch");
  threads = elementwise_threads(threads, dy.size(), dy.cols());
  // A select on a comparison is not vectorised by Eigen 3.4; this form is (and has no branch).
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
  for (Eigen::Index j = 0; j < dy.cols(); ++j) {
    const float* yp = y.col(j).data();
    const float* gp = dy.col(j).data();
    float* dp = dx.col(j).data();
    for (Eigen::Index i = 0; i < dy.rows(); ++i) dp[i] = yp[i] > 0.0f ? gp[i] : 0.0f;
  }
}

}  // namespace ternbench::kernels
