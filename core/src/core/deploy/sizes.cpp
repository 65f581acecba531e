#include "ternbench/core/deploy/sizes.hpp"

#include <utility>

#include "ternbench/base/error.hpp"
#include "ternbench/core/deploy/packing.hpp"

namespace ternbench::core {
namespace {

double d(std::int64_t v) { return static_cast<double>(v); }

}  // namespace

double fp32_bits(std::int64_t n) { return 32.0 * d(n); }
double binary_bits(std::int64_t n, std::int64_t n_scales) { return d(n) + 32.0 * d(n_scales); }
double ternary_2bit_bits(std::int64_t n, std::int64_t n_scales) { return 2.0 * d(n) + 32.0 * d(n_scales); }
double ternary_base3_bits(std::int64_t n, std::int64_t n_scales) {
  return 8.0 * d((n + 4) / 5) + 32.0 * d(n_scales);
}
double bitmap_bits(std::int64_t n, std::int64_t n_nonzero, std::int64_t n_scales) {
  return d(n) + d(n_nonzero) + 32.0 * d(n_scales);
}
double compression_ratio(std::int64_t n, double bits) { return bits > 0 ? 32.0 * d(n) / bits : 0.0; }
double bits_per_weight(std::int64_t n, double bits) { return n > 0 ? bits / d(n) : 0.0; }

std::vector<std::int64_t> zero_runs(std::span<const std::int8_t> codes) {
  std::vector<std::int64_t> runs;
  std::int64_t zeros = 0;
  for (std::int8_t c : codes) {
    if (c == 0) {
      ++zeros;
    } else {
      runs.push_back(zeros);
      zeros = 0;
    }
  }
  return runs;
}

RelativeIndexSize relative_index_size(std::span<const std::int64_t> runs, int b) {
  TB_CHECK(b >= 1 && b <= 16, "relative_index_size: b must be in 1..16");
  const std::int64_t per_filler = (std::int64_t{1} << b) - 1;
  RelativeIndexSize s;
  s.b = b;
  for (std::int64_t z : runs) s.fillers += z / per_filler;
  s.entries = static_cast<std::int64_t>(runs.size()) + s.fillers;
  s.bits = d(s.entries) * (b + 1);
  return s;
}

RelativeIndexSize best_relative_index_size(std::span<const std::int64_t> runs) {
  RelativeIndexSize best = relative_index_size(runs, 1);
  for (int b = 2; b <= 16; ++b) {
    const RelativeIndexSize s = relative_index_size(runs, b);
    if (s.bits < best.bits) best = s;
  }
  return best;
}

LayerSizes layer_sizes(std::string name, std::string precision, std::span<const std::int8_t> codes,
                       std::int64_t n_scales) {
  TB_CHECK(n_scales >= 0, "layer_sizes: n_scales must be >= 0");
  LayerSizes s;
  s.name = std::move(name);
  s.precision = std::move(precision);
  s.n = static_cast<std::int64_t>(codes.size());
  for (std::int8_t c : codes) s.n_nonzero += c != 0 ? 1 : 0;
  s.sparsity = s.n > 0 ? 1.0 - d(s.n_nonzero) / d(s.n) : 0.0;
  s.fp32_bits = fp32_bits(s.n);
  if (s.precision == "fp32") {
    s.n_scales = 0;
    s.binary_bits = s.ternary_2bit_bits = s.ternary_base3_bits = s.bitmap_bits = s.relative_index_bits = s.fp32_bits;
    return s;
  }
  s.n_scales = n_scales;
  s.binary_bits = binary_bits(s.n, n_scales);
  s.ternary_2bit_bits = ternary_2bit_bits(s.n, n_scales);
  s.ternary_base3_bits = ternary_base3_bits(s.n, n_scales);
  s.bitmap_bits = bitmap_bits(s.n, s.n_nonzero, n_scales);
  const std::vector<std::int64_t> runs = zero_runs(codes);
  const RelativeIndexSize r = best_relative_index_size(runs);
  s.relative_index_bits = r.bits + 32.0 * d(n_scales);
  s.relative_index_b = r.b;
  s.relative_index_fillers = r.fillers;
  return s;
}

LayerSizes layer_sizes(std::string name, std::string precision, const Eigen::Ref<const Mat>& q,
                       std::int64_t n_scales) {
  const std::vector<std::int8_t> codes = ternary_codes(q);
  return layer_sizes(std::move(name), std::move(precision), std::span<const std::int8_t>(codes), n_scales);
}

ModelSizes summarize_sizes(std::vector<LayerSizes> layers, std::int64_t n_float_params) {
  TB_CHECK(n_float_params >= 0, "summarize_sizes: n_float_params must be >= 0");
  ModelSizes m;
  m.layers = std::move(layers);
  for (const LayerSizes& l : m.layers) {
    m.n_weights += l.n;
    m.n_nonzero += l.n_nonzero;
    m.weights.fp32 += l.fp32_bits;
    m.weights.binary += l.binary_bits;
    m.weights.ternary_2bit += l.ternary_2bit_bits;
    m.weights.ternary_base3 += l.ternary_base3_bits;
    m.weights.bitmap += l.bitmap_bits;
    m.weights.relative_index += l.relative_index_bits;
  }
  m.sparsity = m.n_weights > 0 ? 1.0 - d(m.n_nonzero) / d(m.n_weights) : 0.0;
  m.n_float_params = n_float_params;
  m.float_param_bits = 32.0 * d(n_float_params);
  const double f = m.float_param_bits;
  m.total = {m.weights.fp32 + f,   m.weights.binary + f, m.weights.ternary_2bit + f, m.weights.ternary_base3 + f,
             m.weights.bitmap + f, m.weights.relative_index + f};
  return m;
}

}  // namespace ternbench::core
