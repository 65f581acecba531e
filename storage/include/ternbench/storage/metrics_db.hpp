#pragma once
// The SQLite results store. One process writes it (rank 0 of `ternbench run`, holding the
// writer lease); readers may open it any time, also on read-only media.
#include <cstdint>
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
namespace lease {
class Heartbeat;
}

// The process that holds a DB's writer lease (docs/schema.md, table writer), as judged by this
// process: on the holder's machine by its PID and start time, elsewhere by its heartbeat.
struct WriterInfo {
  std::string command;       // "ternbench run sweep.toml"
  std::int64_t pid = 0;
  std::string host;
  std::string since;         // ISO 8601 UTC, when it took the lease
  std::string heartbeat_at;  // ISO 8601 UTC
  std::int64_t heartbeat_age = 0;  // seconds, by this machine's clock
  bool alive = false;
  std::string gone_because;  // when not alive: "process 42 is gone", "no heartbeat for 300 s", ...

  // "`ternbench run s.toml` (pid 42 on host n1 since 2026-01-02T03:04:05Z, last heartbeat 3 s ago)"
  std::string describe() const;
};

class MetricsDb {
 public:
  static constexpr int kSchemaVersion = 10;
  // A writer refreshes its lease this often. One on another machine counts as gone after
  // kLeaseExpirySeconds without a heartbeat: long enough for a loaded NFS server and the
  // attribute caches of other clients, short enough that a job restarted elsewhere after a
  // node failure waits two minutes at most (on the same machine, or as the same requeued
  // Slurm job, a dead holder is recognised at once).
  static constexpr int kLeaseHeartbeatSeconds = 15;
  static constexpr int kLeaseExpirySeconds = 120;
  enum class Mode { kReadWrite, kReadOnly };

  // Opens (creating the file and its directory in read-write mode) and migrates to
  // kSchemaVersion. In read-only mode nothing is created beside the file, also on a
  // read-only directory (sqlite::read_access), and an older file is not modified: it is
  // copied to a temporary file, which is migrated and read instead. Throws ConfigError for a
  // directory, StorageError naming the path when the file is not a ternbench DB, is newer
  // than this binary, cannot be migrated or cannot be opened. Closing a read-write DB leaves
  // it in rollback-journal mode when no other connection has it open, so that a DB at rest
  // is one file that readers open without writing anything.
  explicit MetricsDb(const std::string& path, Mode mode = Mode::kReadWrite);
  ~MetricsDb();
  MetricsDb(const MetricsDb&) = delete;
  MetricsDb& operator=(const MetricsDb&) = delete;

  const std::string& path() const { return path_; }
  int schema_version() const;  // of the file on disk (an older file read-only stays older)

  // Makes this process the DB's one live writer until this object is destroyed: a heartbeat
  // thread keeps the lease fresh, and every later write first checks that the lease is still
  // this process's. Throws ConfigError naming the holder (PID, host, since when) when a live
  // process holds it. Returns the holder it replaced: one that ended without giving the lease
  // up (killed), whose runs left `running` are the next job's to train again.
  // heartbeat_seconds: how often the lease is refreshed (tests shorten it).
  std::optional<WriterInfo> take_writer_lease(const std::string& command,
                                              int heartbeat_seconds = kLeaseHeartbeatSeconds);
  // The lease's holder, alive or not; nullopt when no process holds it.
  std::optional<WriterInfo> writer() const;

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

  // A forced rerun (docs/schema.md, table superseded_runs): moves the run's current result
  // into superseded_runs (its row, and its epochs, stages and layers as JSON) and resets its
  // runs row to `pending` without a result, in one transaction, so that every later job
  // trains it again until it finishes. Its epoch, layer, stage and inference rows go.
  // weights_kept: where the caller kept the old weights file ("" = not kept). Throws
  // StorageError when the DB has no such run.
  void supersede_run(const std::string& run_key, const std::string& at, const std::string& by_commit,
                     const std::string& weights_kept);
  // The results a run had before its reruns, oldest first.
  std::vector<RunRecord> superseded(const std::string& run_key) const;

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

  void open_read_only();

  std::string path_;
  Mode mode_;
  std::unique_ptr<TempDbFile> copy_;  // read-only mode: an older file, or a -wal without its -shm
  int file_version_ = 0;
  sqlite3* db_ = nullptr;
  std::unique_ptr<sqlite::StatementCache> stmts_;  // the writes' statements, prepared once
  std::string lease_token_;  // while this object holds the writer lease
  std::unique_ptr<lease::Heartbeat> heartbeat_;
};

// The live writer of the DB at `path`, or nullopt: no such file, not a results DB, or no live
// process holds its lease. For commands that replace a DB (merge --force).
std::optional<WriterInfo> live_writer(const std::string& path);

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
