#include "ternbench/orchestrator/sweep_plan.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "support/tmp_dir.hpp"
#include "ternbench/base/error.hpp"
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

// A config_error run is not retried automatically, but --retry-failed re-queues it: what
// refused it (a ternbench bug, an environment failure an older version recorded as a config
// error) may be gone. plan says so where it counts them.
TEST(SweepPlan, RetryFailedRequeuesConfigErrors) {
  tb::testing::TmpDir tmp;
  const auto sweep = six_runs();
  tb::storage::MetricsDb db(tmp.file("s.sqlite"));
  for (std::size_t i = 0; i < 4; ++i) db.finish_run(record(sweep.runs[i], "done", 1), {});
  db.finish_run(record(sweep.runs[4], "config_error", 1), {});
  db.finish_run(record(sweep.runs[5], "failed", 3), {});

  const orch::Plan plan = orch::make_plan(sweep, &db, orch::PlanOptions{});
  EXPECT_EQ(plan.to_run(), 0);
  const std::string text = orch::format_plan(sweep, "s.sqlite", plan, orch::PlanOptions{});
  EXPECT_NE(text.find("failed, not retried: 1 (attempts >= 3; --retry-failed re-queues them)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("config errors:      1 (not retried; fix the sweep file, or --retry-failed re-queues them)"),
            std::string::npos)
      << text;

  orch::PlanOptions retry;
  retry.retry_failed = true;
  const orch::Plan again = orch::make_plan(sweep, &db, retry);
  EXPECT_TRUE(again.runs[4].will_run);
  EXPECT_TRUE(again.runs[5].will_run);
  const std::string retried = orch::format_plan(sweep, "s.sqlite", again, retry);
  EXPECT_NE(retried.find("to train:           2 (new 0, interrupted or unfinished 0, failed and retried 2)"),
            std::string::npos)
      << retried;
  EXPECT_NE(retried.find("config errors:      0"), std::string::npos) << retried;
}

TEST(SweepPlan, WithoutADbEveryRunIsNew) {
  const auto sweep = six_runs();
  const orch::Plan plan = orch::make_plan(sweep, nullptr, {});
  EXPECT_EQ(plan.to_run(), 6);
  // No finished run to measure by: the cost model's guess, never "none".
  const std::string text = orch::format_plan(sweep, "x", plan, {});
  EXPECT_NE(text.find("estimate:           about "), std::string::npos) << text;
  EXPECT_NE(text.find(" CPU-hours for 6 runs, from the cost model alone"), std::string::npos) << text;
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

TEST(SweepPlan, StaticCostGrowsWithModelImagesAndEpochs) {
  tb::core::TrainConfig small;
  small.model = "custom";
  small.layers = {tb::core::parse_layer_spec("dense(10)")};
  small.train_limit = 100;
  small.test_limit = 100;
  small.epochs = 1;
  tb::core::TrainConfig wide = small;
  wide.layers = {tb::core::parse_layer_spec("dense(100)"), tb::core::parse_layer_spec("relu"),
                 tb::core::parse_layer_spec("dense(10)")};
  tb::core::TrainConfig longer = small;
  longer.epochs = 4;
  tb::core::TrainConfig more_data = small;
  more_data.train_limit = 1000;
  const double base = orch::static_cost_seconds(small);
  EXPECT_GT(base, 0);
  // dense(10) on 784 inputs: 7,840 multiply-adds per image; (3 x 100 + 100) images.
  EXPECT_NEAR(base, 7840.0 * 400 / 2e9, 1e-12);
  EXPECT_DOUBLE_EQ(orch::static_cost_seconds(longer), 4 * base);
  EXPECT_GT(orch::static_cost_seconds(more_data), 7 * base);
  EXPECT_GT(orch::static_cost_seconds(wide), 10 * base);
  // A conv layer costs per output pixel: lenet5 is far above its parameter count.
  tb::core::TrainConfig lenet5;
  lenet5.model = "lenet5";
  tb::core::TrainConfig lenet300;
  lenet300.model = "lenet300";
  EXPECT_GT(orch::static_cost_seconds(lenet5), orch::static_cost_seconds(lenet300));
  // Every epoch of the run counts: SCA's fine-tune and Faraone's retraining too.
  tb::core::TrainConfig sca = small;
  sca.method = "sca";
  sca.sca_finetune_epochs = 2;
  EXPECT_DOUBLE_EQ(orch::static_cost_seconds(sca), 3 * base);
  tb::core::TrainConfig faraone = small;
  faraone.method = "faraone";  // stage 3 defaults to `epochs` more
  EXPECT_DOUBLE_EQ(orch::static_cost_seconds(faraone), 2 * base);
}

TEST(SweepPlan, CostIsTheMeasuredEstimateElseTheCalibratedStaticCost) {
  tb::testing::TmpDir tmp;
  const auto sweep = tb::experiments::parse_sweep(
      "[sweep]\nname = \"s\"\n[train]\ndataset = \"mnist\"\nseed = [1, 2]\nepochs = 4\n"
      "[[train.block]]\nmethod = \"fp\"\n"
      "[[train.block]]\nmethod = \"fp\"\nmodel = \"lenet300\"\n",
      "s.toml");
  ASSERT_EQ(sweep.runs.size(), 4u);
  // Without a DB: the static cost at the assumed speed.
  const orch::Plan fresh = orch::make_plan(sweep, nullptr, {});
  EXPECT_EQ(fresh.runs[0].estimate_seconds, -1);
  EXPECT_DOUBLE_EQ(fresh.runs[0].cost_seconds, orch::static_cost_seconds(sweep.runs[0].train));

  tb::storage::MetricsDb db(tmp.file("s.sqlite"));
  db.finish_run(record(sweep.runs[0], "done", 1), {});  // mlp fp: 8 s for 4 epochs
  const orch::Plan plan = orch::make_plan(sweep, &db, {});
  EXPECT_DOUBLE_EQ(plan.runs[1].estimate_seconds, 8.0);
  EXPECT_DOUBLE_EQ(plan.runs[1].cost_seconds, 8.0);
  // lenet300 has no similar finished run: its static cost scaled by mlp's measured/static ratio.
  EXPECT_EQ(plan.runs[2].estimate_seconds, -1);
  const double ratio = 8.0 / orch::static_cost_seconds(sweep.runs[0].train);
  EXPECT_NEAR(plan.runs[2].cost_seconds, ratio * orch::static_cost_seconds(sweep.runs[2].train), 1e-9);
  EXPECT_LT(plan.runs[2].cost_seconds, plan.runs[1].cost_seconds);  // lenet300 is smaller than mlp
  const auto costs = orch::expected_costs(plan);
  EXPECT_EQ(costs.size(), 3u);  // the done run is not handed out
  EXPECT_EQ(costs.count(sweep.runs[0].run_key), 0u);
  EXPECT_DOUBLE_EQ(costs.at(sweep.runs[1].run_key), 8.0);
}

TEST(SweepPlan, SaysHowManyRunsTwoBlocksShared) {
  const auto sweep = tb::experiments::parse_sweep(
      "[sweep]\nname = \"s\"\n[train]\ndataset = \"mnist\"\nmethod = \"fp\"\n"
      "[[train.block]]\nseed = [1, 2, 3]\n[[train.block]]\nseed = [2, 3, 4]\n",
      "s.toml");
  const std::string text = orch::format_plan(sweep, "x", orch::make_plan(sweep, nullptr, {}), {});
  EXPECT_NE(text.find("runs in the file:   4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("blocks:             2; 2 duplicates across blocks, run once"), std::string::npos) << text;
  const std::string plain = orch::format_plan(six_runs(), "x", orch::make_plan(six_runs(), nullptr, {}), {});
  EXPECT_EQ(plain.find("blocks:"), std::string::npos) << plain;
}

TEST(Progress, LiveLineOnlyOnATerminalOutsideALauncher) {
  using orch::ProgressStyle;
  EXPECT_EQ(orch::progress_style(true, false, nullptr), ProgressStyle::kLive);
  EXPECT_EQ(orch::progress_style(true, true, nullptr), ProgressStyle::kLines);  // mpirun gives ranks a pty
  EXPECT_EQ(orch::progress_style(false, false, nullptr), ProgressStyle::kLines);
  EXPECT_EQ(orch::progress_style(false, false, ""), ProgressStyle::kLines);
  EXPECT_EQ(orch::progress_style(true, true, "live"), ProgressStyle::kLive);
  EXPECT_EQ(orch::progress_style(false, true, "live"), ProgressStyle::kLive);
  EXPECT_EQ(orch::progress_style(true, false, "lines"), ProgressStyle::kLines);
  try {
    orch::progress_style(true, false, "fancy");
    FAIL() << "accepted TERNBENCH_PROGRESS=fancy";
  } catch (const tb::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "environment: TERNBENCH_PROGRESS: unknown value \"fancy\"; use live or lines, or unset it");
  }
}

TEST(Progress, LauncherIsSeenInTheEnvironment) {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "SLURM_STEP_ID"}) {
    if (std::getenv(var) != nullptr) GTEST_SKIP() << "the test itself runs under a launcher (" << var << ")";
  }
  EXPECT_FALSE(orch::started_by_launcher());
  ::setenv("OMPI_COMM_WORLD_SIZE", "1", 1);  // mpirun -np 1 is a launch too
  EXPECT_TRUE(orch::started_by_launcher());
  ::unsetenv("OMPI_COMM_WORLD_SIZE");
  ::setenv("SLURM_STEP_ID", "0", 1);
  EXPECT_TRUE(orch::started_by_launcher());
  ::unsetenv("SLURM_STEP_ID");
}

// What a log receives: no carriage return or escape code unless the live line was asked for.
TEST(Progress, WritesPlainLinesOrTheLiveLineAsTheEnvironmentSays) {
  tb::testing::TmpDir tmp;
  auto output_with = [&](const char* env) {
    if (env) ::setenv("TERNBENCH_PROGRESS", env, 1);
    else ::unsetenv("TERNBENCH_PROGRESS");
    const std::string path = tmp.file(std::string("out-") + (env ? env : "unset") + ".txt");
    std::FILE* f = std::fopen(path.c_str(), "w+");
    {
      orch::Progress p(2, f, 0);
      p.started("k1", 3);
      p.finished("k1", true, "run 1 done");
    }
    std::fclose(f);
    ::unsetenv("TERNBENCH_PROGRESS");
    std::FILE* in = std::fopen(path.c_str(), "r");
    std::string text;
    char buf[512];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, in)) > 0) text.append(buf, n);
    std::fclose(in);
    return text;
  };
  EXPECT_EQ(output_with(nullptr), "run 1 done\n");  // a file is not a terminal
  EXPECT_EQ(output_with("lines"), "run 1 done\n");
  const std::string live = output_with("live");
  EXPECT_NE(live.find("\r\033[K[1/2 done, 0 running, 0 failed"), std::string::npos) << live;
  EXPECT_NE(live.find("run 1 done\n"), std::string::npos) << live;
}
