#pragma once
// Our own generator and distributions: std:: distributions differ between standard
// libraries, and runs must be bit-identical wherever they execute.
#include <cstdint>
#include <string_view>
#include <vector>

namespace ternbench {

// SplitMix64 step; used to expand seeds.
std::uint64_t splitmix64(std::uint64_t& state);

// Derives an independent stream seed from a base seed and a label ("init", "shuffle", ...).
std::uint64_t derive_seed(std::uint64_t base, std::string_view label);

// xoshiro256** (Blackman & Vigna). State is four words so checkpoints can store it.
class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  std::uint64_t next_u64();
  // Uniform in [0, 1) with 24 random bits (exact in float).
  float uniform_float();
  // Uniform in [0, 1) with 53 random bits.
  double uniform_double();
  // Uniform integer in [0, n), unbiased (rejection).
  std::uint64_t uniform_index(std::uint64_t n);
  // Standard normal by Box-Muller in double precision (no cached second value, so the
  // stream position depends only on the number of calls).
  double normal();
  // Fisher-Yates shuffle of idx.
  void shuffle(std::vector<std::uint32_t>& idx);

  std::uint64_t state[4];
};

}  // namespace ternbench
