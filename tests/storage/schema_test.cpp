// Schema versions 3 and 4: migrations from versions 1 and 2 keep every row, the views
// answer, and the new record fields round-trip exactly (epoch_layers_test.cpp: version 4's
// table and the migration from version 3). Versions 5 and 7: the changes of existing rows.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "results_fixtures.hpp"
#include "support/tmp_dir.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/base/hash.hpp"
#include "ternbench/storage/metrics_db.hpp"
#include "ternbench/storage/query.hpp"

namespace {

using ternbench::StorageError;
using ternbench::storage::EpochRecord;
using ternbench::storage::LayerRecord;
using ternbench::storage::MetricsDb;
using ternbench::storage::QueryResult;
using ternbench::storage::RunRecord;
using ternbench::storage::SqlValue;
using ternbench::storage::StageRecord;
using ternbench::testing::full_run;
using ternbench::testing::load_sql_fixture;
using ternbench::testing::TmpDir;

std::uint64_t bits(double v) { return std::bit_cast<std::uint64_t>(v); }

// One value of a query, or the error text.
SqlValue one(const std::string& db, const std::string& sql) {
  const QueryResult r = ternbench::storage::run_query(db, sql);
  EXPECT_EQ(r.rows.size(), 1u) << sql;
  EXPECT_EQ(r.columns.size(), 1u) << sql;
  return r.rows.empty() ? SqlValue::null() : r.rows[0][0];
}

std::int64_t count(const std::string& db, const std::string& sql) { return one(db, sql).integer; }

TEST(Schema, VersionTwoDbIsMigratedInPlaceKeepingEveryRow) {
  TmpDir tmp;
  const std::string path = tmp.file("v2.sqlite");
  load_sql_fixture(path, "results_v2.sql");
  {
    MetricsDb db(path);
    EXPECT_EQ(db.schema_version(), MetricsDb::kSchemaVersion);
    const auto runs = db.runs();
    ASSERT_EQ(runs.size(), 3u);
    EXPECT_EQ(runs[0].run_key, "5b0e8d0c2a91f7e3");
    EXPECT_EQ(runs[0].attempts, 2);
    EXPECT_EQ(runs[0].slurm_job_id, "4242");
    EXPECT_EQ(runs[0].slurm_restart_count, 1);
    EXPECT_EQ(runs[0].test_acc, 0.9225);
    EXPECT_TRUE(std::isnan(runs[0].size_fp32_bits));  // not recorded before version 3
    EXPECT_FALSE(runs[0].n_float_params.has_value());
    EXPECT_EQ(runs[0].config_json, "");
    EXPECT_EQ(runs[1].status, "diverged");
    EXPECT_TRUE(std::isnan(runs[1].train_loss));
    EXPECT_EQ(runs[1].error, "loss is NaN at epoch 2");
    EXPECT_EQ(runs[2].status, "interrupted");
    const auto epochs = db.epochs("5b0e8d0c2a91f7e3");
    ASSERT_EQ(epochs.size(), 2u);
    EXPECT_EQ(epochs[1].epoch, 2);
    EXPECT_EQ(epochs[1].stage, "train");  // the default of the new column
    EXPECT_EQ(epochs[1].test_acc, 0.9225);
    EXPECT_TRUE(std::isnan(epochs[1].lr));
    EXPECT_TRUE(std::isnan(db.epochs("9d41c7a3e06b52f8").at(0).train_loss));
    const auto layers = db.layers("5b0e8d0c2a91f7e3");
    ASSERT_EQ(layers.size(), 3u);
    EXPECT_EQ(layers[0].layer, "dense0/W");
    EXPECT_EQ(layers[2].precision, "fp32");
    EXPECT_TRUE(std::isnan(layers[2].scale));
    EXPECT_FALSE(layers[0].n_scales.has_value());
    EXPECT_TRUE(db.stages("5b0e8d0c2a91f7e3").empty());
  }
  EXPECT_EQ(count(path, "SELECT count(*) FROM epochs"), 4);
  EXPECT_EQ(count(path, "SELECT count(*) FROM layers"), 3);
  EXPECT_EQ(count(path, "SELECT count(*) FROM results"), 3);
  EXPECT_EQ(count(path, "SELECT count(*) FROM run_epochs"), 4);
  EXPECT_EQ(count(path, "SELECT count(*) FROM run_layers"), 3);
  // A run without config_json still has its lr (from runs.lr) and NULL for the other knobs.
  EXPECT_EQ(one(path, "SELECT lr FROM results WHERE run_key = '5b0e8d0c2a91f7e3'"), SqlValue::of_real(0.05));
  EXPECT_TRUE(one(path, "SELECT epochs FROM results WHERE run_key = '5b0e8d0c2a91f7e3'").is_null());
  EXPECT_TRUE(one(path, "SELECT ratio_bitmap FROM results WHERE run_key = '5b0e8d0c2a91f7e3'").is_null());
  EXPECT_EQ(one(path, "SELECT count(*) FROM pragma_foreign_key_check"), SqlValue::of_integer(0));
}

// Readers (status, plan, report, query) open read-only: an older DB is read through a
// migrated temporary copy, and neither the file nor the temp dir keeps a trace.
TEST(Schema, ReadOnlyOpenOfAnOlderDbReadsAMigratedCopyAndLeavesTheFileAlone) {
  TmpDir tmp;
  const std::string path = tmp.file("v2.sqlite");
  load_sql_fixture(path, "results_v2.sql");
  const std::string before = ternbench::testing::db_hash(path);
  auto temp_copies = [] {
    int n = 0;
    const std::string prefix = "ternbench-" + std::to_string(getpid()) + "-";
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::temp_directory_path())) {
      n += e.path().filename().string().rfind(prefix, 0) == 0 ? 1 : 0;
    }
    return n;
  };
  const int copies_before = temp_copies();
  {
    MetricsDb db(path, MetricsDb::Mode::kReadOnly);
    EXPECT_EQ(db.schema_version(), 2);
    const auto runs = db.runs();
    ASSERT_EQ(runs.size(), 3u);
    EXPECT_TRUE(std::isnan(runs[0].size_bitmap_bits));
    EXPECT_EQ(db.epochs("5b0e8d0c2a91f7e3").size(), 2u);
    EXPECT_GT(temp_copies(), copies_before);  // the copy, maybe with its -wal and -shm
    EXPECT_THROW(db.start_run(full_run("new")), StorageError);  // still read-only
  }
  EXPECT_EQ(temp_copies(), copies_before);
  EXPECT_EQ(ternbench::testing::db_hash(path), before);
}

TEST(Schema, VersionOneDbIsMigratedThroughEveryVersion) {
  TmpDir tmp;
  const std::string path = tmp.file("v1.sqlite");
  load_sql_fixture(path, "results_v1.sql");
  {
    MetricsDb db(path);
    EXPECT_EQ(db.schema_version(), MetricsDb::kSchemaVersion);
    const auto runs = db.runs();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].attempts, 1);  // the version-2 default
    EXPECT_EQ(db.epochs("c4f23f66c57ed99c").size(), 2u);
    EXPECT_EQ(db.layers("c4f23f66c57ed99c").size(), 1u);
  }
  EXPECT_EQ(one(path, "SELECT test_acc FROM results"), SqlValue::of_real(0.9654));
  EXPECT_EQ(count(path, "SELECT count(*) FROM run_epochs WHERE method = 'fp' AND stage = 'train'"), 2);
  EXPECT_EQ(count(path, "SELECT count(*) FROM run_layers WHERE dataset = 'mnist-10k'"), 1);
}

TEST(Schema, MigratedAndFreshDbsHaveTheSameSchema) {
  TmpDir tmp;
  const std::string fresh = tmp.file("fresh.sqlite");
  const std::string old = tmp.file("old.sqlite");
  const std::string v3 = tmp.file("v3.sqlite");
  { MetricsDb db(fresh); }
  load_sql_fixture(old, "results_v2.sql");
  { MetricsDb db(old); }
  load_sql_fixture(v3, "results_v3.sql");
  { MetricsDb db(v3); }
  const std::string sql =
      "SELECT group_concat(name || ':' || type, ' ') FROM (SELECT m.name || '.' || p.name AS name, "
      "p.type AS type FROM sqlite_master m JOIN pragma_table_info(m.name) p "
      "WHERE m.type IN ('table', 'view') ORDER BY m.name, p.cid)";
  EXPECT_EQ(one(fresh, sql), one(old, sql));
  EXPECT_EQ(one(fresh, sql), one(v3, sql));
  EXPECT_NE(one(fresh, sql).bytes.find("run_epoch_layers.delta:"), std::string::npos);
  const std::string indices = "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master "
                              "WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name)";
  EXPECT_EQ(one(fresh, indices).bytes,
            "epochs_by_run runs_by_dataset_method runs_by_init_from runs_by_method_dataset_status runs_by_status "
            "runs_by_sweep superseded_runs_by_key");
  EXPECT_EQ(one(old, indices), one(fresh, indices));
  EXPECT_EQ(one(v3, indices), one(fresh, indices));
}

TEST(Schema, NewFieldsRoundTripExactlyAndFeedTheViews) {
  TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  const RunRecord r = full_run("k1", "sca");
  {
    MetricsDb db(path);
    RunRecord running = r;
    running.status = "running";
    db.start_run(running);
    EpochRecord e;
    e.run_key = "k1";
    e.epoch = 1;
    e.lr = 1.0 / 3.0;
    e.test_acc_continuous = 0.1 + 0.7;
    e.test_loss_continuous = 1e-300;
    e.reg_penalty = std::nextafter(2.0, 3.0);
    db.add_epoch(e);
    LayerRecord l;
    l.layer = "dense0/W";
    l.precision = "ternary";
    l.n = 392000;
    l.n_scales = 1;
    l.bits_fp32 = 32.0 * 392000;
    l.bits_binary = 392000.0 + 32;
    l.bits_ternary_2bit = 2.0 * 392000 + 32;
    l.bits_ternary_base3 = 1.6 * 392000 + 32;
    l.bits_bitmap = 392000.0 + 220500 + 32;
    l.bits_relative_index = 220500.0 * 5 + 32;
    l.relative_index_b = 4;
    StageRecord cont{"", "continuous", 1, 2, 0.25, 0.9 + 1e-16, ternbench::storage::kNotRecorded};
    StageRecord rounded{"", "rounded", 2, 0, 0.3, 0.875, 0.5625};
    db.finish_run(r, {l}, {cont, rounded});
  }
  MetricsDb db(path, MetricsDb::Mode::kReadOnly);
  const RunRecord got = *db.run("k1");
  EXPECT_EQ(got.config_json, r.config_json);
  EXPECT_EQ(bits(got.size_fp32_bits), bits(r.size_fp32_bits));
  EXPECT_EQ(bits(got.size_binary_bits), bits(r.size_binary_bits));
  EXPECT_EQ(bits(got.size_ternary_2bit_bits), bits(r.size_ternary_2bit_bits));
  EXPECT_EQ(bits(got.size_ternary_base3_bits), bits(r.size_ternary_base3_bits));
  EXPECT_EQ(bits(got.size_bitmap_bits), bits(r.size_bitmap_bits));
  EXPECT_EQ(bits(got.size_relative_index_bits), bits(r.size_relative_index_bits));
  EXPECT_EQ(got.n_float_params, r.n_float_params);
  EXPECT_EQ(bits(got.float_param_bits), bits(r.float_param_bits));
  EXPECT_EQ(got.weights_sha256, r.weights_sha256);

  const EpochRecord e = db.epochs("k1").at(0);
  EXPECT_EQ(e.stage, "train");
  EXPECT_EQ(bits(e.lr), bits(1.0 / 3.0));
  EXPECT_EQ(bits(e.test_acc_continuous), bits(0.1 + 0.7));
  EXPECT_EQ(bits(e.test_loss_continuous), bits(1e-300));
  EXPECT_EQ(bits(e.reg_penalty), bits(std::nextafter(2.0, 3.0)));

  const LayerRecord l = db.layers("k1").at(0);
  EXPECT_EQ(l.n_scales, std::optional<std::int64_t>(1));
  EXPECT_EQ(l.relative_index_b, std::optional<std::int64_t>(4));
  EXPECT_EQ(bits(l.bits_ternary_base3), bits(1.6 * 392000 + 32));
  EXPECT_EQ(bits(l.bits_relative_index), bits(220500.0 * 5 + 32));

  const auto stages = db.stages("k1");
  ASSERT_EQ(stages.size(), 2u);
  EXPECT_EQ(stages[0].stage, "continuous");
  EXPECT_EQ(stages[0].run_key, "k1");
  EXPECT_EQ(stages[0].epochs, 2);
  EXPECT_EQ(bits(stages[0].test_acc), bits(0.9 + 1e-16));
  EXPECT_TRUE(std::isnan(stages[0].sparsity));
  EXPECT_EQ(stages[1].stage, "rounded");
  EXPECT_EQ(stages[1].ordinal, 2);

  // The views: config knobs from config_json (NULL when the config lacks the key), the
  // continuous accuracy from the stages, the ratios from the sizes.
  EXPECT_EQ(one(path, "SELECT epochs FROM results"), SqlValue::of_integer(2));
  EXPECT_EQ(one(path, "SELECT optimizer FROM results"), SqlValue::of_text("sgd"));
  EXPECT_EQ(one(path, "SELECT weight_decay FROM results"), SqlValue::of_real(0.0001));
  EXPECT_EQ(one(path, "SELECT twn_per_channel FROM results"), SqlValue::of_integer(0));
  EXPECT_EQ(one(path, "SELECT quantize_first FROM results"), SqlValue::of_integer(1));
  EXPECT_TRUE(one(path, "SELECT sca_alpha FROM results").is_null());
  EXPECT_EQ(one(path, "SELECT test_acc_continuous FROM results"), SqlValue::of_real(0.9 + 1e-16));
  EXPECT_EQ(one(path, "SELECT ratio_binary FROM results"),
            SqlValue::of_real(r.size_fp32_bits / r.size_binary_bits));
  EXPECT_EQ(one(path, "SELECT ratio_relative_index FROM results"),
            SqlValue::of_real(r.size_fp32_bits / r.size_relative_index_bits));
  EXPECT_EQ(one(path, "SELECT reg_penalty FROM run_epochs"), SqlValue::of_real(std::nextafter(2.0, 3.0)));
  EXPECT_EQ(one(path, "SELECT method FROM run_epochs"), SqlValue::of_text("sca"));
  EXPECT_EQ(one(path, "SELECT ratio_ternary_2bit FROM run_layers"),
            SqlValue::of_real(32.0 * 392000 / (2.0 * 392000 + 32)));
  EXPECT_EQ(one(path, "SELECT relative_index_b FROM run_layers"), SqlValue::of_integer(4));
}

TEST(Schema, EpochsOfTwoStagesMayShareNumbersAndReadBackInStageOrder) {
  TmpDir tmp;
  MetricsDb db(tmp.file("study.sqlite"));
  db.start_run(full_run("f", "faraone"));
  for (const char* stage : {"stage1", "stage3"}) {
    for (int epoch : {2, 1}) {
      EpochRecord e;
      e.run_key = "f";
      e.stage = stage;
      e.epoch = epoch;
      e.test_acc = epoch / 10.0;
      db.add_epoch(e);
    }
  }
  const auto epochs = db.epochs("f");
  ASSERT_EQ(epochs.size(), 4u);
  EXPECT_EQ(epochs[0].stage, "stage1");
  EXPECT_EQ(epochs[0].epoch, 1);
  EXPECT_EQ(epochs[1].epoch, 2);
  EXPECT_EQ(epochs[2].stage, "stage3");
  EXPECT_EQ(epochs[2].epoch, 1);
}

TEST(Schema, StartRunOnAnExistingKeyAlsoDropsItsStages) {
  TmpDir tmp;
  MetricsDb db(tmp.file("study.sqlite"));
  db.start_run(full_run("k"));
  db.add_stage({"k", "final", 1, 2, 0.3, 0.9, 0.5});
  EXPECT_EQ(db.stages("k").size(), 1u);
  db.start_run(full_run("k"));
  EXPECT_TRUE(db.stages("k").empty());
}

TEST(Schema, InvalidConfigJsonAndEmptyStageAreRefused) {
  TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  MetricsDb db(path);
  RunRecord r = full_run("k");
  r.config_json = "{not json";
  EXPECT_THROW(db.start_run(r), StorageError);
  EXPECT_EQ(db.status("k"), std::nullopt);
  db.start_run(full_run("k"));
  EpochRecord e;
  e.run_key = "k";
  e.stage = "";
  EXPECT_THROW(db.add_epoch(e), StorageError);
  EXPECT_THROW(db.add_stage({"k", "", 1, 0, 0, 0, 0}), StorageError);
}

}  // namespace

// Schema 5: runs on "mnist" before it named the standard MNIST were on the 10,000-image
// subset; they become "mnist-10k", and a key that is the hash of the config becomes the
// hash of the new config, with every row of the run following it.
TEST(Schema, VersionFiveRenamesTheMnistSubsetRunsAndRekeysThem) {
  TmpDir tmp;
  const std::string path = tmp.file("v3.sqlite");
  load_sql_fixture(path, "results_v3.sql");
  const std::string config = "[train]\nbatch_size = 64\ndataset = \"mnist\"\nmethod = \"fp\"\nseed = 3\n";
  const std::string old_key = ternbench::sha256_hex(config).substr(0, 16);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const std::string sql =
        "INSERT INTO runs(run_key, sweep, config_toml, dataset, model, method, seed, lr, status, git_commit, "
        "git_dirty, host, rank, threads, epochs_done, n_weights, n_nonzero, config_json) VALUES('" + old_key +
        "', 'q', '" + config + "', 'mnist', 'mlp', 'fp', 3, 0.05, 'done', 'abc', 0, 'h', 0, 1, 1, 10, 10, "
        "'{\"dataset\":\"mnist\",\"seed\":3}');"
        "INSERT INTO epochs(run_key, epoch, test_acc) VALUES('" + old_key + "', 1, 0.5);";
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  std::string new_config = config;
  new_config.replace(new_config.find("\"mnist\""), 7, "\"mnist-10k\"");
  const std::string new_key = ternbench::sha256_hex(new_config).substr(0, 16);
  {
    MetricsDb db(path);
    EXPECT_FALSE(db.run(old_key).has_value());
    const auto r = db.run(new_key);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->dataset, "mnist-10k");
    EXPECT_EQ(r->config_toml, new_config);
    EXPECT_EQ(r->config_json, "{\"dataset\":\"mnist-10k\",\"fp_init_std\":0.0,\"seed\":3}");  // and version 7's key
    EXPECT_EQ(r->data_sha256, "");  // unknown: recorded before fingerprints
    ASSERT_EQ(db.epochs(new_key).size(), 1u);
    EXPECT_EQ(db.epochs(new_key)[0].test_acc, 0.5);
  }
  EXPECT_EQ(count(path, "SELECT count(*) FROM runs WHERE dataset = 'mnist'"), 0);
  // Hand-made keys of the fixture are not hashes of their configs: kept, renamed only.
  EXPECT_EQ(one(path, "SELECT dataset FROM runs WHERE run_key = 'b2e1d4c3f5a60798'"), SqlValue::of_text("mnist-10k"));
  EXPECT_EQ(one(path, "SELECT count(*) FROM pragma_foreign_key_check"), SqlValue::of_integer(0));
}

TEST(Schema, BlockedStatusAndTheWarmStartColumnsRoundTrip) {
  TmpDir tmp;
  MetricsDb db(tmp.file("r.sqlite"));
  RunRecord r = full_run("dep");
  r.status = ternbench::storage::kStatusBlocked;
  r.init_from = "0123456789abcdef";
  r.data_sha256 = std::string(64, 'a');
  db.start_run(r);
  const auto back = db.run("dep");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->status, "blocked");
  EXPECT_EQ(back->init_from, "0123456789abcdef");
  EXPECT_EQ(back->data_sha256, std::string(64, 'a'));
}

// Schema 8: the ternary engine's measurement of a run, its ratios in the results view; a
// new measurement replaces the last, one for an unknown run is refused, and it goes with
// its run.
TEST(Schema, InferenceMeasurementsRoundTripAndShowInTheResultsView) {
  TmpDir tmp;
  const std::string path = tmp.file("r.sqlite");
  MetricsDb db(path);
  db.finish_run(full_run("k1", "twn", 1), {});
  ternbench::storage::InferenceRecord i;
  i.run_key = "k1";
  i.threads = 2;
  i.n_test = 100;
  i.predictions_identical = 100;
  i.test_acc = 0.5;
  i.latency_us = 20;
  i.float_latency_us = 50;
  i.throughput = 3000;
  i.float_throughput = 1000;
  i.bytes = 256;
  i.float32_bytes = 4096;
  i.host = "h";
  i.git_commit = "abc";
  i.measured_at = "2026-12-07T00:00:00Z";
  db.record_inference(i);
  i.latency_us = 25;  // measured again
  db.record_inference(i);
  const auto back = db.inference("k1");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->latency_us, 25);
  EXPECT_EQ(back->float32_bytes, 4096);
  EXPECT_EQ(back->measured_at, "2026-12-07T00:00:00Z");
  EXPECT_FALSE(db.inference("k2").has_value());
  const QueryResult r = ternbench::storage::run_query(
      path, "SELECT infer_threads, infer_speedup_b1, infer_speedup_b64, infer_memory_ratio FROM results");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][0], SqlValue::of_integer(2));
  EXPECT_EQ(r.rows[0][1], SqlValue::of_real(2.0));
  EXPECT_EQ(r.rows[0][2], SqlValue::of_real(3.0));
  EXPECT_EQ(r.rows[0][3], SqlValue::of_real(16.0));
  i.run_key = "nope";
  EXPECT_THROW(db.record_inference(i), StorageError);
  db.exec("DELETE FROM runs WHERE run_key = 'k1'");
  EXPECT_EQ(ternbench::storage::run_query(path, "SELECT count(*) FROM inference").rows[0][0], SqlValue::of_integer(0));
}

// Schema 7: config_json holds every key of the run's method. A version-6 DB left out the keys
// added after runs were trained while they were at their default; the migration adds them,
// in the key order a config_json written now has, and the results view reads them as any
// other key. Rows without a valid config_json are left as they were.
TEST(Schema, VersionSevenAddsTheDefaultsAVersionSixRowLeftOut) {
  TmpDir tmp;
  const std::string path = tmp.file("v6.sqlite");
  const std::string sca_json = "{\"dataset\":\"mnist\",\"method\":\"sca\",\"sca_alpha\":0.5,\"seed\":1}";
  const std::string sca_set_json =
      "{\"method\":\"sca\",\"sca_lambda_final\":0.3,\"sca_theta_lr_scale\":10.0,\"seed\":1}";
  const std::string fp_json =
      "{\"dataset\":\"mnist\",\"layers\":[\"conv(8, kernel=3)\",\"dense(10)\"],\"lr\":0.30000000000000004,"
      "\"method\":\"fp\",\"seed\":1,\"weight_decay\":1e-05}";
  const std::string twn_json = "{\"method\":\"twn\",\"seed\":1}";
  {
    // Tables of versions 6 and 7 are the same: a version-7 DB set back to version 6 is a
    // version-6 DB.
    MetricsDb db(path);
    auto add = [&](const std::string& key, const std::string& method, const std::string& json) {
      RunRecord r = full_run(key, method);
      r.config_json = json;
      db.start_run(r);
    };
    add("sca", "sca", sca_json);
    add("sca_set", "sca", sca_set_json);
    add("fp", "fp", fp_json);
    add("twn", "twn", twn_json);
    add("fp_null", "fp", "");
    add("fp_bad", "fp", "{\"seed\":1}");
    add("fp_array", "fp", "[1,2]");
    // Written past the CHECK that refuses it, as a DB edited by hand could hold it.
    db.exec("PRAGMA ignore_check_constraints = ON; "
            "UPDATE runs SET config_json = '{\"seed\":1' WHERE run_key = 'fp_bad'; "
            "PRAGMA ignore_check_constraints = OFF; DROP TABLE inference; DROP TABLE writer; DROP TABLE superseded_runs; "
            "PRAGMA user_version = 6");
  }
  const std::string sca_want =
      "{\"dataset\":\"mnist\",\"method\":\"sca\",\"sca_alpha\":0.5,\"sca_lambda_final\":0.0,"
      "\"sca_theta_lr_scale\":1.0,\"seed\":1}";
  const std::string fp_want =
      "{\"dataset\":\"mnist\",\"fp_init_std\":0.0,\"layers\":[\"conv(8, kernel=3)\",\"dense(10)\"],"
      "\"lr\":0.30000000000000004,\"method\":\"fp\",\"seed\":1,\"weight_decay\":1e-05}";
  // A reader migrates a copy and sees the defaults; the file stays at version 6.
  const std::string before = ternbench::testing::db_hash(path);
  EXPECT_EQ(one(path, "SELECT sca_theta_lr_scale FROM results WHERE run_key = 'sca'"), SqlValue::of_real(1.0));
  EXPECT_EQ(ternbench::testing::db_hash(path), before);
  {
    MetricsDb db(path);
    EXPECT_EQ(db.schema_version(), MetricsDb::kSchemaVersion);
    EXPECT_EQ(db.run("sca")->config_json, sca_want);
    EXPECT_EQ(db.run("sca_set")->config_json, sca_set_json);  // had both keys: untouched
    EXPECT_EQ(db.run("fp")->config_json, fp_want);            // numbers keep their text
    EXPECT_EQ(db.run("twn")->config_json, twn_json);
    EXPECT_EQ(db.run("fp_null")->config_json, "");
    EXPECT_EQ(db.run("fp_array")->config_json, "[1,2]");
  }
  EXPECT_EQ(one(path, "SELECT config_json FROM runs WHERE run_key = 'fp_bad'"), SqlValue::of_text("{\"seed\":1"));
  EXPECT_EQ(count(path, "SELECT count(*) FROM runs"), 7);
  const std::string view = "SELECT sca_theta_lr_scale, sca_lambda_final, fp_init_std FROM results WHERE run_key = ";
  auto row = [&](const std::string& key) {
    const QueryResult r = ternbench::storage::run_query(path, view + "'" + key + "'");
    EXPECT_EQ(r.rows.size(), 1u) << key;
    return r.rows.empty() ? std::vector<SqlValue>{} : r.rows[0];
  };
  EXPECT_EQ(row("sca"), (std::vector<SqlValue>{SqlValue::of_real(1.0), SqlValue::of_real(0.0), SqlValue::null()}));
  EXPECT_EQ(row("sca_set"), (std::vector<SqlValue>{SqlValue::of_real(10.0), SqlValue::of_real(0.3), SqlValue::null()}));
  EXPECT_EQ(row("fp"), (std::vector<SqlValue>{SqlValue::null(), SqlValue::null(), SqlValue::of_real(0.0)}));
  EXPECT_EQ(row("twn"), (std::vector<SqlValue>{SqlValue::null(), SqlValue::null(), SqlValue::null()}));
  EXPECT_EQ(row("fp_null"), (std::vector<SqlValue>{SqlValue::null(), SqlValue::null(), SqlValue::null()}));
  // Opening again runs no migration: the text stays as it is.
  { MetricsDb db(path); }
  EXPECT_EQ(one(path, "SELECT config_json FROM runs WHERE run_key = 'fp'"), SqlValue::of_text(fp_want));
}
