#include "ternbench/reports/markdown.hpp"

#include <gtest/gtest.h>

namespace tb = ternbench;

namespace {
tb::storage::RunRecord run(std::string key, std::string method, double acc, std::string status = "done") {
  tb::storage::RunRecord r;
  r.run_key = std::move(key);
  r.dataset = "mnist";
  r.model = "mlp";
  r.method = std::move(method);
  r.test_acc = acc;
  r.status = std::move(status);
  r.sparsity = r.method == "twn" ? 0.5 : 0.0;
  r.bits_per_weight = r.method == "twn" ? 2.0 : 32.0;
  return r;
}
}  // namespace

TEST(Summary, MeanAndSampleStdOverDoneRunsOnly) {
  const auto cells = tb::reports::summarize(
      {run("a", "twn", 0.90), run("b", "twn", 0.94), run("c", "twn", 0.10, "failed"), run("d", "fp", 0.95)});
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_EQ(cells[0].method, "fp");  // fp first
  const auto& twn = cells[1];
  EXPECT_EQ(twn.n, 2);
  EXPECT_EQ(twn.n_failed, 1);
  EXPECT_DOUBLE_EQ(twn.acc_mean, 0.92);
  EXPECT_NEAR(twn.acc_std, 0.028284271247461898, 1e-15);  // sqrt(((.02)^2 * 2) / 1)
  EXPECT_EQ(twn.run_keys, (std::vector<std::string>{"a", "b"}));
}

TEST(Markdown, GoldenTable) {
  const auto md = tb::reports::markdown_report(
      tb::reports::summarize({run("a", "twn", 0.90), run("b", "twn", 0.94), run("d", "fp", 0.95)}), "t");
  const std::string expected_table =
      "## mnist\n\n"
      "| model | method | test accuracy (%) | n | sparsity | bits/weight | failed |\n"
      "|---|---|---|---|---|---|---|\n"
      "| mlp | fp | 95.00 (n=1, no std) | 1 | 0.000 | 32.00 | 0 |\n"
      "| mlp | twn | 92.00 ± 2.83 | 2 | 0.500 | 2.00 | 0 |\n"
      "\nRuns behind each row (run_key):\n\n"
      "- mlp / fp: `d`\n"
      "- mlp / twn: `a` `b`\n";
  EXPECT_NE(md.find(expected_table), std::string::npos) << md;
  EXPECT_EQ(md.rfind("# t\n", 0), 0u);
}

TEST(Markdown, EmptyDbSaysSo) {
  EXPECT_NE(tb::reports::markdown_report({}, "t").find("No runs"), std::string::npos);
}
