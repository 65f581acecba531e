#include "option_checks.hpp"

#include <cmath>
#include <cstdio>

#include "ternbench/base/error.hpp"

namespace ternbench::core::method_options {
namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

void fail(const std::string& msg) { throw Error("train config: " + msg); }

void check_range(const char* name, double v, double lo, bool lo_open, double hi, bool hi_open) {
  const bool ok = std::isfinite(v) && (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
  if (!ok) {
    const std::string upper = hi == kInf ? "inf" : num(hi);
    fail(std::string(name) + " must be a finite number in " + (lo_open ? "(" : "[") + num(lo) + ", " + upper +
         (hi_open || upper == "inf" ? ")" : "]") + " (got " + num(v) + ")");
  }
}

void check_choice(const char* name, const std::string& v, std::initializer_list<const char*> valid) {
  std::string list;
  for (const char* c : valid) {
    if (v == c) return;
    list += (list.empty() ? "" : ", ") + std::string(c);
  }
  fail(std::string(name) + " '" + v + "' is unknown (valid: " + list + ")");
}

}  // namespace ternbench::core::method_options
