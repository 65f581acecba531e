#pragma once
// Numbers and lists in messages and printed results, and the did-you-mean of every
// "unknown name" error.
#include <string>
#include <string_view>
#include <vector>

namespace ternbench {

// printf's %g with this many significant digits: "0.5", "1e-05", "inf"; 17 digits read back
// as the same double.
std::string format_g(double v, int significant = 6);

// "a, b, c" for sep ", ".
std::string join(const std::vector<std::string>& items, std::string_view sep);

// The candidate closest to word within two edits (adjacent transpositions count as one),
// or "" when none is close enough to be a useful hint.
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace ternbench
