#pragma once
// Content hashes: SHA-256 for file integrity and run identity, FNV-1a for cheap mixing.
#include <cstdint>
#include <string>
#include <string_view>

namespace ternbench {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string hex_digest();  // finishes the hash; the object must not be updated afterwards

 private:
  void block(const unsigned char* p);
  std::uint32_t h_[8];
  unsigned char buf_[64];
  std::size_t buf_len_ = 0;
  std::uint64_t total_ = 0;
};

std::string sha256_hex(std::string_view data);
// Throws DataError naming the path if the file cannot be read.
std::string sha256_file_hex(const std::string& path);

std::uint64_t fnv1a64(std::string_view data, std::uint64_t h = 1469598103934665603ULL);

}  // namespace ternbench
