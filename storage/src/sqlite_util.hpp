#pragma once
// Thin checked wrappers over the SQLite C API (private to tb::storage). Every call that can
// fail goes through check(), so each error names the DB path and carries sqlite3_errmsg.
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ternbench/storage/sql_value.hpp"

namespace ternbench::storage::sqlite {

// Throws StorageError "<path>: <what>: <sqlite3_errmsg>" unless rc is one of the ok codes.
void check(sqlite3* db, int rc, const std::string& path, std::string_view what);
[[noreturn]] void fail(sqlite3* db, const std::string& path, std::string_view what);

// Runs one or more statements that return no rows we need.
void exec(sqlite3* db, const std::string& path, std::string_view sql);

class Statement;

// Prepared statements of one connection, kept for reuse: preparing the same INSERT for
// every message cost rank 0 a third of its time in a sweep of short runs. Must be
// destroyed before its connection is closed, and outlive the Statements it lends.
class StatementCache {
 public:
  StatementCache(sqlite3* db, const std::string& path) : db_(db), path_(path) {}
  ~StatementCache();
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

 private:
  friend class Statement;
  sqlite3_stmt* take(const std::string& sql);
  void give_back(const std::string& sql, sqlite3_stmt* st) noexcept;
  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>> idle_;
};

// A prepared statement; bind indices are 1-based, column indices 0-based, as in SQLite.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& path, std::string_view sql);
  // Borrows the statement from the cache (preparing it the first time) and returns it,
  // reset, on destruction.
  Statement(StatementCache& cache, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind(int i, std::string_view v);
  void bind(int i, double v);  // NaN is stored as NULL (SQLite has no NaN)
  void bind(int i, std::int64_t v);
  void bind(int i, int v) { bind(i, static_cast<std::int64_t>(v)); }
  void bind(int i, bool v) { bind(i, static_cast<std::int64_t>(v ? 1 : 0)); }
  void bind(int i, std::optional<std::int64_t> v);  // nullopt -> NULL
  void bind(int i, const SqlValue& v);
  void bind_text_or_null(int i, std::string_view v);  // "" -> NULL

  bool step();  // true while a row is available
  void run();   // steps a statement that must not return rows
  void reset();

  std::string text(int col) const;      // NULL -> ""
  double real(int col) const;           // NULL -> NaN
  std::int64_t integer(int col) const;  // NULL -> 0
  int int32(int col) const;
  std::optional<std::int64_t> optional_integer(int col) const;  // NULL -> nullopt
  SqlValue value(int col) const;
  int column_count() const;
  std::string column_name(int col) const;
  sqlite3_stmt* get() const { return stmt_; }

 private:
  void check_rc(int rc) const;  // names the statement only when rc is an error
  StatementCache* cache_ = nullptr;
  sqlite3* db_;
  std::string path_;
  std::string sql_;
  sqlite3_stmt* stmt_ = nullptr;
};

// The value of a column of the current row, with its storage class.
SqlValue column_value(sqlite3_stmt* st, int col);

// Reads one integer from a statement such as "PRAGMA user_version".
std::int64_t query_int(sqlite3* db, const std::string& path, std::string_view sql);

// Opens `file` with sqlite3_open_v2 flags; a failure throws StorageError naming `path` (the
// DB as the user knows it, which differs from `file` for a temporary copy).
sqlite3* open(const std::string& file, const std::string& path, int flags);

// How a reader can open a DB without creating a file beside it. Readers must work on a
// read-only directory (an archived sweep) and leave no -wal/-shm behind, which SQLite's plain
// read-only mode does not do for a DB in WAL mode (docs/storage.md, "Reading").
enum class ReadAccess {
  kShared,     // SQLITE_OPEN_READONLY: a rollback-journal DB, or a WAL DB whose -wal and -shm exist
  kImmutable,  // a WAL DB without -wal: the file holds everything and no connection has it open
  kCopy,       // a -wal without its -shm: read a private copy of the DB and its -wal
};
ReadAccess read_access(const std::string& path);

// A read-only connection to `file` (errors name `path`); `immutable` opens it with SQLite's
// immutable=1, which takes no locks and creates no file.
sqlite3* open_read_only(const std::string& file, const std::string& path, bool immutable);

}  // namespace ternbench::storage::sqlite
