#pragma once
// Bit-exact storage of binary and ternary codes (the encodings whose sizes sizes.hpp counts).
// Codes are std::int8_t in {-1, 0, +1} (binary: {-1, +1}) in storage order; bits fill each
// byte from the least significant bit. Unpackers take the code count n (the shape is stored
// elsewhere) and throw ternbench::Error on a short stream or an invalid symbol.
#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <vector>

namespace ternbench::core {

using Mat = Eigen::MatrixXf;

// sign(q) as -1/0/+1 in row-major order (the HDF5 storage order of an (out, in) matrix).
std::vector<std::int8_t> ternary_codes(const Eigen::Ref<const Mat>& q);

// Binary: one bit per code, 1 = +1, 0 = -1; ceil(n / 8) bytes.
std::vector<std::uint8_t> pack_binary(std::span<const std::int8_t> codes);
std::vector<std::int8_t> unpack_binary(std::span<const std::uint8_t> bytes, std::size_t n);

// Dense ternary, 2 bits per code, 4 per byte (code i in bits 2(i%4)..2(i%4)+1 of byte i/4):
// 00 = 0, 01 = +1, 10 = -1 (11 is invalid); ceil(n / 4) bytes.
std::vector<std::uint8_t> pack_ternary_2bit(std::span<const std::int8_t> codes);
std::vector<std::int8_t> unpack_ternary_2bit(std::span<const std::uint8_t> bytes, std::size_t n);

// Base 3, 5 trits per byte: byte = sum_{i<5} t_i 3^i with trit 0 = 0, 1 = +1, 2 = -1; a short
// last group pads with 0 trits; bytes above 242 are invalid; ceil(n / 5) bytes.
std::vector<std::uint8_t> pack_ternary_base3(std::span<const std::int8_t> codes);
std::vector<std::int8_t> unpack_ternary_base3(std::span<const std::uint8_t> bytes, std::size_t n);

// Bitmap + signs: bit i of the bitmap = (code i != 0), ceil(n / 8) bytes; then one bit per
// nonzero in order, 1 = -1, ceil(n_nz / 8) bytes.
struct BitmapStream {
  std::vector<std::uint8_t> bitmap;
  std::vector<std::uint8_t> signs;
};
BitmapStream pack_bitmap(std::span<const std::int8_t> codes);
std::vector<std::int8_t> unpack_bitmap(const BitmapStream& s, std::size_t n);

// Relative index (sizes.hpp defines the entries): entries of b + 1 bits, the b-bit run field
// first (least significant bit first), then the sign bit (1 = -1); fillers carry field
// 2^b - 1 and sign 0. ceil(entries (b + 1) / 8) bytes.
struct RelativeIndexStream {
  int b = 0;
  std::int64_t entries = 0;
  std::vector<std::uint8_t> bytes;
};
RelativeIndexStream pack_relative_index(std::span<const std::int8_t> codes, int b);
std::vector<std::int8_t> unpack_relative_index(const RelativeIndexStream& s, std::size_t n);

}  // namespace ternbench::core
