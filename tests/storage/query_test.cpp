// `ternbench query` core: read-only SQL, refusals that leave the DB untouched, bound filters.
#include "ternbench/storage/query.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "results_fixtures.hpp"
#include "support/tmp_dir.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/storage/metrics_db.hpp"

namespace {

using ternbench::StorageError;
using ternbench::storage::MetricsDb;
using ternbench::storage::QueryError;
using ternbench::storage::QueryFilter;
using ternbench::storage::QueryResult;
using ternbench::storage::run_query;
using ternbench::storage::SqlValue;
using ternbench::testing::db_hash;
using ternbench::testing::full_run;
using ternbench::testing::TmpDir;

// Three finished runs; one has a method name with a quote in it.
std::string make_db(const TmpDir& tmp) {
  const std::string path = tmp.file("study.sqlite");
  MetricsDb db(path);
  db.finish_run(full_run("k1", "fp", 1), {});
  db.finish_run(full_run("k2", "twn", 2), {});
  db.finish_run(full_run("k3", "tw'n", 3), {});
  return path;
}

std::string query_error_of(const std::string& db, const std::string& sql,
                           const std::vector<QueryFilter>& filters = {}) {
  try {
    run_query(db, sql, filters);
  } catch (const QueryError& e) {
    return e.what();
  }
  return "(no QueryError thrown)";
}

TEST(Query, SelectReturnsColumnsAndTypedValues) {
  TmpDir tmp;
  const std::string db = make_db(tmp);
  const QueryResult r = run_query(db, "SELECT method, seed, test_acc, error FROM results ORDER BY seed");
  ASSERT_EQ(r.columns, (std::vector<std::string>{"method", "seed", "test_acc", "error"}));
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[0][0], SqlValue::of_text("fp"));
  EXPECT_EQ(r.rows[1][1], SqlValue::of_integer(2));
  EXPECT_EQ(r.rows[2][2], SqlValue::of_real(0.921875));
  EXPECT_TRUE(r.rows[2][3].is_null());
}

TEST(Query, ErrorNamesTheSqlAndSqlitesMessage) {
  TmpDir tmp;
  const std::string db = make_db(tmp);
  EXPECT_EQ(query_error_of(db, "SELECT acc FROM results"), "query: no such column: acc in \"SELECT acc FROM results\"");
  EXPECT_EQ(query_error_of(db, "SELECT *\n  FROM nowhere"), "query: no such table: nowhere in \"SELECT * FROM nowhere\"");
  EXPECT_EQ(query_error_of(db, "  -- nothing\n"), "query: no SQL statement in \"-- nothing\"");
}

// Each statement that would write, or change the connection, is refused before it runs.
struct Refusal {
  const char* name;
  const char* sql;
  const char* reason;  // what the message must name
};

class QueryRefuses : public ::testing::TestWithParam<Refusal> {};

TEST_P(QueryRefuses, WithAMessageNamingItAndTheDbUnchanged) {
  TmpDir tmp;
  const std::string db = make_db(tmp);
  const std::string before = db_hash(db);
  const Refusal& c = GetParam();
  const std::string msg = query_error_of(db, c.sql);
  EXPECT_EQ(msg.rfind("query: ", 0), 0u) << msg;
  EXPECT_NE(msg.find(c.reason), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::string("in \"") + c.sql + "\""), std::string::npos) << msg;
  EXPECT_EQ(db_hash(db), before);
  EXPECT_EQ(run_query(db, "SELECT count(*) FROM runs").rows.at(0).at(0), SqlValue::of_integer(3));
  // VACUUM INTO and ATTACH name files relative to the working directory.
  EXPECT_FALSE(std::filesystem::exists("copy.sqlite"));
  EXPECT_FALSE(std::filesystem::exists("other.sqlite"));
}

INSTANTIATE_TEST_SUITE_P(
    Statements, QueryRefuses,
    ::testing::Values(
        Refusal{"Insert", "INSERT INTO runs(run_key) VALUES('x')", "INSERT into runs is not allowed"},
        Refusal{"Update", "UPDATE runs SET test_acc = 1", "UPDATE of runs is not allowed"},
        Refusal{"Delete", "DELETE FROM runs", "DELETE from runs is not allowed"},
        Refusal{"Drop", "DROP TABLE runs", "DROP TABLE runs is not allowed"},
        Refusal{"DropView", "DROP VIEW results", "DROP VIEW results is not allowed"},
        Refusal{"Create", "CREATE TABLE t(x)", "CREATE TABLE t is not allowed"},
        Refusal{"CreateTemp", "CREATE TEMP TABLE t AS SELECT 1", "CREATE TABLE t is not allowed"},
        Refusal{"Alter", "ALTER TABLE runs ADD COLUMN x", "ALTER TABLE runs is not allowed"},
        Refusal{"Attach", "ATTACH 'other.sqlite' AS o", "ATTACH other.sqlite is not allowed"},
        Refusal{"Detach", "DETACH main", "DETACH main is not allowed"},
        Refusal{"JournalMode", "PRAGMA journal_mode=DELETE", "PRAGMA journal_mode = DELETE is not allowed"},
        Refusal{"UserVersion", "PRAGMA user_version = 9", "PRAGMA user_version = 9 is not allowed"},
        Refusal{"Begin", "BEGIN", "BEGIN (a transaction) is not allowed"},
        Refusal{"Vacuum", "VACUUM", "not allowed"},
        Refusal{"VacuumInto", "VACUUM INTO 'copy.sqlite'", "not allowed"},
        Refusal{"SecondStatement", "SELECT 1; DROP TABLE runs", "only one statement is allowed"},
        Refusal{"SecondSelect", "SELECT 1; SELECT 2", "only one statement is allowed"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(Query, ReadingPragmasFunctionsAndRecursionAreAllowed) {
  TmpDir tmp;
  const std::string db = make_db(tmp);
  EXPECT_EQ(run_query(db, "PRAGMA user_version").rows.at(0).at(0), SqlValue::of_integer(MetricsDb::kSchemaVersion));
  EXPECT_FALSE(run_query(db, "PRAGMA table_info(results)").rows.empty());
  EXPECT_FALSE(run_query(db, "SELECT name FROM pragma_table_info('results')").rows.empty());
  const QueryResult r = run_query(db,
                                  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4) "
                                  "SELECT sum(i), json_extract('{\"a\": 2}', '$.a') FROM n");
  EXPECT_EQ(r.rows.at(0).at(0), SqlValue::of_integer(10));
  EXPECT_EQ(r.rows.at(0).at(1), SqlValue::of_integer(2));
  // What follows the statement may be blanks, semicolons and comments.
  EXPECT_EQ(run_query(db, "SELECT 1; -- done\n /* really */ ;").rows.size(), 1u);
}

TEST(Query, FiltersAreBoundParametersSoQuotesAreJustCharacters) {
  TmpDir tmp;
  const std::string db = make_db(tmp);
  const std::string sql = "SELECT run_key, method, dataset FROM results ORDER BY run_key;  -- end";
  QueryResult r = run_query(db, sql, {{"method", "tw'n"}});
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][0], SqlValue::of_text("k3"));
  EXPECT_EQ(r.columns, (std::vector<std::string>{"run_key", "method", "dataset"}));
  r = run_query(db, sql, {{"method", "x' OR '1'='1"}});
  EXPECT_TRUE(r.rows.empty());
  r = run_query(db, sql, {{"method", "twn"}, {"dataset", "mnist"}});
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][0], SqlValue::of_text("k2"));
  EXPECT_TRUE(run_query(db, sql, {{"method", "twn"}, {"dataset", "cifar10"}}).rows.empty());
}

TEST(Query, FilterOnAColumnTheQueryDoesNotReturnIsAnError) {
  TmpDir tmp;
  const std::string db = make_db(tmp);
  EXPECT_EQ(query_error_of(db, "SELECT run_key FROM runs", {{"method", "fp"}}),
            "query: cannot filter on method: the query returns no column of that name in \"SELECT run_key FROM runs\"");
  // Filters cannot smuggle a refused statement past the authorizer either.
  EXPECT_NE(query_error_of(db, "DELETE FROM runs", {{"method", "fp"}}).find("DELETE from runs is not allowed"),
            std::string::npos);
}

TEST(Query, OlderDbIsReadThroughAMigratedCopyAndNotModified) {
  TmpDir tmp;
  const std::string path = tmp.file("v2.sqlite");
  ternbench::testing::load_sql_fixture(path, "results_v2.sql");
  const std::string before = db_hash(path);
  const QueryResult r = run_query(path, "SELECT run_key, status FROM results ORDER BY run_key", {{"status", "done"}});
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][0], SqlValue::of_text("5b0e8d0c2a91f7e3"));
  EXPECT_EQ(db_hash(path), before);
  EXPECT_EQ(MetricsDb(path, MetricsDb::Mode::kReadOnly).schema_version(), 2);
}

TEST(Query, ReadOnlyDbOpensOnceForManyQueries) {
  TmpDir tmp;
  const std::string path = tmp.file("v2.sqlite");
  ternbench::testing::load_sql_fixture(path, "results_v2.sql");
  const ternbench::storage::ReadOnlyDb db(path);
  // The migrated copy was made when the session opened: the queries no longer need the file.
  std::filesystem::remove(path);
  EXPECT_EQ(db.query("SELECT count(*) FROM results").rows.at(0).at(0), SqlValue::of_integer(3));
  EXPECT_THROW(db.query("DELETE FROM runs"), QueryError);
  // A refusal does not stick to the session.
  const QueryResult r = db.query("SELECT run_key FROM results WHERE status = 'done'");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][0], SqlValue::of_text("5b0e8d0c2a91f7e3"));
}

TEST(Query, MissingDbIsAStorageErrorAndNotCreated) {
  TmpDir tmp;
  const std::string path = tmp.file("missing.sqlite");
  EXPECT_THROW(run_query(path, "SELECT 1"), StorageError);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Query, ReadViewListsEveryRowOfAView) {
  TmpDir tmp;
  const std::string db = make_db(tmp);
  const QueryResult r = ternbench::storage::read_view(db, "results");
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.columns.at(0), "run_key");
  EXPECT_EQ(r.rows[0][0], SqlValue::of_text("k1"));  // by dataset, model, method, seed
  EXPECT_THROW(ternbench::storage::read_view(db, "runs; DROP TABLE runs"), QueryError);
}

TEST(Query, ReadViewExportsEpochLayersInEpochOrder) {
  TmpDir tmp;
  const std::string db = make_db(tmp);
  {
    MetricsDb m(db);
    for (int epoch : {2, 1}) {
      ternbench::storage::EpochRecord e;
      e.run_key = "k2";
      e.epoch = epoch;
      e.layers = {{"dense1/W", "fp32", 10, 0, 5, 5, 0.0, 0.0, 0.0},
                  {"dense0/W", "ternary", 10, epoch, 4, 6 - epoch, epoch / 10.0, 0.5, 0.25}};
      m.add_epoch(e);
    }
  }
  const auto& views = ternbench::storage::exportable_views();
  EXPECT_NE(std::find(views.begin(), views.end(), "run_epoch_layers"), views.end());
  const QueryResult r = ternbench::storage::read_view(db, "run_epoch_layers");
  ASSERT_EQ(r.rows.size(), 4u);
  const auto col = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(r.columns.begin(), r.columns.end(), name) - r.columns.begin());
  };
  ASSERT_LT(col("n_zero"), r.columns.size());
  EXPECT_EQ(r.rows[0][col("epoch")], SqlValue::of_integer(1));
  EXPECT_EQ(r.rows[0][col("layer")], SqlValue::of_text("dense0/W"));
  EXPECT_EQ(r.rows[0][col("n_zero")], SqlValue::of_integer(1));
  EXPECT_EQ(r.rows[3][col("layer")], SqlValue::of_text("dense1/W"));
  EXPECT_EQ(r.rows[3][col("method")], SqlValue::of_text("twn"));
}

}  // namespace
