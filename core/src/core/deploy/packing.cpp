#include "ternbench/core/deploy/packing.hpp"

#include <string>

#include "ternbench/base/error.hpp"

namespace ternbench::core {
namespace {

std::size_t ceil_div(std::size_t a, std::size_t b) { return (a + b - 1) / b; }

void check_code(std::int8_t c, std::size_t i) {
  TB_CHECK(c >= -1 && c <= 1, "code " + std::to_string(i) + " is " + std::to_string(c) + ", not -1, 0 or +1");
}

void check_length(std::size_t have, std::size_t need, const char* what) {
  TB_CHECK(have >= need, std::string(what) + ": stream has " + std::to_string(have) + " bytes, needs " +
                             std::to_string(need));
}

// Appends bits least-significant first.
class BitWriter {
 public:
  explicit BitWriter(std::vector<std::uint8_t>& out) : out_(out) {}
  void put(std::uint32_t value, int width) {
    for (int k = 0; k < width; ++k) {
      if (pos_ % 8 == 0) out_.push_back(0);
      if ((value >> k) & 1u) out_.back() = static_cast<std::uint8_t>(out_.back() | (1u << (pos_ % 8)));
      ++pos_;
    }
  }

 private:
  std::vector<std::uint8_t>& out_;
  std::size_t pos_ = 0;
};

class BitReader {
 public:
  explicit BitReader(std::span<const std::uint8_t> in) : in_(in) {}
  std::uint32_t get(int width, const char* what) {
    check_length(in_.size(), ceil_div(pos_ + static_cast<std::size_t>(width), 8), what);
    std::uint32_t v = 0;
    for (int k = 0; k < width; ++k) {
      v |= static_cast<std::uint32_t>((in_[pos_ / 8] >> (pos_ % 8)) & 1u) << k;
      ++pos_;
    }
    return v;
  }

 private:
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
};

bool bit(std::span<const std::uint8_t> bytes, std::size_t i) { return ((bytes[i / 8] >> (i % 8)) & 1u) != 0; }

void set_bit(std::vector<std::uint8_t>& bytes, std::size_t i) {
  bytes[i / 8] = static_cast<std::uint8_t>(bytes[i / 8] | (1u << (i % 8)));
}

}  // namespace

std::vector<std::int8_t> ternary_codes(const Eigen::Ref<const Mat>& q) {
  std::vector<std::int8_t> codes;
  codes.reserve(static_cast<std::size_t>(q.size()));
  for (Eigen::Index i = 0; i < q.rows(); ++i) {
    for (Eigen::Index j = 0; j < q.cols(); ++j) {
      const float v = q(i, j);
      codes.push_back(static_cast<std::int8_t>(v > 0.0f ? 1 : (v < 0.0f ? -1 : 0)));
    }
  }
  return codes;
}

// ---- binary ------------------------------------------------------------------------------

std::vector<std::uint8_t> pack_binary(std::span<const std::int8_t> codes) {
  std::vector<std::uint8_t> out(ceil_div(codes.size(), 8), 0);
  for (std::size_t i = 0; i < codes.size(); ++i) {
    TB_CHECK(codes[i] == 1 || codes[i] == -1,
             "pack_binary: code " + std::to_string(i) + " is " + std::to_string(codes[i]) + ", not -1 or +1");
    if (codes[i] == 1) set_bit(out, i);
  }
  return out;
}

std::vector<std::int8_t> unpack_binary(std::span<const std::uint8_t> bytes, std::size_t n) {
  check_length(bytes.size(), ceil_div(n, 8), "unpack_binary");
  std::vector<std::int8_t> codes(n);
  for (std::size_t i = 0; i < n; ++i) codes[i] = bit(bytes, i) ? std::int8_t{1} : std::int8_t{-1};
  return codes;
}

// ---- 2-bit ternary -----------------------------------------------------------------------

std::vector<std::uint8_t> pack_ternary_2bit(std::span<const std::int8_t> codes) {
  std::vector<std::uint8_t> out(ceil_div(codes.size(), 4), 0);
  for (std::size_t i = 0; i < codes.size(); ++i) {
    check_code(codes[i], i);
    const unsigned sym = codes[i] == 1 ? 1u : (codes[i] == -1 ? 2u : 0u);
    out[i / 4] = static_cast<std::uint8_t>(out[i / 4] | (sym << (2 * (i % 4))));
  }
  return out;
}

std::vector<std::int8_t> unpack_ternary_2bit(std::span<const std::uint8_t> bytes, std::size_t n) {
  check_length(bytes.size(), ceil_div(n, 4), "unpack_ternary_2bit");
  std::vector<std::int8_t> codes(n);
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned sym = (bytes[i / 4] >> (2 * (i % 4))) & 3u;
    TB_CHECK(sym != 3u, "unpack_ternary_2bit: invalid symbol 11 at code " + std::to_string(i));
    codes[i] = sym == 1u ? std::int8_t{1} : (sym == 2u ? std::int8_t{-1} : std::int8_t{0});
  }
  return codes;
}

// ---- base 3 ------------------------------------------------------------------------------

std::vector<std::uint8_t> pack_ternary_base3(std::span<const std::int8_t> codes) {
  std::vector<std::uint8_t> out(ceil_div(codes.size(), 5), 0);
  for (std::size_t g = 0; g < out.size(); ++g) {
    unsigned v = 0;
    for (std::size_t k = 5; k-- > 0;) {  // most significant trit first (Horner)
      const std::size_t i = 5 * g + k;
      unsigned trit = 0;
      if (i < codes.size()) {
        check_code(codes[i], i);
        trit = codes[i] == 1 ? 1u : (codes[i] == -1 ? 2u : 0u);
      }
      v = 3 * v + trit;
    }
    out[g] = static_cast<std::uint8_t>(v);
  }
  return out;
}

std::vector<std::int8_t> unpack_ternary_base3(std::span<const std::uint8_t> bytes, std::size_t n) {
  check_length(bytes.size(), ceil_div(n, 5), "unpack_ternary_base3");
  std::vector<std::int8_t> codes(n);
  for (std::size_t g = 0; g < ceil_div(n, 5); ++g) {
    unsigned v = bytes[g];
    TB_CHECK(v <= 242u, "unpack_ternary_base3: byte " + std::to_string(g) + " is " + std::to_string(v) + " > 242");
    for (std::size_t k = 0; k < 5; ++k) {
      const unsigned trit = v % 3;
      v /= 3;
      const std::size_t i = 5 * g + k;
      if (i < n) codes[i] = trit == 1u ? std::int8_t{1} : (trit == 2u ? std::int8_t{-1} : std::int8_t{0});
    }
  }
  return codes;
}

// ---- bitmap ------------------------------------------------------------------------------

BitmapStream pack_bitmap(std::span<const std::int8_t> codes) {
  BitmapStream s;
  s.bitmap.assign(ceil_div(codes.size(), 8), 0);
  std::size_t nz = 0;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    check_code(codes[i], i);
    if (codes[i] == 0) continue;
    set_bit(s.bitmap, i);
    if (nz % 8 == 0) s.signs.push_back(0);
    if (codes[i] == -1) set_bit(s.signs, nz);
    ++nz;
  }
  return s;
}

std::vector<std::int8_t> unpack_bitmap(const BitmapStream& s, std::size_t n) {
  check_length(s.bitmap.size(), ceil_div(n, 8), "unpack_bitmap (bitmap)");
  std::vector<std::int8_t> codes(n, 0);
  std::size_t nz = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!bit(s.bitmap, i)) continue;
    check_length(s.signs.size(), nz / 8 + 1, "unpack_bitmap (signs)");
    codes[i] = bit(s.signs, nz) ? std::int8_t{-1} : std::int8_t{1};
    ++nz;
  }
  return codes;
}

// ---- relative index ----------------------------------------------------------------------

RelativeIndexStream pack_relative_index(std::span<const std::int8_t> codes, int b) {
  TB_CHECK(b >= 1 && b <= 16, "pack_relative_index: b must be in 1..16");
  RelativeIndexStream s;
  s.b = b;
  BitWriter out(s.bytes);
  const std::uint32_t filler = (1u << b) - 1u;
  std::uint64_t zeros = 0;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    check_code(codes[i], i);
    if (codes[i] == 0) {
      ++zeros;
      continue;
    }
    // Fillers are written only when a nonzero follows, so trailing zeros cost nothing.
    for (; zeros >= filler; zeros -= filler) {
      out.put(filler, b);
      out.put(0, 1);
      ++s.entries;
    }
    out.put(static_cast<std::uint32_t>(zeros), b);
    out.put(codes[i] == -1 ? 1u : 0u, 1);
    ++s.entries;
    zeros = 0;
  }
  return s;
}

std::vector<std::int8_t> unpack_relative_index(const RelativeIndexStream& s, std::size_t n) {
  TB_CHECK(s.b >= 1 && s.b <= 16, "unpack_relative_index: b must be in 1..16");
  TB_CHECK(s.entries >= 0, "unpack_relative_index: negative entry count");
  std::vector<std::int8_t> codes(n, 0);
  BitReader in(s.bytes);
  const std::uint32_t filler = (1u << s.b) - 1u;
  std::size_t pos = 0;
  for (std::int64_t e = 0; e < s.entries; ++e) {
    const std::uint32_t run = in.get(s.b, "unpack_relative_index");
    const bool negative = in.get(1, "unpack_relative_index") != 0;
    pos += run;
    if (run == filler) continue;
    TB_CHECK(pos < n, "unpack_relative_index: entry " + std::to_string(e) + " points past the " +
                          std::to_string(n) + " codes");
    codes[pos] = negative ? std::int8_t{-1} : std::int8_t{1};
    ++pos;
  }
  return codes;
}

}  // namespace ternbench::core
