#pragma once
// Per-sample data transforms that the trainer applies while it gathers a mini-batch, so the
// caller's data set is never copied or changed: random crop with zero padding plus
// horizontal flip (torchvision's RandomCrop(padding) + RandomHorizontalFlip(0.5)), and
// per-channel normalization (torchvision's Normalize with the training split's statistics).
//
// A sample is one column of Dataset::images in channel-major order (CHW): pixel (c, y, x) is
// row c*height*width + y*width + x.
#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <vector>

#include "ternbench/base/rng.hpp"
#include "ternbench/core/train/dataset.hpp"

namespace ternbench::core {

using ColRef = Eigen::Ref<Eigen::VectorXf>;
using ConstColRef = Eigen::Ref<const Eigen::VectorXf>;

// One draw of the crop-and-flip transform. The crop window's top-left corner is (dy, dx) in
// the zero-padded image, each in [0, 2 * padding].
struct CropFlip {
  int dy = 0, dx = 0;
  bool flip = false;
};

// Draws dy, then dx (each uniform in [0, 2 * padding]), then flip (probability 0.5), in that
// order, from rng: the stream position after a sample depends only on the number of samples.
CropFlip draw_crop_flip(int padding, Rng& rng);

// dst(c, y, x) = src(c, y + dy - padding, x' + dx - padding), x' = width-1-x when flip else x,
// and 0 where that falls outside the image (the zero padding). Crops first, then flips.
// src, dst: (channels*height*width); must not alias.
void apply_crop_flip(ConstColRef src, ColRef dst, int channels, int height, int width, int padding, CropFlip t);

// Random crop with zero padding, then horizontal flip with probability 0.5, drawn from rng.
// src, dst: (channels*height*width); must not alias.
void augment(ConstColRef src, ColRef dst, int channels, int height, int width, int padding, Rng& rng);

struct ChannelStats {
  std::vector<float> mean;     // per channel
  std::vector<float> inv_std;  // 1 / population standard deviation, per channel
};

// Per-channel mean and population standard deviation over the first n samples of d
// (n <= 0 or n > size: all), accumulated in double. A constant channel (std 0) gets
// inv_std = 1, so normalizing only centres it instead of dividing by zero.
ChannelStats channel_stats(const Dataset& d, std::int64_t n);

// A copy of the first n samples of d, normalized. Evaluation reads whole column ranges, so
// a test split is normalized once up front (training batches are normalized as gathered).
Dataset normalized_prefix(const Dataset& d, std::size_t n, const ChannelStats& stats);

// x(c, .) = (x(c, .) - mean[c]) * inv_std[c], in place.     x: (channels * pixels_per_channel)
void normalize(ColRef x, const ChannelStats& s, Eigen::Index pixels_per_channel);

// How the trainer turns stored samples into a training batch.
struct BatchTransform {
  bool augment = false;                 // random crop with zero padding + horizontal flip
  int crop_padding = 0;
  const ChannelStats* stats = nullptr;  // normalize with these (after augmenting) when set
};

// dst.col(j) = sample idx[j] of d, augmented (drawing from rng, in j order) and then
// normalized as t says; with neither, an exact copy.
// dst: (channels*height*width, >= idx.size()); columns from idx.size() on are left alone.
void gather_batch(const Dataset& d, std::span<const std::uint32_t> idx, Eigen::Ref<Eigen::MatrixXf> dst,
                  const BatchTransform& t, Rng& rng);

}  // namespace ternbench::core
