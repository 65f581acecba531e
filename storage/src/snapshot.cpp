#include "snapshot.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <system_error>

#include "ternbench/base/error.hpp"

namespace ternbench::storage {
namespace {

namespace fs = std::filesystem;

// How long a copy waits for a writer that holds the source's lock.
constexpr int kBusyRetries = 100;
constexpr int kBusySleepMs = 50;

sqlite3* open_or_throw(const std::string& path, int flags, const std::string& what) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    throw StorageError(path + ": cannot open " + what + " (" + msg + ")");
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}

}  // namespace

TempDbFile::TempDbFile(const std::string& stem) {
  static std::atomic<int> counter{0};
  const fs::path dir = fs::temp_directory_path();
  std::string name = "ternbench-";
  name.append(std::to_string(getpid())).append("-").append(std::to_string(counter++)).append("-").append(stem);
  path_ = (dir / name).string();
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path_ + suffix, ec);
}

TempDbFile::~TempDbFile() {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path_ + suffix, ec);
}

void copy_db(const std::string& from, const std::string& to) {
  sqlite3* src = open_or_throw(from, SQLITE_OPEN_READONLY, "results DB");
  sqlite3* dst = nullptr;
  std::string error;
  try {
    dst = open_or_throw(to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, "temporary copy");
    sqlite3_backup* b = sqlite3_backup_init(dst, "main", src, "main");
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
  } catch (...) {
    sqlite3_close_v2(src);
    throw;
  }
  sqlite3_close_v2(dst);
  sqlite3_close_v2(src);
  if (!error.empty()) throw StorageError(from + ": cannot copy the DB to " + to + ": " + error);
}

}  // namespace ternbench::storage
