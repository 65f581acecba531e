#pragma once
// Read-only SQL over a results DB, for `ternbench query`/`export` and for reports. The DB is
// opened as MetricsDb's read-only mode opens it (nothing is created beside it, also on a
// read-only directory) and an authorizer admits only reading statements; a DB of an older
// schema version is read through a migrated temporary copy, never modified.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ternbench/base/error.hpp"
#include "ternbench/storage/sql_value.hpp"

namespace ternbench::storage {

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<SqlValue>> rows;
};

// SQL that SQLite rejects or that is not a single read-only statement. The message is one
// line naming the SQL: `query: no such column: acc in "SELECT acc FROM results"`.
class QueryError : public StorageError {
 public:
  using StorageError::StorageError;
};

// `column = value`, the value bound as a parameter (never pasted into the SQL).
struct QueryFilter {
  std::string column;
  std::string value;
};

class Snapshot;
struct Refusal;

// One read-only connection for many queries: a report's dozens of queries open the DB (or
// migrate the temporary copy of an older one) once, not once each.
class ReadOnlyDb {
 public:
  // Throws StorageError for a DB that cannot be opened, is not a ternbench DB or is newer
  // than this binary, ConfigError for a directory.
  explicit ReadOnlyDb(const std::string& path);
  ~ReadOnlyDb();
  ReadOnlyDb(const ReadOnlyDb&) = delete;
  ReadOnlyDb& operator=(const ReadOnlyDb&) = delete;

  // Runs one SELECT (or read-only PRAGMA such as table_info). With filters the statement
  // becomes `SELECT * FROM (<sql>) WHERE "col1" = ?1 AND ...`. Throws QueryError for bad or
  // refused SQL.
  QueryResult query(const std::string& sql, const std::vector<QueryFilter>& filters = {}) const;

 private:
  std::unique_ptr<Snapshot> snap_;
  std::unique_ptr<Refusal> refusal_;  // what the authorizer refused first
};

// ReadOnlyDb(db_path).query(sql, filters), for a single query.
QueryResult run_query(const std::string& db_path, const std::string& sql,
                      const std::vector<QueryFilter>& filters = {});

// The views `ternbench export` writes, in a stable row order.
const std::vector<std::string>& exportable_views();
// Every row of one of exportable_views(); throws QueryError for another name.
QueryResult read_view(const std::string& db_path, const std::string& view);

enum class OutputFormat { kTable, kCsv, kJson, kMarkdown };

// Renderings of a result. Numbers are written in the shortest form that reads back to the
// same double. NULL is `NULL` (table), empty (csv, markdown) or `null` (json).
std::string format_table(const QueryResult& r);     // aligned columns, numbers to the right
std::string format_csv(const QueryResult& r);       // RFC 4180 quoting, header line
std::string format_json(const QueryResult& r);      // array of objects, numbers as numbers
std::string format_markdown(const QueryResult& r);  // GitHub pipe table
std::string format_result(const QueryResult& r, OutputFormat f);

// Shortest decimal text that parses back to exactly v ("0.1", "1e-300", "32"); "inf",
// "-inf" and "nan" for the non-finite values.
std::string format_real(double v);

}  // namespace ternbench::storage
