#pragma once
// Fully connected layer maths. Pure functions: no allocation beyond Eigen's GEMM workspace,
// no I/O. One sample per column.
#include <Eigen/Core>

namespace ternbench::kernels {

using Mat = Eigen::MatrixXf;

// y = W x + b            W: (out, in)  b: (out, 1)  x: (in, B)  y: (out, B)
void dense_forward(const Eigen::Ref<const Mat>& W, const Eigen::Ref<const Mat>& b,
                   const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y);

// y = W x + b for evaluation, each output one FMA chain over the inputs in order, started
// from the bias: y(o, n) = fma(W(o, in-1), x(in-1, n), ... fma(W(o, 0), x(0, n), b(o))).
// No packing or workspace; `threads` split the samples and do not change a bit. It rounds
// differently from dense_forward (Eigen sums in blocks and pairs of partial sums), so a
// layer uses one or the other for a whole purpose: this one in evaluation mode only.
void dense_forward_chain(const Eigen::Ref<const Mat>& W, const Eigen::Ref<const Mat>& b,
                         const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y, int threads);

// dW = dy x^T, db = rowsum(dy)  (overwritten, not accumulated, so no zeroing pass is needed)
//                        x: (in, B)  dy: (out, B)  dW: (out, in)  db: (out, 1)
void dense_backward_params(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& dy,
                           Eigen::Ref<Mat> dW, Eigen::Ref<Mat> db);

// dx = W^T dy            W: (out, in)  dy: (out, B)  dx: (in, B)
void dense_backward_input(const Eigen::Ref<const Mat>& W, const Eigen::Ref<const Mat>& dy,
                          Eigen::Ref<Mat> dx);

// Triple-loop reference of dense_forward (tests compare the fast path against it).
void dense_forward_naive(const Eigen::Ref<const Mat>& W, const Eigen::Ref<const Mat>& b,
                         const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y);

}  // namespace ternbench::kernels
