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
// Throws DataError "<path>: <what is wrong>; <fix>" on a directory or other non-file, a bad
// magic, an unsupported element type, a truncated payload, trailing bytes or a gzip stream
// that does not decompress. A gzip file is inflated only as far as its header declares (and
// one byte more, to refuse it when it holds more), so no file can make it allocate more.
IdxArray read_idx(const std::string& path);

// The dims of an IDX file, after every check read_idx makes, without keeping the payload: a
// plain file's size is compared with its header, a gzip file is inflated through a small
// buffer (its checksums verified). For checking a dataset before a sweep starts.
std::vector<std::uint32_t> check_idx(const std::string& path);

// Writes an uncompressed IDX file atomically (temporary name, then rename).
void write_idx(const std::string& path, const IdxArray& a);

}  // namespace ternbench::data
