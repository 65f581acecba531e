// The writer lease (table writer): one live writer per DB, a dead holder replaced, a writer
// that lost its lease stops writing, and a closed writer leaves one file in rollback mode.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "results_fixtures.hpp"
#include "support/tmp_dir.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/storage/metrics_db.hpp"

namespace {

using ternbench::ConfigError;
using ternbench::StorageError;
using ternbench::storage::MetricsDb;
using ternbench::storage::WriterInfo;
using ternbench::testing::full_run;
using ternbench::testing::TmpDir;

// Runs SQL on a connection of its own, as another process would; returns the first value.
std::string raw(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db) << ": " << sql;
  std::string out;
  const int rc = sqlite3_step(st);
  EXPECT_TRUE(rc == SQLITE_ROW || rc == SQLITE_DONE) << sqlite3_errmsg(db) << ": " << sql;
  if (rc == SQLITE_ROW && sqlite3_column_text(st, 0) != nullptr) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

std::string host_name() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

// The identity columns a lease of this process has, taken from a real lease.
struct Identity {
  std::string machine;
  std::string process_start;
};
Identity this_process(const std::string& path) {
  MetricsDb db(path);
  db.take_writer_lease("probe");
  return {raw(path, "SELECT machine FROM writer"), raw(path, "SELECT process_start FROM writer")};
}

// A lease row as another holder would have written it; heartbeat `age` seconds ago.
void put_holder(const std::string& path, long long pid, const std::string& machine, const std::string& start,
                int age, const std::string& slurm_job = "", int slurm_restart = 0) {
  raw(path, "INSERT OR REPLACE INTO writer(id, token, command, pid, host, machine, process_start, slurm_job_id, "
            "slurm_restart_count, since, heartbeat_at) VALUES(1, 'theirs', 'ternbench run other.toml', " +
                std::to_string(pid) + ", 'elsewhere', " + (machine.empty() ? "NULL" : "'" + machine + "'") + ", " +
                (start.empty() ? "NULL" : start) + ", " + (slurm_job.empty() ? "NULL" : "'" + slurm_job + "'") + ", " +
                std::to_string(slurm_restart) + ", '2026-01-02T03:04:05Z', strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-" +
                std::to_string(age) + " seconds'))");
}

std::string config_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError";
  return "";
}

// The PID of a process that has ended and been reaped.
pid_t dead_pid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  int status = 0;
  waitpid(child, &status, 0);
  return child;
}

TEST(WriterLease, ASecondWriterIsRefusedNamingTheHolder) {
  TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  MetricsDb first(path);
  EXPECT_EQ(first.take_writer_lease("ternbench run study.toml"), std::nullopt);
  first.start_run(full_run("k1"));
  const std::string before = ternbench::testing::db_hash(path);

  MetricsDb second(path);
  const std::string msg = config_error_of([&] { second.take_writer_lease("ternbench run again.toml"); });
  EXPECT_EQ(msg.rfind(path + ": in use by `ternbench run study.toml` (pid " + std::to_string(getpid()) +
                          " on host " + host_name() + " since ",
                      0),
            0u)
      << msg;
  EXPECT_NE(msg.find("wait for it to finish or stop it"), std::string::npos) << msg;
  EXPECT_EQ(ternbench::testing::db_hash(path), before);  // nothing written

  const std::optional<WriterInfo> w = second.writer();
  ASSERT_TRUE(w.has_value());
  EXPECT_TRUE(w->alive);
  EXPECT_EQ(w->pid, getpid());
  EXPECT_EQ(w->command, "ternbench run study.toml");
  EXPECT_LE(w->heartbeat_age, 1);
}

TEST(WriterLease, ClosingReleasesItAndLeavesOneFileInRollbackMode) {
  TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  {
    MetricsDb db(path);
    db.take_writer_lease("ternbench run study.toml");
    db.start_run(full_run("k1"));
    EXPECT_TRUE(std::filesystem::exists(path + "-wal"));  // WAL while it writes, for live readers
  }
  EXPECT_EQ(raw(path, "SELECT count(*) FROM writer"), "0");
  EXPECT_EQ(raw(path, "PRAGMA journal_mode"), "delete");
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    EXPECT_FALSE(std::filesystem::exists(path + suffix)) << suffix;
  }
  MetricsDb next(path);
  EXPECT_EQ(next.take_writer_lease("ternbench run study.toml"), std::nullopt);
}

TEST(WriterLease, ADeadHolderOnThisMachineIsReplacedAtOnce) {
  TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  const Identity me = this_process(path);
  ASSERT_FALSE(me.machine.empty());
  ASSERT_FALSE(me.process_start.empty());

  const pid_t gone = dead_pid();
  put_holder(path, gone, me.machine, me.process_start, 1);
  {
    MetricsDb db(path);
    const auto replaced = db.take_writer_lease("ternbench run study.toml");
    ASSERT_TRUE(replaced.has_value());
    EXPECT_FALSE(replaced->alive);
    EXPECT_EQ(replaced->gone_because, "process " + std::to_string(gone) + " is gone");
    EXPECT_EQ(replaced->command, "ternbench run other.toml");
  }
  // A later process with the holder's PID is not the holder: its start time differs.
  put_holder(path, getpid(), me.machine, std::to_string(std::stoll(me.process_start) - 1), 1);
  {
    MetricsDb db(path);
    const auto replaced = db.take_writer_lease("ternbench run study.toml");
    ASSERT_TRUE(replaced.has_value());
    EXPECT_EQ(replaced->gone_because, "process " + std::to_string(getpid()) + " is gone");
  }
  // The holder itself, alive, with a heartbeat too old to count elsewhere: still the holder.
  put_holder(path, getpid(), me.machine, me.process_start, 3600);
  MetricsDb db(path);
  EXPECT_NE(config_error_of([&] { db.take_writer_lease("x"); }).find("in use by"), std::string::npos);
}

TEST(WriterLease, AHolderOnAnotherMachineLivesAsLongAsItsHeartbeat) {
  TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  { MetricsDb create(path); }
  put_holder(path, 4242, "another boot", "77", 30);
  {
    MetricsDb db(path);
    const std::string msg = config_error_of([&] { db.take_writer_lease("x"); });
    EXPECT_NE(msg.find("(pid 4242 on host elsewhere since 2026-01-02T03:04:05Z, last heartbeat 3"), std::string::npos)
        << msg;
    ASSERT_TRUE(db.writer().has_value());
    EXPECT_NEAR(static_cast<double>(db.writer()->heartbeat_age), 30.0, 1.0);  // a second may tick meanwhile
  }
  const int expired = MetricsDb::kLeaseExpirySeconds + 1;
  put_holder(path, 4242, "another boot", "77", expired);
  MetricsDb db(path);
  const auto replaced = db.take_writer_lease("x");
  ASSERT_TRUE(replaced.has_value());
  EXPECT_FALSE(replaced->alive);
  EXPECT_EQ(replaced->gone_because, "no heartbeat for " + std::to_string(replaced->heartbeat_age) + " s");
  EXPECT_NEAR(static_cast<double>(replaced->heartbeat_age), expired, 1.0);
}

// Slurm starts a requeued job only after its previous start has ended everywhere.
TEST(WriterLease, TheSameSlurmJobRequeuedReplacesItsEarlierStart) {
  TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  { MetricsDb create(path); }
  ASSERT_EQ(setenv("SLURM_JOB_ID", "991", 1), 0);
  ASSERT_EQ(setenv("SLURM_RESTART_COUNT", "2", 1), 0);
  put_holder(path, 4242, "node7 boot", "77", 5, "991", 2);  // a live step of this very start
  {
    MetricsDb db(path);
    EXPECT_NE(config_error_of([&] { db.take_writer_lease("x"); }).find("in use by"), std::string::npos);
  }
  put_holder(path, 4242, "node7 boot", "77", 5, "991", 1);
  {
    MetricsDb db(path);
    const auto replaced = db.take_writer_lease("x");
    ASSERT_TRUE(replaced.has_value());
    EXPECT_EQ(replaced->gone_because, "its Slurm job 991 has been requeued since");
    EXPECT_EQ(raw(path, "SELECT slurm_job_id || '/' || slurm_restart_count FROM writer"), "991/2");
  }
  unsetenv("SLURM_JOB_ID");
  unsetenv("SLURM_RESTART_COUNT");
}

// Fencing: once another process has the lease, this one's writes fail, even inside a
// transaction that began before.
TEST(WriterLease, AWriterThatLostTheLeaseWritesNothing) {
  TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  MetricsDb db(path);
  db.take_writer_lease("ternbench run study.toml");
  db.start_run(full_run("k1"));
  put_holder(path, 4242, "another boot", "77", 0);
  try {
    db.start_run(full_run("k2"));
    ADD_FAILURE() << "wrote without the lease";
  } catch (const StorageError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(path + ": this process no longer holds the DB's writer lease (it is now "
                               "`ternbench run other.toml` (pid 4242 on host elsewhere",
                        0),
              0u)
        << msg;
  }
  EXPECT_EQ(db.status("k2"), std::nullopt);
  EXPECT_EQ(db.status("k1"), std::optional<std::string>("done"));
  EXPECT_THROW(db.add_stage({}), StorageError);
}

TEST(WriterLease, TheHeartbeatKeepsItFresh) {
  TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  MetricsDb db(path);
  db.take_writer_lease("ternbench run study.toml", /*heartbeat_seconds=*/1);
  raw(path, "UPDATE writer SET heartbeat_at = '2000-01-01T00:00:00Z'");
  std::string at = "2000-01-01T00:00:00Z";
  for (int i = 0; i < 50 && at == "2000-01-01T00:00:00Z"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    at = raw(path, "SELECT heartbeat_at FROM writer");
  }
  EXPECT_NE(at, "2000-01-01T00:00:00Z");
  ASSERT_TRUE(db.writer().has_value());
  EXPECT_LE(db.writer()->heartbeat_age, 2);
}

TEST(WriterLease, ADirectoryIsRefusedAsBadInputNamingIt) {
  TmpDir tmp;
  const std::string dir = tmp.file("results");
  std::filesystem::create_directories(dir);
  for (const auto mode : {MetricsDb::Mode::kReadWrite, MetricsDb::Mode::kReadOnly}) {
    const std::string msg = config_error_of([&] { MetricsDb db(dir, mode); });
    EXPECT_EQ(msg.rfind(dir + ": is a directory, not a results DB file; give --db", 0), 0u) << msg;
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir));
}

}  // namespace
