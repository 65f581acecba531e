// Packing: bytes of each encoding on hand codes, round trips on random and edge cases, sizes
// that agree with sizes.hpp, and refusal of corrupt streams.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "ternbench/base/error.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/deploy/packing.hpp"
#include "ternbench/core/deploy/sizes.hpp"

namespace ternbench::core {
namespace {

using Codes = std::vector<std::int8_t>;
using Bytes = std::vector<std::uint8_t>;

Codes random_ternary(std::size_t n, double p_zero, Rng& rng) {
  Codes c(n);
  for (auto& v : c) {
    const double u = rng.uniform_double();
    v = u < p_zero ? std::int8_t{0} : (u < p_zero + (1 - p_zero) / 2 ? std::int8_t{1} : std::int8_t{-1});
  }
  return c;
}

// Lengths around every packing period (4, 5, 8) plus empty and long.
const std::size_t kLengths[] = {0, 1, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 39, 40, 41, 1000};

TEST(Pack, BytesOfEachEncodingByHand) {
  EXPECT_EQ(pack_ternary_2bit(Codes{1, -1, 0, 1}), (Bytes{0b01'00'10'01}));
  EXPECT_EQ(pack_ternary_2bit(Codes{1, -1, 0, 1, -1}), (Bytes{0b01'00'10'01, 0b10}));
  EXPECT_EQ(pack_ternary_base3(Codes{1, -1, 0, 0, 1}), (Bytes{1 + 2 * 3 + 1 * 81}));
  EXPECT_EQ(pack_ternary_base3(Codes{-1, -1, -1, -1, -1, 1}), (Bytes{242, 1}));
  EXPECT_EQ(pack_binary(Codes{1, -1, 1, 1}), (Bytes{0b1101}));
  const BitmapStream b = pack_bitmap(Codes{0, 1, 0, -1, 1});
  EXPECT_EQ(b.bitmap, (Bytes{0b11010}));
  EXPECT_EQ(b.signs, (Bytes{0b010}));
  // b = 2: (run 1, +) (filler 3) (run 1, -) (run 2, +) ⇒ bits 100 110 101 010, LSB first.
  const RelativeIndexStream r = pack_relative_index(Codes{0, 1, 0, 0, 0, 0, -1, 0, 0, 1}, 2);
  EXPECT_EQ(r.entries, 4);
  EXPECT_EQ(r.bytes, (Bytes{0b01011001, 0b0101}));
}

TEST(Pack, TernaryEncodingsRoundTripRandomCodesOfEveryLength) {
  Rng rng(5);
  for (double p_zero : {0.0, 0.3, 0.9}) {
    for (std::size_t n : kLengths) {
      const Codes c = random_ternary(n, p_zero, rng);
      EXPECT_EQ(unpack_ternary_2bit(pack_ternary_2bit(c), n), c) << n;
      EXPECT_EQ(pack_ternary_2bit(c).size(), (n + 3) / 4);
      EXPECT_EQ(unpack_ternary_base3(pack_ternary_base3(c), n), c) << n;
      EXPECT_EQ(pack_ternary_base3(c).size() * 8, static_cast<std::size_t>(ternary_base3_bits(static_cast<std::int64_t>(n), 0)));
      EXPECT_EQ(unpack_bitmap(pack_bitmap(c), n), c) << n;
      for (int b = 1; b <= 16; ++b) {
        const RelativeIndexStream r = pack_relative_index(c, b);
        EXPECT_EQ(unpack_relative_index(r, n), c) << "n " << n << " b " << b;
        const RelativeIndexSize s = relative_index_size(zero_runs(c), b);
        EXPECT_EQ(r.entries, s.entries) << "n " << n << " b " << b;
        EXPECT_EQ(r.bytes.size(), (static_cast<std::size_t>(s.bits) + 7) / 8);
      }
    }
  }
}

TEST(Pack, EdgeCasesAllZerosAllOnesAndLongGaps) {
  for (std::size_t n : kLengths) {
    const Codes zeros(n, 0), ones(n, 1), minus(n, -1);
    for (const Codes& c : {zeros, ones, minus}) {
      EXPECT_EQ(unpack_ternary_2bit(pack_ternary_2bit(c), n), c);
      EXPECT_EQ(unpack_ternary_base3(pack_ternary_base3(c), n), c);
      EXPECT_EQ(unpack_bitmap(pack_bitmap(c), n), c);
      EXPECT_EQ(unpack_relative_index(pack_relative_index(c, 3), n), c);
    }
    EXPECT_EQ(pack_relative_index(zeros, 3).entries, 0);  // trailing zeros cost nothing
    EXPECT_TRUE(pack_bitmap(zeros).signs.empty());
    EXPECT_EQ(unpack_binary(pack_binary(ones), n), ones);
    EXPECT_EQ(unpack_binary(pack_binary(minus), n), minus);
  }
  Codes gap(70000, 0);  // a gap longer than 2^16 - 1 needs a filler even at b = 16
  gap.back() = -1;
  const RelativeIndexStream r = pack_relative_index(gap, 16);
  EXPECT_EQ(r.entries, 2);
  EXPECT_EQ(unpack_relative_index(r, gap.size()), gap);
}

TEST(Pack, BinaryRoundTripsRandomSigns) {
  Rng rng(6);
  for (std::size_t n : kLengths) {
    Codes c(n);
    for (auto& v : c) v = rng.uniform_float() < 0.5f ? std::int8_t{1} : std::int8_t{-1};
    const Bytes bytes = pack_binary(c);
    EXPECT_EQ(bytes.size(), (n + 7) / 8);
    EXPECT_EQ(unpack_binary(bytes, n), c);
  }
}

TEST(Pack, CodesOfAMatrixAreSignsInRowMajorOrder) {
  Mat q(2, 3);
  q << 0.5f, 0, -0.5f, -2, 0, 3;
  EXPECT_EQ(ternary_codes(q), (Codes{1, 0, -1, -1, 0, 1}));
}

TEST(Pack, CorruptOrShortStreamsAreRefused) {
  EXPECT_THROW(pack_binary(Codes{1, 0}), Error);
  EXPECT_THROW(pack_ternary_2bit(Codes{2}), Error);
  EXPECT_THROW(unpack_ternary_2bit(Bytes{0b11}, 1), Error);
  EXPECT_THROW(unpack_ternary_2bit(Bytes{0}, 5), Error);
  EXPECT_THROW(unpack_ternary_base3(Bytes{243}, 1), Error);
  EXPECT_THROW(unpack_binary(Bytes{}, 1), Error);
  BitmapStream b = pack_bitmap(Codes{1, 1});
  b.signs.clear();
  EXPECT_THROW(unpack_bitmap(b, 2), Error);
  RelativeIndexStream r = pack_relative_index(Codes{0, 0, 1}, 2);
  EXPECT_THROW(unpack_relative_index(r, 2), Error);  // points past n
  r.entries = 5;
  EXPECT_THROW(unpack_relative_index(r, 3), Error);  // stream too short
}

}  // namespace
}  // namespace ternbench::core
