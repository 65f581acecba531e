#pragma once
// The deployable form of a quantized weight matrix: its codes packed as stored on a device
// (binary: 1 bit, ternary: 2 bits per weight, packing.hpp) plus its float scales. Decoding
// them gives back exactly the deployed matrix, so a model rebuilt from a weights file
// evaluates exactly as the run did (docs/weights.md).
#include <Eigen/Core>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ternbench/core/train/trainer.hpp"
#include "ternbench/core/nn/weight.hpp"

namespace ternbench::core {

// For a quantized weight "<layer>/W": "<layer>/W_codes" (uint8, 1-D, attributes encoding =
// "binary" | "ternary_2bit", rows, cols, scale_layout) and, unless the layout is "none",
// "<layer>/W_scales" (float32). Codes are sign(q) in row-major order. Empty for fp32.
std::vector<NamedTensor> deployable_codes(const Weight& w);

// The deployed (rows, cols) matrix from packed codes and scales (Quantizer::scale_layout).
// Throws ternbench::Error on an unknown encoding or layout, a short stream or a scale count
// that does not fit the layout.
Mat decode_deployed(std::span<const std::uint8_t> bytes, const std::string& encoding, Eigen::Index rows,
                    Eigen::Index cols, std::span<const float> scales, const std::string& layout);

// A quantized weight "<name>" as a weights file stores it, unpacked: "<name>_codes" (its sign
// codes in row-major order, binary or ternary), the layout and scales of "<name>_scales",
// and the (rows, cols) matrix they decode to.
struct StoredCodes {
  std::string encoding, layout;
  std::vector<std::int8_t> signs;
  std::vector<float> scales;
  Mat decoded;
};

// nullopt when tensors hold no "<name>_codes". Every reader of stored codes goes through here
// (the float model's restore_model, the ternary engine), so each gets the same checks: throws
// DataError naming source and the tensor when an attribute is missing, rows or cols is not
// (rows, cols), the stream does not decode, or the decoded matrix differs from "<name>" (the
// deployed weights stored beside the codes) in any value.
std::optional<StoredCodes> read_stored_codes(const std::vector<NamedTensor>& tensors, const std::string& name,
                                             Eigen::Index rows, Eigen::Index cols, const std::string& source);

}  // namespace ternbench::core
