#pragma once
// Per-channel reductions over the batch and the spatial positions: batch normalisation and
// global average pooling. Pure functions: no allocation, no I/O.
//
// An activation matrix holds one sample per column; a column is C channels of S positions in
// CHW order, so channel c of sample j is rows [c*S, c*S + S) of column j. Dense layers'
// features are channels with S = 1.
//
// `threads`: OpenMP threads a kernel may use on large activations (by sample for the
// element-wise passes, by channel for the reductions, each channel's sum keeping its order),
// so results do not depend on it.
#include <Eigen/Core>

namespace ternbench::kernels {

using Mat = Eigen::MatrixXf;
using VecF = Eigen::VectorXf;
using VecD = Eigen::VectorXd;

// Mean and biased variance of every channel over the batch and the positions (two passes;
// per-channel sums in double, since a channel can hold B*S ~ 1e5 values).
//                              x: (C*S, B)  mean, var: (C)
void channel_mean_var(const Eigen::Ref<const Mat>& x, Eigen::Index S, Eigen::Ref<VecD> mean, Eigen::Ref<VecD> var,
                      int threads = 1);

// y = scale_c * (x - center_c) + shift_c
//                              x, y: (C*S, B)  center, scale, shift: (C); x and y may alias
void channel_affine(const Eigen::Ref<const Mat>& x, Eigen::Index S, const Eigen::Ref<const VecF>& center,
                    const Eigen::Ref<const VecF>& scale, const Eigen::Ref<const VecF>& shift, Eigen::Ref<Mat> y,
                    int threads = 1);

// y = max(scale_c * (x - center_c) + shift_c, 0): channel_affine then relu_forward in one
// pass, equal to them bit for bit.
//                              x, y: (C*S, B)  center, scale, shift: (C); x and y may alias
void channel_affine_relu(const Eigen::Ref<const Mat>& x, Eigen::Index S, const Eigen::Ref<const VecF>& center,
                         const Eigen::Ref<const VecF>& scale, const Eigen::Ref<const VecF>& shift, Eigen::Ref<Mat> y,
                         int threads = 1);

// One channel segment of channel_affine (relu = false) or channel_affine_relu (true), which
// call it for images: y[i] = scale * (x[i] - center) + shift (then max(., 0)), i < n. Fused
// kernels call this one compiled function too, so their values equal the layers' bit for bit.
void channel_affine_span(const float* x, Eigen::Index n, float center, float scale, float shift, bool relu, float* y);

// sum_dy_c = sum of dy, sum_dyxc_c = sum of dy * (x - center_c), over the batch and positions
// (overwritten). Batch norm's parameter gradients follow from these two.
//                              x, dy: (C*S, B)  center: (C)  sum_dy, sum_dyxc: (C)
void channel_backward_sums(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& dy, Eigen::Index S,
                           const Eigen::Ref<const VecF>& center, Eigen::Ref<VecD> sum_dy, Eigen::Ref<VecD> sum_dyxc,
                           int threads = 1);

// The terms channel_backward_sums adds up (in double, samples in order) for one channel of one
// sample, S > 1: sum_g = sum of g, sum_gxc = sum of g * (x - center) over the S positions.
// Kernels that produce g call it on the same memory while it is in cache, so their sums
// equal channel_backward_sums' bit for bit: one compiled function serves both (how the
// compiler fuses the multiply-adds of an inlined copy could differ), and the float sums'
// order depends only on the addresses and S.
void channel_sum_terms(const float* g, const float* x, Eigen::Index S, float center, float& sum_g, float& sum_gxc);

// sum_dy_c, sum_dyxc_c of channel_backward_sums from the terms of every sample:
//                              terms_dy, terms_dyxc: (C, B)  sum_dy, sum_dyxc: (C)
void channel_sums_of_terms(const Eigen::Ref<const Mat>& terms_dy, const Eigen::Ref<const Mat>& terms_dyxc,
                           Eigen::Ref<VecD> sum_dy, Eigen::Ref<VecD> sum_dyxc);

// dx = a_c * dy + b_c * (x - center_c) + k_c: batch norm's input gradient in both modes
// (evaluation mode has b = k = 0).
//                              x, dy, dx: (C*S, B)  center, a, b, k: (C); dy and dx may alias
void channel_backward_input(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& dy, Eigen::Index S,
                            const Eigen::Ref<const VecF>& center, const Eigen::Ref<const VecF>& a,
                            const Eigen::Ref<const VecF>& b, const Eigen::Ref<const VecF>& k, Eigen::Ref<Mat> dx,
                            int threads = 1);

// y(c, j) = mean over the S positions of channel c of column j
//                              x: (C*S, B)  y: (C, B)
void global_avg_pool_forward(const Eigen::Ref<const Mat>& x, Eigen::Index S, Eigen::Ref<Mat> y);

// dx(c*S + s, j) = dy(c, j) / S
//                              dy: (C, B)  dx: (C*S, B)
void global_avg_pool_backward(const Eigen::Ref<const Mat>& dy, Eigen::Index S, Eigen::Ref<Mat> dx);

}  // namespace ternbench::kernels
