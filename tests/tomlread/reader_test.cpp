#include "ternbench/tomlread/reader.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/error_of.hpp"
#include "ternbench/base/error.hpp"

namespace ternbench::tomlread {
namespace {

using ternbench::testing::error_of;

TEST(Parse, SyntaxErrorIsOneLineNamingFileAndLine) {
  const std::string msg = error_of([] { (void)parse("a = 1\nb = [\n", "f.toml"); });
  EXPECT_EQ(msg.rfind("f.toml:", 0), 0u) << msg;
  EXPECT_NE(msg.find("TOML syntax error: "), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST(RejectUnknownKeys, NamesTheFirstUnknownKeyInFileOrderWithAGuess) {
  const toml::table t = parse("zeta = 1\nepoch = 2\nalpha = 3\n", "f.toml");
  // zeta sorts last but comes first in the file.
  EXPECT_EQ(error_of([&] { reject_unknown_keys(t, "f.toml", "train", {"alpha", "epochs"}); }),
            "f.toml:1: train.zeta: unknown key; valid keys: alpha, epochs");
  EXPECT_EQ(error_of([&] { reject_unknown_keys(t, "f.toml", "", {"alpha", "zeta"}); }),
            "f.toml:2: epoch: unknown key; valid keys: alpha, zeta");
  const toml::table u = parse("epoch = 2\n", "f.toml");
  EXPECT_EQ(error_of([&] {
              reject_unknown_keys(u, "f.toml", "", {"epochs"}, [](const std::string& k) { return "hint for " + k; });
            }),
            "f.toml:1: epoch: unknown key; did you mean \"epochs\"? hint for epoch; valid keys: epochs");
  EXPECT_NO_THROW(reject_unknown_keys(u, "f.toml", "", {"epoch"}));
}

TEST(SubTable, AbsentIsNullAndAValueIsAnError) {
  const toml::table t = parse("sweep = 3\n[train]\nx = 1\n", "f.toml");
  EXPECT_EQ(sub_table(t, "missing", "f.toml"), nullptr);
  ASSERT_NE(sub_table(t, "train", "f.toml"), nullptr);
  EXPECT_EQ(error_of([&] { (void)sub_table(t, "sweep", "f.toml"); }),
            "f.toml:1: sweep: expected a table ([sweep]), got integer");
}

TEST(Reader, TypedGettersAndTheirErrors) {
  const toml::table t = parse(
      "name = \"x\"\nn = 3\nf = 0.5\nkind = \"valeu\"\nlist = [\"a\", \"b\"]\nbad = [1]\nsub = { k = 1 }\n", "f.toml");
  Reader r(t, "f.toml", "claim[0]");
  EXPECT_EQ(r.text("name", true), "x");
  EXPECT_EQ(r.text("absent", false, "fb"), "fb");
  EXPECT_EQ(error_of([&] { (void)r.text("absent", true); }), "f.toml:1: claim[0].absent: missing key; add `absent = \"...\"`");
  EXPECT_EQ(error_of([&] { (void)r.text("n", true); }), "f.toml:2: claim[0].n: must be a string");
  bool present = false;
  EXPECT_EQ(r.number("n", 0, &present), 3.0);
  EXPECT_TRUE(present);
  EXPECT_EQ(r.number("f", 0), 0.5);
  EXPECT_EQ(r.number("nothing", 7, &present), 7.0);
  EXPECT_FALSE(present);
  EXPECT_EQ(r.integer("n", 0, 1), 3);
  EXPECT_EQ(error_of([&] { (void)r.integer("n", 0, 4); }), "f.toml:2: claim[0].n: must be >= 4");
  EXPECT_EQ(error_of([&] { (void)r.integer("f", 0, 0); }), "f.toml:3: claim[0].f: must be an integer");
  EXPECT_EQ(error_of([&] { (void)r.choice("kind", {"value", "within"}, ""); }),
            "f.toml:4: claim[0].kind: \"valeu\" is not one of: value, within; did you mean \"value\"?");
  EXPECT_EQ(r.strings("list"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(error_of([&] { (void)r.strings("bad"); }), "f.toml:6: claim[0].bad: must be a list of strings");
  ASSERT_NE(r.table("sub"), nullptr);
  EXPECT_EQ(error_of([&] { (void)r.array_of_tables("sub"); }),
            "f.toml:7: claim[0].sub: must be written as [[claim[0].sub]] sections");
  EXPECT_NO_THROW(r.reject_unknown());  // every key was asked for
}

TEST(Reader, RejectUnknownAllowsOnlyTheKeysAskedFor) {
  const toml::table t = parse("name = \"x\"\nnmae = \"y\"\n", "f.toml");
  Reader r(t, "f.toml", "paper");
  (void)r.text("name", true);
  EXPECT_EQ(error_of([&] { r.reject_unknown(); }),
            "f.toml:2: paper.nmae: unknown key; did you mean \"name\"? valid keys: name");
}

}  // namespace
}  // namespace ternbench::tomlread
