#pragma once
// Read-only access for SQL beyond MetricsDb's methods, and the temporary copies through which
// an older DB is read without being modified (private to tb::storage).
#include <sqlite3.h>

#include <string>

#include "ternbench/storage/metrics_db.hpp"

namespace ternbench::storage {

// A file in the system temp dir, removed (with SQLite's -wal/-shm/-journal) on destruction.
class TempDbFile {
 public:
  explicit TempDbFile(const std::string& stem);
  ~TempDbFile();
  TempDbFile(const TempDbFile&) = delete;
  TempDbFile& operator=(const TempDbFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The read-only connection of a MetricsDb, for running SQL that MetricsDb has no method for.
class Snapshot {
 public:
  // Throws StorageError as MetricsDb's read-only mode does.
  explicit Snapshot(const std::string& path) : db_(path, MetricsDb::Mode::kReadOnly) {}
  sqlite3* db() const { return db_.db_; }

 private:
  MetricsDb db_;
};

}  // namespace ternbench::storage
