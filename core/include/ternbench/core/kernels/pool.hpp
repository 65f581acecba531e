#pragma once
// 2-D max pooling over CHW images, one image per column, no padding, floor output size.
// Pure functions; the caller owns the argmax buffer. Work is split across `threads` OpenMP
// threads by image, so every output element is written by one thread in a fixed order.
#include <Eigen/Core>
#include <cstdint>

namespace ternbench::kernels {

using Mat = Eigen::MatrixXf;
using IndexMat = Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic>;

struct PoolGeometry {
  int channels = 0, in_h = 0, in_w = 0;
  int kernel = 2, stride = 2;

  int out_h() const { return (in_h - kernel) / stride + 1; }
  int out_w() const { return (in_w - kernel) / stride + 1; }
  Eigen::Index in_features() const { return Eigen::Index{channels} * in_h * in_w; }
  Eigen::Index out_features() const { return Eigen::Index{channels} * out_h() * out_w(); }
};

// y = max over each window; argmax = index of that maximum within the image's column
// (the first one in row-major window order when several are equal)
//   x: (channels*h*w, B)  y, argmax: (channels*oh*ow, B)
void maxpool2d_forward(const PoolGeometry& g, const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y,
                       Eigen::Ref<IndexMat> argmax, int threads);

// dx = 0 except dx(argmax) += dy (overlapping windows add up)
//   argmax, dy: (channels*oh*ow, B)  dx: (channels*h*w, B)
void maxpool2d_backward(const PoolGeometry& g, const Eigen::Ref<const IndexMat>& argmax,
                        const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx, int threads);

// maxpool2d_forward of relu_forward of channel_affine (batch norm's output), in one pass over x
// that keeps one channel plane at a time in `work`; y and argmax equal the three separate
// kernels' bit for bit. Batch norm's and ReLU's outputs are not stored: relu's mask at each
// argmax is y > 0, which is all maxpool2d_relu_backward needs.
//   x: (channels*h*w, B)  center, scale, shift: (channels)  y, argmax: (channels*oh*ow, B)
//   work: at least bn_relu_maxpool2d_workspace_size(g, threads) floats
Eigen::Index bn_relu_maxpool2d_workspace_size(const PoolGeometry& g, int threads);
void bn_relu_maxpool2d_forward(const PoolGeometry& g, const Eigen::Ref<const Mat>& x,
                               const Eigen::Ref<const Eigen::VectorXf>& center,
                               const Eigen::Ref<const Eigen::VectorXf>& scale,
                               const Eigen::Ref<const Eigen::VectorXf>& shift, Eigen::Ref<Mat> y,
                               Eigen::Ref<IndexMat> argmax, Eigen::Ref<Eigen::VectorXf> work, int threads);
// relu_backward of maxpool2d_backward in one pass, given the pooled output y of a ReLU (or of
// bn_relu_maxpool2d_forward): dx = 0 except dx(argmax) += (y > 0 ? dy : 0). Equal to the two
// kernels bit for bit.
//   argmax, y, dy: (channels*oh*ow, B)  dx: (channels*h*w, B)
void maxpool2d_relu_backward(const PoolGeometry& g, const Eigen::Ref<const IndexMat>& argmax,
                             const Eigen::Ref<const Mat>& y, const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx,
                             int threads);
// The same, when dx is the dy of a batch norm whose input is x: also the terms of its
// channel_backward_sums, computed from each plane of dx while it is in cache
// (channel_sum_terms), for channel_sums_of_terms.
//   x: (channels*h*w, B)  center: (channels)  terms_dy, terms_dyxc: (channels, B)
void maxpool2d_relu_backward(const PoolGeometry& g, const Eigen::Ref<const IndexMat>& argmax,
                             const Eigen::Ref<const Mat>& y, const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx,
                             const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Eigen::VectorXf>& center,
                             Eigen::Ref<Mat> terms_dy, Eigen::Ref<Mat> terms_dyxc, int threads);

// Direct-loop reference of maxpool2d_forward's y (tests compare against it).
//   x: (channels*h*w, B)  y: (channels*oh*ow, B)
void maxpool2d_forward_naive(const PoolGeometry& g, const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y);

}  // namespace ternbench::kernels
