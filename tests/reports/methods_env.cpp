// Every reports test sees the methods the program hands over at start-up (reports/methods.hpp):
// the method registry's names, titles, natural encodings and control keys.
#include <gtest/gtest.h>

#include "ternbench/core/methods/method.hpp"
#include "ternbench/reports/methods.hpp"

namespace {

class MethodsFromRegistry : public ::testing::Environment {
 public:
  void SetUp() override { ternbench::reports::set_methods_from(ternbench::core::methods()); }
};

[[maybe_unused]] ::testing::Environment* const kMethods = ::testing::AddGlobalTestEnvironment(new MethodsFromRegistry);

}  // namespace
