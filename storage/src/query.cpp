#include "ternbench/storage/query.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <initializer_list>
#include <string_view>

#include "snapshot.hpp"
#include "sqlite_util.hpp"

namespace ternbench::storage {

// What the authorizer refused first, for the message.
struct Refusal {
  std::string what;
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
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE: return SQLITE_OK;
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
  auto* refusal = static_cast<Refusal*>(state);
  if (refusal->what.empty()) refusal->what = describe(action, a1, a2);
  return SQLITE_DENY;
}

// Owns a statement prepared under the authorizer, whose refusals land in *refusal.
class Prepared {
 public:
  // Prepares the first statement of `sql`; *rest receives the text after it.
  Prepared(sqlite3* db, Refusal* refusal, std::string_view sql, std::string_view* rest) {
    *refusal = Refusal{};
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &st_, &tail);
    if (!refusal->what.empty()) {
      sqlite3_finalize(st_);
      fail(refusal->what + " is not allowed (queries are read-only)", sql);
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

QueryResult collect(sqlite3* db, const Prepared& st, std::string_view sql) {
  QueryResult r;
  r.columns = st.columns();
  for (;;) {
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) fail(sqlite3_errmsg(db), sql);
    std::vector<SqlValue> row;
    row.reserve(r.columns.size());
    for (std::size_t i = 0; i < r.columns.size(); ++i) {
      row.push_back(sqlite::column_value(st.get(), static_cast<int>(i)));
    }
    r.rows.push_back(std::move(row));
  }
  return r;
}

}  // namespace

ReadOnlyDb::ReadOnlyDb(const std::string& path)
    : snap_(std::make_unique<Snapshot>(path)), refusal_(std::make_unique<Refusal>()) {
  // Installed for the connection's life: SQLite re-prepares a statement after a schema
  // change by another process, and that re-prepare is checked too.
  sqlite3_set_authorizer(snap_->db(), authorize, refusal_.get());
}

ReadOnlyDb::~ReadOnlyDb() = default;

QueryResult run_query(const std::string& db_path, const std::string& sql, const std::vector<QueryFilter>& filters) {
  return ReadOnlyDb(db_path).query(sql, filters);
}

QueryResult ReadOnlyDb::query(const std::string& sql, const std::vector<QueryFilter>& filters) const {
  sqlite3* db = snap_->db();
  Refusal& refusal = *refusal_;
  std::string_view rest;
  const Prepared first(db, &refusal, sql, &rest);
  if (!only_comments(rest)) fail("only one statement is allowed, found more after the first", sql);
  if (filters.empty()) return collect(db, first, sql);

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
  return collect(db, st, sql);
}

const std::vector<std::string>& exportable_views() {
  static const std::vector<std::string> kViews = {"results", "run_epochs", "run_layers", "run_epoch_layers"};
  return kViews;
}

QueryResult read_view(const std::string& db_path, const std::string& view) {
  if (view == "results") {
    return run_query(db_path, "SELECT * FROM results ORDER BY dataset, model, method, seed, run_key");
  }
  if (view == "run_epochs") return run_query(db_path, "SELECT * FROM run_epochs ORDER BY run_key, stage, epoch");
  if (view == "run_layers") return run_query(db_path, "SELECT * FROM run_layers ORDER BY run_key, layer");
  if (view == "run_epoch_layers") {
    return run_query(db_path, "SELECT * FROM run_epoch_layers ORDER BY run_key, stage, epoch, layer");
  }
  throw QueryError("export: unknown view " + view + " (use results, run_epochs, run_layers or run_epoch_layers)");
}

}  // namespace ternbench::storage
