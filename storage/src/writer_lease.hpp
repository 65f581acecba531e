#pragma once
// The writer lease of a results DB (table writer, schema 9; private to tb::storage). A sweep's
// DB has one live writer: the process holding the lease row, which refreshes its heartbeat
// and deletes the row when it ends. Whether a holder still lives is decided on its own
// machine by its process (PID and start time), elsewhere by the age of its heartbeat, the only
// sign of life that crosses a shared file system (MetricsDb::kLeaseExpirySeconds).
#include <sqlite3.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "sqlite_util.hpp"
#include "ternbench/storage/metrics_db.hpp"

namespace ternbench::storage::lease {

// The lease's row judged from this process, or nullopt when no process holds it.
std::optional<WriterInfo> read(sqlite3* db, const std::string& path);

// Within the caller's write transaction: makes this process the holder and returns its
// token. Throws ConfigError naming the holder when a live process holds the lease; a dead
// holder is replaced and returned in *replaced.
std::string take(sqlite3* db, const std::string& path, const std::string& command,
                 std::optional<WriterInfo>* replaced);

// Within the caller's write transaction: throws StorageError naming the new holder unless
// the row is still `token`'s. A writer whose heartbeat stalled past kLeaseExpirySeconds may have
// been replaced; it must not write after its successor started.
void check_held(sqlite3* db, sqlite::StatementCache& stmts, const std::string& path, const std::string& token);

// Deletes the row if it is still `token`'s; never throws (called from a destructor).
void release(sqlite3* db, const std::string& token) noexcept;

// Refreshes the holder's heartbeat every `seconds` on a connection of its own (the writer's
// connection belongs to the thread that trains or coordinates), until destroyed or until the
// row is no longer `token`'s.
class Heartbeat {
 public:
  Heartbeat(const std::string& path, std::string token, int seconds);
  ~Heartbeat();
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

 private:
  bool beat() noexcept;  // false once the row is someone else's
  void loop();

  sqlite3* db_ = nullptr;
  std::string token_;
  int seconds_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace ternbench::storage::lease
