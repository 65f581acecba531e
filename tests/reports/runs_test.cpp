#include "ternbench/reports/runs.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace tr = ternbench::reports;

// The seeds of a warm-started recipe each start from the source of their own seed: their
// init_from keys differ, but they are one cell, named after the sources' cell.
TEST(CellKey, WarmStartedSeedsShareTheCellOfTheirSources) {
  const std::map<std::string, std::string> db = {
      {"aaaaaaaaaaaaaaaa", "[train]\nmethod = \"fp\"\nseed = 1\n"},
      {"bbbbbbbbbbbbbbbb", "[train]\nmethod = \"fp\"\nseed = 2\n"},
      {"cccccccccccccccc", "[train]\nepochs = 30\nmethod = \"fp\"\nseed = 1\n"}};
  const tr::SourceLookup source_of = [&](const std::string& k) {
    const auto it = db.find(k);
    return it == db.end() ? std::string() : it->second;
  };
  const std::string seed1 = "[train]\ninit_from = \"aaaaaaaaaaaaaaaa\"\nmethod = \"twn\"\nseed = 1\n";
  const std::string seed2 = "[train]\ninit_from = \"bbbbbbbbbbbbbbbb\"\nmethod = \"twn\"\nseed = 2\n";
  const std::string other = "[train]\ninit_from = \"cccccccccccccccc\"\nmethod = \"twn\"\nseed = 1\n";
  EXPECT_EQ(tr::cell_key_of(seed1, source_of), tr::cell_key_of(seed2, source_of));
  EXPECT_EQ(tr::cell_key_of(seed1, source_of),
            "[train]\ninit_from = \"cell " + tr::cell_id("[train]\nmethod = \"fp\"\n") + "\"\nmethod = \"twn\"\n");
  EXPECT_NE(tr::cell_key_of(seed1, source_of), tr::cell_key_of(other, source_of));
  // Without the source's config the key itself tells the runs apart.
  EXPECT_NE(tr::cell_key_of(seed1), tr::cell_key_of(seed2));
}
