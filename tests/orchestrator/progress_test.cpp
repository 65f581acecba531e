// What the progress display says while a sweep trains: the epoch of each running run,
// elapsed time, an ETA from the cost model before any run has finished, plural forms, run
// lines that name the swept keys, and lines printed above the live line, never over it.
#include "ternbench/orchestrator/progress.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "support/tmp_dir.hpp"
#include "ternbench/base/log.hpp"
#include "ternbench/orchestrator/run_labels.hpp"

namespace tb = ternbench;
namespace orch = tb::orchestrator;

TEST(Progress, PluralFormsAndDurations) {
  EXPECT_EQ(orch::plural(0, "run"), "0 runs");
  EXPECT_EQ(orch::plural(1, "run"), "1 run");
  EXPECT_EQ(orch::plural(2, "worker"), "2 workers");
  EXPECT_EQ(orch::plural(1, "config error"), "1 config error");
  EXPECT_EQ(orch::format_duration(42.4), "42 s");
  EXPECT_EQ(orch::format_duration(600), "10 min");
  EXPECT_EQ(orch::format_duration(5400), "90 min");
  EXPECT_EQ(orch::format_duration(9000), "2.5 h");
}

TEST(Progress, LineShowsEachRunningRunsEpochElapsedAndTheCostModelEta) {
  orch::ProgressCounts c;
  c.total = 4;
  c.running = 2;
  c.running_epochs = {{2, 5}, {0, 3}};
  c.elapsed_seconds = 80;
  c.show_elapsed = true;
  c.eta_seconds = 600;  // no run finished: the cost model's
  EXPECT_EQ(orch::format_progress(c), "0/4 done, 2 running (epoch 2/5, 0/3), 0 failed, 80 s elapsed, ETA 10 min");
  c.running_epochs.assign(6, {1, 2});  // a long line is cut
  c.running = 6;
  c.total = 6;
  EXPECT_EQ(orch::format_progress(c),
            "0/6 done, 6 running (epoch 1/2, 1/2, 1/2, 1/2, ...), 0 failed, 80 s elapsed, ETA 10 min");
  c.progressing = false;
  EXPECT_EQ(orch::format_progress(c).find("ETA"), std::string::npos);
}

TEST(Progress, EtaFromTheCostModelBeforeAnyRunFinishes) {
  // Three runs of 10 s expected, none started: 30 s on one worker, 15 s on two.
  std::vector<orch::RunCost> runs = {{10, 0, 0}, {10, 0, 0}, {10, 0, 0}};
  EXPECT_DOUBLE_EQ(orch::eta_from_costs(runs, 1), 30);
  EXPECT_DOUBLE_EQ(orch::eta_from_costs(runs, 2), 15);
  // The first run is half done after 10 s, twice the 5 s expected: the model's speed is
  // corrected, (5 + 10 + 10) x 2 left.
  runs[0] = {10, 0.5, 10};
  EXPECT_DOUBLE_EQ(orch::eta_from_costs(runs, 1), 50);
  // A finished run counts the same way.
  runs[0] = {10, 1, 5};
  EXPECT_DOUBLE_EQ(orch::eta_from_costs(runs, 1), 10);
  EXPECT_DOUBLE_EQ(orch::eta_from_costs({}, 1), -1);
}

namespace {
std::string read_all(const std::string& path) {
  std::FILE* in = std::fopen(path.c_str(), "r");
  std::string text;
  char buf[512];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, in)) > 0) text.append(buf, n);
  std::fclose(in);
  return text;
}
}  // namespace

// The live line as a terminal receives it: every other line is written after clearing it,
// so that nothing is appended to it, and it is drawn again below.
TEST(Progress, LiveLineShowsEpochsAndOtherLinesGoAboveIt) {
  tb::testing::TmpDir tmp;
  ::setenv("TERNBENCH_PROGRESS", "live", 1);
  const std::string path = tmp.file("live.txt");
  std::FILE* f = std::fopen(path.c_str(), "w+");
  {
    orch::Progress p(2, f, 0);
    p.expect({{"k1", 10.0}, {"k2", 10.0}}, 1);
    p.started("k1", 3);
    p.epoch("k1");
    p.message(f, "a warning");
    p.finished("k1", true, "[1/2] mnist mlp fp seed=1 lr=0.1: done");
  }
  std::fclose(f);
  ::unsetenv("TERNBENCH_PROGRESS");
  const std::string text = read_all(path);
  const std::size_t epoch = text.find("\r\033[K[0/2 done, 1 running (epoch 1/3), 0 failed, ");
  ASSERT_NE(epoch, std::string::npos) << text;
  EXPECT_NE(text.find(", ETA ", epoch), std::string::npos) << text;  // before any run finished
  EXPECT_NE(text.find("]\r\033[Ka warning\n"), std::string::npos) << text;
  EXPECT_NE(text.find("]\r\033[K[1/2] mnist mlp fp seed=1 lr=0.1: done\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\r\033[K[1/2 done, 0 running, 0 failed"), std::string::npos) << text;
}

TEST(Progress, LogLinesGoAboveTheLiveLineWhileItIsShown) {
  tb::testing::TmpDir tmp;
  ::setenv("TERNBENCH_PROGRESS", "live", 1);
  const std::string path = tmp.file("log.txt");
  std::FILE* f = std::fopen(path.c_str(), "w+");
  {
    orch::Progress p(1, f, 0);
    p.started("k1", 2);
    // Progress::message writes log lines to stderr; the clearing goes to the live line's stream.
    tb::log_info("resuming from its checkpoint");
  }
  std::fclose(f);
  ::unsetenv("TERNBENCH_PROGRESS");
  const std::string text = read_all(path);
  // Cleared, the log line goes to stderr, and the live line is drawn again.
  EXPECT_NE(text.find("(epoch 0/2), 0 failed, 0 s elapsed]\r\033[K\r\033[K[0/1 done"), std::string::npos) << text;
}

TEST(RunLabels, AGridNamesTheKeysThatDifferBetweenItsRuns) {
  const auto sweep = tb::experiments::parse_sweep(
      "[sweep]\nname = \"g\"\n[train]\ndataset = \"mnist\"\nmethod = \"fp\"\nlr = [0.1, 0.2]\n"
      "momentum = [0.5, 0.9]\nlr_schedule = \"cosine\"\n",
      "g.toml");
  ASSERT_EQ(sweep.runs.size(), 4u);
  const auto keys = orch::distinguishing_keys(sweep.runs);
  EXPECT_EQ(orch::run_label(sweep.runs[0], keys.at(sweep.runs[0].run_key)), "mnist mlp fp seed=1 lr=0.1 momentum=0.5");
  EXPECT_EQ(orch::run_label(sweep.runs[3], keys.at(sweep.runs[3].run_key)), "mnist mlp fp seed=1 lr=0.2 momentum=0.9");
  // Keys every run shares, and dataset, model, method and seed, are not repeated.
  const auto seeds = tb::experiments::parse_sweep(
      "[sweep]\nname = \"s\"\n[train]\ndataset = \"mnist\"\nmethod = [\"fp\", \"twn\"]\nseed = [1, 2]\n", "s.toml");
  for (const auto& [key, label] : orch::distinguishing_keys(seeds.runs)) EXPECT_EQ(label, "") << key;
}
