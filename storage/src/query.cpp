#include "ternbench/storage/query.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <initializer_list>
#include <limits>
#include <string_view>
#include <utility>

#include "snapshot.hpp"
#include "sqlite_util.hpp"

namespace ternbench::storage {

// The authorizer's state: what it refused first in the statement being prepared, for the
// message, and the functions it refuses on this connection.
struct Refusal {
  std::string what;
  bool function = false;  // `what` is a function
  std::vector<std::string> denied_functions;  // lower case
};

namespace {

// The SQL on one line (newlines and runs of blanks become one space), as errors quote it.
std::string one_line(std::string_view sql) {
  std::string out;
  bool blank = false;
  for (char c : sql) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      blank = !out.empty();
      continue;
    }
    if (blank) out += ' ';
    blank = false;
    out += c;
  }
  return out;
}

[[noreturn]] void fail(const std::string& what, std::string_view sql) {
  std::string msg = "query: ";
  msg.append(what).append(" in \"").append(one_line(sql)).append("\"");
  throw QueryError(msg);
}

// True when `rest` holds only blanks, semicolons and comments: what may follow the one
// statement a query is allowed to have.
bool only_comments(std::string_view rest) {
  std::size_t i = 0;
  while (i < rest.size()) {
    const char c = rest[i];
    if (std::isspace(static_cast<unsigned char>(c)) != 0 || c == ';') {
      ++i;
    } else if (rest.substr(i, 2) == "--") {
      const std::size_t end = rest.find('\n', i);
      i = end == std::string_view::npos ? rest.size() : end + 1;
    } else if (rest.substr(i, 2) == "/*") {
      const std::size_t end = rest.find("*/", i + 2);
      i = end == std::string_view::npos ? rest.size() : end + 2;
    } else {
      return false;
    }
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// PRAGMAs that only read: the schema and check ones (their argument is a table or a count),
// and a few settings when they are read (no argument). Anything else, such as
// journal_mode = DELETE, is refused.
bool reading_pragma(const char* name, const char* arg) {
  static constexpr std::array<std::string_view, 15> kReaders = {
      "table_info",        "table_xinfo",     "table_list",     "index_list",    "index_info",
      "index_xinfo",       "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check",
      "database_list",     "collation_list",  "function_list",  "module_list",   "compile_options"};
  static constexpr std::array<std::string_view, 8> kSettings = {
      "user_version", "schema_version", "application_id", "journal_mode",
      "page_count",   "page_size",      "encoding",       "foreign_keys"};
  const std::string n = lower(name != nullptr ? name : "");
  if (std::find(kReaders.begin(), kReaders.end(), n) != kReaders.end()) return true;
  return arg == nullptr && std::find(kSettings.begin(), kSettings.end(), n) != kSettings.end();
}

bool is_schema_table(const char* name) {
  const std::string n = lower(name != nullptr ? name : "");
  return n == "sqlite_master" || n == "sqlite_temp_master" || n == "sqlite_schema" || n == "sqlite_temp_schema";
}

// Concatenation by append (GCC 12 warns falsely on "literal" + std::string).
std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

std::string describe(int action, const char* a1, const char* a2) {
  const std::string s1 = a1 != nullptr ? a1 : "";
  const std::string s2 = a2 != nullptr ? a2 : "";
  switch (action) {
    case SQLITE_INSERT: return cat({"INSERT into ", s1});
    case SQLITE_UPDATE: return cat({"UPDATE of ", s1});
    case SQLITE_DELETE: return cat({"DELETE from ", s1});
    case SQLITE_CREATE_INDEX:
    case SQLITE_CREATE_TEMP_INDEX: return cat({"CREATE INDEX ", s1});
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_TEMP_TABLE: return cat({"CREATE TABLE ", s1});
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_CREATE_TEMP_TRIGGER: return cat({"CREATE TRIGGER ", s1});
    case SQLITE_CREATE_VIEW:
    case SQLITE_CREATE_TEMP_VIEW: return cat({"CREATE VIEW ", s1});
    case SQLITE_CREATE_VTABLE: return cat({"CREATE VIRTUAL TABLE ", s1});
    case SQLITE_DROP_INDEX:
    case SQLITE_DROP_TEMP_INDEX: return cat({"DROP INDEX ", s1});
    case SQLITE_DROP_TABLE:
    case SQLITE_DROP_TEMP_TABLE: return cat({"DROP TABLE ", s1});
    case SQLITE_DROP_TRIGGER:
    case SQLITE_DROP_TEMP_TRIGGER: return cat({"DROP TRIGGER ", s1});
    case SQLITE_DROP_VIEW:
    case SQLITE_DROP_TEMP_VIEW: return cat({"DROP VIEW ", s1});
    case SQLITE_DROP_VTABLE: return cat({"DROP VIRTUAL TABLE ", s1});
    case SQLITE_ALTER_TABLE: return cat({"ALTER TABLE ", s2});
    case SQLITE_ATTACH: return cat({"ATTACH ", s1});
    case SQLITE_DETACH: return cat({"DETACH ", s1});
    case SQLITE_PRAGMA: return s2.empty() ? cat({"PRAGMA ", s1}) : cat({"PRAGMA ", s1, " = ", s2});
    case SQLITE_TRANSACTION: return s1 + " (a transaction)";
    case SQLITE_SAVEPOINT: return cat({"SAVEPOINT ", s2});
    case SQLITE_REINDEX: return "REINDEX";
    case SQLITE_ANALYZE: return "ANALYZE";
    default: return "this statement";
  }
}

// Admits what a SELECT needs and nothing else.
int authorize(void* state, int action, const char* a1, const char* a2, const char* /*db*/,
              const char* /*trigger_or_view*/) {
  auto* refusal = static_cast<Refusal*>(state);
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE: return SQLITE_OK;
    case SQLITE_FUNCTION: {
      const std::string name = lower(a2 != nullptr ? a2 : "");
      const auto& denied = refusal->denied_functions;
      if (std::find(denied.begin(), denied.end(), name) == denied.end()) return SQLITE_OK;
      if (refusal->what.empty()) {
        refusal->what = name + "()";
        refusal->function = true;
      }
      return SQLITE_DENY;
    }
    case SQLITE_PRAGMA:
      if (reading_pragma(a1, a2)) return SQLITE_OK;
      break;
    // Writes to the schema table are checked before the CREATE or DROP that causes them, and
    // when a table-valued function such as pragma_table_info is first set up. Admitting them
    // lets the CREATE or DROP be the refusal the message names; a statement that really
    // writes the schema table is refused by SQLite itself on this read-only connection.
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE:
      if (is_schema_table(a1)) return SQLITE_OK;
      break;
    default: break;
  }
  if (refusal->what.empty()) refusal->what = describe(action, a1, a2);
  return SQLITE_DENY;
}

// Owns a statement prepared under the authorizer, whose refusals land in *refusal.
class Prepared {
 public:
  // Prepares the first statement of `sql`; *rest receives the text after it.
  Prepared(sqlite3* db, Refusal* refusal, std::string_view sql, std::string_view* rest) {
    refusal->what.clear();
    refusal->function = false;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &st_, &tail);
    if (!refusal->what.empty()) {
      sqlite3_finalize(st_);
      fail(refusal->what + (refusal->function ? " is not allowed (queries may not call functions with side effects "
                                                "or access outside the DB)"
                                              : " is not allowed (queries are read-only)"),
           sql);
    }
    if (rc != SQLITE_OK) fail(sqlite3_errmsg(db), sql);
    if (st_ == nullptr) fail("no SQL statement", sql);
    if (rest != nullptr) *rest = sql.substr(static_cast<std::size_t>(tail - sql.data()));
    // The authorizer sees no VACUUM; SQLite itself knows whether a statement writes.
    if (sqlite3_stmt_readonly(st_) == 0) {
      sqlite3_finalize(st_);
      fail("this statement writes and is not allowed (queries are read-only)", sql);
    }
  }
  ~Prepared() { sqlite3_finalize(st_); }
  Prepared(const Prepared&) = delete;
  Prepared& operator=(const Prepared&) = delete;
  sqlite3_stmt* get() const { return st_; }

  std::vector<std::string> columns() const {
    std::vector<std::string> out;
    const int n = sqlite3_column_count(st_);
    for (int i = 0; i < n; ++i) {
      const char* name = sqlite3_column_name(st_, i);
      out.emplace_back(name != nullptr ? name : "");
    }
    return out;
  }

 private:
  sqlite3_stmt* st_ = nullptr;
};

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

// The first statement without its trailing blanks and semicolons, for wrapping.
std::string_view strip_statement_end(std::string_view s) {
  while (!s.empty() && (s.back() == ';' || std::isspace(static_cast<unsigned char>(s.back())) != 0)) {
    s.remove_suffix(1);
  }
  return s;
}

constexpr std::int64_t kMiB = std::int64_t{1} << 20;

// Functions refused whatever their flags: fts3_tokenizer() reads and sets tokenizer
// pointers, load_extension() loads a shared library.
constexpr std::array<std::string_view, 2> kDeniedFunctions = {"fts3_tokenizer", "load_extension"};

// Turns off what a query never needs and an untrusted one could misuse, and lists the
// functions the authorizer refuses: the fixed ones and every function SQLite marks
// SQLITE_DIRECTONLY, its mark for functions with side effects or access to files.
std::vector<std::string> harden(sqlite3* db) {
  for (const auto& [option, value] : {std::pair{SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0},
                                      std::pair{SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0},
                                      std::pair{SQLITE_DBCONFIG_DEFENSIVE, 1}}) {
    if (sqlite3_db_config(db, option, value, nullptr) != SQLITE_OK) {
      throw StorageError(std::string("query: cannot configure the read-only connection: ") + sqlite3_errmsg(db));
    }
  }
  std::vector<std::string> denied(kDeniedFunctions.begin(), kDeniedFunctions.end());
  sqlite3_stmt* st = nullptr;
  const std::string sql = "SELECT DISTINCT name FROM pragma_function_list WHERE flags & " +
                          std::to_string(SQLITE_DIRECTONLY) + " <> 0";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    throw StorageError(std::string("query: cannot list SQLite's functions: ") + sqlite3_errmsg(db));
  }
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char* name = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    if (name != nullptr && std::find(denied.begin(), denied.end(), lower(name)) == denied.end()) {
      denied.push_back(lower(name));
    }
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) throw StorageError(std::string("query: cannot list SQLite's functions: ") + sqlite3_errmsg(db));
  return denied;
}

// The time and heap limits of one statement, in force while it lives. The clock runs only
// inside sqlite3_step, so that a slow reader of the output does not use up the time.
class Limiter {
 public:
  Limiter(sqlite3* db, const QueryLimits& limits) : db_(db), limits_(limits) {
    if (limits.timeout_seconds > 0) {
      budget_ = std::chrono::duration<double>(limits.timeout_seconds);
      sqlite3_progress_handler(db, kProgressOps, on_progress, this);
    }
    if (limits.max_memory_mib > 0) {
      prev_hard_ = sqlite3_hard_heap_limit64(-1);
      prev_soft_ = sqlite3_soft_heap_limit64(-1);
      const std::int64_t room = std::min(limits.max_memory_mib, std::numeric_limits<std::int64_t>::max() / kMiB / 2);
      sqlite3_int64 cap = sqlite3_memory_used() + room * kMiB;
      if (prev_hard_ > 0) cap = std::min(cap, prev_hard_);
      // The soft limit makes SQLite shrink its page cache before an allocation fails.
      sqlite3_hard_heap_limit64(cap);
      sqlite3_soft_heap_limit64(cap);
    }
  }
  ~Limiter() {
    if (limits_.timeout_seconds > 0) sqlite3_progress_handler(db_, 0, nullptr, nullptr);
    if (limits_.max_memory_mib > 0) {
      sqlite3_hard_heap_limit64(prev_hard_);
      sqlite3_soft_heap_limit64(prev_soft_);
    }
  }
  Limiter(const Limiter&) = delete;
  Limiter& operator=(const Limiter&) = delete;

  int step(sqlite3_stmt* st) {
    started_ = Clock::now();
    const int rc = sqlite3_step(st);
    spent_ += Clock::now() - started_;
    return rc;
  }
  bool timed_out() const { return timed_out_; }

 private:
  using Clock = std::chrono::steady_clock;
  // Virtual machine steps between looks at the clock: ~10-50 us of work, so the check
  // costs nothing measurable and the limit is kept to a few milliseconds.
  static constexpr int kProgressOps = 1000;

  static int on_progress(void* self) {
    auto* l = static_cast<Limiter*>(self);
    if (l->spent_ + (Clock::now() - l->started_) <= l->budget_) return 0;
    l->timed_out_ = true;
    return 1;  // SQLite stops the statement with SQLITE_INTERRUPT
  }

  sqlite3* db_;
  QueryLimits limits_;
  std::chrono::duration<double> budget_{0};
  Clock::time_point started_;
  Clock::duration spent_{0};
  bool timed_out_ = false;
  sqlite3_int64 prev_hard_ = 0;
  sqlite3_int64 prev_soft_ = 0;
};

[[noreturn]] void fail_limit(QueryLimitError::Limit limit, const QueryLimits& limits, std::string_view sql) {
  std::string what;
  switch (limit) {
    case QueryLimitError::Limit::kRows: what = cat({"the row limit (", std::to_string(limits.max_rows), limits.max_rows == 1 ? " row)" : " rows)"});
      break;
    case QueryLimitError::Limit::kTime: what = "the time limit (" + format_real(limits.timeout_seconds) + " s)"; break;
    case QueryLimitError::Limit::kMemory:
      what = "the memory limit (" + std::to_string(limits.max_memory_mib) + " MiB)";
      break;
  }
  throw QueryLimitError(limit, cat({"query: stopped at ", what, " in \"", one_line(sql), "\""}));
}

// Steps the statement within the limits, handing each row to the sink as it comes.
std::int64_t run(sqlite3* db, const Prepared& st, std::string_view sql, RowSink& sink, const QueryLimits& limits) {
  const std::vector<std::string> columns = st.columns();
  sink.begin(columns);
  Limiter limiter(db, limits);
  std::vector<SqlValue> row(columns.size());
  std::int64_t n = 0;
  for (;;) {
    const int rc = limiter.step(st.get()) & 0xff;  // the primary code, should extended codes be on
    if (rc == SQLITE_DONE) break;
    const bool row_limit = rc == SQLITE_ROW && limits.max_rows > 0 && n >= limits.max_rows;
    if (rc == SQLITE_ROW && !row_limit) {
      for (std::size_t i = 0; i < row.size(); ++i) row[i] = sqlite::column_value(st.get(), static_cast<int>(i));
      sink.row(row);
      ++n;
      continue;
    }
    const std::string error = sqlite3_errmsg(db);
    sink.end(false);
    if (row_limit) fail_limit(QueryLimitError::Limit::kRows, limits, sql);
    if (rc == SQLITE_INTERRUPT && limiter.timed_out()) fail_limit(QueryLimitError::Limit::kTime, limits, sql);
    if (rc == SQLITE_NOMEM && limits.max_memory_mib > 0) fail_limit(QueryLimitError::Limit::kMemory, limits, sql);
    fail(error, sql);
  }
  sink.end(true);
  return n;
}

// Keeps a whole result, for callers that want it in memory (reports, tests).
class Collector : public RowSink {
 public:
  explicit Collector(QueryResult* r) : r_(r) {}
  void begin(const std::vector<std::string>& columns) override { r_->columns = columns; }
  void row(const std::vector<SqlValue>& values) override { r_->rows.push_back(values); }
  void end(bool /*complete*/) override {}

 private:
  QueryResult* r_;
};

const std::string& view_sql(const std::string& view) {
  static const std::vector<std::pair<std::string, std::string>> kSql = {
      {"results", "SELECT * FROM results ORDER BY dataset, model, method, seed, run_key"},
      {"run_epochs", "SELECT * FROM run_epochs ORDER BY run_key, stage, epoch"},
      {"run_layers", "SELECT * FROM run_layers ORDER BY run_key, layer"},
      {"run_epoch_layers", "SELECT * FROM run_epoch_layers ORDER BY run_key, stage, epoch, layer"}};
  for (const auto& [name, sql] : kSql) {
    if (name == view) return sql;
  }
  throw QueryError("export: unknown view " + view + " (use results, run_epochs, run_layers or run_epoch_layers)");
}

}  // namespace

ReadOnlyDb::ReadOnlyDb(const std::string& path)
    : snap_(std::make_unique<Snapshot>(path)), refusal_(std::make_unique<Refusal>()) {
  // Installed for the connection's life: SQLite re-prepares a statement after a schema
  // change by another process, and that re-prepare is checked too.
  refusal_->denied_functions = harden(snap_->db());
  sqlite3_set_authorizer(snap_->db(), authorize, refusal_.get());
}

ReadOnlyDb::~ReadOnlyDb() = default;

QueryResult run_query(const std::string& db_path, const std::string& sql, const std::vector<QueryFilter>& filters) {
  return ReadOnlyDb(db_path).query(sql, filters);
}

std::int64_t stream_query(const std::string& db_path, const std::string& sql, const std::vector<QueryFilter>& filters,
                          RowSink& sink, const QueryLimits& limits) {
  return ReadOnlyDb(db_path).stream(sql, filters, sink, limits);
}

QueryResult ReadOnlyDb::query(const std::string& sql, const std::vector<QueryFilter>& filters,
                              const QueryLimits& limits) const {
  QueryResult r;
  Collector collector(&r);
  stream(sql, filters, collector, limits);
  return r;
}

std::int64_t ReadOnlyDb::stream(const std::string& sql, const std::vector<QueryFilter>& filters, RowSink& sink,
                                const QueryLimits& limits) const {
  sqlite3* db = snap_->db();
  Refusal& refusal = *refusal_;
  std::string_view rest;
  const Prepared first(db, &refusal, sql, &rest);
  if (!only_comments(rest)) fail("only one statement is allowed, found more after the first", sql);
  if (filters.empty()) return run(db, first, sql, sink, limits);

  const std::vector<std::string> columns = first.columns();
  for (const QueryFilter& f : filters) {
    if (std::find(columns.begin(), columns.end(), f.column) == columns.end()) {
      fail("cannot filter on " + f.column + ": the query returns no column of that name", sql);
    }
  }
  const std::string_view body =
      strip_statement_end(std::string_view(sql).substr(0, sql.size() - rest.size()));
  // Newlines around the user's SQL end a trailing `--` comment before the closing bracket.
  std::string wrapped = "SELECT * FROM (\n";
  wrapped.append(body).append("\n) WHERE ");
  for (std::size_t i = 0; i < filters.size(); ++i) {
    if (i > 0) wrapped += " AND ";
    wrapped.append(quote_identifier(filters[i].column)).append(" = ?").append(std::to_string(i + 1));
  }
  const Prepared st(db, &refusal, wrapped, nullptr);
  for (std::size_t i = 0; i < filters.size(); ++i) {
    const std::string& v = filters[i].value;
    if (sqlite3_bind_text(st.get(), static_cast<int>(i + 1), v.data(), static_cast<int>(v.size()),
                          SQLITE_TRANSIENT) != SQLITE_OK) {
      fail(sqlite3_errmsg(db), wrapped);
    }
  }
  return run(db, st, sql, sink, limits);
}

const std::vector<std::string>& exportable_views() {
  static const std::vector<std::string> kViews = {"results", "run_epochs", "run_layers", "run_epoch_layers"};
  return kViews;
}

QueryResult read_view(const std::string& db_path, const std::string& view) {
  return run_query(db_path, view_sql(view));
}

std::int64_t stream_view(const std::string& db_path, const std::string& view, RowSink& sink,
                         const QueryLimits& limits) {
  return stream_query(db_path, view_sql(view), {}, sink, limits);
}

}  // namespace ternbench::storage
