#pragma once
// The training methods as reports need them: table order, names, natural encoding and the
// key that sets their sparsity. Reports do not link the numerics, so the program hands the
// list over once at start-up from the method registry (set_methods_from(core::methods()));
// until then no method is known, cells sort by name, every quantized size is taken at its
// smallest encoding and no method is charted against a control key.
#include <string>
#include <vector>

namespace ternbench::reports {

struct MethodInfo {
  std::string name;
  // How the method's models are naturally stored: "fp32", "binary", "ternary 2-bit", or
  // "sparse ternary" (the smallest of 2-bit, bitmap and relative index).
  std::string encoding;
  std::string title;        // "BinaryConnect", "SCA"
  std::string control_key;  // "sca_alpha": charted against sparsity and accuracy; "" for none
};

void set_methods(std::vector<MethodInfo> methods);
const std::vector<MethodInfo>& known_methods();
// The name a paper prints ("BinaryConnect" for binaryconnect); the key itself when unknown.
std::string method_title(const std::string& method);
// Whether some method's sparsity is set by this key (sca_alpha).
bool is_control_key(const std::string& key);

// Hands over a registry of method pointers (core::methods()) without linking it.
template <class Registry>
void set_methods_from(const Registry& registry) {
  std::vector<MethodInfo> methods;
  for (const auto* m : registry) methods.push_back({m->name(), m->natural_encoding(), m->title(), m->control_key()});
  set_methods(std::move(methods));
}

}  // namespace ternbench::reports
