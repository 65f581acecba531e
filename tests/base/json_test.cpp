#include "ternbench/base/json.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

TEST(JsonQuote, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(ternbench::json_quote("plain"), "\"plain\"");
  EXPECT_EQ(ternbench::json_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(ternbench::json_quote("l1\nl2\tx\r"), "\"l1\\nl2\\tx\\r\"");
  EXPECT_EQ(ternbench::json_quote(std::string("\x01", 1)), "\"\\u0001\"");
  EXPECT_EQ(ternbench::json_quote("\xc3\xa9"), "\"\xc3\xa9\"");  // UTF-8 passes through
}

}  // namespace
