#include "ternbench/base/format.hpp"

#include <cstdio>

namespace ternbench {

std::string format_g(double v, int significant) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*g", significant, v);
  return buf;
}

}  // namespace ternbench
