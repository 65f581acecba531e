// Read-only opens create nothing beside the DB, whatever state a writer left it in: at rest
// in rollback mode, in WAL mode without a -wal (an older ternbench), with the -wal and -shm of
// a killed writer, or with a -wal alone; and a failed migration of the temporary copy that
// reads an older DB names the user's file.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>

#include "results_fixtures.hpp"
#include "support/tmp_dir.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/storage/metrics_db.hpp"
#include "ternbench/storage/query.hpp"

namespace {

using ternbench::StorageError;
using ternbench::storage::MetricsDb;
using ternbench::storage::run_query;
using ternbench::testing::full_run;
using ternbench::testing::TmpDir;

std::set<std::string> listing(const TmpDir& tmp) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path())) names.insert(e.path().filename().string());
  return names;
}

void exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  const std::string msg = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

// A DB with two finished runs, written and closed by a writer (so at rest).
std::string written_db(const TmpDir& tmp) {
  const std::string path = tmp.file("study.sqlite");
  MetricsDb db(path);
  db.take_writer_lease("ternbench run study.toml");
  db.start_run(full_run("k1"));
  db.start_run(full_run("k2"));
  return path;
}

// A writer killed in the middle of its sweep: it committed k3 to the WAL and never closed, so
// its -wal and -shm stay and the DB file alone lacks k3.
void kill_a_writer_after_k3(const std::string& path) {
  const pid_t child = fork();
  if (child == 0) {
    MetricsDb* db = new MetricsDb(path);  // never destroyed: the process dies holding it
    db->start_run(full_run("k3"));
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_TRUE(std::filesystem::exists(path + "-wal"));
  ASSERT_TRUE(std::filesystem::exists(path + "-shm"));
}

long long runs_seen(const std::string& path) {
  MetricsDb db(path, MetricsDb::Mode::kReadOnly);
  return static_cast<long long>(db.runs().size());
}

TEST(ReadOnlyOpen, ADbAtRestIsOneFileAndReadingItCreatesNothing) {
  TmpDir tmp;
  const std::string path = written_db(tmp);
  const auto before = listing(tmp);
  EXPECT_EQ(before, std::set<std::string>{"study.sqlite"});
  EXPECT_EQ(runs_seen(path), 2);
  EXPECT_EQ(run_query(path, "SELECT count(*) FROM results").rows.at(0).at(0).integer, 2);
  EXPECT_EQ(listing(tmp), before);
}

// What an older ternbench left: WAL mode in the header, no -wal. Opened plainly, SQLite
// would create an empty -wal and -shm and leave them.
TEST(ReadOnlyOpen, AWalDbWithoutItsWalIsReadWithoutCreatingOne) {
  TmpDir tmp;
  const std::string path = written_db(tmp);
  exec(path, "PRAGMA journal_mode = WAL");
  const auto before = listing(tmp);
  ASSERT_EQ(before, std::set<std::string>{"study.sqlite"});
  const std::string hash = ternbench::testing::db_hash(path);
  EXPECT_EQ(runs_seen(path), 2);
  EXPECT_EQ(run_query(path, "SELECT count(*) FROM runs").rows.at(0).at(0).integer, 2);
  EXPECT_EQ(listing(tmp), before);
  EXPECT_EQ(ternbench::testing::db_hash(path), hash);
}

TEST(ReadOnlyOpen, AKilledWritersWalIsReadThroughItsIndex) {
  TmpDir tmp;
  const std::string path = written_db(tmp);
  kill_a_writer_after_k3(path);
  const auto before = listing(tmp);
  EXPECT_EQ(runs_seen(path), 3);
  EXPECT_EQ(listing(tmp), before);
}

// A -wal without its -shm (copied or archived without it): SQLite would create the index
// beside the DB, or fail on a read-only directory. The reader copies both and reads the copy.
TEST(ReadOnlyOpen, AWalWithoutItsIndexIsReadFromACopy) {
  TmpDir tmp;
  const std::string path = written_db(tmp);
  kill_a_writer_after_k3(path);
  std::filesystem::remove(path + "-shm");
  const auto before = listing(tmp);
  const std::string hash = ternbench::testing::db_hash(path);
  EXPECT_EQ(runs_seen(path), 3);  // k3 is only in the WAL
  EXPECT_EQ(run_query(path, "SELECT count(*) FROM results").rows.at(0).at(0).integer, 3);
  EXPECT_EQ(listing(tmp), before);
  EXPECT_EQ(ternbench::testing::db_hash(path), hash);
}

// A DB at rest in rollback mode, then a writer starts: readers follow its WAL live.
TEST(ReadOnlyOpen, AReaderSeesALiveWritersProgress) {
  TmpDir tmp;
  const std::string path = written_db(tmp);
  MetricsDb writer(path);
  writer.take_writer_lease("ternbench run study.toml");
  writer.start_run(full_run("k3"));
  MetricsDb reader(path, MetricsDb::Mode::kReadOnly);
  EXPECT_EQ(reader.runs().size(), 3u);
  writer.start_run(full_run("k4"));
  EXPECT_EQ(reader.runs().size(), 4u);
  ASSERT_TRUE(reader.writer().has_value());
  EXPECT_TRUE(reader.writer()->alive);
}

// The copy that reads an older DB is migrated under the user's file name.
TEST(ReadOnlyOpen, AFailedMigrationOfTheReadCopyNamesTheUsersFile) {
  TmpDir tmp;
  const std::string path = tmp.file("old.sqlite");
  ternbench::testing::load_sql_fixture(path, "results_v2.sql");
  exec(path, "INSERT INTO epochs(run_key, epoch) VALUES('no such run', 1)");  // foreign keys were off
  const std::string hash = ternbench::testing::db_hash(path);
  try {
    MetricsDb db(path, MetricsDb::Mode::kReadOnly);
    ADD_FAILURE() << "opened";
  } catch (const StorageError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(path + ": migration to schema version " + std::to_string(MetricsDb::kSchemaVersion) +
                            " broke foreign keys",
                        0),
              0u)
        << msg;
    EXPECT_EQ(msg.find("ternbench-" + std::to_string(getpid()) + "-"), std::string::npos) << msg;  // the copy's name
    EXPECT_NE(msg.find("from schema 2"), std::string::npos) << msg;
  }
  EXPECT_EQ(ternbench::testing::db_hash(path), hash);
}

}  // namespace
