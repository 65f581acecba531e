// Every reports test sees the methods the program hands over at start-up (reports/methods.hpp):
// the method registry's names and natural encodings.
#include <gtest/gtest.h>

#include "ternbench/core/methods/method.hpp"
#include "ternbench/reports/methods.hpp"

namespace {

class MethodsFromRegistry : public ::testing::Environment {
 public:
  void SetUp() override {
    std::vector<ternbench::reports::MethodInfo> methods;
    for (const ternbench::core::Method* m : ternbench::core::methods())
      methods.push_back({m->name(), m->natural_encoding()});
    ternbench::reports::set_methods(std::move(methods));
  }
};

[[maybe_unused]] ::testing::Environment* const kMethods = ::testing::AddGlobalTestEnvironment(new MethodsFromRegistry);

}  // namespace
