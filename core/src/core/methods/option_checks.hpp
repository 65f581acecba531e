#pragma once
// Checks of the methods' own options, shared by the method files: each failure is one line
// "train config: <option> ..." naming the option and its valid range or values.
#include <initializer_list>
#include <limits>
#include <string>

namespace ternbench::core::method_options {

constexpr double kInf = std::numeric_limits<double>::max();

[[noreturn]] void fail(const std::string& msg);
// v finite and in the interval: lo_open / hi_open say whether the bound itself is excluded.
void check_range(const char* name, double v, double lo, bool lo_open, double hi, bool hi_open);
void check_choice(const char* name, const std::string& v, std::initializer_list<const char*> valid);

}  // namespace ternbench::core::method_options
