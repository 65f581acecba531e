#pragma once
// 2-D convolution maths (cross-correlation, as PyTorch's Conv2d). Pure functions: the caller
// passes every buffer, including a scratch workspace, so a training step allocates nothing.
// Images are CHW, one image per column: x(c*h*w + y*w + x, b).
//
// The fast kernels are implicit-GEMM: a register-blocked AVX-512 micro-kernel whose operands
// are packed straight from the images (im2col one 64-pixel panel at a time, never for the
// whole batch), and whose results land directly in the CHW output columns. Work is split
// across `threads` OpenMP threads by image (forward, input gradient) or by rows of dW
// (weight gradient); every output element is computed by one thread in a fixed order, so
// results do not depend on the thread count.
#include <Eigen/Core>

namespace ternbench::kernels {

using Mat = Eigen::MatrixXf;

struct ConvGeometry {
  int in_c = 0, in_h = 0, in_w = 0;
  int out_c = 0, kernel = 1, stride = 1, padding = 0;

  int out_h() const { return (in_h + 2 * padding - kernel) / stride + 1; }
  int out_w() const { return (in_w + 2 * padding - kernel) / stride + 1; }
  Eigen::Index patch() const { return Eigen::Index{in_c} * kernel * kernel; }  // columns of W
  Eigen::Index in_features() const { return Eigen::Index{in_c} * in_h * in_w; }
  Eigen::Index out_features() const { return Eigen::Index{out_c} * out_h() * out_w(); }
};

// Floats of scratch that conv2d_forward, conv2d_backward_params and conv2d_backward_input
// need with `threads` threads (one workspace serves all three; it is independent of B).
Eigen::Index conv2d_workspace_size(const ConvGeometry& g, int threads);

// y = W * x + b
//   W: (out_c, in_c*k*k), column index (c*k + kh)*k + kw   b: (out_c, 1)
//   x: (in_c*h*w, B)   y: (out_c*oh*ow, B)   work: (conv2d_workspace_size(g, threads))
void conv2d_forward(const ConvGeometry& g, const Eigen::Ref<const Mat>& W, const Eigen::Ref<const Mat>& b,
                    const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y, Eigen::Ref<Eigen::VectorXf> work,
                    int threads);

// dW = dy * cols(x)^T, db = per-channel sums of dy (overwritten, not accumulated)
//   x: (in_c*h*w, B)  dy: (out_c*oh*ow, B)  dW: (out_c, in_c*k*k)  db: (out_c, 1)
void conv2d_backward_params(const ConvGeometry& g, const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& dy,
                            Eigen::Ref<Mat> dW, Eigen::Ref<Mat> db, Eigen::Ref<Eigen::VectorXf> work, int threads);

// dx = col2im(W^T dy) (overwritten)
//   W: (out_c, in_c*k*k)  dy: (out_c*oh*ow, B)  dx: (in_c*h*w, B)
void conv2d_backward_input(const ConvGeometry& g, const Eigen::Ref<const Mat>& W, const Eigen::Ref<const Mat>& dy,
                           Eigen::Ref<Mat> dx, Eigen::Ref<Eigen::VectorXf> work, int threads);

// Direct-loop references (double accumulation) that the tests hold the fast kernels to.
//   shapes as conv2d_forward
void conv2d_forward_naive(const ConvGeometry& g, const Eigen::Ref<const Mat>& W, const Eigen::Ref<const Mat>& b,
                          const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y);
//   shapes as conv2d_backward_params and conv2d_backward_input
void conv2d_backward_naive(const ConvGeometry& g, const Eigen::Ref<const Mat>& W, const Eigen::Ref<const Mat>& x,
                           const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dW, Eigen::Ref<Mat> db,
                           Eigen::Ref<Mat> dx);

}  // namespace ternbench::kernels
