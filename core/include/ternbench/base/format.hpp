#pragma once
// Numbers in messages and printed results.
#include <string>

namespace ternbench {

// printf's %g with this many significant digits: "0.5", "1e-05", "inf"; 17 digits read back
// as the same double.
std::string format_g(double v, int significant = 6);

}  // namespace ternbench
