// Schema 10: a forced rerun keeps the run's previous result in superseded_runs and resets its
// row to pending; the migration from version 9 adds the table and the results view's columns.
#include <gtest/gtest.h>

#include <string>

#include "results_fixtures.hpp"
#include "support/tmp_dir.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/storage/metrics_db.hpp"
#include "ternbench/storage/query.hpp"

namespace {

using ternbench::StorageError;
using ternbench::storage::EpochRecord;
using ternbench::storage::LayerRecord;
using ternbench::storage::MetricsDb;
using ternbench::storage::SqlValue;
using ternbench::testing::full_run;
using ternbench::testing::TmpDir;

SqlValue one(const std::string& db, const std::string& sql) {
  const auto r = ternbench::storage::run_query(db, sql);
  EXPECT_EQ(r.rows.size(), 1u) << sql;
  return r.rows.empty() ? SqlValue::null() : r.rows[0][0];
}

void add_finished(MetricsDb& db, const std::string& key) {
  db.start_run(full_run(key));
  EpochRecord e;
  e.run_key = key;
  e.epoch = 1;
  e.stage = "train";
  e.test_acc = 0.5;
  db.add_epoch(e);
  LayerRecord l;
  l.layer = "dense0/W";
  l.precision = "ternary";
  l.rows = 2;
  l.cols = 3;
  l.n = 6;
  db.finish_run(full_run(key), {l}, {{"", "final", 1, 2, 0.3, 0.9, 0.5}});
}

TEST(SupersededRuns, RerunKeepsTheOldResultAndLeavesAPendingRowWithoutOne) {
  TmpDir tmp;
  const std::string path = tmp.file("r.sqlite");
  {
    MetricsDb db(path);
    add_finished(db, "k1");
    add_finished(db, "k2");
    db.supersede_run("k1", "2026-12-07T10:00:00Z", "def5678", "study-weights/k1.superseded-1.h5");
    const auto row = db.run("k1");
    ASSERT_TRUE(row.has_value());
    EXPECT_EQ(row->status, ternbench::storage::kStatusPending);
    EXPECT_EQ(row->attempts, 0);
    EXPECT_EQ(row->epochs_done, 0);
    EXPECT_EQ(row->weights_path, "");
    EXPECT_EQ(row->config_toml, full_run("k1").config_toml);  // the run's identity stays
    EXPECT_TRUE(db.epochs("k1").empty());
    EXPECT_TRUE(db.layers("k1").empty());
    EXPECT_TRUE(db.stages("k1").empty());
    const auto old = db.superseded("k1");
    ASSERT_EQ(old.size(), 1u);
    EXPECT_EQ(old[0].status, ternbench::storage::kStatusDone);
    EXPECT_EQ(old[0].test_acc, full_run("k1").test_acc);  // exactly, as stored
    EXPECT_EQ(old[0].weights_path, "study-weights/k1.h5");
    EXPECT_EQ(old[0].git_commit, "abc1234");
    EXPECT_TRUE(db.superseded("k2").empty());
    EXPECT_EQ(db.run("k2")->status, ternbench::storage::kStatusDone);  // other runs untouched
    EXPECT_THROW(db.supersede_run("nope", "2026-12-07T10:00:00Z", "def5678", ""), StorageError);
  }
  EXPECT_EQ(one(path, "SELECT superseded_by_commit || ' ' || weights_kept FROM superseded_runs"),
            SqlValue::of_text("def5678 study-weights/k1.superseded-1.h5"));
  EXPECT_EQ(one(path, "SELECT json_extract(epochs_json, '$[0].test_acc') FROM superseded_runs"),
            SqlValue::of_real(0.5));
  EXPECT_EQ(one(path, "SELECT json_extract(stages_json, '$[0].stage') FROM superseded_runs"),
            SqlValue::of_text("final"));
  EXPECT_EQ(one(path, "SELECT json_extract(layers_json, '$[0].layer') FROM superseded_runs"),
            SqlValue::of_text("dense0/W"));
  // The results view shows the current row only, and how many results it replaced.
  EXPECT_EQ(one(path, "SELECT count(*) FROM results"), SqlValue::of_integer(2));
  EXPECT_EQ(one(path, "SELECT status || ' ' || superseded FROM results WHERE run_key = 'k1'"),
            SqlValue::of_text("pending 1"));
  EXPECT_EQ(one(path, "SELECT superseded FROM results WHERE run_key = 'k2'"), SqlValue::of_integer(0));
}

TEST(SupersededRuns, VersionNineDbGainsTheTableAndTheViewColumnsKeepingItsRows) {
  TmpDir tmp;
  const std::string path = tmp.file("v9.sqlite");
  {
    // Version 10 only adds a table and view columns: a version-10 DB without the table, set
    // back to 9, is a version-9 DB.
    MetricsDb db(path);
    ternbench::storage::RunRecord r = full_run("k1");
    r.config_json = "{\"dataset\":\"mnist\",\"method\":\"twn\",\"momentum\":0.5,\"lr_schedule\":\"cosine\","
                    "\"train_limit\":100,\"test_limit\":50,\"seed\":1}";
    db.finish_run(r, {});
    db.exec("DROP TABLE superseded_runs; DROP VIEW results; PRAGMA user_version = 9");
  }
  {
    MetricsDb db(path);
    EXPECT_EQ(db.schema_version(), 10);
    EXPECT_EQ(db.run("k1")->test_acc, full_run("k1").test_acc);
  }
  EXPECT_EQ(one(path, "SELECT momentum || ' ' || lr_schedule || ' ' || train_limit || ' ' || test_limit || ' ' || "
                      "superseded FROM results"),
            SqlValue::of_text("0.5 cosine 100 50 0"));
  EXPECT_EQ(one(path, "SELECT count(*) FROM superseded_runs"), SqlValue::of_integer(0));
}

}  // namespace
