#pragma once
// The IDX format of the MNIST family (big-endian header, unsigned-byte payload).
#include <cstdint>
#include <string>
#include <vector>

namespace ternbench::data {

struct IdxArray {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> data;  // row-major, product(dims) bytes
};

// Reads a plain or gzip-compressed (detected by magic bytes) IDX file of unsigned bytes.
// Throws DataError "<path>: <what is wrong>; <fix>" on a bad magic, an unsupported element
// type, a truncated payload, trailing bytes or a gzip stream that does not decompress.
IdxArray read_idx(const std::string& path);

// Writes an uncompressed IDX file atomically (temporary name, then rename).
void write_idx(const std::string& path, const IdxArray& a);

}  // namespace ternbench::data
