#pragma once
// The SQLite results store. Rank 0 is its only writer; readers may open it any time.
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ternbench/storage/records.hpp"

struct sqlite3;

namespace ternbench::storage {

class TempDbFile;
class Snapshot;
namespace sqlite {
class StatementCache;
}

class MetricsDb {
 public:
  static constexpr int kSchemaVersion = 8;
  enum class Mode { kReadWrite, kReadOnly };

  // Opens (creating the file and its directory in read-write mode) and migrates to
  // kSchemaVersion. In read-only mode an older file is not modified: it is copied to a
  // temporary file, which is migrated and read instead. Throws StorageError naming the path
  // when the file is not a ternbench DB, is newer than this binary, or cannot be opened.
  explicit MetricsDb(const std::string& path, Mode mode = Mode::kReadWrite);
  ~MetricsDb();
  MetricsDb(const MetricsDb&) = delete;
  MetricsDb& operator=(const MetricsDb&) = delete;

  const std::string& path() const { return path_; }
  int schema_version() const;  // of the file on disk (an older file read-only stays older)

  // Status of a run, or nullopt if the DB has never seen it.
  std::optional<std::string> status(const std::string& run_key) const;
  std::set<std::string> keys_with_status(const std::string& status) const;
  // The run's row, or nullopt if the DB has never seen it.
  std::optional<RunRecord> run(const std::string& run_key) const;

  // Records that a run started: inserts it, or resets a previous failed/running attempt
  // (its epochs, epoch layers, layers and stages are deleted in the same transaction).
  void start_run(const RunRecord& r);
  // One epoch's metrics and its layer rows, in one transaction (each replaces an existing
  // row for the same stage, epoch and layer: a resumed run replays its epochs).
  void add_epoch(const EpochRecord& e);
  // One named evaluation of a run (replaces an existing row for the same stage).
  void add_stage(const StageRecord& s);
  // Final state of a run, its per-layer statistics and its stages, in one transaction.
  void finish_run(const RunRecord& r, const std::vector<LayerRecord>& layers);
  void finish_run(const RunRecord& r, const std::vector<LayerRecord>& layers,
                  const std::vector<StageRecord>& stages);

  // A measurement of a run by the ternary inference engine (replaces the run's last one).
  // Throws StorageError when the DB has no such run.
  void record_inference(const InferenceRecord& i);
  std::optional<InferenceRecord> inference(const std::string& run_key) const;

  std::vector<RunRecord> runs(const std::string& where_status = "") const;  // "" = all
  std::vector<EpochRecord> epochs(const std::string& run_key) const;  // with their layers
  std::vector<LayerRecord> layers(const std::string& run_key) const;
  std::vector<StageRecord> stages(const std::string& run_key) const;  // by ordinal

  void exec(std::string_view sql);

 private:
  friend class Snapshot;  // query.cpp runs user SQL on this connection, under an authorizer
  void read_upgraded_copy(int version);

  std::string path_;
  std::unique_ptr<TempDbFile> copy_;  // read-only mode, file older than this binary
  int file_version_ = 0;
  sqlite3* db_ = nullptr;
  std::unique_ptr<sqlite::StatementCache> stmts_;  // the writes' statements, prepared once
};

// Rolls back unless commit() ran.
class Transaction {
 public:
  explicit Transaction(MetricsDb& db);
  ~Transaction();
  void commit();

 private:
  MetricsDb& db_;
  bool done_ = false;
};

}  // namespace ternbench::storage
