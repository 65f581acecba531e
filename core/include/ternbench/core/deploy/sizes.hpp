#pragma once
// Storage size of deployed weights under each encoding (DESIGN.md §3, docs/methods.md).
// N weights, N_nz non-zeros, S float scales of 32 bits. All sizes are in bits.
//   fp32                32 N
//   binary              N + 32 S
//   dense ternary       2 N + 32 S
//   ternary base 3      8 ceil(N / 5) + 32 S               (5 trits per byte)
//   bitmap              N + N_nz + 32 S                    (nonzero bitmap + one sign bit per nonzero)
//   relative index      (N_nz + F_b)(b + 1) + 32 S         (see relative_index_size)
// Compression ratio = 32 N / bits; bits per weight = bits / N.
#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace ternbench::core {

using Mat = Eigen::MatrixXf;

double fp32_bits(std::int64_t n);
double binary_bits(std::int64_t n, std::int64_t n_scales);
double ternary_2bit_bits(std::int64_t n, std::int64_t n_scales);
double ternary_base3_bits(std::int64_t n, std::int64_t n_scales);
double bitmap_bits(std::int64_t n, std::int64_t n_nonzero, std::int64_t n_scales);
// 32 n / bits (0 when bits is 0).
double compression_ratio(std::int64_t n, double bits);
// bits / n (0 when n is 0).
double bits_per_weight(std::int64_t n, double bits);

// Relative-index encoding (Deep Compression style) of ternary codes in storage order.
// The stream is a sequence of fixed-width entries of b + 1 bits: a b-bit run field, then a
// sign bit. A field r in [0, 2^b - 2] means "skip r zeros, then a nonzero of this sign"; the
// field 2^b - 1 is a filler: "skip 2^b - 1 zeros", no value (sign bit 0). With z_k zeros
// before the k-th nonzero (z_1 counted from the start), that nonzero needs
// floor(z_k / (2^b - 1)) fillers. Zeros after the last nonzero are not stored (N is known
// from the shape). So bits = (N_nz + F_b)(b + 1), F_b = sum_k floor(z_k / (2^b - 1)).
struct RelativeIndexSize {
  int b = 0;                  // run field width (1..16); 0 for an fp32 layer
  std::int64_t entries = 0;   // N_nz + fillers
  std::int64_t fillers = 0;
  double bits = 0;            // entries * (b + 1); scales excluded
};
// z_k for each nonzero code, in order.
std::vector<std::int64_t> zero_runs(std::span<const std::int8_t> codes);
RelativeIndexSize relative_index_size(std::span<const std::int64_t> runs, int b);
// The b in 1..16 with the fewest bits (the smallest such b on ties).
RelativeIndexSize best_relative_index_size(std::span<const std::int64_t> runs);

// One weight matrix. For a quantized layer every column is that layer's size under the
// encoding; an fp32 layer stays 32 N under every encoding (a mixed model stores its fp32
// layers as floats whatever encoding its quantized layers use).
struct LayerSizes {
  std::string name;        // "dense0/W"
  std::string precision;   // "fp32" | "binary" | "ternary"
  std::int64_t n = 0, n_nonzero = 0, n_scales = 0;
  double sparsity = 0;     // 1 - n_nonzero / n
  double fp32_bits = 0, binary_bits = 0, ternary_2bit_bits = 0, ternary_base3_bits = 0, bitmap_bits = 0,
         relative_index_bits = 0;  // relative_index_bits includes the scales
  int relative_index_b = 0;
  std::int64_t relative_index_fillers = 0;
};
// codes: the layer's values as -1/0/+1 in storage order (binary layers: -1/+1).
LayerSizes layer_sizes(std::string name, std::string precision, std::span<const std::int8_t> codes,
                       std::int64_t n_scales);
// q: the deployed matrix; codes are sign(q) in row-major (HDF5 storage) order.
LayerSizes layer_sizes(std::string name, std::string precision, const Eigen::Ref<const Mat>& q,
                       std::int64_t n_scales);

struct SizeTotals {
  double fp32 = 0, binary = 0, ternary_2bit = 0, ternary_base3 = 0, bitmap = 0, relative_index = 0;
};
struct ModelSizes {
  std::vector<LayerSizes> layers;
  std::int64_t n_weights = 0, n_nonzero = 0;
  double sparsity = 0;              // over all weight matrices
  std::int64_t n_float_params = 0;  // biases, batch-norm parameters: always fp32
  double float_param_bits = 0;      // 32 n_float_params
  SizeTotals weights;               // sum of the layers' columns
  SizeTotals total;                 // weights + float_param_bits
};
ModelSizes summarize_sizes(std::vector<LayerSizes> layers, std::int64_t n_float_params);

}  // namespace ternbench::core
