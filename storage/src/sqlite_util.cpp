#include "sqlite_util.hpp"

#include <array>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string_view>

#include "ternbench/base/error.hpp"

namespace ternbench::storage::sqlite {
namespace {

// Error messages quote the statement, but only its start: enough to recognise it.
std::string short_sql(std::string_view sql) {
  constexpr std::size_t kMaxChars = 60;
  std::string s(sql.substr(0, kMaxChars));
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  if (sql.size() > kMaxChars) s += "...";
  return s;
}

}  // namespace

[[noreturn]] void fail(sqlite3* db, const std::string& path, std::string_view what) {
  const char* msg = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
  throw StorageError(path + ": " + std::string(what) + ": " + msg);
}

void check(sqlite3* db, int rc, const std::string& path, std::string_view what) {
  if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE) fail(db, path, what);
}

void exec(sqlite3* db, const std::string& path, std::string_view sql) {
  char* err = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return;
  // sqlite3_exec's own message is the precise one (sqlite3_errmsg may already be reset).
  std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  throw StorageError(path + ": " + short_sql(sql) + ": " + msg);
}

StatementCache::~StatementCache() {
  for (auto& [sql, stmts] : idle_) {
    for (sqlite3_stmt* st : stmts) sqlite3_finalize(st);
  }
}

sqlite3_stmt* StatementCache::take(const std::string& sql) {
  if (auto it = idle_.find(sql); it != idle_.end() && !it->second.empty()) {
    sqlite3_stmt* st = it->second.back();
    it->second.pop_back();
    return st;
  }
  sqlite3_stmt* st = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                    &st, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(st);
    fail(db_, path_, short_sql(sql));
  }
  return st;
}

void StatementCache::give_back(const std::string& sql, sqlite3_stmt* st) noexcept {
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  try {
    idle_[sql].push_back(st);
  } catch (...) {  // out of memory: the statement is simply not kept
    sqlite3_finalize(st);
  }
}

Statement::Statement(sqlite3* db, const std::string& path, std::string_view sql)
    : db_(db), path_(path), sql_(sql) {
  check_rc(sqlite3_prepare_v2(db_, sql_.c_str(), static_cast<int>(sql_.size()), &stmt_, nullptr));
}

Statement::Statement(StatementCache& cache, std::string_view sql)
    : cache_(&cache), db_(cache.db_), path_(cache.path_), sql_(sql) {
  stmt_ = cache.take(sql_);
}

Statement::~Statement() {
  if (cache_ != nullptr) {
    cache_->give_back(sql_, stmt_);
  } else {
    sqlite3_finalize(stmt_);
  }
}

void Statement::check_rc(int rc) const {
  if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE) fail(db_, path_, short_sql(sql_));
}

void Statement::bind(int i, std::string_view v) {
  check_rc(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
}

void Statement::bind(int i, double v) {
  check_rc(std::isnan(v) ? sqlite3_bind_null(stmt_, i) : sqlite3_bind_double(stmt_, i, v));
}

void Statement::bind(int i, std::int64_t v) {
  check_rc(sqlite3_bind_int64(stmt_, i, static_cast<sqlite3_int64>(v)));
}

void Statement::bind(int i, std::optional<std::int64_t> v) {
  if (v) {
    bind(i, *v);
    return;
  }
  check_rc(sqlite3_bind_null(stmt_, i));
}

void Statement::bind(int i, const SqlValue& v) {
  int rc = SQLITE_OK;
  switch (v.type) {
    case SqlValue::Type::kNull: rc = sqlite3_bind_null(stmt_, i); break;
    case SqlValue::Type::kInteger: rc = sqlite3_bind_int64(stmt_, i, static_cast<sqlite3_int64>(v.integer)); break;
    case SqlValue::Type::kReal: rc = sqlite3_bind_double(stmt_, i, v.real); break;
    case SqlValue::Type::kText:
      rc = sqlite3_bind_text(stmt_, i, v.bytes.data(), static_cast<int>(v.bytes.size()), SQLITE_TRANSIENT);
      break;
    case SqlValue::Type::kBlob:
      rc = sqlite3_bind_blob(stmt_, i, v.bytes.data(), static_cast<int>(v.bytes.size()), SQLITE_TRANSIENT);
      break;
  }
  check_rc(rc);
}

void Statement::bind_text_or_null(int i, std::string_view v) {
  if (!v.empty()) {
    bind(i, v);
    return;
  }
  check_rc(sqlite3_bind_null(stmt_, i));
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  check_rc(rc);
  return rc == SQLITE_ROW;
}

void Statement::run() {
  if (step()) throw StorageError(path_ + ": " + short_sql(sql_) + ": unexpected result row");
}

void Statement::reset() {
  check_rc(sqlite3_reset(stmt_));
  check_rc(sqlite3_clear_bindings(stmt_));
}

std::string Statement::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

double Statement::real(int col) const {
  if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::numeric_limits<double>::quiet_NaN();
  return sqlite3_column_double(stmt_, col);
}

std::int64_t Statement::integer(int col) const {
  return static_cast<std::int64_t>(sqlite3_column_int64(stmt_, col));
}

int Statement::int32(int col) const { return sqlite3_column_int(stmt_, col); }

std::optional<std::int64_t> Statement::optional_integer(int col) const {
  if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
  return integer(col);
}

SqlValue Statement::value(int col) const { return column_value(stmt_, col); }

int Statement::column_count() const { return sqlite3_column_count(stmt_); }

std::string Statement::column_name(int col) const {
  const char* name = sqlite3_column_name(stmt_, col);
  return name != nullptr ? name : "";
}

SqlValue column_value(sqlite3_stmt* st, int col) {
  SqlValue v;
  switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER:
      v.type = SqlValue::Type::kInteger;
      v.integer = static_cast<std::int64_t>(sqlite3_column_int64(st, col));
      break;
    case SQLITE_FLOAT:
      v.type = SqlValue::Type::kReal;
      v.real = sqlite3_column_double(st, col);
      break;
    case SQLITE_TEXT: {
      v.type = SqlValue::Type::kText;
      const auto* p = sqlite3_column_text(st, col);
      v.bytes.assign(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(st, col)));
      break;
    }
    case SQLITE_BLOB: {
      v.type = SqlValue::Type::kBlob;
      const auto* p = static_cast<const char*>(sqlite3_column_blob(st, col));
      const auto n = static_cast<std::size_t>(sqlite3_column_bytes(st, col));
      if (p != nullptr) v.bytes.assign(p, n);
      break;
    }
    default: break;
  }
  return v;
}

std::int64_t query_int(sqlite3* db, const std::string& path, std::string_view sql) {
  Statement st(db, path, sql);
  if (!st.step()) throw StorageError(path + ": " + short_sql(sql) + ": no result row");
  return st.integer(0);
}

sqlite3* open(const std::string& file, const std::string& path, int flags) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(file.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    throw StorageError(path + ": cannot open results DB (" + msg + ")");
  }
  return db;
}

namespace {

// Bytes 18 and 19 of a SQLite header are 2 in WAL mode, 1 with a rollback journal
// (https://www.sqlite.org/fileformat2.html). Anything that is not a SQLite header reads as
// not WAL, and SQLite itself then says what is wrong with the file.
bool header_says_wal(const std::string& path) {
  std::array<char, 20> h{};
  std::ifstream in(path, std::ios::binary);
  if (!in.read(h.data(), h.size())) return false;
  return std::string_view(h.data(), 16) == std::string_view("SQLite format 3\0", 16) && h[18] == 2 && h[19] == 2;
}

// The file name as a URI path: SQLite decodes %HH, and '?' or '#' would end the path.
std::string uri_path(const std::string& file) {
  const std::string abs = std::filesystem::absolute(file).lexically_normal().string();
  std::string out;
  for (const unsigned char c : abs) {
    if (std::isalnum(c) != 0 || c == '/' || c == '.' || c == '_' || c == '-' || c == '~') {
      out += static_cast<char>(c);
    } else {
      constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

ReadAccess read_access(const std::string& path) {
  std::error_code ec;
  if (!header_says_wal(path)) return ReadAccess::kShared;
  // A connection in WAL mode keeps the -wal file from its open to its close, and the last
  // close of a clean writer checkpoints and deletes it: without one, the DB file is complete
  // and nobody is writing. Opened plainly, SQLite would create an empty -wal and -shm and
  // leave them (a read-only connection cannot remove them), or fail on a read-only directory.
  if (!std::filesystem::exists(path + "-wal", ec)) return ReadAccess::kImmutable;
  // A live writer's, or a killed one's: SQLite reads the WAL through its index, read-only
  // if it must (SQLite >= 3.22).
  if (std::filesystem::exists(path + "-shm", ec)) return ReadAccess::kShared;
  return ReadAccess::kCopy;
}

sqlite3* open_read_only(const std::string& file, const std::string& path, bool immutable) {
  if (!immutable) return open(file, path, SQLITE_OPEN_READONLY);
  return open("file:" + uri_path(file) + "?immutable=1", path, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
}

}  // namespace ternbench::storage::sqlite
