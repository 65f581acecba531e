#include "ternbench/core/nn/layer_spec.hpp"

#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <vector>

#include "ternbench/base/error.hpp"

namespace ternbench::core {
namespace {

constexpr const char* kSyntax =
    "valid: dense(N), conv(N, kernel=K, stride=S, padding=P), maxpool(K, stride=S), dropout(RATE), "
    "batchnorm, relu, flatten, gap";

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

[[noreturn]] void bad(const std::string& text, const std::string& why) {
  throw Error("layer \"" + text + "\": " + why + "; " + kSyntax);
}

// An integer option. Values above `max` are refused here, before they are stored as int:
// "dense(2000000000)" would otherwise fail later in an allocation of gigabytes.
int to_int(const std::string& text, const std::string& v, const char* what, int max) {
  std::int64_t x = 0;
  const auto r = std::from_chars(v.data(), v.data() + v.size(), x);
  const bool whole = r.ptr == v.data() + v.size();
  const bool too_long = r.ec == std::errc::result_out_of_range && whole;  // beyond 64 bits
  if (!too_long && (r.ec != std::errc() || !whole)) bad(text, std::string(what) + " must be an integer, got " + v);
  if (too_long ? v.front() != '-' : x > max)
    bad(text, std::string(what) + " " + v + " is above the maximum of " + std::to_string(max) +
                  " (docs/sweep-format.md)");
  // Below the minimum: the checks after parsing name the lower bound.
  return too_long || x < std::numeric_limits<int>::min() ? std::numeric_limits<int>::min() : static_cast<int>(x);
}

double to_double(const std::string& text, const std::string& v, const char* what) {
  double x = 0;
  const auto r = std::from_chars(v.data(), v.data() + v.size(), x);
  if (r.ec != std::errc() || r.ptr != v.data() + v.size()) bad(text, std::string(what) + " must be a number, got " + v);
  return x;
}

}  // namespace

LayerSpec parse_layer_spec(const std::string& raw) {
  const std::string text = trim(raw);
  LayerSpec s;
  const std::size_t open = text.find('(');
  std::vector<std::string> args;
  if (open == std::string::npos) {
    s.type = text;
  } else {
    if (text.back() != ')') bad(text, "missing ')'");
    s.type = trim(text.substr(0, open));
    std::string inner = text.substr(open + 1, text.size() - open - 2);
    std::size_t start = 0;
    while (start <= inner.size()) {
      const std::size_t comma = inner.find(',', start);
      const std::string a = trim(inner.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (a.empty()) bad(text, "empty argument");
      args.push_back(a);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  const bool takes_args = s.type == "dense" || s.type == "conv" || s.type == "maxpool" || s.type == "dropout";
  const bool plain = s.type == "batchnorm" || s.type == "relu" || s.type == "flatten" || s.type == "gap";
  if (!takes_args && !plain) bad(text, "unknown layer type \"" + s.type + "\"");
  if (plain && !args.empty()) bad(text, s.type + " takes no arguments");
  if (takes_args && args.empty()) bad(text, s.type + " needs arguments");

  if (s.type == "maxpool") {
    s.kernel = 2;
    s.stride = 0;
  }
  bool positional_done = false;
  for (const std::string& a : args) {
    const std::size_t eq = a.find('=');
    if (eq == std::string::npos) {
      if (positional_done) bad(text, "only the first argument may be given without a name");
      positional_done = true;
      if (s.type == "dense" || s.type == "conv") s.units = to_int(text, a, "units", kMaxLayerUnits);
      if (s.type == "maxpool") s.kernel = to_int(text, a, "kernel", kMaxLayerWindow);
      if (s.type == "dropout") s.rate = to_double(text, a, "rate");
      continue;
    }
    positional_done = true;
    const std::string key = trim(a.substr(0, eq)), value = trim(a.substr(eq + 1));
    if (key == "kernel" && (s.type == "conv" || s.type == "maxpool")) {
      s.kernel = to_int(text, value, "kernel", kMaxLayerWindow);
    } else if (key == "stride" && (s.type == "conv" || s.type == "maxpool")) {
      s.stride = to_int(text, value, "stride", kMaxLayerWindow);
    } else if (key == "padding" && s.type == "conv") {
      s.padding = to_int(text, value, "padding", kMaxLayerWindow);
    } else if (key == "units" && (s.type == "dense" || s.type == "conv")) {
      s.units = to_int(text, value, "units", kMaxLayerUnits);
    } else if (key == "rate" && s.type == "dropout") {
      s.rate = to_double(text, value, "rate");
    } else {
      bad(text, s.type + " has no option \"" + key + "\"");
    }
  }
  if (s.type == "maxpool" && s.stride == 0) s.stride = s.kernel;
  if ((s.type == "dense" || s.type == "conv") && s.units < 1) bad(text, "units must be >= 1");
  if ((s.type == "conv" || s.type == "maxpool") && (s.kernel < 1 || s.stride < 1)) bad(text, "kernel and stride must be >= 1");
  if (s.type == "conv" && s.padding < 0) bad(text, "padding must be >= 0");
  if (s.type == "dropout" && !(s.rate >= 0.0 && s.rate < 1.0)) bad(text, "rate must be in [0, 1)");
  // Options a type does not use keep their defaults so equal layers compare equal.
  if (s.type != "conv" && s.type != "maxpool") {
    s.kernel = LayerSpec{}.kernel;
    s.stride = LayerSpec{}.stride;
  }
  if (s.type != "dropout") s.rate = LayerSpec{}.rate;
  return s;
}

std::string format_layer_spec(const LayerSpec& s) {
  char buf[160];
  if (s.type == "dense") {
    std::snprintf(buf, sizeof buf, "dense(%d)", s.units);
  } else if (s.type == "conv") {
    std::snprintf(buf, sizeof buf, "conv(%d, kernel=%d, stride=%d, padding=%d)", s.units, s.kernel, s.stride,
                  s.padding);
  } else if (s.type == "maxpool") {
    std::snprintf(buf, sizeof buf, "maxpool(kernel=%d, stride=%d)", s.kernel, s.stride);
  } else if (s.type == "dropout") {
    char num[32];
    const auto r = std::to_chars(num, num + sizeof num, s.rate);
    std::snprintf(buf, sizeof buf, "dropout(%.*s)", static_cast<int>(r.ptr - num), num);
  } else {
    return s.type;
  }
  return buf;
}

}  // namespace ternbench::core
