#include "npm_json.hpp"

#include <cstdio>

#include "ternbench/base/error.hpp"

namespace ternbench::data::detail {
namespace {

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline unsigned digit(char c) { return static_cast<unsigned>(c - '0'); }

class Scanner {
 public:
  Scanner(std::string_view text, const std::string& path, const std::string& fix)
      : t_(text), path_(path), fix_(fix) {}

  bool at_end() const { return p_ >= t_.size(); }
  bool at(char c) const { return p_ < t_.size() && t_[p_] == c; }
  std::size_t pos() const { return p_; }
  void advance() { ++p_; }

  void ws() {
    while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\n' || t_[p_] == '\r' || t_[p_] == '\t')) ++p_;
  }

  [[noreturn]] void fail(std::size_t at_byte, const std::string& what) const {
    throw DataError(path_ + ": byte " + std::to_string(at_byte) + ": " + what + "; " + fix_);
  }

  [[noreturn]] void fail_expected(const std::string& what) const {
    fail(p_, "expected " + what + ", found " + describe(p_));
  }

  void expect(char c) {
    ws();
    if (!at(c)) fail_expected(std::string("'") + c + "'");
    ++p_;
  }

  // {"data":[   -- the only key either package uses.
  void header() {
    expect('{');
    ws();
    constexpr std::string_view kKey = "\"data\"";
    if (t_.substr(p_, kKey.size()) != kKey) fail_expected("the key \"data\"");
    p_ += kKey.size();
    expect(':');
    expect('[');
  }

  // ]} has been reached: only whitespace may follow.
  void trailer() {
    expect('}');
    ws();
    if (!at_end()) fail(p_, "unexpected content after the closing '}'");
  }

  // A JSON number in [0, 1] with at most 9 decimals -> round-half-up(255 v), exactly.
  std::uint8_t grey_byte() {
    const std::size_t start = p_;
    if (at('-')) fail(start, "negative grey level; values must lie in 0..1");
    if (at_end() || !is_digit(t_[p_])) fail_expected("a number");
    std::uint64_t ip = 0;
    if (t_[p_] == '0') {
      ++p_;
      if (p_ < t_.size() && is_digit(t_[p_])) fail(start, "leading zero in a number");
    } else {
      for (; p_ < t_.size() && is_digit(t_[p_]); ++p_)
        if (ip < 1000) ip = ip * 10 + digit(t_[p_]);
    }
    std::uint64_t frac = 0, scale = 1;
    if (at('.')) {
      ++p_;
      if (at_end() || !is_digit(t_[p_])) fail_expected("a digit after '.'");
      for (; p_ < t_.size() && is_digit(t_[p_]); ++p_) {
        if (scale == 1000000000) fail(start, "more than 9 decimal places in a grey level");
        frac = frac * 10 + digit(t_[p_]);
        scale *= 10;
      }
    }
    if (at('e') || at('E')) fail(p_, "exponents are not supported in grey levels");
    if (ip > 1 || (ip == 1 && frac != 0))
      fail(start, "grey level " + std::string(t_.substr(start, p_ - start)) + " is outside 0..1");
    if (ip == 1) return 255;
    // floor(255 frac / scale + 1/2) in integers; 510 * frac < 5.1e11 cannot overflow.
    return static_cast<std::uint8_t>((510 * frac + scale) / (2 * scale));
  }

  // A JSON integer in 0..255.
  std::uint8_t int_byte() {
    const std::size_t start = p_;
    if (at('-')) fail(start, "negative pixel value; values must lie in 0..255");
    if (at_end() || !is_digit(t_[p_])) fail_expected("an integer 0..255");
    unsigned v = 0;
    if (t_[p_] == '0') {
      ++p_;
      if (p_ < t_.size() && is_digit(t_[p_])) fail(start, "leading zero in a number");
    } else {
      for (; p_ < t_.size() && is_digit(t_[p_]); ++p_)
        if (v < 1000) v = v * 10 + digit(t_[p_]);
    }
    if (at('.') || at('e') || at('E')) fail(start, "pixel values must be integers 0..255");
    if (v > 255) fail(start, "pixel value " + std::string(t_.substr(start, p_ - start)) + " is outside 0..255");
    return static_cast<std::uint8_t>(v);
  }

 private:
  std::string describe(std::size_t at_byte) const {
    if (at_byte >= t_.size()) return "end of file";
    const auto c = static_cast<unsigned char>(t_[at_byte]);
    if (c >= 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
    char s[16];
    std::snprintf(s, sizeof s, "byte 0x%02x", static_cast<unsigned>(c));
    return s;
  }

  std::string_view t_;
  const std::string& path_;
  const std::string& fix_;
  std::size_t p_ = 0;
};

}  // namespace

JsonImages parse_flat_grey_json(std::string_view text, const std::string& path, std::size_t image_size,
                                const std::string& fix) {
  Scanner s(text, path, fix);
  JsonImages r;
  r.pixels.reserve(text.size() / 2);
  s.header();
  s.ws();
  std::size_t close = s.pos();
  if (s.at(']')) {
    s.advance();
  } else {
    for (;;) {
      s.ws();
      r.pixels.push_back(s.grey_byte());
      s.ws();
      if (s.at(',')) {
        s.advance();
        continue;
      }
      if (s.at(']')) {
        close = s.pos();
        s.advance();
        break;
      }
      s.fail_expected("',' or ']'");
    }
  }
  s.trailer();
  if (r.pixels.size() % image_size != 0)
    s.fail(close, "the array holds " + std::to_string(r.pixels.size()) + " values, not a multiple of " +
                      std::to_string(image_size) + " (one image)");
  r.count = r.pixels.size() / image_size;
  return r;
}

JsonImages parse_nested_byte_json(std::string_view text, const std::string& path, std::size_t image_size,
                                  const std::string& fix) {
  Scanner s(text, path, fix);
  JsonImages r;
  r.pixels.reserve(text.size() / 3);
  s.header();
  s.ws();
  if (s.at(']')) {
    s.advance();
    s.trailer();
    return r;
  }
  for (std::size_t entry = 0;; ++entry) {
    s.ws();
    const std::size_t entry_start = s.pos();
    s.expect('[');
    s.ws();
    std::size_t k = 0;
    if (s.at(']')) {
      s.advance();
    } else {
      for (;;) {
        s.ws();
        if (k == image_size)
          s.fail(entry_start, "entry " + std::to_string(entry) + " holds more than " + std::to_string(image_size) +
                                  " values; expected " + std::to_string(image_size) + " (one image) or 0");
        r.pixels.push_back(s.int_byte());
        ++k;
        s.ws();
        if (s.at(',')) {
          s.advance();
          continue;
        }
        if (s.at(']')) {
          s.advance();
          break;
        }
        s.fail_expected("',' or ']'");
      }
    }
    if (k == 0) {
      ++r.skipped_empty;
    } else if (k != image_size) {
      s.fail(entry_start, "entry " + std::to_string(entry) + " holds " + std::to_string(k) + " values; expected " +
                              std::to_string(image_size) + " (one image) or 0 (skipped)");
    } else {
      ++r.count;
    }
    s.ws();
    if (s.at(',')) {
      s.advance();
      continue;
    }
    if (s.at(']')) {
      s.advance();
      break;
    }
    s.fail_expected("',' or ']'");
  }
  s.trailer();
  return r;
}

}  // namespace ternbench::data::detail
