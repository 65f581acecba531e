// `ternbench merge`: duplicates kept once, finished runs preferred, conflicts refused, and
// weights paths rebased on the output's directory.
#include "ternbench/storage/merge.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "results_fixtures.hpp"
#include "support/tmp_dir.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/storage/metrics_db.hpp"
#include "ternbench/storage/query.hpp"

namespace {

namespace fs = std::filesystem;
using ternbench::ConfigError;
using ternbench::storage::EpochLayerRecord;
using ternbench::storage::EpochRecord;
using ternbench::storage::LayerRecord;
using ternbench::storage::merge_dbs;
using ternbench::storage::MergeOptions;
using ternbench::storage::MergeReport;
using ternbench::storage::MetricsDb;
using ternbench::storage::RunRecord;
using ternbench::storage::SqlValue;
using ternbench::storage::StageRecord;
using ternbench::testing::db_hash;
using ternbench::testing::full_run;
using ternbench::testing::TmpDir;

// dense0/W at the end of epoch i: sparser with every epoch.
EpochLayerRecord epoch_layer(int i) {
  EpochLayerRecord l;
  l.layer = "dense0/W";
  l.precision = "ternary";
  l.n = 100;
  l.n_zero = 30 + 5 * i;
  l.n_pos = (l.n - l.n_zero) / 2;
  l.n_neg = l.n - l.n_zero - l.n_pos;
  l.sparsity = static_cast<double>(l.n_zero) / 100.0;
  l.scale = 0.5;
  l.delta = 0.05;
  return l;
}

// Records a run the way a sweep does: start, epochs 1..epochs_done with their layer rows,
// finish with a layer and a stage.
void record(MetricsDb& db, const RunRecord& r) {
  RunRecord started = r;
  started.status = "running";
  db.start_run(started);
  for (int i = 1; i <= r.epochs_done; ++i) {
    EpochRecord e;
    e.run_key = r.run_key;
    e.epoch = i;
    e.test_acc = r.test_acc - 0.01 * (r.epochs_done - i);
    e.seconds = 1.0 + r.train_seconds;  // timing: allowed to differ between copies
    e.layers = {epoch_layer(i)};
    db.add_epoch(e);
  }
  LayerRecord l;
  l.layer = "dense0/W";
  l.precision = "ternary";
  l.n = 100;
  l.n_zero = 40;
  l.bits_bitmap = 160;
  StageRecord s{"", "final", 1, r.epochs_done, r.test_loss, r.test_acc, r.sparsity};
  db.finish_run(r, {l}, {s});
}

std::string make_db(const TmpDir& tmp, const std::string& name, const std::vector<RunRecord>& runs) {
  const std::string path = tmp.file(name);
  MetricsDb db(path);
  for (const RunRecord& r : runs) record(db, r);
  return path;
}

// The same run trained elsewhere: other host, times, attempts; same results.
RunRecord elsewhere(RunRecord r) {
  r.host = "node99";
  r.rank = 7;
  r.started_at = "2026-11-25T10:00:00Z";
  r.finished_at = "2026-11-25T10:00:04Z";
  r.train_seconds = 4.5;
  r.attempts = 3;
  r.slurm_job_id = "777";
  return r;
}

SqlValue one(const std::string& db, const std::string& sql) {
  return ternbench::storage::run_query(db, sql).rows.at(0).at(0);
}

TEST(Merge, IdenticalCopiesAreKeptOnceWithTheirEpochsLayersAndStages) {
  TmpDir tmp;
  const RunRecord shared = full_run("k1");
  const std::string a = make_db(tmp, "a.sqlite", {shared, full_run("ka", "fp", 2)});
  const std::string b = make_db(tmp, "b.sqlite", {full_run("kb", "fp", 3), elsewhere(shared)});
  const std::string ha = db_hash(a), hb = db_hash(b);
  const std::string out = tmp.file("all.sqlite");
  const MergeReport rep = merge_dbs({a, b}, out, {});
  EXPECT_TRUE(rep.conflicts.empty());
  EXPECT_EQ(rep.runs_written, 3);
  ASSERT_EQ(rep.notes.size(), 1u);
  EXPECT_EQ(rep.notes[0], "run k1: identical in " + a + " and " + b + "; kept one copy");
  EXPECT_EQ(db_hash(a), ha);  // inputs are only read
  EXPECT_EQ(db_hash(b), hb);

  MetricsDb db(out, MetricsDb::Mode::kReadOnly);
  EXPECT_EQ(db.schema_version(), MetricsDb::kSchemaVersion);
  const auto runs = db.runs();
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].run_key, "k1");  // first appearance order
  EXPECT_EQ(runs[0].host, "node01");  // the first copy's provenance
  EXPECT_EQ(runs[1].run_key, "ka");
  EXPECT_EQ(runs[2].run_key, "kb");
  EXPECT_EQ(runs[0].config_json, shared.config_json);
  EXPECT_EQ(runs[0].size_relative_index_bits, shared.size_relative_index_bits);
  EXPECT_EQ(db.epochs("k1").size(), 2u);
  EXPECT_EQ(db.layers("k1").size(), 1u);
  EXPECT_EQ(db.stages("k1").size(), 1u);
  EXPECT_EQ(db.epochs("kb").size(), 2u);
  EXPECT_EQ(one(out, "SELECT count(*) FROM run_epochs"), SqlValue::of_integer(6));
  EXPECT_EQ(one(out, "SELECT count(*) FROM run_epoch_layers"), SqlValue::of_integer(6));
  ASSERT_EQ(db.epochs("k1").at(1).layers.size(), 1u);
  EXPECT_EQ(db.epochs("k1").at(1).layers[0].n_zero, 40);
  EXPECT_FALSE(fs::exists(out + ".tmp." + std::to_string(getpid())));
}

TEST(Merge, ADoneRunWinsOverAnInterruptedCopy) {
  TmpDir tmp;
  RunRecord partial = full_run("k1");
  partial.status = "interrupted";
  partial.epochs_done = 1;
  partial.test_acc = 0.5;
  partial.finished_at = "";
  const RunRecord done = elsewhere(full_run("k1"));
  const std::string a = make_db(tmp, "a.sqlite", {partial});
  const std::string b = make_db(tmp, "b.sqlite", {done});
  const std::string out = tmp.file("all.sqlite");
  const MergeReport rep = merge_dbs({a, b}, out, {});
  EXPECT_TRUE(rep.conflicts.empty());
  ASSERT_EQ(rep.notes.size(), 1u);
  EXPECT_EQ(rep.notes[0], "run k1: kept the done run from " + b + " over the interrupted one from " + a);
  MetricsDb db(out, MetricsDb::Mode::kReadOnly);
  EXPECT_EQ(db.status("k1"), std::optional<std::string>("done"));
  EXPECT_EQ(db.runs().at(0).host, "node99");
  EXPECT_EQ(db.epochs("k1").size(), 2u);  // the done copy's epochs, not a mix
}

TEST(Merge, TwoDoneRunsThatDifferAreAConflictAndNothingIsWritten) {
  TmpDir tmp;
  RunRecord other = elsewhere(full_run("k1"));
  other.test_acc = 0.75;
  const std::string a = make_db(tmp, "a.sqlite", {full_run("k1"), full_run("k2", "fp", 2)});
  const std::string b = make_db(tmp, "b.sqlite", {other});
  const std::string out = tmp.file("all.sqlite");
  const MergeReport rep = merge_dbs({a, b}, out, {});
  ASSERT_EQ(rep.conflicts.size(), 1u);
  EXPECT_EQ(rep.conflicts[0].run_key, "k1");
  EXPECT_EQ(rep.conflicts[0].fields,
            (std::vector<std::string>{"test_acc", "epochs[train 1].test_acc", "epochs[train 2].test_acc",
                                      "stages[final].test_acc"}));
  EXPECT_EQ(ternbench::storage::describe(rep.conflicts[0]),
            "run k1: test_acc, epochs[train 1].test_acc, epochs[train 2].test_acc, stages[final].test_acc "
            "differ between " + a + " and " + b);
  EXPECT_EQ(rep.runs_written, 0);
  EXPECT_FALSE(fs::exists(out));
}

TEST(Merge, EpochLayerRowsAreComparedLikeEveryOtherMetric) {
  TmpDir tmp;
  const std::string a = make_db(tmp, "a.sqlite", {full_run("k1")});
  const std::string b = make_db(tmp, "b.sqlite", {elsewhere(full_run("k1"))});
  MetricsDb(b).exec("UPDATE epoch_layers SET n_zero = n_zero + 1 WHERE epoch = 2");
  const MergeReport rep = merge_dbs({a, b}, tmp.file("all.sqlite"), {});
  ASSERT_EQ(rep.conflicts.size(), 1u);
  EXPECT_EQ(rep.conflicts[0].fields, (std::vector<std::string>{"epoch_layers[train 2 dense0/W].n_zero"}));
}

TEST(Merge, PreferFirstOrNewestSettlesAConflict) {
  TmpDir tmp;
  RunRecord newer = elsewhere(full_run("k1"));  // finished a day later
  newer.test_acc = 0.75;
  const std::string a = make_db(tmp, "a.sqlite", {full_run("k1")});
  const std::string b = make_db(tmp, "b.sqlite", {newer});

  MergeOptions first;
  first.prefer = MergeOptions::Prefer::kFirst;
  const std::string out1 = tmp.file("first.sqlite");
  MergeReport rep = merge_dbs({a, b}, out1, first);
  EXPECT_TRUE(rep.conflicts.empty());
  ASSERT_EQ(rep.notes.size(), 1u);
  EXPECT_NE(rep.notes[0].find("kept " + a + "'s (--prefer-first)"), std::string::npos) << rep.notes[0];
  EXPECT_EQ(one(out1, "SELECT test_acc FROM results"), SqlValue::of_real(0.921875));

  MergeOptions newest;
  newest.prefer = MergeOptions::Prefer::kNewest;
  const std::string out2 = tmp.file("newest.sqlite");
  rep = merge_dbs({a, b}, out2, newest);
  ASSERT_EQ(rep.notes.size(), 1u);
  EXPECT_NE(rep.notes[0].find("kept the newer, from " + b + " (--prefer-newest)"), std::string::npos) << rep.notes[0];
  EXPECT_EQ(one(out2, "SELECT test_acc FROM results"), SqlValue::of_real(0.75));
  EXPECT_EQ(one(out2, "SELECT test_acc FROM run_epochs WHERE epoch = 2"), SqlValue::of_real(0.75));
}

TEST(Merge, WeightsPathsAreRebasedOnTheOutputDirectoryAndMissingFilesReported) {
  TmpDir tmp;
  fs::create_directories(tmp.path() / "job1" / "study-weights");
  fs::create_directories(tmp.path() / "job2");
  std::ofstream(tmp.path() / "job1" / "study-weights" / "k1.h5") << "h5";
  const std::string a = make_db(tmp, "job1/study.sqlite", {full_run("k1")});
  const std::string b = make_db(tmp, "job2/study.sqlite", {full_run("k2", "fp", 2)});  // its file is missing
  const std::string out = tmp.file("merged/all.sqlite");
  const MergeReport rep = merge_dbs({a, b}, out, {});
  EXPECT_TRUE(rep.conflicts.empty());
  ASSERT_EQ(rep.warnings.size(), 1u);
  EXPECT_EQ(rep.warnings[0], "run k2: weights file " + (tmp.path() / "job2/study-weights/k2.h5").string() +
                                 " (named by " + b + ") does not exist");
  EXPECT_EQ(one(out, "SELECT weights_path FROM runs WHERE run_key = 'k1'"),
            SqlValue::of_text("../job1/study-weights/k1.h5"));
  EXPECT_EQ(one(out, "SELECT weights_path FROM runs WHERE run_key = 'k2'"),
            SqlValue::of_text("../job2/study-weights/k2.h5"));
  EXPECT_TRUE(fs::exists(fs::path(out).parent_path() / "../job1/study-weights/k1.h5"));
}

TEST(Merge, ExistingOutputNeedsForceAndAnInputIsNeverTheOutput) {
  TmpDir tmp;
  const std::string a = make_db(tmp, "a.sqlite", {full_run("k1")});
  const std::string b = make_db(tmp, "b.sqlite", {full_run("k2", "fp", 2)});
  const std::string out = tmp.file("all.sqlite");
  std::ofstream(out) << "old";
  try {
    merge_dbs({a, b}, out, {});
    ADD_FAILURE() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "ternbench merge: -o: " + out + " exists; pass --force to replace it");
  }
  MergeOptions force;
  force.force = true;
  std::ofstream(out + "-wal") << "a stale WAL of the old file";
  EXPECT_EQ(merge_dbs({a, b}, out, force).runs_written, 2);
  EXPECT_EQ(one(out, "SELECT count(*) FROM runs"), SqlValue::of_integer(2));
  EXPECT_THROW(merge_dbs({a, b}, a, force), ConfigError);
  EXPECT_EQ(MetricsDb(a, MetricsDb::Mode::kReadOnly).runs().size(), 1u);
}

TEST(Merge, AnOlderInputIsMigratedInACopyAndLeftAsItWas) {
  TmpDir tmp;
  const std::string old = tmp.file("v2.sqlite");
  ternbench::testing::load_sql_fixture(old, "results_v2.sql");
  const std::string before = db_hash(old);
  const std::string b = make_db(tmp, "b.sqlite", {full_run("k2", "fp", 2)});
  const std::string out = tmp.file("all.sqlite");
  const MergeReport rep = merge_dbs({old, b}, out, {});
  EXPECT_EQ(rep.runs_written, 4);
  EXPECT_EQ(db_hash(old), before);
  EXPECT_EQ(MetricsDb(old, MetricsDb::Mode::kReadOnly).schema_version(), 2);
  EXPECT_EQ(one(out, "SELECT count(*) FROM epochs"), SqlValue::of_integer(6));
  EXPECT_EQ(one(out, "SELECT status FROM results WHERE run_key = '9d41c7a3e06b52f8'"), SqlValue::of_text("diverged"));
  EXPECT_TRUE(one(out, "SELECT train_loss FROM results WHERE run_key = '9d41c7a3e06b52f8'").is_null());
}

// A rerun's history goes with the run: every input's superseded results, each once, in the
// order they were superseded, with their kept weights files rebased like weights_path.
TEST(Merge, SupersededResultsOfEveryInputAreCopiedOnce) {
  TmpDir tmp;
  fs::create_directories(tmp.path() / "job1");
  fs::create_directories(tmp.path() / "job2");
  const std::string a = make_db(tmp, "job1/study.sqlite", {full_run("k1"), full_run("k2", "fp", 2)});
  const std::string b = make_db(tmp, "job2/study.sqlite", {full_run("k3", "fp", 3)});
  {
    MetricsDb db(a);
    db.supersede_run("k2", "2026-12-07T11:00:00Z", "def5678", "study-weights/k2.superseded-1.h5");
    db.supersede_run("k1", "2026-12-07T12:00:00Z", "def5678", "");
  }
  {
    MetricsDb db(b);
    db.supersede_run("k3", "2026-12-07T11:30:00Z", "fed8765", "study-weights/k3.superseded-1.h5");
  }
  const std::string copy = tmp.file("job1/copy.sqlite");
  fs::copy_file(a, copy);
  const std::string out = tmp.file("all.sqlite");
  const MergeReport rep = merge_dbs({a, b, copy}, out, {});
  EXPECT_TRUE(rep.conflicts.empty());
  EXPECT_EQ(one(out, "SELECT group_concat(run_key || ' ' || superseded_by_commit || ' ' || coalesce(weights_kept, '-'), "
                     "'; ') FROM (SELECT * FROM superseded_runs ORDER BY id)"),
            SqlValue::of_text("k2 def5678 job1/study-weights/k2.superseded-1.h5; "
                              "k3 fed8765 job2/study-weights/k3.superseded-1.h5; k1 def5678 -"));
  EXPECT_EQ(one(out, "SELECT json_extract(epochs_json, '$[0].epoch') FROM superseded_runs WHERE run_key = 'k3'"),
            SqlValue::of_integer(1));
  EXPECT_EQ(one(out, "SELECT superseded FROM results WHERE run_key = 'k1'"), SqlValue::of_integer(1));
  // The kept files were never written here, and each is named once (the copy's rows are
  // the same rows); the runs themselves have no weights file after a rerun began.
  ASSERT_EQ(rep.warnings.size(), 2u);
  EXPECT_EQ(rep.warnings[0], "superseded result of run k2: weights file " +
                                 (tmp.path() / "job1/study-weights/k2.superseded-1.h5").string() + " (named by " + a +
                                 ") does not exist");
}

}  // namespace
