// Schema version 4: per-epoch layer rows round-trip exactly, are written with their epoch
// (replayed, reset and rolled back with it), feed run_epoch_layers, and a version-3 DB
// migrates to them keeping every row.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <string>

#include "results_fixtures.hpp"
#include "support/tmp_dir.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/storage/metrics_db.hpp"
#include "ternbench/storage/query.hpp"

namespace {

using ternbench::StorageError;
using ternbench::storage::EpochLayerRecord;
using ternbench::storage::EpochRecord;
using ternbench::storage::MetricsDb;
using ternbench::storage::QueryResult;
using ternbench::storage::SqlValue;
using ternbench::testing::full_run;
using ternbench::testing::load_sql_fixture;
using ternbench::testing::TmpDir;

std::uint64_t bits(double v) { return std::bit_cast<std::uint64_t>(v); }

SqlValue one(const std::string& db, const std::string& sql) {
  const QueryResult r = ternbench::storage::run_query(db, sql);
  EXPECT_EQ(r.rows.size(), 1u) << sql;
  return r.rows.empty() ? SqlValue::null() : r.rows[0][0];
}

std::int64_t count(const std::string& db, const std::string& sql) { return one(db, sql).integer; }

EpochLayerRecord layer(const std::string& name, const std::string& precision, std::int64_t n_zero) {
  EpochLayerRecord l;
  l.layer = name;
  l.precision = precision;
  l.n = 1000;
  l.n_zero = n_zero;
  l.n_pos = (l.n - n_zero) / 2;
  l.n_neg = l.n - n_zero - l.n_pos;
  l.sparsity = static_cast<double>(n_zero) / 1000.0;
  l.scale = precision == "fp32" ? 0.0 : 1.0 / 3.0;  // a value a text round trip would change
  l.delta = precision == "fp32" ? 0.0 : std::nextafter(0.7 / 3.0, 1.0);
  l.codes_changed = precision == "fp32" ? std::nan("") : static_cast<double>(n_zero) / 7000.0;
  return l;
}

EpochRecord epoch(const std::string& key, const std::string& stage, int n, std::int64_t n_zero) {
  EpochRecord e;
  e.run_key = key;
  e.stage = stage;
  e.epoch = n;
  e.sparsity = 0.25;
  e.layers = {layer("dense0/W", "ternary", n_zero), layer("dense1/W", "fp32", 0)};
  return e;
}

TEST(EpochLayers, RoundTripExactlyWithTheirEpochAndFeedTheView) {
  TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  {
    MetricsDb db(path);
    db.start_run(full_run("k1", "sca"));
    db.add_epoch(epoch("k1", "train", 1, 300));
    db.add_epoch(epoch("k1", "train", 2, 450));
    db.add_epoch(epoch("k1", "finetune", 1, 450));
  }
  MetricsDb db(path, MetricsDb::Mode::kReadOnly);
  const auto epochs = db.epochs("k1");
  ASSERT_EQ(epochs.size(), 3u);
  for (const EpochRecord& e : epochs) {
    const EpochRecord want = epoch("k1", e.stage, e.epoch, e.stage == "train" && e.epoch == 1 ? 300 : 450);
    ASSERT_EQ(e.layers.size(), 2u) << e.stage << " " << e.epoch;
    for (std::size_t i = 0; i < 2; ++i) {
      const EpochLayerRecord &got = e.layers[i], &w = want.layers[i];
      EXPECT_EQ(got.layer, w.layer);  // insertion order
      EXPECT_EQ(got.precision, w.precision);
      EXPECT_EQ(got.n, w.n);
      EXPECT_EQ(got.n_zero, w.n_zero);
      EXPECT_EQ(got.n_pos, w.n_pos);
      EXPECT_EQ(got.n_neg, w.n_neg);
      EXPECT_EQ(bits(got.sparsity), bits(w.sparsity));
      EXPECT_EQ(bits(got.scale), bits(w.scale));
      EXPECT_EQ(bits(got.delta), bits(w.delta));
      EXPECT_EQ(std::isnan(got.codes_changed), std::isnan(w.codes_changed));  // fp32: NULL
      if (!std::isnan(w.codes_changed)) {
        EXPECT_EQ(bits(got.codes_changed), bits(w.codes_changed));
      }
    }
  }
  EXPECT_EQ(count(path, "SELECT count(*) FROM run_epoch_layers WHERE method = 'sca' AND sweep = 'study'"), 6);
  EXPECT_EQ(one(path, "SELECT n_zero FROM run_epoch_layers WHERE stage = 'train' AND epoch = 2 AND layer = 'dense0/W'"),
            SqlValue::of_integer(450));
  EXPECT_EQ(one(path, "SELECT sparsity FROM run_epoch_layers WHERE stage = 'finetune' AND layer = 'dense0/W'"),
            SqlValue::of_real(0.45));
  EXPECT_EQ(one(path, "SELECT codes_changed FROM run_epoch_layers WHERE stage = 'train' AND epoch = 2 AND layer = 'dense0/W'"),
            SqlValue::of_real(450.0 / 7000.0));
  EXPECT_EQ(count(path, "SELECT count(*) FROM run_epoch_layers WHERE layer = 'dense1/W' AND codes_changed IS NULL"), 3);
}

// A resumed run replays the epochs its checkpoint holds: the same rows again, not twice.
TEST(EpochLayers, AReplayedEpochReplacesItsRows) {
  TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  MetricsDb db(path);
  db.start_run(full_run("k1"));
  db.add_epoch(epoch("k1", "train", 1, 300));
  db.add_epoch(epoch("k1", "train", 1, 310));
  EXPECT_EQ(count(path, "SELECT count(*) FROM epoch_layers"), 2);
  EXPECT_EQ(db.epochs("k1").at(0).layers.at(0).n_zero, 310);
}

TEST(EpochLayers, StartRunOnAnExistingKeyDropsThemAndOtherRunsKeepTheirs) {
  TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  MetricsDb db(path);
  db.start_run(full_run("k1"));
  db.start_run(full_run("k2"));
  db.add_epoch(epoch("k1", "train", 1, 300));
  db.add_epoch(epoch("k2", "train", 1, 300));
  db.start_run(full_run("k1"));
  EXPECT_EQ(count(path, "SELECT count(*) FROM epoch_layers WHERE run_key = 'k1'"), 0);
  EXPECT_EQ(count(path, "SELECT count(*) FROM epoch_layers WHERE run_key = 'k2'"), 2);
  db.exec("DELETE FROM runs WHERE run_key = 'k2'");  // the foreign key cascades
  EXPECT_EQ(count(path, "SELECT count(*) FROM epoch_layers"), 0);
}

TEST(EpochLayers, AFailedLayerRowLeavesNoEpochRow) {
  TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  MetricsDb db(path);
  db.start_run(full_run("k1"));
  db.exec("CREATE TRIGGER refuse BEFORE INSERT ON epoch_layers WHEN NEW.layer = 'dense1/W' "
          "BEGIN SELECT RAISE(ABORT, 'refused'); END");
  EXPECT_THROW(db.add_epoch(epoch("k1", "train", 1, 300)), StorageError);
  EXPECT_TRUE(db.epochs("k1").empty());
  EXPECT_EQ(count(path, "SELECT count(*) FROM epoch_layers"), 0);
}

TEST(EpochLayers, VersionThreeDbIsMigratedInPlaceKeepingEveryRow) {
  TmpDir tmp;
  const std::string path = tmp.file("v3.sqlite");
  load_sql_fixture(path, "results_v3.sql");
  {
    MetricsDb db(path);
    EXPECT_EQ(db.schema_version(), MetricsDb::kSchemaVersion);
    ASSERT_EQ(db.runs().size(), 2u);
    const auto epochs = db.epochs("a1f0c3d2e4b59687");
    ASSERT_EQ(epochs.size(), 4u);
    EXPECT_EQ(epochs[2].stage, "stage3");
    EXPECT_EQ(bits(epochs[0].reg_penalty), bits(1.5));
    for (const EpochRecord& e : epochs) EXPECT_TRUE(e.layers.empty());  // not recorded before version 4
    EXPECT_EQ(db.layers("a1f0c3d2e4b59687").size(), 2u);
    EXPECT_EQ(db.stages("a1f0c3d2e4b59687").size(), 3u);
    // The interrupted run resumes into the migrated DB with its layer rows.
    db.add_epoch(epoch("b2e1d4c3f5a60798", "train", 2, 500));
  }
  EXPECT_EQ(count(path, "SELECT count(*) FROM run_epochs"), 6);
  EXPECT_EQ(count(path, "SELECT count(*) FROM run_layers"), 2);
  EXPECT_EQ(count(path, "SELECT count(*) FROM results"), 2);
  EXPECT_EQ(one(path, "SELECT n_zero FROM run_epoch_layers WHERE sca_alpha = 0.5 AND layer = 'dense0/W'"),
            SqlValue::of_integer(500));
  // Version 6's column, through every migration.
  EXPECT_EQ(one(path, "SELECT codes_changed FROM run_epoch_layers WHERE sca_alpha = 0.5 AND layer = 'dense0/W'"),
            SqlValue::of_real(500.0 / 7000.0));
  EXPECT_EQ(count(path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
}

TEST(EpochLayers, ReadOnlyOpenOfAVersionThreeDbReadsAMigratedCopy) {
  TmpDir tmp;
  const std::string path = tmp.file("v3.sqlite");
  load_sql_fixture(path, "results_v3.sql");
  const std::string before = ternbench::testing::db_hash(path);
  {
    MetricsDb db(path, MetricsDb::Mode::kReadOnly);
    EXPECT_EQ(db.schema_version(), 3);
    EXPECT_EQ(db.epochs("b2e1d4c3f5a60798").size(), 1u);
  }
  EXPECT_EQ(count(path, "SELECT count(*) FROM run_epoch_layers"), 0);  // query reads a copy too
  EXPECT_EQ(ternbench::testing::db_hash(path), before);
}

}  // namespace
