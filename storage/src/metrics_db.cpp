#include "ternbench/storage/metrics_db.hpp"

#include <array>
#include <filesystem>
#include <string>
#include <system_error>

#include "epoch_layers.hpp"
#include "record_sql.hpp"
#include "run_rows.hpp"
#include "schema.hpp"
#include "snapshot.hpp"
#include "sqlite_util.hpp"
#include "ternbench/base/error.hpp"
#include "writer_lease.hpp"

namespace ternbench::storage {
namespace {

using sqlite::Statement;

// A write that must be atomic. Inside a caller's Transaction it becomes a savepoint, so
// start_run/finish_run compose with an outer Transaction instead of failing on BEGIN. With a
// lease token, it first checks under the write lock that the lease is still this process's.
class WriteScope {
 public:
  WriteScope(sqlite3* db, sqlite::StatementCache& stmts, const std::string& path = {},
             const std::string& lease_token = {})
      : stmts_(stmts), nested_(sqlite3_get_autocommit(db) == 0) {
    run(nested_ ? "SAVEPOINT tb_write" : "BEGIN IMMEDIATE");
    if (lease_token.empty()) return;
    try {
      lease::check_held(db, stmts, path, lease_token);
    } catch (...) {
      roll_back();  // the destructor does not run for a throwing constructor
      throw;
    }
  }
  ~WriteScope() {
    if (!done_) roll_back();
  }
  WriteScope(const WriteScope&) = delete;
  WriteScope& operator=(const WriteScope&) = delete;
  void commit() {
    run(nested_ ? "RELEASE tb_write" : "COMMIT");
    done_ = true;
  }

 private:
  void roll_back() noexcept {
    try {
      if (nested_) {
        run("ROLLBACK TO tb_write");
        run("RELEASE tb_write");
      } else {
        run("ROLLBACK");
      }
    } catch (...) {  // NOLINT(bugprone-empty-catch): the original error is already propagating
    }
  }
  void run(const char* sql) { Statement(stmts_, sql).run(); }
  sqlite::StatementCache& stmts_;
  bool nested_;
  bool done_ = false;
};

// One stage row of run_key (replaces the same stage).
void insert_stage(sqlite::StatementCache& stmts, const std::string& run_key, const StageRecord& s) {
  static const std::string sql = record_sql::insert<StageColumns, StageRecord>("INSERT OR REPLACE", "stages");
  Statement st(stmts, sql);
  record_sql::bind<StageColumns>(st, s);
  st.bind(1, run_key);  // the run's, whatever the record says
  st.run();
}

std::string user_tables(sqlite3* db, const std::string& path) {
  Statement st(db, path,
               "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
               "AND name NOT LIKE 'sqlite_%' ORDER BY name");
  std::string names;
  while (st.step()) names += (names.empty() ? "" : ", ") + st.text(0);
  return names;
}

[[noreturn]] void refuse_foreign(const std::string& path, const std::string& tables) {
  throw StorageError(path + ": not a ternbench results DB (user_version 0 but it has tables: " +
                     tables + "); give --db a new file or an existing ternbench DB");
}

// The first read of the header is where SQLite notices a file that is not a database.
int read_user_version(sqlite3* db, const std::string& path) {
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_step(st);
  const int version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
  const std::string msg = sqlite3_errmsg(db);
  sqlite3_finalize(st);
  if ((rc & 0xff) == SQLITE_NOTADB) {
    throw StorageError(path + ": not a SQLite database (" + msg + ")");
  }
  if (rc != SQLITE_ROW) throw StorageError(path + ": PRAGMA user_version: " + msg);
  return version;
}

void refuse_newer(const std::string& path, int version) {
  if (version <= MetricsDb::kSchemaVersion) return;
  throw StorageError(path + ": results DB has schema version " + std::to_string(version) +
                     ", this ternbench reads up to " + std::to_string(MetricsDb::kSchemaVersion) +
                     "; use a newer ternbench");
}

// Brings a read-write DB to kSchemaVersion. Re-reads the version under the write lock, so
// two processes opening a fresh file do not both create the schema.
void migrate(sqlite3* db, const std::string& path) {
  sqlite::StatementCache stmts(db, path);
  WriteScope scope(db, stmts);
  const int version = read_user_version(db, path);
  refuse_newer(path, version);
  if (version == MetricsDb::kSchemaVersion) return;  // another process migrated it meanwhile
  if (version == 0) {
    const std::string tables = user_tables(db, path);
    if (!tables.empty()) refuse_foreign(path, tables);
  }
  schema::migrate(db, path, version);
  scope.commit();
}

// Returns the file's schema version as found (before any migration).
int configure(sqlite3* db, const std::string& path, MetricsDb::Mode mode) {
  sqlite::check(db, sqlite3_busy_timeout(db, 5000), path, "busy_timeout");
  const int version = read_user_version(db, path);
  refuse_newer(path, version);
  if (mode == MetricsDb::Mode::kReadOnly) {
    if (version == 0) {
      const std::string tables = user_tables(db, path);
      if (!tables.empty()) refuse_foreign(path, tables);
      throw StorageError(path + ": not a ternbench results DB (it has no tables); "
                                "run a sweep to create it");
    }
  }
  // Skipping the write lock when current keeps a second opener from waiting on a busy writer.
  // Foreign keys stay off during a migration: rebuilding runs would otherwise cascade-delete
  // every epoch and layer row (the pragma is a no-op inside a transaction). It runs before
  // the switch to WAL mode, so that a file it refuses or fails on is left exactly as it was.
  if (mode == MetricsDb::Mode::kReadWrite && version < MetricsDb::kSchemaVersion) migrate(db, path);
  if (mode == MetricsDb::Mode::kReadWrite) {
    // Readers (reports, `ternbench status`) must not block the single writer. On file
    // systems without shared memory SQLite keeps the old mode; it still works, so accept it.
    sqlite::exec(db, path, "PRAGMA journal_mode = WAL");
    // In WAL mode NORMAL syncs at checkpoints, not at every commit: a killed process loses no
    // committed row, only a power cut can lose the last commits (never corrupt the DB). Six
    // fsyncs per run capped the coordinator near 100 runs/s.
    sqlite::exec(db, path, "PRAGMA synchronous = NORMAL");
    // Statement journals of writes inside the coordinator's batched transactions would
    // otherwise be temporary files, created and deleted for every run.
    sqlite::exec(db, path, "PRAGMA temp_store = MEMORY");
  }
  sqlite::exec(db, path, "PRAGMA foreign_keys = ON");
  return version;
}

// SQLite's message for a directory is "disk I/O error"; the user needs to hear which setting
// names it.
[[noreturn]] void refuse_directory(const std::string& path) {
  throw ConfigError(path, "", 0,
                    "is a directory, not a results DB file; give --db (or [sweep] db in the sweep file) the path "
                    "of a file, such as " + (std::filesystem::path(path) / "results.sqlite").string());
}

// A DB at rest in rollback-journal mode is one file, which readers open on read-only media
// without creating anything; in WAL mode every reader needs a -shm beside it. Switching needs
// the only connection to the file, so it fails (at once: no busy wait) while another process
// has it open, and the DB stays in WAL mode, which readers handle too (sqlite::read_access).
void leave_wal_mode(sqlite3* db) noexcept {
  sqlite3_busy_timeout(db, 0);
  sqlite3_exec(db, "PRAGMA journal_mode = DELETE", nullptr, nullptr, nullptr);
}

// Copies everything `from` shows (the DB file and what its WAL adds) into a new file.
void backup(sqlite3* from, const std::string& path, const std::string& to) {
  constexpr int kBusyRetries = 100;  // a writer holding the source's lock, for up to 5 s
  constexpr int kBusySleepMs = 50;
  sqlite3* dst = sqlite::open(to, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  std::string error;
  sqlite3_backup* b = sqlite3_backup_init(dst, "main", from, "main");
  if (b == nullptr) {
    error = sqlite3_errmsg(dst);
  } else {
    int rc = SQLITE_OK;
    for (int tries = 0; tries < kBusyRetries; ++tries) {
      rc = sqlite3_backup_step(b, -1);
      if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
      sqlite3_sleep(kBusySleepMs);
    }
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) error = sqlite3_errstr(rc);
  }
  sqlite3_close_v2(dst);
  if (!error.empty()) throw StorageError(path + ": cannot copy the DB to a temporary file " + to + ": " + error);
}

}  // namespace

MetricsDb::MetricsDb(const std::string& path, Mode mode) : path_(path), mode_(mode) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) refuse_directory(path);
  if (mode == Mode::kReadOnly) {
    if (!fs::exists(path, ec)) {
      throw StorageError(path + ": results DB does not exist; check the path or run a sweep first");
    }
  } else if (const fs::path dir = fs::path(path).parent_path(); !dir.empty()) {
    fs::create_directories(dir, ec);
    if (ec) throw StorageError(path + ": cannot create directory " + dir.string() + ": " + ec.message());
  }
  try {
    if (mode == Mode::kReadOnly) {
      open_read_only();
    } else {
      db_ = sqlite::open(path, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
      configure(db_, path_, mode);
    }
    stmts_ = std::make_unique<sqlite::StatementCache>(db_, path_);
  } catch (...) {
    sqlite3_close_v2(db_);  // the destructor does not run for a throwing constructor
    db_ = nullptr;
    throw;
  }
}

// Opens without creating anything beside the file (sqlite::read_access), then reads an
// upgraded copy of an older file.
void MetricsDb::open_read_only() {
  namespace fs = std::filesystem;
  const sqlite::ReadAccess access = sqlite::read_access(path_);
  if (access == sqlite::ReadAccess::kCopy) {
    // SQLite can read a WAL only through its index, which it would create beside the DB.
    copy_ = std::make_unique<TempDbFile>(fs::path(path_).filename().string());
    for (const char* suffix : {"", "-wal"}) {
      std::error_code ec;
      fs::copy_file(path_ + suffix, copy_->path() + suffix, ec);
      if (ec) {
        throw StorageError(path_ + suffix + ": cannot copy it to " + copy_->path() + suffix + ": " + ec.message());
      }
    }
    db_ = sqlite::open(copy_->path(), path_, SQLITE_OPEN_READONLY);
  } else {
    db_ = sqlite::open_read_only(path_, path_, access == sqlite::ReadAccess::kImmutable);
  }
  const int version = configure(db_, path_, Mode::kReadOnly);
  if (version < kSchemaVersion) read_upgraded_copy(version);
}

// A reader must not write the file, yet every statement expects the current tables: it
// reads a migrated copy instead. Errors name the user's file, not the copy.
void MetricsDb::read_upgraded_copy(int version) {
  auto upgraded = std::make_unique<TempDbFile>(std::filesystem::path(path_).filename().string());
  backup(db_, path_, upgraded->path());
  sqlite3_close_v2(db_);
  db_ = nullptr;
  copy_ = std::move(upgraded);
  sqlite3* up = sqlite::open(copy_->path(), path_, SQLITE_OPEN_READWRITE);
  try {
    migrate(up, path_);
  } catch (const StorageError& e) {
    sqlite3_close_v2(up);
    throw StorageError(std::string(e.what()) + " (while upgrading a temporary copy from schema " +
                       std::to_string(version) + " to read it; the file itself is unchanged)");
  }
  sqlite3_close_v2(up);
  db_ = sqlite::open(copy_->path(), path_, SQLITE_OPEN_READONLY);
  configure(db_, path_, Mode::kReadOnly);
  file_version_ = version;
}

MetricsDb::~MetricsDb() {
  heartbeat_.reset();  // its connection closes first: leaving WAL mode needs the only one
  if (!lease_token_.empty()) lease::release(db_, lease_token_);
  stmts_.reset();  // a connection with unfinalized statements would stay open
  if (mode_ == Mode::kReadWrite) leave_wal_mode(db_);
  sqlite3_close_v2(db_);
}

std::optional<WriterInfo> MetricsDb::take_writer_lease(const std::string& command, int heartbeat_seconds) {
  TB_CHECK(mode_ == Mode::kReadWrite && lease_token_.empty(), path_ + ": take_writer_lease on a read-only DB or twice");
  std::optional<WriterInfo> replaced;
  WriteScope scope(db_, *stmts_);
  std::string token = lease::take(db_, path_, command, &replaced);
  scope.commit();
  lease_token_ = std::move(token);
  heartbeat_ = std::make_unique<lease::Heartbeat>(path_, lease_token_, heartbeat_seconds);
  return replaced;
}

std::optional<WriterInfo> MetricsDb::writer() const { return lease::read(db_, path_); }

std::optional<WriterInfo> live_writer(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  try {
    const MetricsDb db(path, MetricsDb::Mode::kReadOnly);
    std::optional<WriterInfo> w = db.writer();
    if (w && w->alive) return w;
  } catch (const Error&) {  // not a results DB: nobody writes it as one
  }
  return std::nullopt;
}

int MetricsDb::schema_version() const {
  if (copy_) return file_version_;
  return static_cast<int>(sqlite::query_int(db_, path_, "PRAGMA user_version"));
}

std::optional<std::string> MetricsDb::status(const std::string& run_key) const {
  Statement st(db_, path_, "SELECT status FROM runs WHERE run_key = ?1");
  st.bind(1, run_key);
  if (!st.step()) return std::nullopt;
  return st.text(0);
}

std::set<std::string> MetricsDb::keys_with_status(const std::string& s) const {
  Statement st(db_, path_, "SELECT run_key FROM runs WHERE status = ?1");
  st.bind(1, s);
  std::set<std::string> keys;
  while (st.step()) keys.insert(st.text(0));
  return keys;
}

void MetricsDb::start_run(const RunRecord& r) {
  WriteScope scope(db_, *stmts_, path_, lease_token_);
  if (run_rows::upsert(db_, *stmts_, r)) {
    for (const char* sql : {"DELETE FROM epochs WHERE run_key = ?1", "DELETE FROM epoch_layers WHERE run_key = ?1",
                            "DELETE FROM layers WHERE run_key = ?1", "DELETE FROM stages WHERE run_key = ?1"}) {
      Statement del(*stmts_, sql);
      del.bind(1, r.run_key);
      del.run();
    }
  }
  scope.commit();
}

void MetricsDb::add_epoch(const EpochRecord& e) {
  WriteScope scope(db_, *stmts_, path_, lease_token_);
  static const std::string sql = record_sql::insert<EpochColumns, EpochRecord>("INSERT OR REPLACE", "epochs");
  Statement st(*stmts_, sql);
  record_sql::bind<EpochColumns>(st, e);
  st.run();
  epoch_layers::write(*stmts_, e);
  scope.commit();
}

void MetricsDb::add_stage(const StageRecord& s) {
  WriteScope scope(db_, *stmts_, path_, lease_token_);
  insert_stage(*stmts_, s.run_key, s);
  scope.commit();
}

void MetricsDb::finish_run(const RunRecord& r, const std::vector<LayerRecord>& layers) {
  finish_run(r, layers, {});
}

void MetricsDb::finish_run(const RunRecord& r, const std::vector<LayerRecord>& layers,
                           const std::vector<StageRecord>& stages) {
  WriteScope scope(db_, *stmts_, path_, lease_token_);
  run_rows::upsert(db_, *stmts_, r);
  static const std::string sql = record_sql::insert<LayerColumns, LayerRecord>("INSERT OR REPLACE", "layers");
  Statement st(*stmts_, sql);
  for (const LayerRecord& l : layers) {
    // The run row is the parent; an empty layer key means "this run".
    if (!l.run_key.empty() && l.run_key != r.run_key) {
      throw StorageError(path_ + ": finish_run(" + r.run_key + "): layer " + l.layer +
                         " belongs to run " + l.run_key);
    }
    st.reset();
    record_sql::bind<LayerColumns>(st, l);
    st.bind(1, r.run_key);  // an empty layer key means "this run"
    st.run();
  }
  for (const StageRecord& s : stages) {
    if (!s.run_key.empty() && s.run_key != r.run_key) {
      throw StorageError(path_ + ": finish_run(" + r.run_key + "): stage " + s.stage +
                         " belongs to run " + s.run_key);
    }
    insert_stage(*stmts_, r.run_key, s);
  }
  scope.commit();
}

std::optional<RunRecord> MetricsDb::run(const std::string& run_key) const {
  Statement st(db_, path_, "SELECT " + run_rows::column_list() + " FROM runs WHERE run_key = ?1");
  st.bind(1, run_key);
  if (!st.step()) return std::nullopt;
  return run_rows::read(st);
}

void MetricsDb::supersede_run(const std::string& run_key, const std::string& at, const std::string& by_commit,
                              const std::string& weights_kept) {
  WriteScope scope(db_, *stmts_, path_, lease_token_);
  static const std::string copy_sql =
      "INSERT INTO superseded_runs(" + run_rows::column_list() +
      ", superseded_at, superseded_by_commit, weights_kept, epochs_json, stages_json, layers_json) SELECT " +
      run_rows::column_list() +
      ", ?2, ?3, ?4,"
      " (SELECT json_group_array(json_object('stage', stage, 'epoch', epoch, 'lr', lr, 'train_loss', train_loss,"
      "   'train_acc', train_acc, 'test_loss', test_loss, 'test_acc', test_acc, 'test_loss_continuous',"
      "   test_loss_continuous, 'test_acc_continuous', test_acc_continuous, 'reg_penalty', reg_penalty,"
      "   'sparsity', sparsity, 'seconds', seconds)) FROM epochs e WHERE e.run_key = ?1),"
      " (SELECT json_group_array(json_object('stage', stage, 'ordinal', ordinal, 'epochs', epochs,"
      "   'test_loss', test_loss, 'test_acc', test_acc, 'sparsity', sparsity)) FROM stages s WHERE s.run_key = ?1),"
      " (SELECT json_group_array(json_object('layer', layer, 'precision', precision, 'n', n, 'n_zero', n_zero,"
      "   'sparsity', sparsity, 'scale', scale, 'delta', delta, 'bits', bits)) FROM layers l WHERE l.run_key = ?1)"
      " FROM runs WHERE run_key = ?1";
  Statement copy(*stmts_, copy_sql);
  copy.bind(1, run_key);
  copy.bind(2, at);
  copy.bind(3, by_commit);
  copy.bind_text_or_null(4, weights_kept);
  copy.run();
  if (sqlite3_changes(db_) == 0) throw StorageError(path_ + ": no run " + run_key + " to rerun");
  // The row keeps the run's identity (config, sweep); everything a result set goes.
  for (const char* sql :
       {"UPDATE runs SET status = 'pending', error = NULL, weights_path = NULL, started_at = NULL, finished_at = NULL,"
        " train_seconds = NULL, epochs_done = 0, train_loss = NULL, train_acc = NULL, test_loss = NULL,"
        " test_acc = NULL, sparsity = NULL, bits_per_weight = NULL, n_weights = 0, n_nonzero = 0, attempts = 0,"
        " size_fp32_bits = NULL, size_binary_bits = NULL, size_ternary_2bit_bits = NULL,"
        " size_ternary_base3_bits = NULL, size_bitmap_bits = NULL, size_relative_index_bits = NULL,"
        " n_float_params = NULL, float_param_bits = NULL, weights_sha256 = NULL WHERE run_key = ?1",
        "DELETE FROM epochs WHERE run_key = ?1", "DELETE FROM epoch_layers WHERE run_key = ?1",
        "DELETE FROM layers WHERE run_key = ?1", "DELETE FROM stages WHERE run_key = ?1",
        "DELETE FROM inference WHERE run_key = ?1"}) {
    Statement st(*stmts_, sql);
    st.bind(1, run_key);
    st.run();
  }
  scope.commit();
}

std::vector<RunRecord> MetricsDb::superseded(const std::string& run_key) const {
  Statement st(db_, path_, "SELECT " + run_rows::column_list() + " FROM superseded_runs WHERE run_key = ?1 ORDER BY id");
  st.bind(1, run_key);
  std::vector<RunRecord> out;
  while (st.step()) out.push_back(run_rows::read(st));
  return out;
}

void MetricsDb::record_inference(const InferenceRecord& i) {
  if (!run(i.run_key)) throw StorageError(path_ + ": no run " + i.run_key + " to record an inference measurement for");
  WriteScope scope(db_, *stmts_, path_, lease_token_);
  static const std::string sql =
      record_sql::insert<InferenceColumns, InferenceRecord>("INSERT OR REPLACE", "inference");
  Statement st(*stmts_, sql);
  record_sql::bind<InferenceColumns>(st, i);
  st.run();
  scope.commit();
}

std::optional<InferenceRecord> MetricsDb::inference(const std::string& run_key) const {
  Statement st(db_, path_,
               "SELECT " + record_sql::names<InferenceColumns, InferenceRecord>() +
                   " FROM inference WHERE run_key = ?1");
  st.bind(1, run_key);
  if (!st.step()) return std::nullopt;
  InferenceRecord i;
  record_sql::read<InferenceColumns>(st, i);
  return i;
}

std::vector<RunRecord> MetricsDb::runs(const std::string& where_status) const {
  std::string sql = "SELECT " + run_rows::column_list() + " FROM runs";
  if (!where_status.empty()) sql += " WHERE status = ?1";
  sql += " ORDER BY rowid";
  Statement st(db_, path_, sql);
  if (!where_status.empty()) st.bind(1, where_status);
  std::vector<RunRecord> out;
  while (st.step()) out.push_back(run_rows::read(st));
  return out;
}

std::vector<EpochRecord> MetricsDb::epochs(const std::string& run_key) const {
  // Stages in the order they started, epochs in number order within each stage.
  Statement st(db_, path_,
               "SELECT " + record_sql::names<EpochColumns, EpochRecord>() +
                   " FROM epochs WHERE run_key = ?1 ORDER BY min(rowid) OVER (PARTITION BY stage), epoch");
  st.bind(1, run_key);
  std::vector<EpochRecord> out;
  while (st.step()) {
    EpochRecord e;
    record_sql::read<EpochColumns>(st, e);
    out.push_back(std::move(e));
  }
  epoch_layers::read(db_, path_, run_key, out);
  return out;
}

std::vector<LayerRecord> MetricsDb::layers(const std::string& run_key) const {
  Statement st(db_, path_,
               "SELECT " + record_sql::names<LayerColumns, LayerRecord>() + " FROM layers WHERE run_key = ?1 ORDER BY rowid");
  st.bind(1, run_key);
  std::vector<LayerRecord> out;
  while (st.step()) {
    LayerRecord l;
    record_sql::read<LayerColumns>(st, l);
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<StageRecord> MetricsDb::stages(const std::string& run_key) const {
  Statement st(db_, path_,
               "SELECT " + record_sql::names<StageColumns, StageRecord>() +
                   " FROM stages WHERE run_key = ?1 ORDER BY ordinal, stage");
  st.bind(1, run_key);
  std::vector<StageRecord> out;
  while (st.step()) {
    StageRecord s;
    record_sql::read<StageColumns>(st, s);
    out.push_back(std::move(s));
  }
  return out;
}

void MetricsDb::exec(std::string_view sql) { sqlite::exec(db_, path_, sql); }

Transaction::Transaction(MetricsDb& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (done_) return;
  try {
    db_.exec("ROLLBACK");
  } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
  }
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace ternbench::storage
