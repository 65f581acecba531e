// `ternbench query` bounds: rows stream to a sink while the statement runs, and the row, time
// and heap limits stop a runaway statement; functions with side effects are refused.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "results_fixtures.hpp"
#include "support/tmp_dir.hpp"
#include "ternbench/storage/metrics_db.hpp"
#include "ternbench/storage/query.hpp"

namespace {

using ternbench::storage::MetricsDb;
using ternbench::storage::QueryError;
using ternbench::storage::QueryLimitError;
using ternbench::storage::QueryLimits;
using ternbench::storage::ReadOnlyDb;
using ternbench::storage::RowSink;
using ternbench::storage::SqlValue;
using ternbench::testing::db_hash;
using ternbench::testing::full_run;
using ternbench::testing::TmpDir;
using Limit = QueryLimitError::Limit;

const char* const kEndless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) ";

std::string make_db(const TmpDir& tmp) {
  const std::string path = tmp.file("study.sqlite");
  MetricsDb db(path);
  db.finish_run(full_run("k1", "fp", 1), {});
  db.finish_run(full_run("k2", "twn", 2), {});
  db.finish_run(full_run("k3", "ttq", 3), {});
  return path;
}

// Records what it is given; throws Enough after `stop_after` rows when that is set.
struct Enough {};
class Recorder : public RowSink {
 public:
  explicit Recorder(std::int64_t stop_after = 0) : stop_after_(stop_after) {}
  void begin(const std::vector<std::string>& c) override { columns = c; }
  void row(const std::vector<SqlValue>& values) override {
    rows.push_back(values);
    if (stop_after_ > 0 && static_cast<std::int64_t>(rows.size()) == stop_after_) throw Enough{};
  }
  void end(bool complete) override {
    ++ends;
    completed = complete;
  }
  std::vector<std::string> columns;
  std::vector<std::vector<SqlValue>> rows;
  int ends = 0;
  bool completed = false;

 private:
  std::int64_t stop_after_;
};

QueryLimits no_limits() { return {0, 0, 0}; }

// Runs sql under `limits`, expecting a QueryLimitError; returns it (or fails the test).
QueryLimitError limit_error_of(const ReadOnlyDb& db, const std::string& sql, const QueryLimits& limits,
                               Recorder* sink) {
  try {
    db.stream(sql, {}, *sink, limits);
  } catch (const QueryLimitError& e) {
    return e;
  }
  ADD_FAILURE() << "no QueryLimitError for " << sql;
  return QueryLimitError(Limit::kRows, "");
}

TEST(QueryStream, RowsReachTheSinkWhileTheStatementRuns) {
  TmpDir tmp;
  const ReadOnlyDb db(make_db(tmp));
  // An endless result: were rows collected before being handed over, the sink would never
  // see one (and the 60 s limit would end the test instead).
  Recorder sink(1000);
  QueryLimits limits = no_limits();
  limits.timeout_seconds = 60;
  EXPECT_THROW(db.stream(std::string(kEndless) + "SELECT i, 'x' AS t FROM n", {}, sink, limits), Enough);
  ASSERT_EQ(sink.rows.size(), 1000u);
  EXPECT_EQ(sink.columns, (std::vector<std::string>{"i", "t"}));
  EXPECT_EQ(sink.rows[999][0], SqlValue::of_integer(1000));
  EXPECT_EQ(sink.ends, 0);
  // The connection is fine afterwards.
  EXPECT_EQ(db.query("SELECT count(*) FROM runs").rows.at(0).at(0), SqlValue::of_integer(3));
}

TEST(QueryStream, AnErrorAfterSomeRowsKeepsThemAndMarksNoEnd) {
  TmpDir tmp;
  const ReadOnlyDb db(make_db(tmp));
  Recorder sink;
  // abs() of the smallest integer overflows at run time, on the third row.
  const std::string sql = std::string(kEndless) +
                          "SELECT CASE WHEN i < 3 THEN i ELSE abs(-9223372036854775807 - 1) END FROM n LIMIT 5";
  try {
    db.stream(sql, {}, sink, no_limits());
    ADD_FAILURE() << "no error";
  } catch (const QueryLimitError& e) {
    ADD_FAILURE() << e.what();
  } catch (const QueryError& e) {
    EXPECT_NE(std::string(e.what()).find("integer overflow"), std::string::npos) << e.what();
  }
  EXPECT_EQ(sink.rows.size(), 2u);
  EXPECT_EQ(sink.ends, 1);
  EXPECT_FALSE(sink.completed);
}

TEST(QueryStream, ReturnsTheRowCountAndEndsComplete) {
  TmpDir tmp;
  const ReadOnlyDb db(make_db(tmp));
  Recorder sink;
  EXPECT_EQ(db.stream("SELECT run_key, method FROM results ORDER BY run_key", {{"method", "twn"}}, sink), 1);
  EXPECT_EQ(sink.ends, 1);
  EXPECT_TRUE(sink.completed);
  ASSERT_EQ(sink.rows.size(), 1u);
  EXPECT_EQ(sink.rows[0][0], SqlValue::of_text("k2"));
}

TEST(QueryLimits, DefaultsLeaveRoomForABigSweep) {
  const QueryLimits d;
  EXPECT_GE(d.max_rows, 10'000'000);
  EXPECT_GE(d.timeout_seconds, 60);
  EXPECT_GE(d.max_memory_mib, 512);
}

TEST(QueryLimits, RowLimitStopsAfterThatManyRows) {
  TmpDir tmp;
  const ReadOnlyDb db(make_db(tmp));
  QueryLimits limits = no_limits();
  limits.max_rows = 2;
  Recorder sink;
  const std::string sql = "SELECT run_key FROM runs ORDER BY run_key";
  const QueryLimitError e = limit_error_of(db, sql, limits, &sink);
  EXPECT_EQ(e.limit(), Limit::kRows);
  EXPECT_EQ(std::string(e.what()), "query: stopped at the row limit (2 rows) in \"" + sql + "\"");
  ASSERT_EQ(sink.rows.size(), 2u);
  EXPECT_EQ(sink.rows[1][0], SqlValue::of_text("k2"));
  EXPECT_FALSE(sink.completed);
  // A result of exactly the limit is whole; 0 means no limit.
  limits.max_rows = 3;
  EXPECT_EQ(db.query(sql, {}, limits).rows.size(), 3u);
  EXPECT_EQ(db.query(std::string(kEndless) + "SELECT i FROM n LIMIT 20000", {}, no_limits()).rows.size(), 20000u);
}

TEST(QueryLimits, TimeLimitStopsAnEndlessRecursiveCte) {
  TmpDir tmp;
  const std::string path = make_db(tmp);
  const std::string before = db_hash(path);
  const ReadOnlyDb db(path);
  QueryLimits limits = no_limits();
  limits.timeout_seconds = 0.25;
  Recorder sink;
  // Endless in effect: 10^8 steps take SQLite half a minute or more, so that without the
  // limit this test fails instead of hanging.
  const std::string sql =
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) SELECT count(*) FROM n";
  const QueryLimitError e = limit_error_of(db, sql, limits, &sink);
  EXPECT_EQ(e.limit(), Limit::kTime);
  EXPECT_EQ(std::string(e.what()), "query: stopped at the time limit (0.25 s) in \"" + sql + "\"");
  EXPECT_TRUE(sink.rows.empty());
  EXPECT_EQ(sink.ends, 1);
  // The handler is gone: the next statement is not interrupted by the spent budget.
  EXPECT_EQ(db.query(std::string(kEndless) + "SELECT count(*) FROM (SELECT i FROM n LIMIT 300000)", {}, no_limits())
                .rows.at(0)
                .at(0),
            SqlValue::of_integer(300000));
  EXPECT_EQ(db_hash(path), before);
}

TEST(QueryLimits, TimeSpentInTheSinkDoesNotCount) {
  TmpDir tmp;
  const ReadOnlyDb db(make_db(tmp));
  QueryLimits limits = no_limits();
  limits.timeout_seconds = 0.2;
  // A sink slower than the whole budget, as a pager that the reader keeps open.
  class Slow : public Recorder {
   public:
    void row(const std::vector<SqlValue>& values) override {
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(150);
      while (std::chrono::steady_clock::now() < until) {
      }
      Recorder::row(values);
    }
  } sink;
  EXPECT_EQ(db.stream("SELECT run_key FROM runs", {}, sink, limits), 3);
  EXPECT_TRUE(sink.completed);
}

TEST(QueryLimits, HeapLimitStopsRandomblobAndIsRestored) {
  TmpDir tmp;
  const ReadOnlyDb db(make_db(tmp));
  const sqlite3_int64 hard_before = sqlite3_hard_heap_limit64(-1);
  const sqlite3_int64 soft_before = sqlite3_soft_heap_limit64(-1);
  QueryLimits limits = no_limits();
  limits.max_memory_mib = 16;
  Recorder sink;
  const std::string sql = "SELECT length(randomblob(200000000))";
  const QueryLimitError e = limit_error_of(db, sql, limits, &sink);
  EXPECT_EQ(e.limit(), Limit::kMemory);
  EXPECT_EQ(std::string(e.what()), "query: stopped at the memory limit (16 MiB) in \"" + sql + "\"");
  EXPECT_EQ(sqlite3_hard_heap_limit64(-1), hard_before);
  EXPECT_EQ(sqlite3_soft_heap_limit64(-1), soft_before);
  // Also when the memory grows row by row inside SQLite, as an aggregate does.
  limits.timeout_seconds = 60;  // should the heap limit not work: fail, do not hang
  EXPECT_EQ(limit_error_of(db, std::string(kEndless) +
                                   "SELECT length(group_concat(hex(randomblob(100000)))) FROM "
                                   "(SELECT i FROM n LIMIT 400)",
                           limits, &sink)
                .limit(),
            Limit::kMemory);
  // Within the limit, the same function works.
  EXPECT_EQ(db.query("SELECT length(randomblob(1000000))", {}, limits).rows.at(0).at(0),
            SqlValue::of_integer(1000000));
}

TEST(QueryRefusesFunctions, Fts3TokenizerInEveryForm) {
  TmpDir tmp;
  const std::string path = make_db(tmp);
  const std::string before = db_hash(path);
  const ReadOnlyDb db(path);
  for (const std::string sql : {"SELECT fts3_tokenizer('simple')", "SELECT hex(FTS3_Tokenizer('simple'))",
                                "SELECT fts3_tokenizer('simple', x'0000000000000000')",
                                "SELECT run_key FROM runs WHERE fts3_tokenizer('porter') IS NOT NULL"}) {
    try {
      db.query(sql);
      ADD_FAILURE() << "allowed: " << sql;
    } catch (const QueryError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("fts3_tokenizer() is not allowed"), std::string::npos) << msg;
      EXPECT_NE(msg.find("side effects"), std::string::npos) << msg;
      EXPECT_NE(msg.find("in \"" + sql + "\""), std::string::npos) << msg;
    }
  }
  EXPECT_EQ(db_hash(path), before);
}

TEST(QueryRefusesFunctions, LoadExtensionAndSqliteDirectOnlyFunctions) {
  TmpDir tmp;
  const ReadOnlyDb db(make_db(tmp));
  EXPECT_THROW(
      {
        try {
          db.query("SELECT load_extension('/tmp/nothing.so')");
        } catch (const QueryError& e) {
          EXPECT_NE(std::string(e.what()).find("load_extension() is not allowed"), std::string::npos) << e.what();
          throw;
        }
      },
      QueryError);
  // Every function SQLite itself marks direct-only is refused, whatever its name.
  const auto listed = db.query("SELECT DISTINCT name FROM pragma_function_list WHERE flags & 524288 <> 0");
  EXPECT_FALSE(listed.rows.empty());
  for (const auto& row : listed.rows) {
    EXPECT_THROW(db.query("SELECT " + row[0].bytes + "('x')"), QueryError) << row[0].bytes;
  }
  // The ordinary functions still work.
  EXPECT_EQ(db.query("SELECT upper('a'), json_extract('{\"a\": 1}', '$.a'), round(2.5)").rows.at(0).at(0),
            SqlValue::of_text("A"));
}

TEST(QueryRefusesFunctions, EvenInsideAViewOfTheDb) {
  TmpDir tmp;
  const std::string path = make_db(tmp);
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "CREATE VIEW sneaky AS SELECT hex(fts3_tokenizer('simple')) AS p", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
  }
  const std::string before = db_hash(path);
  try {
    ReadOnlyDb(path).query("SELECT p FROM sneaky");
    ADD_FAILURE() << "the view's fts3_tokenizer() ran";
  } catch (const QueryError& e) {
    EXPECT_NE(std::string(e.what()).find("fts3_tokenizer"), std::string::npos) << e.what();
  }
  EXPECT_EQ(db_hash(path), before);
}

}  // namespace
