// Storage sizes (docs/methods.md, "Sizes"): each encoding's bits on hand-counted codes, the relative-index
// fillers and choice of b, and the model summary with float parameters.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "ternbench/core/deploy/sizes.hpp"

namespace ternbench::core {
namespace {

// n = 10, three nonzeros with 1, 4 and 2 zeros before them.
const std::vector<std::int8_t> kTen = {0, 1, 0, 0, 0, 0, -1, 0, 0, 1};

TEST(Sizes, ZeroRunsCountTheZerosBeforeEachNonzero) {
  EXPECT_EQ(zero_runs(kTen), (std::vector<std::int64_t>{1, 4, 2}));
  EXPECT_TRUE(zero_runs(std::vector<std::int8_t>(5, 0)).empty());  // trailing zeros are not runs
  EXPECT_EQ(zero_runs(std::vector<std::int8_t>{1, -1}), (std::vector<std::int64_t>{0, 0}));
}

TEST(Sizes, RelativeIndexFillersByHand) {
  const std::vector<std::int64_t> runs = {1, 4, 2};
  // b = 1: a filler skips 1 zero ⇒ 1 + 4 + 2 = 7 fillers, 10 entries of 2 bits.
  RelativeIndexSize s = relative_index_size(runs, 1);
  EXPECT_EQ(s.fillers, 7);
  EXPECT_EQ(s.entries, 10);
  EXPECT_EQ(s.bits, 20);
  // b = 2: a filler skips 3 ⇒ floor(4 / 3) = 1 filler, 4 entries of 3 bits.
  s = relative_index_size(runs, 2);
  EXPECT_EQ(s.fillers, 1);
  EXPECT_EQ(s.bits, 12);
  // b = 3: runs up to 6 fit ⇒ no filler, 3 entries of 4 bits: ties with b = 2.
  s = relative_index_size(runs, 3);
  EXPECT_EQ(s.fillers, 0);
  EXPECT_EQ(s.bits, 12);
  const RelativeIndexSize best = best_relative_index_size(runs);
  EXPECT_EQ(best.b, 2);  // the smaller b wins the tie
  EXPECT_EQ(best.bits, 12);
  EXPECT_EQ(best.fillers, 1);
}

TEST(Sizes, RelativeIndexPicksAWideFieldForLongGaps) {
  // 40 zeros then a nonzero: b = 1..6 cost 82, 42, 24, 15, 12, 7 bits; b = 7 costs 8.
  const std::vector<std::int64_t> runs = {40};
  const double expect[] = {82, 42, 24, 15, 12, 7, 8};
  for (int b = 1; b <= 7; ++b) EXPECT_EQ(relative_index_size(runs, b).bits, expect[b - 1]) << "b = " << b;
  EXPECT_EQ(best_relative_index_size(runs).b, 6);
  // A run of exactly 2^b - 1 needs one filler; 2^b - 2 needs none.
  EXPECT_EQ(relative_index_size(std::vector<std::int64_t>{7}, 3).fillers, 1);
  EXPECT_EQ(relative_index_size(std::vector<std::int64_t>{6}, 3).fillers, 0);
  EXPECT_EQ(best_relative_index_size(std::vector<std::int64_t>{}).bits, 0);
}

TEST(Sizes, EveryEncodingOfATernaryLayerByHand) {
  const LayerSizes s = layer_sizes("fc/W", "ternary", kTen, 1);
  EXPECT_EQ(s.n, 10);
  EXPECT_EQ(s.n_nonzero, 3);
  EXPECT_DOUBLE_EQ(s.sparsity, 0.7);
  EXPECT_EQ(s.fp32_bits, 320);
  EXPECT_EQ(s.binary_bits, 10 + 32);
  EXPECT_EQ(s.ternary_2bit_bits, 20 + 32);
  EXPECT_EQ(s.ternary_base3_bits, 16 + 32);  // ceil(10 / 5) = 2 bytes
  EXPECT_EQ(s.bitmap_bits, 10 + 3 + 32);
  EXPECT_EQ(s.relative_index_bits, 12 + 32);
  EXPECT_EQ(s.relative_index_b, 2);
  EXPECT_EQ(s.relative_index_fillers, 1);
  EXPECT_DOUBLE_EQ(compression_ratio(s.n, s.relative_index_bits), 320.0 / 44);
  EXPECT_DOUBLE_EQ(bits_per_weight(s.n, s.bitmap_bits), 4.5);
  EXPECT_EQ(ternary_base3_bits(11, 0), 24);  // 11 trits need 3 bytes
  EXPECT_EQ(compression_ratio(0, 0), 0);
}

TEST(Sizes, MatrixCodesAreReadInRowMajorOrder) {
  Mat q(2, 5);  // row-major it is kTen scaled by 0.4
  q << 0, 0.4f, 0, 0, 0, 0, -0.4f, 0, 0, 0.4f;
  const LayerSizes s = layer_sizes("fc/W", "ternary", q, 1);
  EXPECT_EQ(s.relative_index_bits, 12 + 32);
  EXPECT_EQ(s.relative_index_fillers, 1);
}

TEST(Sizes, FullPrecisionLayerStays32BitsInEveryEncoding) {
  const LayerSizes s = layer_sizes("out/W", "fp32", std::vector<std::int8_t>{1, -1, 1, 0}, 7);
  EXPECT_EQ(s.n_scales, 0);
  for (double bits : {s.fp32_bits, s.binary_bits, s.ternary_2bit_bits, s.ternary_base3_bits, s.bitmap_bits,
                      s.relative_index_bits}) {
    EXPECT_EQ(bits, 128);
  }
  EXPECT_EQ(s.relative_index_b, 0);
}

TEST(Sizes, ModelSummaryAddsFloatParametersSeparately) {
  std::vector<LayerSizes> layers;
  layers.push_back(layer_sizes("fc/W", "ternary", kTen, 1));
  layers.push_back(layer_sizes("out/W", "fp32", std::vector<std::int8_t>{1, -1, 1, 1}, 0));
  const ModelSizes m = summarize_sizes(layers, 5);
  EXPECT_EQ(m.n_weights, 14);
  EXPECT_EQ(m.n_nonzero, 7);
  EXPECT_DOUBLE_EQ(m.sparsity, 0.5);
  EXPECT_EQ(m.float_param_bits, 160);
  EXPECT_EQ(m.weights.fp32, 448);
  EXPECT_EQ(m.weights.bitmap, 45 + 128);
  EXPECT_EQ(m.weights.relative_index, 44 + 128);
  EXPECT_EQ(m.weights.ternary_base3, 48 + 128);
  EXPECT_EQ(m.total.fp32, 448 + 160);
  EXPECT_EQ(m.total.bitmap, 45 + 128 + 160);
  EXPECT_EQ(m.total.binary, 42 + 128 + 160);
  EXPECT_EQ(m.total.ternary_2bit, 52 + 128 + 160);
  EXPECT_EQ(m.layers.size(), 2u);
}

}  // namespace
}  // namespace ternbench::core
