#pragma once
// Content hashes: SHA-256 for file integrity and run identity, FNV-1a for cheap mixing.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ternbench {

// OpenSSL's SHA-256 (SHA-NI/AVX2 code paths): weights files and checkpoints are hashed on
// every write and read, so its speed bounds how many small runs a worker finishes per second.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, std::size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string hex_digest();  // finishes the hash; the object must not be updated afterwards

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};

std::string sha256_hex(std::string_view data);
// Throws DataError naming the path if the file cannot be read.
std::string sha256_file_hex(const std::string& path);

std::uint64_t fnv1a64(std::string_view data, std::uint64_t h = 1469598103934665603ULL);

}  // namespace ternbench
