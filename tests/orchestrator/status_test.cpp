// `ternbench status` with the DB's writer lease: runs left `running` by a writer that is gone
// are stale, not running, and without a live writer there is no ETA.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "ternbench/orchestrator/status.hpp"

namespace {

namespace orch = ternbench::orchestrator;
using ternbench::storage::RunRecord;
using ternbench::storage::WriterInfo;

// Two runs done 10:01 and 10:02 (started 10:00), one running since `running_since`.
std::vector<RunRecord> sweep_with_a_running_run(const std::string& running_since) {
  std::vector<RunRecord> runs(3);
  for (int i = 0; i < 2; ++i) {
    runs[i].status = "done";
    runs[i].started_at = "2026-11-23T10:00:00Z";
    runs[i].finished_at = i == 0 ? "2026-11-23T10:01:00Z" : "2026-11-23T10:02:00Z";
  }
  runs[2].status = "running";
  runs[2].started_at = running_since;
  return runs;
}

WriterInfo writer(bool alive, const std::string& since) {
  WriterInfo w;
  w.command = "ternbench run s.toml";
  w.pid = 42;
  w.host = "n1";
  w.since = since;
  w.heartbeat_age = alive ? 3 : 300;
  w.alive = alive;
  if (!alive) w.gone_because = "no heartbeat for 300 s";
  return w;
}

TEST(Status, ALiveWritersRunIsRunningWithAnEta) {
  const auto runs = sweep_with_a_running_run("2026-11-23T10:02:00Z");
  const std::string line = orch::format_status(runs, 4, "s", writer(true, "2026-11-23T10:00:00Z"));
  EXPECT_EQ(line.rfind("s: 2/4 done, 1 running, 0 failed, ", 0), 0u) << line;
  EXPECT_NE(line.find(", ETA "), std::string::npos) << line;
  EXPECT_EQ(line.find("stale"), std::string::npos) << line;
}

TEST(Status, ADeadWritersRunIsStaleWithoutAnEta) {
  const auto runs = sweep_with_a_running_run("2026-11-23T10:02:00Z");
  EXPECT_EQ(orch::format_status(runs, 4, "s", writer(false, "2026-11-23T10:00:00Z")),
            "s: 2/4 done, 0 running, 0 failed, 60.0 runs/h, 1 stale (left running by `ternbench run s.toml` (pid 42 "
            "on host n1 since 2026-11-23T10:00:00Z, last heartbeat 300 s ago), which is gone: no heartbeat for 300 s; "
            "`ternbench run` trains them again)");
}

TEST(Status, WithoutAWriterARunningRowIsStale) {
  const auto runs = sweep_with_a_running_run("2026-11-23T10:02:00Z");
  EXPECT_EQ(orch::format_status(runs, 4, "s", std::nullopt),
            "s: 2/4 done, 0 running, 0 failed, 60.0 runs/h, 1 stale (left running by a job that ended without "
            "finishing them; no process writes this DB; `ternbench run` trains them again)");
}

// A live writer that took over restarts the dead one's runs in turn; until it starts one,
// the row still has the old start time.
TEST(Status, ARunLeftByAnEarlierWriterIsStaleUnderALiveOne) {
  const auto runs = sweep_with_a_running_run("2026-11-23T10:02:00Z");
  const std::string line = orch::format_status(runs, 4, "s", writer(true, "2026-11-23T10:05:00Z"));
  EXPECT_EQ(line.rfind("s: 2/4 done, 0 running, 0 failed, ", 0), 0u) << line;
  EXPECT_NE(line.find(", ETA "), std::string::npos) << line;  // the live writer works on the rest
  EXPECT_NE(line.find(", 1 stale (left running by an earlier job; this one trains them again)"), std::string::npos)
      << line;
}

}  // namespace
