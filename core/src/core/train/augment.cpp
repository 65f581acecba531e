#include "ternbench/core/train/augment.hpp"

#include <algorithm>
#include <cmath>

#include "ternbench/base/error.hpp"

namespace ternbench::core {

CropFlip draw_crop_flip(int padding, Rng& rng) {
  const auto span = static_cast<std::uint64_t>(2 * padding + 1);
  CropFlip t;
  t.dy = static_cast<int>(rng.uniform_index(span));
  t.dx = static_cast<int>(rng.uniform_index(span));
  t.flip = rng.uniform_index(2) == 1;
  return t;
}

void apply_crop_flip(ConstColRef src, ColRef dst, int channels, int height, int width, int padding, CropFlip t) {
  const Eigen::Index plane = Eigen::Index{height} * width;
  TB_CHECK(src.size() == channels * plane && dst.size() == src.size(),
           "apply_crop_flip: sample sizes do not match channels*height*width");
  for (int c = 0; c < channels; ++c) {
    const float* in = src.data() + c * plane;
    float* out = dst.data() + c * plane;
    for (int y = 0; y < height; ++y) {
      float* row = out + Eigen::Index{y} * width;
      const int sy = y + t.dy - padding;
      if (sy < 0 || sy >= height) {
        std::fill(row, row + width, 0.0f);
        continue;
      }
      const float* in_row = in + Eigen::Index{sy} * width;
      for (int x = 0; x < width; ++x) {
        const int sx = (t.flip ? width - 1 - x : x) + t.dx - padding;
        row[x] = (sx >= 0 && sx < width) ? in_row[sx] : 0.0f;
      }
    }
  }
}

void augment(ConstColRef src, ColRef dst, int channels, int height, int width, int padding, Rng& rng) {
  apply_crop_flip(src, dst, channels, height, width, padding, draw_crop_flip(padding, rng));
}

ChannelStats channel_stats(const Dataset& d, std::int64_t n) {
  const auto total = static_cast<Eigen::Index>(
      n > 0 ? std::min<std::int64_t>(n, static_cast<std::int64_t>(d.size())) : static_cast<std::int64_t>(d.size()));
  const Eigen::Index plane = Eigen::Index{d.height} * d.width;
  TB_CHECK(d.images.rows() == d.channels * plane, "channel_stats: images do not have channels*height*width rows");
  TB_CHECK(total > 0, "channel_stats: no samples");
  ChannelStats s;
  const double count = static_cast<double>(total) * static_cast<double>(plane);
  for (int c = 0; c < d.channels; ++c) {
    const auto block = d.images.block(c * plane, 0, plane, total);
    // Two passes (mean, then squared deviations) in double: the one-pass sum of squares
    // loses digits when the spread is small against the mean.
    double sum = 0;
    for (Eigen::Index j = 0; j < total; ++j)
      for (Eigen::Index i = 0; i < plane; ++i) sum += static_cast<double>(block(i, j));
    const double mean = sum / count;
    double sq = 0;
    for (Eigen::Index j = 0; j < total; ++j)
      for (Eigen::Index i = 0; i < plane; ++i) {
        const double e = static_cast<double>(block(i, j)) - mean;
        sq += e * e;
      }
    const double sd = std::sqrt(sq / count);
    s.mean.push_back(static_cast<float>(mean));
    s.inv_std.push_back(sd > 0 ? static_cast<float>(1.0 / sd) : 1.0f);
  }
  return s;
}

void normalize(ColRef x, const ChannelStats& s, Eigen::Index pixels_per_channel) {
  const auto channels = static_cast<Eigen::Index>(s.mean.size());
  TB_CHECK(x.size() == channels * pixels_per_channel, "normalize: sample size is not channels*pixels_per_channel");
  for (Eigen::Index c = 0; c < channels; ++c) {
    const auto k = static_cast<std::size_t>(c);
    auto seg = x.segment(c * pixels_per_channel, pixels_per_channel).array();
    seg = (seg - s.mean[k]) * s.inv_std[k];
  }
}

void gather_batch(const Dataset& d, std::span<const std::uint32_t> idx, Eigen::Ref<Eigen::MatrixXf> dst,
                  const BatchTransform& t, Rng& rng) {
  TB_CHECK(dst.rows() == d.images.rows() && dst.cols() >= static_cast<Eigen::Index>(idx.size()),
           "gather_batch: destination is smaller than the batch");
  const Eigen::Index plane = Eigen::Index{d.height} * d.width;
  for (std::size_t j = 0; j < idx.size(); ++j) {
    const auto col = static_cast<Eigen::Index>(j);
    const auto src = d.images.col(static_cast<Eigen::Index>(idx[j]));
    if (t.augment) {
      augment(src, dst.col(col), d.channels, d.height, d.width, t.crop_padding, rng);
    } else {
      dst.col(col) = src;
    }
    if (t.stats != nullptr) normalize(dst.col(col), *t.stats, plane);
  }
}

Dataset normalized_prefix(const Dataset& d, std::size_t n, const ChannelStats& stats) {
  Dataset out;
  out.channels = d.channels;
  out.height = d.height;
  out.width = d.width;
  out.num_classes = d.num_classes;
  out.images = d.images.leftCols(static_cast<Eigen::Index>(n));
  out.labels.assign(d.labels.begin(), d.labels.begin() + static_cast<std::ptrdiff_t>(n));
  const Eigen::Index plane = Eigen::Index{d.height} * d.width;
  for (Eigen::Index j = 0; j < out.images.cols(); ++j) normalize(out.images.col(j), stats, plane);
  return out;
}

}  // namespace ternbench::core
