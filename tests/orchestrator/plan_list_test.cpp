// `plan --list` and `plan --only`: one line per run, and the runs a selection leaves out
// are still the file's.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "support/tmp_dir.hpp"
#include "ternbench/orchestrator/sweep_plan.hpp"
#include "ternbench/storage/metrics_db.hpp"

namespace tb = ternbench;
namespace orch = tb::orchestrator;

namespace {

tb::experiments::Sweep four_runs(const std::vector<std::string>& only = {}) {
  auto sweep = tb::experiments::parse_sweep(
      "[sweep]\nname = \"s\"\n[train]\ndataset = \"mnist\"\nmethod = [\"fp\", \"twn\"]\nseed = [1, 2]\nepochs = 4\n",
      "s.toml", {});
  tb::experiments::select_runs(sweep, only);
  return sweep;
}

void record_done(tb::storage::MetricsDb& db, const tb::experiments::RunSpec& spec) {
  static const std::string kSweep = "s";
  tb::storage::RunRecord r;
  r.run_key = spec.run_key;
  r.sweep = kSweep;
  r.config_toml = spec.canonical_toml;
  r.dataset = spec.train.dataset;
  r.model = spec.train.model;
  r.method = spec.train.method;
  r.status = "done";
  r.attempts = 1;
  r.threads = 1;
  r.epochs_done = 4;
  r.train_seconds = 30.0;
  db.finish_run(r, {});
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST(PlanList, OneLinePerRunWithTheVaryingValuesStateAndCost) {
  tb::testing::TmpDir tmp;
  const auto all = four_runs();
  tb::storage::MetricsDb db(tmp.file("s.sqlite"));
  record_done(db, all.runs[0]);
  const orch::Plan plan = orch::make_plan(all, &db, orch::PlanOptions{});
  const auto lines = lines_of(orch::format_plan_list(all, plan));
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[1], "  " + all.runs[0].run_key + "  method=fp   seed=1  done  skip      30 s");
  // Estimated from the finished run of the same dataset and model.
  EXPECT_EQ(lines[2], "  " + all.runs[1].run_key + "  method=fp   seed=2  new   will run  30 s");
  // Without a finished run, from the static cost model.
  const auto fresh = lines_of(orch::format_plan_list(all, orch::make_plan(all, nullptr, orch::PlanOptions{})));
  ASSERT_EQ(fresh.size(), 5u);
  EXPECT_EQ(fresh[3].substr(0, 56), "  " + all.runs[2].run_key + "  method=twn  seed=1  new  will run  ~");
}

TEST(PlanList, RunsLeftOutByOnlyAreNotGoneFromTheFile) {
  tb::testing::TmpDir tmp;
  tb::storage::MetricsDb db(tmp.file("s.sqlite"));
  for (const auto& spec : four_runs().runs) record_done(db, spec);
  const auto twn = four_runs({"method=twn"});
  ASSERT_EQ(twn.runs.size(), 2u);
  const orch::Plan plan = orch::make_plan(twn, &db, orch::PlanOptions{});
  EXPECT_TRUE(plan.orphans.empty());
  const std::string text = orch::format_plan(twn, tmp.file("s.sqlite"), plan, orch::PlanOptions{});
  EXPECT_NE(text.find("  selected by --only:  2 of 4 runs\n"), std::string::npos) << text;
  const auto lines = lines_of(orch::format_plan_list(twn, plan));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1], "  " + twn.runs[0].run_key + "  seed=1  done  skip  30 s");
}
