#pragma once
// The message of the E that f() throws, or "(no error)" when it throws none: a test compares
// it with the message it expects, so an input that is wrongly accepted fails with both shown.
#include <string>

#include "ternbench/base/error.hpp"

namespace ternbench::testing {

inline constexpr const char* kNoError = "(no error)";

template <class E = Error, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return kNoError;
}

}  // namespace ternbench::testing
