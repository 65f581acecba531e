// The ternary inference kernels: the fast paths against the naive loops bit for bit (every
// batch-1 form, tiled and untiled panels, 1 and 2 threads), the naive loops against a hand
// example and against the matrix product in double, and the conv kernel against both its
// naive loop and conv2d_forward_naive.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ternbench/base/error.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/kernels/conv.hpp"
#include "ternbench/core/kernels/ternary.hpp"

namespace ternbench::kernels {
namespace {

using Index = Eigen::Index;

enum class Scales { none, layer, row, sign };

struct Layer {
  std::vector<std::int8_t> codes;
  std::vector<float> pos, neg, bias;
};

// Codes with the given share of zeros (binary: +/-1 only); every fifth row empty when asked.
Layer random_layer(Index rows, Index cols, double sparsity, Scales s, Rng& rng, bool empty_rows = true,
                   bool binary = false) {
  Layer l;
  l.codes.resize(static_cast<std::size_t>(rows * cols));
  for (Index o = 0; o < rows; ++o) {
    for (Index c = 0; c < cols; ++c) {
      std::int8_t v = 0;
      if (binary || rng.uniform_double() >= sparsity) v = rng.uniform_float() < 0.5f ? -1 : 1;
      if (empty_rows && rows > 2 && o % 5 == 3) v = 0;
      l.codes[static_cast<std::size_t>(o * cols + c)] = v;
    }
  }
  const float layer_scale = 0.5f + rng.uniform_float();
  for (Index o = 0; o < rows; ++o) {
    const float a = 0.5f + rng.uniform_float(), b = 0.5f + rng.uniform_float();
    switch (s) {
      case Scales::none: l.pos.push_back(1.0f); l.neg.push_back(1.0f); break;
      case Scales::layer: l.pos.push_back(layer_scale); l.neg.push_back(layer_scale); break;
      case Scales::row: l.pos.push_back(a); l.neg.push_back(a); break;
      case Scales::sign: l.pos.push_back(a); l.neg.push_back(b); break;
    }
    l.bias.push_back(rng.uniform_float() - 0.5f);
  }
  return l;
}

TernaryMatrix make(const Layer& l, Index rows, Index cols) {
  return make_ternary_matrix(l.codes, rows, cols, l.pos, l.neg, l.bias);
}

// Uniform in [-1, 1), with some exact zeros of both signs (a sum must start from +0).
std::vector<float> random_input(Index n, Rng& rng) {
  std::vector<float> x(static_cast<std::size_t>(n));
  for (float& v : x) {
    const float u = rng.uniform_float();
    v = u < 0.03f ? -0.0f : u < 0.06f ? 0.0f : 2.0f * rng.uniform_float() - 1.0f;
  }
  return x;
}

void expect_same_bits(const std::vector<float>& a, const std::vector<float>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i) {
    std::uint32_t ua, ub;
    std::memcpy(&ua, &a[i], 4);
    std::memcpy(&ub, &b[i], 4);
    ASSERT_EQ(ua, ub) << what << ": element " << i << " is " << a[i] << " against " << b[i];
  }
}

// y = diag-scales * W x + b in double: (rows, batch) batch-innermost.
std::vector<double> reference(const Layer& l, Index rows, Index cols, const std::vector<float>& x, Index batch) {
  std::vector<double> y(static_cast<std::size_t>(rows * batch));
  for (Index o = 0; o < rows; ++o) {
    for (Index b = 0; b < batch; ++b) {
      double acc = l.bias[static_cast<std::size_t>(o)];
      for (Index c = 0; c < cols; ++c) {
        const int code = l.codes[static_cast<std::size_t>(o * cols + c)];
        const double w = code > 0 ? l.pos[static_cast<std::size_t>(o)] : code < 0 ? -l.neg[static_cast<std::size_t>(o)] : 0.0;
        acc += w * x[static_cast<std::size_t>(c * batch + b)];
      }
      y[static_cast<std::size_t>(o * batch + b)] = acc;
    }
  }
  return y;
}

TEST(TernaryDense, NaiveMatchesAHandExample) {
  // W = [+1 0 -1; -1 +1 +1], scales (2, 3) and (0.5, 1), biases 0.25 and -1;
  // x: features (1, 2), (3, 4), (5, 6) for samples 0 and 1.
  const std::vector<std::int8_t> codes = {1, 0, -1, -1, 1, 1};
  const TernaryMatrix W = make_ternary_matrix(codes, 2, 3, {2.0f, 0.5f}, {3.0f, 1.0f}, {0.25f, -1.0f});
  const std::vector<float> x = {1, 2, 3, 4, 5, 6};
  std::vector<float> y(4), fast(4);
  ternary_dense_naive(W, x.data(), 2, y.data());
  // row 0: 2 * x0 - 3 * x2 + 0.25;  row 1: 0.5 * (x1 + x2) - x0 - 1
  EXPECT_EQ(y, (std::vector<float>{2 * 1 - 3 * 5 + 0.25f, 2 * 2 - 3 * 6 + 0.25f, 0.5f * 8 - 1 - 1, 0.5f * 10 - 2 - 1}));
  ternary_dense(W, x.data(), 2, fast.data(), 1);
  EXPECT_EQ(fast, y);
  ternary_dense(W, x.data(), 1, fast.data(), 1);  // batch 1: x is then features 1..6, 3 used
  EXPECT_EQ(fast[0], 2 * 1 - 3 * 3 + 0.25f);
  EXPECT_EQ(fast[1], 0.5f * (2 + 3) - 1 - 1);
}

TEST(TernaryDense, ListsAndCodesRoundTrip) {
  Rng rng(3);
  const Layer l = random_layer(13, 29, 0.6, Scales::sign, rng);
  const TernaryMatrix W = make(l, 13, 29);
  ASSERT_EQ(W.begin.size(), 14u);
  for (Index r = 0; r < 13; ++r) {
    for (Index c = 0; c < 29; ++c) EXPECT_EQ(W.code(r, c), l.codes[static_cast<std::size_t>(r * 29 + c)]) << r << "," << c;
    const auto ur = static_cast<std::size_t>(r);
    for (auto p = W.begin[ur]; p + 1 < W.split[ur]; ++p) EXPECT_LT(W.index[p], W.index[p + 1]);
    for (auto p = W.split[ur]; p + 1 < W.begin[ur + 1]; ++p) EXPECT_LT(W.index[p], W.index[p + 1]);
  }
  EXPECT_THROW(W.code(13, 0), Error);
  EXPECT_THROW(W.code(0, -1), Error);
}

TEST(TernaryDense, BytesCountTheListsAndTheBatchOneForm) {
  const std::vector<std::int8_t> codes = {1, 0, -1, -1, 1, 1};
  const TernaryMatrix W = make_ternary_matrix(codes, 2, 3, {1, 1}, {1, 1}, {0, 0});
  // begin 3 x 8, split 2 x 8, index 5 x 4, three scale/bias vectors 2 x 4 each.
  const std::size_t lists = 24 + 16 + 20 + 24;
  const std::size_t forms = W.mask.size() * 2 + W.lanes.size() * 2 + W.lane_begin.size() * 8 +
                            W.list_lane.size() * 4;
  EXPECT_EQ(W.bytes(), lists + forms);
#if defined(__AVX512F__)
  EXPECT_EQ(W.mask.size(), 1u * 3 * 2);  // 4 of 6 codes nonzero: the mask form, one block
  EXPECT_EQ(W.bytes(), lists + 12);
#endif
  ConvGeometry g;
  g.in_c = 1, g.in_h = 4, g.in_w = 4, g.out_c = 2, g.kernel = 1;
  const std::vector<std::int8_t> one = {1, -1};
  const TernaryConv c = make_ternary_conv(g, make_ternary_matrix(one, 2, 1, {1, 1}, {1, 1}, {0, 0}));
  EXPECT_TRUE(c.W.mask.empty() && c.W.lanes.empty());
  EXPECT_EQ(c.bytes(), (24 + 16 + 8 + 24) + 2 * 4u);
}

TEST(TernaryDense, MakeRejectsBadCodesAndSizes) {
  const std::vector<std::int8_t> good = {1, 0, -1, 0};
  EXPECT_NO_THROW(make_ternary_matrix(good, 2, 2, {1, 1}, {1, 1}, {0, 0}));
  const std::vector<std::int8_t> two = {1, 0, 2, 0};
  EXPECT_THROW(make_ternary_matrix(two, 2, 2, {1, 1}, {1, 1}, {0, 0}), Error);
  const std::vector<std::int8_t> minus_two = {1, 0, -2, 0};
  EXPECT_THROW(make_ternary_matrix(minus_two, 2, 2, {1, 1}, {1, 1}, {0, 0}), Error);
  EXPECT_THROW(make_ternary_matrix(good, 2, 3, {1, 1}, {1, 1}, {0, 0}), Error);   // 4 codes for 6
  EXPECT_THROW(make_ternary_matrix(good, 2, 2, {1}, {1, 1}, {0, 0}), Error);      // pos_scale
  EXPECT_THROW(make_ternary_matrix(good, 2, 2, {1, 1}, {1, 1, 1}, {0, 0}), Error);  // neg_scale
  EXPECT_THROW(make_ternary_matrix(good, 2, 2, {1, 1}, {1, 1}, {0}), Error);      // bias
  EXPECT_THROW(make_ternary_matrix({}, 0, 2, {}, {}, {}), Error);
  ConvGeometry g;
  g.in_c = 2, g.in_h = 5, g.in_w = 5, g.out_c = 2, g.kernel = 3;
  EXPECT_THROW(make_ternary_conv(g, make_ternary_matrix(good, 2, 2, {1, 1}, {1, 1}, {0, 0})), Error);
  g.kernel = 7;  // larger than the image
  const std::vector<std::int8_t> wide(2 * 98, 1);
  EXPECT_THROW(make_ternary_conv(g, make_ternary_matrix(wide, 2, 98, {1, 1}, {1, 1}, {0, 0})), Error);
  TernaryMatrix W = make_ternary_matrix(good, 2, 2, {1, 1}, {1, 1}, {0, 0});
  std::vector<float> x(2), y(2);
  EXPECT_THROW(ternary_dense(W, x.data(), 0, y.data(), 1), Error);
  W.bias.pop_back();
  EXPECT_THROW(ternary_dense(W, x.data(), 1, y.data(), 1), Error);
}

struct DenseCase {
  Index rows, cols;
  std::vector<Index> batches;
};

TEST(TernaryDense, FastMatchesNaiveBitForBit) {
  const std::vector<DenseCase> cases = {
      {1, 1, {1, 3, 64, 65, 130}},  {1, 7, {1, 3, 64, 65, 130}},   {7, 1, {1, 3, 64, 65, 130}},
      {7, 1000, {1, 3, 64, 65, 130}}, {1000, 7, {1, 3, 64, 65}},   {37, 300, {1, 2, 16, 17, 64, 130}},
      {1000, 1000, {1, 3, 64, 65}},
  };
  Rng rng(7);
  int checked = 0;
  for (const DenseCase& dc : cases) {
    for (const double sparsity : {0.0, 0.5, 0.9, 0.98, 1.0}) {
      const Layer l = random_layer(dc.rows, dc.cols, sparsity, Scales::sign, rng);
      const TernaryMatrix W = make(l, dc.rows, dc.cols);
      for (const Index batch : dc.batches) {
        const std::vector<float> x = random_input(dc.cols * batch, rng);
        std::vector<float> want(static_cast<std::size_t>(dc.rows * batch));
        ternary_dense_naive(W, x.data(), batch, want.data());
        for (const int threads : {1, 2}) {
          std::vector<float> got(want.size(), std::nanf(""));
          ternary_dense(W, x.data(), batch, got.data(), threads);
          expect_same_bits(got, want, std::to_string(dc.rows) + "x" + std::to_string(dc.cols) + " sparsity " +
                                          std::to_string(sparsity) + " batch " + std::to_string(batch) +
                                          " threads " + std::to_string(threads));
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 2 * 5 * (5 + 5 + 5 + 5 + 4 + 6 + 4));
}

TEST(TernaryDense, EveryBatchOneFormMatchesNaive) {
  Rng rng(11);
  // Densities on both sides of kMaskDensity, and a matrix too wide for 16-bit packed indices.
  struct Case {
    Index rows, cols;
    double sparsity;
  };
  for (const Case& c : {Case{300, 500, 0.5}, Case{300, 500, 0.86}, Case{300, 500, 0.9}, Case{3, 70000, 0.9},
                        Case{40, 70000, 0.5}}) {
    const Layer l = random_layer(c.rows, c.cols, c.sparsity, Scales::row, rng, false);
    const TernaryMatrix W = make(l, c.rows, c.cols);
#if defined(__AVX512F__)
    const bool masked = 1.0 - c.sparsity >= TernaryMatrix::kMaskDensity;
    EXPECT_EQ(!W.mask.empty(), masked) << c.cols << " " << c.sparsity;
    EXPECT_EQ(!W.lanes.empty(), !masked && c.cols < 0xFFFF) << c.cols << " " << c.sparsity;
#endif
    const std::vector<float> x = random_input(c.cols, rng);
    std::vector<float> want(static_cast<std::size_t>(c.rows)), got(want.size());
    ternary_dense_naive(W, x.data(), 1, want.data());
    for (const int threads : {1, 2}) {
      ternary_dense(W, x.data(), 1, got.data(), threads);
      expect_same_bits(got, want, std::to_string(c.cols) + " cols, sparsity " + std::to_string(c.sparsity));
    }
  }
}

TEST(TernaryDense, AllZeroLayerGivesTheBias) {
  Rng rng(5);
  const Layer l = random_layer(33, 40, 1.0, Scales::sign, rng);
  const TernaryMatrix W = make(l, 33, 40);
  EXPECT_TRUE(W.index.empty());
  for (const Index batch : {1, 64}) {
    const std::vector<float> x = random_input(40 * batch, rng);
    std::vector<float> y(static_cast<std::size_t>(33 * batch));
    ternary_dense(W, x.data(), batch, y.data(), 2);
    for (Index o = 0; o < 33; ++o) {
      for (Index b = 0; b < batch; ++b) EXPECT_EQ(y[static_cast<std::size_t>(o * batch + b)], l.bias[static_cast<std::size_t>(o)]);
    }
  }
}

TEST(TernaryDense, IsTheScaledMatrixProductForEveryScaleLayout) {
  Rng rng(13);
  for (const Scales s : {Scales::none, Scales::layer, Scales::row, Scales::sign}) {
    for (const bool binary : {false, true}) {
      const Layer l = random_layer(50, 200, 0.6, s, rng, true, binary);
      const TernaryMatrix W = make(l, 50, 200);
      if (s == Scales::none) {
        EXPECT_TRUE(W.pos_scale == std::vector<float>(50, 1.0f));
      }
      for (const Index batch : {1, 5, 64}) {
        const std::vector<float> x = random_input(200 * batch, rng);
        std::vector<float> naive(static_cast<std::size_t>(50 * batch)), fast(naive.size());
        ternary_dense_naive(W, x.data(), batch, naive.data());
        ternary_dense(W, x.data(), batch, fast.data(), 2);
        expect_same_bits(fast, naive, "scales " + std::to_string(static_cast<int>(s)));
        const std::vector<double> ref = reference(l, 50, 200, x, batch);
        for (std::size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(naive[i], ref[i], 2e-5 * (1.0 + std::fabs(ref[i])));
      }
    }
  }
}

// ---- convolution ------------------------------------------------------------------------

struct ConvCase {
  int in_c, h, w, out_c, k, stride, pad;
};

ConvGeometry geometry(const ConvCase& c) {
  ConvGeometry g;
  g.in_c = c.in_c, g.in_h = c.h, g.in_w = c.w, g.out_c = c.out_c, g.kernel = c.k, g.stride = c.stride, g.padding = c.pad;
  return g;
}

// conv2d_forward_naive on the same weights, in its column-per-sample layout, transposed back.
std::vector<float> float_conv(const ConvGeometry& g, const Layer& l, const std::vector<float>& x, Index batch) {
  Mat W(g.out_c, g.patch()), b(g.out_c, 1);
  for (Index o = 0; o < g.out_c; ++o) {
    const auto uo = static_cast<std::size_t>(o);
    b(o, 0) = l.bias[uo];
    for (Index c = 0; c < g.patch(); ++c) {
      const int code = l.codes[static_cast<std::size_t>(o * g.patch() + c)];
      W(o, c) = code > 0 ? l.pos[uo] : code < 0 ? -l.neg[uo] : 0.0f;
    }
  }
  const Mat xc = Eigen::Map<const Mat>(x.data(), batch, g.in_features()).transpose();
  Mat yc(g.out_features(), batch);
  conv2d_forward_naive(g, W, b, xc, yc);
  std::vector<float> y(static_cast<std::size_t>(g.out_features() * batch));
  Eigen::Map<Mat>(y.data(), batch, g.out_features()) = yc.transpose();
  return y;
}

TEST(TernaryConv, FastMatchesNaiveAndTheFloatConvolution) {
  const std::vector<ConvCase> cases = {
      {1, 7, 9, 5, 1, 1, 0},   {1, 7, 9, 5, 3, 1, 1},   {3, 9, 7, 5, 3, 2, 1},   {2, 11, 5, 33, 5, 1, 2},
      {2, 11, 13, 6, 5, 2, 0}, {3, 13, 11, 4, 3, 1, 0}, {4, 9, 9, 35, 5, 2, 2},  {1, 28, 28, 8, 5, 1, 0},
      {40, 8, 9, 36, 3, 1, 1},  // many input channels: channel tiles at batch 1 and 64
      // out_w a multiple of 16 (up to 64): the batch-1 row form, one to four vectors a row
      {3, 9, 16, 20, 3, 1, 1},  {2, 10, 36, 5, 5, 1, 0}, {1, 5, 50, 4, 3, 1, 0}, {1, 4, 66, 3, 3, 1, 0},
      {40, 6, 16, 36, 3, 1, 1},
  };
  Rng rng(17);
  int checked = 0, row_form = 0, flat_form = 0;
  for (const ConvCase& cc : cases) {
    const ConvGeometry g = geometry(cc);
    for (const double sparsity : {0.0, 0.5, 0.9, 0.98, 1.0}) {
      const Layer l = random_layer(g.out_c, g.patch(), sparsity, Scales::sign, rng);
      const TernaryConv conv = make_ternary_conv(g, make(l, g.out_c, g.patch()));
      ASSERT_EQ(conv.offset.size(), conv.W.index.size());
      for (const Index batch : {1, 3, 64}) {
        if (batch == 3 && sparsity != 0.5) continue;
        const std::vector<float> x = random_input(g.in_features() * batch, rng);
        std::vector<float> want(static_cast<std::size_t>(g.out_features() * batch));
        ternary_conv_naive(conv, x.data(), batch, want.data());
        std::vector<float> work(static_cast<std::size_t>(ternary_conv_workspace_size(conv, batch)));
        const bool rows = batch == 1 && !conv.row_offset.empty();
        if (batch == 1 && cc.stride == 1) ++(rows ? row_form : flat_form);
        if (batch == 1 && cc.stride == 1 && !rows) {
          EXPECT_EQ(work.empty(), cc.pad == 0);  // the flattened path reads x in place
        }
        const std::string what = "conv " + std::to_string(cc.in_c) + "x" + std::to_string(cc.h) + "x" +
                                 std::to_string(cc.w) + " k" + std::to_string(cc.k) + " s" + std::to_string(cc.stride) +
                                 " p" + std::to_string(cc.pad) + " sparsity " + std::to_string(sparsity) + " batch " +
                                 std::to_string(batch);
        for (const int threads : {1, 2}) {
          std::vector<float> got(want.size(), std::nanf(""));
          ternary_conv(conv, x.data(), batch, got.data(), work.data(), threads);
          expect_same_bits(got, want, what + " threads " + std::to_string(threads));
          ++checked;
        }
        // The double-precision reference walks every weight: at batch 64 only for small layers
        // (the naive loop it checks does not depend on the batch).
        if (batch == 64 && g.patch() * g.out_c > 4000) continue;
        const std::vector<float> ref = float_conv(g, l, x, batch);
        for (std::size_t i = 0; i < ref.size(); ++i) {
          ASSERT_NEAR(want[i], ref[i], 2e-5 * (1.0 + std::fabs(ref[i]))) << what << " element " << i;
        }
      }
    }
  }
  EXPECT_EQ(checked, static_cast<int>(cases.size()) * (5 * 2 + 1) * 2);
#if defined(__AVX512F__)
  EXPECT_GT(row_form, 0);  // both batch-1 stride-1 forms ran
  EXPECT_GT(flat_form, 0);
#endif
}

// Layers large enough that every path splits its work over two threads (the kernels keep
// small ones on one thread), against one thread and the naive loops.
TEST(TernaryKernels, LargeLayersSplitAcrossTwoThreadsWithTheSameBits) {
  Rng rng(23);
  for (const double sparsity : {0.5, 0.9}) {  // batch 1: the mask form, the packed lists
    const Layer l = random_layer(3000, 2000, sparsity, Scales::sign, rng);
    const TernaryMatrix W = make(l, 3000, 2000);
    const std::vector<float> x = random_input(2000, rng);
    std::vector<float> want(3000), one(3000), two(3000);
    ternary_dense_naive(W, x.data(), 1, want.data());
    ternary_dense(W, x.data(), 1, one.data(), 1);
    ternary_dense(W, x.data(), 1, two.data(), 2);
    expect_same_bits(one, want, "sparsity " + std::to_string(sparsity) + ", 1 thread");
    expect_same_bits(two, want, "sparsity " + std::to_string(sparsity) + ", 2 threads");
  }
  for (const ConvCase cc : {ConvCase{64, 16, 32, 64, 3, 1, 1}, ConvCase{64, 30, 30, 64, 3, 1, 1}}) {  // row form, flattened
    const ConvGeometry g = geometry(cc);
    const Layer l = random_layer(g.out_c, g.patch(), 0.0, Scales::row, rng);
    const TernaryConv conv = make_ternary_conv(g, make(l, g.out_c, g.patch()));
    const std::vector<float> x = random_input(g.in_features(), rng);
    std::vector<float> want(static_cast<std::size_t>(g.out_features())), one(want.size()), two(want.size());
    std::vector<float> work(static_cast<std::size_t>(ternary_conv_workspace_size(conv, 1)));
    ternary_conv_naive(conv, x.data(), 1, want.data());
    ternary_conv(conv, x.data(), 1, one.data(), work.data(), 1);
    ternary_conv(conv, x.data(), 1, two.data(), work.data(), 2);
    expect_same_bits(one, want, "conv out_w " + std::to_string(g.out_w()) + ", 1 thread");
    expect_same_bits(two, want, "conv out_w " + std::to_string(g.out_w()) + ", 2 threads");
  }
}

TEST(TernaryConv, OffsetsAddressThePaddedImage) {
  ConvGeometry g;
  g.in_c = 2, g.in_h = 4, g.in_w = 5, g.out_c = 1, g.kernel = 3, g.padding = 1;
  std::vector<std::int8_t> codes(18, 0);
  codes[0] = 1;    // c0 kh0 kw0
  codes[5] = -1;   // c0 kh1 kw2
  codes[13] = 1;   // c1 kh1 kw1
  const TernaryConv c = make_ternary_conv(g, make_ternary_matrix(codes, 1, 18, {1}, {1}, {0}));
  // padded 6 x 7: (c * 6 + kh) * 7 + kw; the +1 codes come first in the lists.
  EXPECT_EQ(c.offset, (std::vector<std::int32_t>{0, (6 + 1) * 7 + 1, 1 * 7 + 2}));
  // Batch 1, stride 1, out_w 5: the flattened path over the padded image (+ 15: room to align).
  EXPECT_EQ(ternary_conv_workspace_size(c, 1), 2 * 6 * 7 + 15);
#if defined(__AVX512F__)
  EXPECT_EQ(ternary_conv_workspace_size(c, 3), 16 * 2 * 6 * 7 + 15);  // one panel of 16 samples
#endif
}

}  // namespace
}  // namespace ternbench::kernels
