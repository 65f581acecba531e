#pragma once
// The training methods as reports need them: table order and natural encoding. Reports do
// not link the numerics, so the program hands the list over once at start-up from the
// method registry (core::methods()); until then no method is known, cells sort by name and
// every quantized size is taken at its smallest encoding.
#include <string>
#include <vector>

namespace ternbench::reports {

struct MethodInfo {
  std::string name;
  // How the method's models are naturally stored: "fp32", "binary", "ternary 2-bit", or
  // "sparse ternary" (the smallest of 2-bit, bitmap and relative index).
  std::string encoding;
};

void set_methods(std::vector<MethodInfo> methods);
const std::vector<MethodInfo>& known_methods();

}  // namespace ternbench::reports
