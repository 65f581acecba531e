#include "ternbench/base/format.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <limits>

namespace ternbench {
namespace {

TEST(FormatG, SixDigitsByDefaultAndExactAtSeventeen) {
  EXPECT_EQ(format_g(0.5), "0.5");
  EXPECT_EQ(format_g(1e-5), "1e-05");
  EXPECT_EQ(format_g(2.0 / 3.0), "0.666667");
  EXPECT_EQ(format_g(std::numeric_limits<double>::infinity()), "inf");
  const double x = 0.1 + 0.2;
  EXPECT_EQ(format_g(x, 17), "0.30000000000000004");
  EXPECT_EQ(std::strtod(format_g(x, 17).c_str(), nullptr), x);
}

}  // namespace
}  // namespace ternbench
