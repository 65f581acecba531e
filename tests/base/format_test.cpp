#include "ternbench/base/format.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

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

TEST(Join, SeparatesItemsAndGivesEmptyForNone) {
  EXPECT_EQ(join({"a", "b", "c"}, ", "), "a, b, c");
  EXPECT_EQ(join({"a"}, ", "), "a");
  EXPECT_EQ(join({}, ", "), "");
}

TEST(Closest, SuggestsWithinTwoEditsCountingTranspositionsAsOne) {
  const std::vector<std::string> keys = {"alpha", "epochs", "seed", "lr"};
  EXPECT_EQ(closest("alpah", keys), "alpha");  // one transposition
  EXPECT_EQ(closest("epoch", keys), "epochs");
  EXPECT_EQ(closest("sed", keys), "seed");
  EXPECT_EQ(closest("momentum", keys), "");  // nothing close
  EXPECT_EQ(closest("xy", keys), "");  // "lr" is two edits away, as far as the word is long
  EXPECT_EQ(closest("a", {}), "");
}

}  // namespace
}  // namespace ternbench
