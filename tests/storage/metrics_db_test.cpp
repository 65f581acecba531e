#include "ternbench/storage/metrics_db.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <limits>
#include <string>

#include "support/tmp_dir.hpp"
#include "ternbench/base/error.hpp"

namespace {

using ternbench::StorageError;
using ternbench::storage::EpochRecord;
using ternbench::storage::LayerRecord;
using ternbench::storage::MetricsDb;
using ternbench::storage::RunRecord;
using ternbench::storage::Transaction;
using ternbench::testing::TmpDir;

// Values that a text round trip (printf "%g", even "%.15g") would change.
constexpr double kThird = 1.0 / 3.0;
constexpr double kTiny = 4.9406564584124654e-324;  // smallest denormal
constexpr double kHuge = 1.7976931348623157e308;

RunRecord make_run(const std::string& key, const std::string& status = "running") {
  RunRecord r;
  r.run_key = key;
  r.sweep = "paper_table2";
  r.config_toml = "[train]\ndataset = \"mnist\"\nlr = 0.1\n";
  r.dataset = "mnist";
  r.model = "mlp";
  r.method = "sca";
  r.seed = -9'000'000'000'000'000'001;
  r.lr = 0.1;
  r.status = status;
  r.error = "";
  r.weights_path = "weights/" + key + ".h5";
  r.git_commit = "61c4d03";
  r.git_dirty = true;
  r.host = "node17";
  r.rank = 3;
  r.threads = 4;
  r.started_at = "2024-05-01T12:00:00Z";
  r.finished_at = "";
  r.train_seconds = kThird;
  r.epochs_done = 2;
  r.train_loss = kTiny;
  r.train_acc = 0.98765432109876543;
  r.test_loss = kHuge;
  r.test_acc = std::nextafter(0.9, 1.0);
  r.sparsity = 0.6180339887498949;
  r.bits_per_weight = 1.584962500721156;
  r.n_weights = 1'234'567'890'123;
  r.n_nonzero = 42;
  return r;
}

EpochRecord make_epoch(const std::string& key, int epoch) {
  EpochRecord e;
  e.run_key = key;
  e.epoch = epoch;
  e.train_loss = kThird * epoch;
  e.train_acc = 0.1 + 0.2;  // 0.30000000000000004
  e.test_loss = kTiny;
  e.test_acc = kHuge;
  e.sparsity = 2.0 / 3.0;
  e.seconds = 1e-17;
  return e;
}

LayerRecord make_layer(const std::string& key, const std::string& name) {
  LayerRecord l;
  l.run_key = key;
  l.layer = name;
  l.precision = "ternary";
  l.rows = 300;
  l.cols = 784;
  l.n = 235200;
  l.n_zero = 100000;
  l.n_pos = 70000;
  l.n_neg = 65200;
  l.sparsity = 100000.0 / 235200.0;
  l.scale = kThird;
  l.delta = 0.7 * kThird;
  l.bits = std::log2(3.0);
  return l;
}

std::uint64_t bits(double v) { return std::bit_cast<std::uint64_t>(v); }

void expect_same_run(const RunRecord& a, const RunRecord& b) {
  EXPECT_EQ(a.run_key, b.run_key);
  EXPECT_EQ(a.sweep, b.sweep);
  EXPECT_EQ(a.config_toml, b.config_toml);
  EXPECT_EQ(a.dataset, b.dataset);
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.method, b.method);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(bits(a.lr), bits(b.lr));
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.error, b.error);
  EXPECT_EQ(a.weights_path, b.weights_path);
  EXPECT_EQ(a.git_commit, b.git_commit);
  EXPECT_EQ(a.git_dirty, b.git_dirty);
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.rank, b.rank);
  EXPECT_EQ(a.threads, b.threads);
  EXPECT_EQ(a.started_at, b.started_at);
  EXPECT_EQ(a.finished_at, b.finished_at);
  EXPECT_EQ(bits(a.train_seconds), bits(b.train_seconds));
  EXPECT_EQ(a.epochs_done, b.epochs_done);
  EXPECT_EQ(bits(a.train_loss), bits(b.train_loss));
  EXPECT_EQ(bits(a.train_acc), bits(b.train_acc));
  EXPECT_EQ(bits(a.test_loss), bits(b.test_loss));
  EXPECT_EQ(bits(a.test_acc), bits(b.test_acc));
  EXPECT_EQ(bits(a.sparsity), bits(b.sparsity));
  EXPECT_EQ(bits(a.bits_per_weight), bits(b.bits_per_weight));
  EXPECT_EQ(a.n_weights, b.n_weights);
  EXPECT_EQ(a.n_nonzero, b.n_nonzero);
}

// Runs a shell command and returns its stdout; the exit status goes to *status.
std::string run_command(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    *status = -1;
    return out;
  }
  char buf[256];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  *status = pclose(p);
  return out;
}

// Opens the file with the raw C API, as another tool would.
std::string raw_query_text(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

template <class Fn>
std::string storage_error_of(Fn&& fn) {
  try {
    fn();
  } catch (const StorageError& e) {
    return e.what();
  }
  return "(no StorageError thrown)";
}

TEST(MetricsDb, FreshFileGetsTheCurrentSchemaVersionAndParentDirectories) {
  TmpDir tmp;
  const std::string path = tmp.file("a/b/study.sqlite");
  MetricsDb db(path);
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(db.schema_version(), MetricsDb::kSchemaVersion);
  EXPECT_EQ(db.path(), path);
  EXPECT_TRUE(db.runs().empty());
}

TEST(MetricsDb, RunsEpochsAndLayersRoundTripWithExactDoubles) {
  TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  RunRecord done = make_run("k1");
  {
    MetricsDb db(path);
    db.start_run(make_run("k1"));
    db.add_epoch(make_epoch("k1", 2));
    db.add_epoch(make_epoch("k1", 1));
    done.status = "done";
    done.finished_at = "2024-05-01T13:00:00Z";
    done.error = "";
    db.finish_run(done, {make_layer("k1", "dense1/W"), make_layer("k1", "dense0/W")});
  }
  MetricsDb db(path);  // reopen: the values come from the file, not a cache
  const auto runs = db.runs();
  ASSERT_EQ(runs.size(), 1u);
  expect_same_run(runs[0], done);

  const auto epochs = db.epochs("k1");
  ASSERT_EQ(epochs.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    const EpochRecord want = make_epoch("k1", i + 1);
    const EpochRecord& got = epochs[static_cast<std::size_t>(i)];
    EXPECT_EQ(got.run_key, want.run_key);
    EXPECT_EQ(got.epoch, want.epoch);  // ordered by epoch, not insertion
    EXPECT_EQ(bits(got.train_loss), bits(want.train_loss));
    EXPECT_EQ(bits(got.train_acc), bits(want.train_acc));
    EXPECT_EQ(bits(got.test_loss), bits(want.test_loss));
    EXPECT_EQ(bits(got.test_acc), bits(want.test_acc));
    EXPECT_EQ(bits(got.sparsity), bits(want.sparsity));
    EXPECT_EQ(bits(got.seconds), bits(want.seconds));
  }

  const auto layers = db.layers("k1");
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0].layer, "dense1/W");  // insertion order
  EXPECT_EQ(layers[1].layer, "dense0/W");
  const LayerRecord want = make_layer("k1", "dense0/W");
  const LayerRecord& got = layers[1];
  EXPECT_EQ(got.run_key, "k1");
  EXPECT_EQ(got.precision, want.precision);
  EXPECT_EQ(got.rows, want.rows);
  EXPECT_EQ(got.cols, want.cols);
  EXPECT_EQ(got.n, want.n);
  EXPECT_EQ(got.n_zero, want.n_zero);
  EXPECT_EQ(got.n_pos, want.n_pos);
  EXPECT_EQ(got.n_neg, want.n_neg);
  EXPECT_EQ(bits(got.sparsity), bits(want.sparsity));
  EXPECT_EQ(bits(got.scale), bits(want.scale));
  EXPECT_EQ(bits(got.delta), bits(want.delta));
  EXPECT_EQ(bits(got.bits), bits(want.bits));
}

TEST(MetricsDb, NanMetricsOfADivergedRunReadBackAsNan) {
  TmpDir tmp;
  MetricsDb db(tmp.file("study.sqlite"));
  RunRecord r = make_run("k1", "diverged");
  r.train_loss = std::numeric_limits<double>::quiet_NaN();
  r.test_loss = std::numeric_limits<double>::infinity();
  r.error = "loss is NaN at epoch 3";
  db.start_run(r);
  EpochRecord e = make_epoch("k1", 3);
  e.train_loss = std::numeric_limits<double>::quiet_NaN();
  db.add_epoch(e);
  const RunRecord got = db.runs().at(0);
  EXPECT_TRUE(std::isnan(got.train_loss));
  EXPECT_EQ(got.test_loss, std::numeric_limits<double>::infinity());
  EXPECT_EQ(got.error, r.error);
  EXPECT_TRUE(std::isnan(db.epochs("k1").at(0).train_loss));
}

TEST(MetricsDb, AddEpochReplacesTheSameEpoch) {
  TmpDir tmp;
  MetricsDb db(tmp.file("study.sqlite"));
  db.start_run(make_run("k1"));
  EpochRecord e = make_epoch("k1", 1);
  db.add_epoch(e);
  e.test_acc = 0.5;
  db.add_epoch(e);
  const auto epochs = db.epochs("k1");
  ASSERT_EQ(epochs.size(), 1u);
  EXPECT_EQ(epochs[0].test_acc, 0.5);
}

TEST(MetricsDb, StartRunOnAnExistingKeyResetsItsEpochsAndLayers) {
  TmpDir tmp;
  MetricsDb db(tmp.file("study.sqlite"));
  db.start_run(make_run("k1"));
  db.start_run(make_run("k2"));
  for (const char* key : {"k1", "k2"}) {
    db.add_epoch(make_epoch(key, 1));
    db.add_epoch(make_epoch(key, 2));
  }
  RunRecord failed = make_run("k1", "failed");
  failed.error = "dataset missing";
  db.finish_run(failed, {make_layer("k1", "dense0/W")});

  RunRecord retry = make_run("k1", "running");
  retry.host = "node02";
  db.start_run(retry);
  EXPECT_TRUE(db.epochs("k1").empty());
  EXPECT_TRUE(db.layers("k1").empty());
  EXPECT_EQ(db.epochs("k2").size(), 2u);  // other runs are untouched
  ASSERT_EQ(db.runs().size(), 2u);
  const RunRecord got = db.runs().at(0);
  expect_same_run(got, retry);
  EXPECT_EQ(got.error, "");  // the new record replaces every column
}

TEST(MetricsDb, StatusAndKeysWithStatus) {
  TmpDir tmp;
  MetricsDb db(tmp.file("study.sqlite"));
  db.start_run(make_run("a", "running"));
  db.start_run(make_run("b", "done"));
  db.start_run(make_run("c", "done"));
  EXPECT_EQ(db.status("b"), std::optional<std::string>("done"));
  EXPECT_EQ(db.status("zzz"), std::nullopt);
  EXPECT_EQ(db.keys_with_status("done"), (std::set<std::string>{"b", "c"}));
  EXPECT_TRUE(db.keys_with_status("failed").empty());
  ASSERT_EQ(db.runs("done").size(), 2u);
  EXPECT_EQ(db.runs("done")[1].run_key, "c");
  EXPECT_EQ(db.runs().size(), 3u);
}

TEST(MetricsDb, UnknownStatusIsRefusedByTheCheckConstraint) {
  TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  MetricsDb db(path);
  const std::string msg = storage_error_of([&] { db.start_run(make_run("k1", "finished")); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("CHECK constraint failed"), std::string::npos) << msg;
  EXPECT_EQ(db.status("k1"), std::nullopt);
}

TEST(MetricsDb, EpochOfAnUnknownRunIsRefusedByTheForeignKey) {
  TmpDir tmp;
  MetricsDb db(tmp.file("study.sqlite"));
  const std::string msg = storage_error_of([&] { db.add_epoch(make_epoch("nobody", 1)); });
  EXPECT_NE(msg.find("FOREIGN KEY constraint failed"), std::string::npos) << msg;
}

// The writes reuse prepared statements kept per connection. A statement that failed goes
// back to the cache and works next time, and closing releases them all: otherwise SQLite
// keeps the connection, and its WAL file, open after the MetricsDb is gone.
TEST(MetricsDb, CachedStatementsSurviveErrorsAndAreReleasedOnClose) {
  TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  {
    MetricsDb db(path);
    for (int i = 0; i < 30; ++i) {
      std::string key = "k";
      key.append(std::to_string(i));
      db.start_run(make_run(key));
      db.add_epoch(make_epoch(key, 1));
      db.finish_run(make_run(key, "done"), {});
    }
    EXPECT_THROW(db.add_epoch(make_epoch("nobody", 1)), StorageError);
    db.add_epoch(make_epoch("k3", 2));
    EXPECT_EQ(db.epochs("k3").size(), 2u);
  }
  EXPECT_FALSE(std::filesystem::exists(path + "-wal")) << "the connection was not closed";
  MetricsDb again(path);
  EXPECT_EQ(again.runs("done").size(), 30u);
}

TEST(MetricsDb, DeletingARunCascadesToEpochsAndLayers) {
  TmpDir tmp;
  MetricsDb db(tmp.file("study.sqlite"));
  db.start_run(make_run("k1"));
  db.add_epoch(make_epoch("k1", 1));
  db.finish_run(make_run("k1", "done"), {make_layer("k1", "dense0/W")});
  db.exec("DELETE FROM runs WHERE run_key = 'k1'");
  EXPECT_TRUE(db.epochs("k1").empty());
  EXPECT_TRUE(db.layers("k1").empty());
}

TEST(MetricsDb, NewerSchemaVersionIsRefused) {
  TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  const std::string newer = std::to_string(MetricsDb::kSchemaVersion + 1);
  { MetricsDb(path).exec("PRAGMA user_version = " + newer); }
  const std::string want = path + ": results DB has schema version " + newer + ", this ternbench reads up to " +
                           std::to_string(MetricsDb::kSchemaVersion) + "; use a newer ternbench";
  EXPECT_EQ(storage_error_of([&] { MetricsDb db(path); }), want);
  EXPECT_EQ(storage_error_of([&] { MetricsDb db(path, MetricsDb::Mode::kReadOnly); }), want);
}

TEST(MetricsDb, NonSqliteFileIsRefusedNamingThePath) {
  TmpDir tmp;
  const std::string path = tmp.file("notes.txt");
  std::ofstream(path) << "this is a text file, long enough to hold a SQLite header or more.\n"
                      << std::string(200, 'x') << "\n";
  const std::string msg = storage_error_of([&] { MetricsDb db(path); });
  EXPECT_EQ(msg.rfind(path + ": not a SQLite database (", 0), 0u) << msg;
}

TEST(MetricsDb, ForeignSqliteDbIsRefused) {
  TmpDir tmp;
  const std::string path = tmp.file("other.sqlite");
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "CREATE TABLE customers(id INTEGER)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  const std::string msg = storage_error_of([&] { MetricsDb db(path); });
  EXPECT_EQ(msg.rfind(path + ": not a ternbench results DB", 0), 0u) << msg;
  EXPECT_NE(msg.find("customers"), std::string::npos) << msg;
  EXPECT_EQ(raw_query_text(path, "SELECT group_concat(name) FROM sqlite_master"), "customers");
}

TEST(MetricsDb, ReadOnlyOpenOfAMissingFileFailsWithoutCreatingIt) {
  TmpDir tmp;
  const std::string path = tmp.file("missing.sqlite");
  const std::string msg = storage_error_of([&] { MetricsDb db(path, MetricsDb::Mode::kReadOnly); });
  EXPECT_EQ(msg.rfind(path + ": results DB does not exist", 0), 0u) << msg;
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(MetricsDb, ReadOnlyOpenReadsButCannotWrite) {
  TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  MetricsDb writer(path);
  writer.start_run(make_run("k1"));
  MetricsDb reader(path, MetricsDb::Mode::kReadOnly);  // while the writer is open, as reports do
  EXPECT_EQ(reader.status("k1"), std::optional<std::string>("running"));
  EXPECT_THROW(reader.start_run(make_run("k2")), StorageError);
}

TEST(MetricsDb, TransactionRollsBackUnlessCommitted) {
  TmpDir tmp;
  MetricsDb db(tmp.file("study.sqlite"));
  {
    Transaction t(db);
    db.start_run(make_run("dropped"));  // nests as a savepoint inside the transaction
    db.add_epoch(make_epoch("dropped", 1));
  }
  EXPECT_EQ(db.status("dropped"), std::nullopt);
  {
    Transaction t(db);
    db.start_run(make_run("kept"));
    db.add_epoch(make_epoch("kept", 1));
    t.commit();
  }
  EXPECT_EQ(db.status("kept"), std::optional<std::string>("running"));
  EXPECT_EQ(db.epochs("kept").size(), 1u);
}

TEST(MetricsDb, FailedFinishRunLeavesNoPartialWrite) {
  TmpDir tmp;
  MetricsDb db(tmp.file("study.sqlite"));
  db.start_run(make_run("k1"));
  LayerRecord bad = make_layer("k1", "dense1/W");
  bad.run_key = "someone_else";
  EXPECT_THROW(db.finish_run(make_run("k1", "done"), {make_layer("k1", "dense0/W"), bad}), StorageError);
  EXPECT_EQ(db.status("k1"), std::optional<std::string>("running"));
  EXPECT_TRUE(db.layers("k1").empty());
}

TEST(MetricsDb, JournalModeIsWalAndForeignKeysAreOn) {
  TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  MetricsDb db(path);
  EXPECT_EQ(raw_query_text(path, "PRAGMA journal_mode"), "wal");
  // foreign_keys is per connection: check ours through its effect.
  EXPECT_THROW(db.exec("INSERT INTO epochs(run_key, epoch) VALUES('nobody', 1)"), StorageError);
}

TEST(MetricsDb, Sqlite3ShellReadsTheDb) {
  if (!std::filesystem::exists("/usr/bin/sqlite3")) GTEST_SKIP() << "no /usr/bin/sqlite3 shell";
  TmpDir tmp;
  const std::string path = tmp.file("study.sqlite");
  MetricsDb db(path);
  db.start_run(make_run("k1"));
  db.start_run(make_run("k2", "done"));
  int status = 0;
  const std::string out =
      run_command("/usr/bin/sqlite3 '" + path + "' 'select count(*) from runs' 2>&1", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out, "2\n");
  const std::string done = run_command(
      "/usr/bin/sqlite3 '" + path + "' \"select run_key from runs where status = 'done'\" 2>&1", &status);
  EXPECT_EQ(done, "k2\n");
}

}  // namespace

// A DB written by schema version 1 is upgraded in place: rows, epochs and layers survive
// (rebuilding runs with foreign keys on would cascade-delete them), new columns get defaults.
TEST(MetricsDb, VersionOneDbIsMigratedInPlaceKeepingEveryRow) {
  TmpDir tmp;
  const std::string path = tmp.file("v1.sqlite");
  {
    std::ifstream in(std::string(TB_SOURCE_DIR) + "/tests/fixtures/results_v1.sql");
    const std::string sql((std::istreambuf_iterator<char>(in)), {});
    ASSERT_FALSE(sql.empty());
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
    sqlite3_close(raw);
  }
  MetricsDb db(path);
  EXPECT_EQ(db.schema_version(), MetricsDb::kSchemaVersion);
  const auto runs = db.runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].run_key, "c4f23f66c57ed99c");
  EXPECT_DOUBLE_EQ(runs[0].test_acc, 0.9654);
  EXPECT_EQ(runs[0].attempts, 1);
  EXPECT_EQ(runs[0].slurm_job_id, "");
  EXPECT_EQ(db.epochs("c4f23f66c57ed99c").size(), 2u);
  EXPECT_EQ(db.layers("c4f23f66c57ed99c").size(), 1u);
  // The new status is accepted and foreign keys are on again.
  RunRecord bad = runs[0];
  bad.run_key = "bad";
  bad.status = ternbench::storage::kStatusConfigError;
  db.start_run(bad);
  EXPECT_EQ(db.status("bad"), std::optional<std::string>("config_error"));
  EXPECT_THROW(db.exec("INSERT INTO epochs(run_key, epoch) VALUES('nobody', 1)"), StorageError);
}
