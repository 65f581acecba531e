#pragma once
// The checks behind MethodOption (option.hpp), for the rules of a method file that span
// several options: each failure is one line "train config: <option> ..." naming the option
// and its valid range or values.
#include <string>
#include <vector>

namespace ternbench::core::method_options {

[[noreturn]] void fail(const std::string& msg);
// v finite and in the interval: lo_open / hi_open say whether the bound itself is excluded.
void check_range(const char* name, double v, double lo, bool lo_open, double hi, bool hi_open);
void check_choice(const char* name, const std::string& v, const std::vector<std::string>& valid);

}  // namespace ternbench::core::method_options
