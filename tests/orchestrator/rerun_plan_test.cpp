// --rerun in the plan: every selected run trains again, those with a result are superseded;
// finished runs of another commit are counted; `status` of a sweep without a DB says 0/N.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "support/tmp_dir.hpp"
#include "ternbench/experiments/params.hpp"
#include "ternbench/orchestrator/status.hpp"
#include "ternbench/orchestrator/sweep_plan.hpp"
#include "ternbench/storage/metrics_db.hpp"
#include "ternbench/storage/query.hpp"

namespace tb = ternbench;
namespace orch = tb::orchestrator;
using tb::storage::RunRecord;

namespace {

tb::experiments::Sweep four_runs() {
  return tb::experiments::parse_sweep(
      "[sweep]\nname = \"s\"\n[train]\ndataset = \"mnist\"\nmethod = [\"fp\", \"twn\"]\nseed = [1, 2]\nepochs = 2\n",
      "s.toml");
}

RunRecord row(const tb::experiments::RunSpec& spec, const std::string& status, const std::string& commit) {
  static const std::string kSweep = "s";
  RunRecord r;
  r.run_key = spec.run_key;
  r.sweep = kSweep;
  r.config_toml = spec.canonical_toml;
  r.dataset = spec.train.dataset;
  r.model = spec.train.model;
  r.method = spec.train.method;
  r.status = status;
  r.git_commit = commit;
  r.attempts = 1;
  return r;
}

}  // namespace

TEST(RerunPlan, EveryRunTrainsAgainAndThoseWithAResultAreSuperseded) {
  tb::testing::TmpDir tmp;
  const auto sweep = four_runs();
  tb::storage::MetricsDb db(tmp.file("s.sqlite"));
  db.finish_run(row(sweep.runs[0], "done", "aaaa"), {});
  db.finish_run(row(sweep.runs[1], "failed", "aaaa"), {});
  db.finish_run(row(sweep.runs[2], "interrupted", "aaaa"), {});  // no result yet: resumes

  orch::PlanOptions opt;
  opt.rerun = true;
  const orch::Plan plan = orch::make_plan(sweep, &db, opt);
  EXPECT_EQ(plan.to_run(), 4);
  std::vector<bool> supersede;
  for (const auto& p : plan.runs) supersede.push_back(p.supersede);
  EXPECT_EQ(supersede, (std::vector<bool>{true, true, false, false}));
  const std::string text = orch::format_plan(sweep, "s.sqlite", plan, opt);
  EXPECT_NE(text.find("to train:           4 (new 1, interrupted or unfinished 1, failed and retried 0, rerun 2)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("rerun:              2 with a result are trained again from scratch"), std::string::npos) << text;

  // Without --rerun the done run stays done: nothing is superseded.
  const orch::Plan plain = orch::make_plan(sweep, &db, {});
  EXPECT_FALSE(plain.runs[0].will_run);
  for (const auto& p : plain.runs) EXPECT_FALSE(p.supersede);
}

TEST(RerunPlan, FinishedRunsOfAnotherCommitAreCountedAndNamed) {
  tb::testing::TmpDir tmp;
  const auto sweep = four_runs();
  tb::storage::MetricsDb db(tmp.file("s.sqlite"));
  db.finish_run(row(sweep.runs[0], "done", "0123456789abcdef0123"), {});
  db.finish_run(row(sweep.runs[1], "diverged", "0123456789abcdef0123"), {});
  db.finish_run(row(sweep.runs[2], "done", "feedbeef"), {});
  db.finish_run(row(sweep.runs[3], "failed", "0123456789abcdef0123"), {});  // no result to doubt

  orch::PlanOptions opt;
  opt.git_commit = "feedbeef";
  const orch::Plan plan = orch::make_plan(sweep, &db, opt);
  ASSERT_EQ(plan.other_commits.size(), 1u);
  EXPECT_EQ(plan.other_commits.at("0123456789abcdef0123"), 2);
  EXPECT_EQ(orch::format_other_commits(plan.other_commits),
            "2 finished runs were trained by another commit than this binary's (0123456789ab 2); "
            "`ternbench run --rerun` trains them again, keeping the old results as superseded");
  EXPECT_NE(orch::format_plan(sweep, "s.sqlite", plan, opt).find("  code version:       2 finished runs were"),
            std::string::npos);
  EXPECT_EQ(orch::format_other_commits({{"abc", 1}}).rfind("1 finished run was trained", 0), 0u);
  // The same commit, or no commit to compare with: no warning.
  opt.git_commit = "";
  EXPECT_TRUE(orch::make_plan(sweep, &db, opt).other_commits.empty());

  const std::string status = orch::format_sweep_status(sweep, tmp.file("s.sqlite"), "feedbeef");
  EXPECT_NE(status.find("\nwarning: 2 finished runs were trained by another commit"), std::string::npos) << status;
  EXPECT_NE(orch::format_sweep_status(sweep, tmp.file("s.sqlite"), "0123456789abcdef0123")
                .find("\nwarning: 1 finished run was trained by another commit than this binary's (feedbeef 1)"),
            std::string::npos);
}

TEST(RerunPlan, StatusOfASweepNotStartedSaysZeroOfN) {
  tb::testing::TmpDir tmp;
  const auto sweep = four_runs();
  EXPECT_EQ(orch::format_sweep_status(sweep, tmp.file("none.sqlite"), "x"),
            "s: 0/4 done, 0 running, 0 failed (not started: no results DB at " + tmp.file("none.sqlite") + " yet)");
  // A DB that other sweeps share: only this sweep's runs count.
  {
    tb::storage::MetricsDb db(tmp.file("shared.sqlite"));
    RunRecord other = row(sweep.runs[0], "done", "x");
    other.run_key = "0000000000000000";
    db.finish_run(other, {});
  }
  EXPECT_EQ(orch::format_sweep_status(sweep, tmp.file("shared.sqlite"), "x").rfind("s: 0/4 done, 0 running", 0), 0u);
}

// Every key a sweep can set (and so sweep over) is a column of the results view, so that a
// grid over it can be grouped by without JSON.
TEST(ResultsView, EveryTrainKeyIsAColumn) {
  tb::testing::TmpDir tmp;
  { tb::storage::MetricsDb db(tmp.file("r.sqlite")); }
  const auto r = tb::storage::run_query(tmp.file("r.sqlite"), "SELECT * FROM results LIMIT 0");
  const std::set<std::string> columns(r.columns.begin(), r.columns.end());
  for (const auto& p : tb::experiments::train_params()) EXPECT_TRUE(columns.count(p.name)) << p.name;
}
