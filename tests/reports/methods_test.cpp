#include "ternbench/reports/methods.hpp"

#include <gtest/gtest.h>

#include <set>

#include "ternbench/core/methods/method.hpp"
#include "ternbench/reports/cells.hpp"

namespace tr = ternbench::reports;

TEST(Methods, ReportsKnowTheRegistrysMethodsInItsOrder) {
  std::vector<std::string> names;
  for (const tr::MethodInfo& m : tr::known_methods()) names.push_back(m.name);
  EXPECT_EQ(names, ternbench::core::method_names());
  const std::set<std::string> encodings = {"fp32", "binary", "ternary 2-bit", "sparse ternary"};
  for (const tr::MethodInfo& m : tr::known_methods()) EXPECT_TRUE(encodings.count(m.encoding)) << m.name << ": " << m.encoding;
  EXPECT_EQ(tr::natural_encoding("fp"), "fp32");
  EXPECT_EQ(tr::natural_encoding("bwn"), "binary");
  EXPECT_EQ(tr::natural_encoding("ttq"), "ternary 2-bit");
  EXPECT_EQ(tr::natural_encoding("faraone"), "sparse ternary");
}

TEST(Methods, AnUnknownMethodIsSizedAtItsSmallestSparseEncoding) {
  EXPECT_EQ(tr::natural_encoding("not-a-method"), "sparse ternary");
}
