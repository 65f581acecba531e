#pragma once
// Multiplication-free products with ternary (and binary) weight matrices: the kernels of the
// ternary inference engine (docs/inference.md). A code +1 adds an input, -1 subtracts it, 0
// skips it; each output is then multiplied once by its row's scale.
//
// Activations are batch-innermost: element (feature k, sample b) is x[k * batch + b], so one
// code adds or subtracts `batch` contiguous floats. For images the feature order is CHW, as in
// conv.hpp, so x is (C, H, W, batch).
//
// Every output element is computed by one thread in one fixed order (the +1 inputs in
// ascending index order into one float sum from 0, the -1 inputs likewise into a second, then
// fma(pos_scale, plus, fma(-neg_scale, minus, bias))), so the vectorised kernels, the
// portable path and the naive references give the same bits, on any thread count.
#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ternbench/core/kernels/conv.hpp"

namespace ternbench::kernels {

// A (rows, cols) matrix of codes in {-1, 0, +1} with per-row scales, as index lists.
struct TernaryMatrix {
  Eigen::Index rows = 0, cols = 0;
  // Row o's +1 codes are at columns index[begin[o] .. split[o]), its -1 codes at
  // index[split[o] .. begin[o + 1]), each ascending.
  std::vector<std::int64_t> begin;  // rows + 1
  std::vector<std::int64_t> split;  // rows
  std::vector<std::int32_t> index;  // one per nonzero code
  // y_o = pos_scale[o] * (sum of +1 inputs) - neg_scale[o] * (sum of -1 inputs) + bias[o]
  std::vector<float> pos_scale, neg_scale, bias;  // rows each

  // Batch-1 forms, derived from the lists by make_ternary_matrix, which builds at most one of
  // them (chosen by density; make_ternary_conv drops both, the conv kernel does not use them).
  // Every sum still adds its inputs in ascending column order from 0.
  // - mask (dense, at least kMaskDensity nonzero): 2 bits a code. Per block of 16 rows and
  //   column c, a 16-bit mask of the block's +1 rows, then one of its -1 rows:
  //   mask[(block * cols + c) * 2 + {0, 1}], bit i = row 16 * block + i.
  std::vector<std::uint16_t> mask;
  // - packed lists (sparser, cols < 65535): the 2 * rows lists (list 2o holds row o's +1
  //   columns, 2o + 1 its -1 columns) sorted by length and interleaved 16 at a time: list l
  //   is lane list_lane[l] = g * 16 + j, and its step k is lanes[(lane_begin[g] + k) * 16 + j].
  //   The column `cols` pads a list shorter than its group's longest (it adds +0).
  std::vector<std::uint16_t> lanes;
  std::vector<std::int64_t> lane_begin;  // groups + 1, in steps of 16 entries
  std::vector<std::int32_t> list_lane;   // 2 * rows
  static constexpr double kMaskDensity = 0.2;  // at or above: mask; below: packed lists

  // Bytes of the vectors above (the engine's resident weight memory for this matrix).
  std::size_t bytes() const;
  // The sign code at (r, c): -1, 0 or +1.
  int code(Eigen::Index r, Eigen::Index c) const;
};

// From sign codes in row-major order and per-row scales and biases (each of size rows).
// Throws ternbench::Error on a code outside {-1, 0, 1} or sizes that do not match.
TernaryMatrix make_ternary_matrix(std::span<const std::int8_t> codes, Eigen::Index rows, Eigen::Index cols,
                                  std::vector<float> pos_scale, std::vector<float> neg_scale,
                                  std::vector<float> bias);

// Fully connected:  x: (cols, batch)  y: (rows, batch), both batch-innermost. threads split
// the rows (and, past 64 samples, the samples). With batch >= 16, x is read 16 samples (one
// cache line) at a time: a 64-byte aligned x avoids split loads.
void ternary_dense(const TernaryMatrix& W, const float* x, Eigen::Index batch, float* y, int threads);

// A convolution whose (out_c, in_c*k*k) weight matrix is ternary, columns indexed
// (c*k + kh)*k + kw as in conv.hpp, with the offsets the kernel walks prepared once.
struct TernaryConv {
  ConvGeometry g;
  TernaryMatrix W;
  // Per nonzero code (parallel to W.index): its input's offset in the zero-padded image
  // (c * padded_h + kh) * padded_w + kw, in units of `batch` floats.
  std::vector<std::int32_t> offset;
  // Batch-1 form for stride-1 layers where it is faster (make_ternary_conv decides; empty
  // otherwise): per nonzero code, ((c * padded_h + kh) * k + kw) * row_pitch, its input's
  // offset in k copies of every padded row shifted by kw, each row_pitch = out_w rounded up to
  // 16 floats long, so that every load of 16 output positions is aligned.
  std::vector<std::int32_t> row_offset;
  int row_pitch = 0;

  std::size_t bytes() const;
};

TernaryConv make_ternary_conv(const ConvGeometry& g, TernaryMatrix W);

// Floats of scratch ternary_conv needs (it depends on the batch, not on the threads): at
// batch 1 and stride 1 the zero-padded input (0 without padding) or, with a row_offset form,
// the shifted row copies (in_c * padded_h * k * row_pitch); otherwise the padded input
// repacked 16 samples at a time. Plus 15: the kernel starts its scratch at the first 64-byte
// boundary of work.
Eigen::Index ternary_conv_workspace_size(const TernaryConv& c, Eigen::Index batch);

//   x: (in_c, in_h, in_w, batch)  y: (out_c, oh, ow, batch)  work: ternary_conv_workspace_size
void ternary_conv(const TernaryConv& c, const float* x, Eigen::Index batch, float* y, float* work, int threads);

// Plain loops in the same order: what the tests hold the fast kernels to, bit for bit.
void ternary_dense_naive(const TernaryMatrix& W, const float* x, Eigen::Index batch, float* y);
void ternary_conv_naive(const TernaryConv& c, const float* x, Eigen::Index batch, float* y);

}  // namespace ternbench::kernels
