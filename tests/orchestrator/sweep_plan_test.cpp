#include "ternbench/orchestrator/sweep_plan.hpp"

#include <gtest/gtest.h>

#include "support/tmp_dir.hpp"
#include "ternbench/orchestrator/progress.hpp"
#include "ternbench/orchestrator/status.hpp"
#include "ternbench/storage/metrics_db.hpp"

namespace tb = ternbench;
namespace orch = tb::orchestrator;
using tb::storage::RunRecord;

namespace {

tb::experiments::Sweep six_runs() {
  return tb::experiments::parse_sweep(
      "[sweep]\nname = \"s\"\n[train]\ndataset = \"mnist\"\nmethod = [\"fp\", \"twn\"]\nseed = [1, 2, 3]\nepochs = 4\n",
      "s.toml");
}

RunRecord record(const tb::experiments::RunSpec& spec, const std::string& status, int attempts) {
  static const std::string kSweep = "s";  // assigned from a std::string: GCC 12 false -Wrestrict on a literal
  RunRecord r;
  r.run_key = spec.run_key;
  r.sweep = kSweep;
  r.config_toml = spec.canonical_toml;
  r.dataset = spec.train.dataset;
  r.model = spec.train.model;
  r.method = spec.train.method;
  r.status = status;
  r.attempts = attempts;
  r.threads = 1;
  r.epochs_done = status == "done" ? 4 : 0;
  r.train_seconds = status == "done" ? 8.0 : 0.0;
  return r;
}

}  // namespace

TEST(SweepPlan, ClassifiesEveryRunByItsStatus) {
  tb::testing::TmpDir tmp;
  const auto sweep = six_runs();
  ASSERT_EQ(sweep.runs.size(), 6u);
  tb::storage::MetricsDb db(tmp.file("s.sqlite"));
  db.finish_run(record(sweep.runs[0], "done", 1), {});
  db.finish_run(record(sweep.runs[1], "diverged", 1), {});
  db.finish_run(record(sweep.runs[2], "failed", 1), {});  // retried: 1 < 3 attempts
  db.finish_run(record(sweep.runs[3], "failed", 3), {});  // exhausted
  db.finish_run(record(sweep.runs[4], "interrupted", 1), {});
  RunRecord orphan = record(sweep.runs[0], "done", 1);
  orphan.run_key = "0000000000000000";
  db.finish_run(orphan, {});

  const orch::Plan plan = orch::make_plan(sweep, &db, orch::PlanOptions{});
  std::vector<bool> will;
  for (const auto& p : plan.runs) will.push_back(p.will_run);
  EXPECT_EQ(will, (std::vector<bool>{false, false, true, false, true, true}));
  EXPECT_EQ(plan.count("new"), 1);
  EXPECT_EQ(plan.to_run(), 3);
  ASSERT_EQ(plan.orphans.size(), 1u);
  EXPECT_EQ(plan.orphans[0].run_key, "0000000000000000");

  // fp seed 1 took 8 s for 4 epochs: every fp run to do is estimated at 8 CPU-seconds.
  EXPECT_DOUBLE_EQ(plan.runs[2].estimate_seconds, 8.0);
  int unknown = -1;
  plan.estimated_cpu_hours(&unknown);
  EXPECT_EQ(unknown, 0);  // twn runs fall back to the (dataset, model) average

  orch::PlanOptions retry;
  retry.retry_failed = true;
  EXPECT_TRUE(orch::make_plan(sweep, &db, retry).runs[3].will_run);

  const std::string text = orch::format_plan(sweep, "s.sqlite", plan, orch::PlanOptions{});
  EXPECT_NE(text.find("to train:           3 (new 1, interrupted or unfinished 1, failed and retried 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("in the DB but no longer in the file: 1"), std::string::npos) << text;
}

TEST(SweepPlan, WithoutADbEveryRunIsNew) {
  const auto sweep = six_runs();
  const orch::Plan plan = orch::make_plan(sweep, nullptr, {});
  EXPECT_EQ(plan.to_run(), 6);
  EXPECT_NE(orch::format_plan(sweep, "x", plan, {}).find("estimate:           none yet"), std::string::npos);
}

TEST(Progress, SummaryLineHasCountsThroughputAndEta) {
  orch::ProgressCounts c;
  c.total = 10;
  c.done = 4;
  c.failed = 1;
  c.running = 2;
  c.elapsed_seconds = 50;  // 5 finished in 50 s -> 360 runs/h, 5 left -> 50 s
  EXPECT_EQ(orch::format_progress(c), "4/10 done, 2 running, 1 failed, 360.0 runs/h, ETA 50 s");
  c.elapsed_seconds = 3000;
  EXPECT_EQ(orch::format_progress(c), "4/10 done, 2 running, 1 failed, 6.0 runs/h, ETA 50 min");
}

TEST(Status, CountsFromTheDbTimestamps) {
  std::vector<RunRecord> runs(3);
  runs[0].status = "done";
  runs[0].started_at = "2026-11-23T10:00:00Z";
  runs[0].finished_at = "2026-11-23T10:01:00Z";
  runs[1].status = "done";
  runs[1].started_at = "2026-11-23T10:00:00Z";
  runs[1].finished_at = "2026-11-23T10:02:00Z";
  runs[2].status = "interrupted";
  EXPECT_EQ(orch::format_status(runs, 4, "s"), "s: 2/4 done, 0 running, 0 failed, 60.0 runs/h, ETA 2 min, 1 interrupted");
  EXPECT_EQ(orch::parse_utc("2026-11-23T10:00:00Z") + 60, orch::parse_utc("2026-11-23T10:01:00Z"));
  EXPECT_EQ(orch::parse_utc("yesterday"), -1);
}
