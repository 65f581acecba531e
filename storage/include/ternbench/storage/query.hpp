#pragma once
// Read-only SQL over a results DB, for `ternbench query`/`export` and for reports. The DB is
// opened as MetricsDb's read-only mode opens it (nothing is created beside it, also on a
// read-only directory) and an authorizer admits only reading statements and functions
// without side effects; a DB of an older schema version is read through a migrated
// temporary copy, never modified. Each statement runs within QueryLimits, and its rows can
// be streamed to a RowSink as they are stepped.
#include <cstddef>
#include <cstdint>
#include <functional>
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

// Bounds on one statement; 0 means no bound. The defaults sit far above what a sweep's DB
// needs (a big sweep has ~10^5 epoch rows and queries over it take seconds) and stop
// runaway SQL, such as an endless recursive CTE, before it fills the disk or the memory.
struct QueryLimits {
  std::int64_t max_rows = 10'000'000;
  // Time spent inside SQLite running the statement; time spent writing rows (waiting for a
  // pager that reads them, say) does not count.
  double timeout_seconds = 300;
  // Heap SQLite may allocate while the statement runs, beyond what it held before. SQLite's
  // heap limit is process-wide: it is set for the statement's run and then restored, so run
  // one limited statement at a time.
  std::int64_t max_memory_mib = 1024;
};

// A statement stopped by one of QueryLimits. The message is one line naming the limit, its
// value and the SQL: `query: stopped at the row limit (10 rows) in "SELECT ..."`.
class QueryLimitError : public QueryError {
 public:
  enum class Limit { kRows, kTime, kMemory };
  QueryLimitError(Limit limit, const std::string& message) : QueryError(message), limit_(limit) {}
  Limit limit() const { return limit_; }

 private:
  Limit limit_;
};

// Receives a result while its statement runs: the column names, then each row as soon as
// SQLite steps to it, so that memory does not grow with the number of rows.
class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual void begin(const std::vector<std::string>& columns) = 0;
  virtual void row(const std::vector<SqlValue>& values) = 0;
  // After the last row. `complete` is false when a limit or an error stopped the statement
  // (the exception follows): a sink keeps the rows it was given but marks no end.
  virtual void end(bool complete) = 0;
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
  // refused SQL, QueryLimitError when a limit stops it.
  QueryResult query(const std::string& sql, const std::vector<QueryFilter>& filters = {},
                    const QueryLimits& limits = {}) const;

  // The same statement, its rows handed to `sink` as they are stepped. Returns the number of
  // rows. Throws as query() does; rows given to the sink before the throw stay given.
  std::int64_t stream(const std::string& sql, const std::vector<QueryFilter>& filters, RowSink& sink,
                      const QueryLimits& limits = {}) const;

 private:
  std::unique_ptr<Snapshot> snap_;
  std::unique_ptr<Refusal> refusal_;  // what the authorizer refused first
};

// ReadOnlyDb(db_path).query(sql, filters), for a single query.
QueryResult run_query(const std::string& db_path, const std::string& sql,
                      const std::vector<QueryFilter>& filters = {});

// ReadOnlyDb(db_path).stream(sql, filters, sink, limits), for a single query.
std::int64_t stream_query(const std::string& db_path, const std::string& sql, const std::vector<QueryFilter>& filters,
                          RowSink& sink, const QueryLimits& limits = {});

// The views `ternbench export` writes, in a stable row order.
const std::vector<std::string>& exportable_views();
// Every row of one of exportable_views(); throws QueryError for another name.
QueryResult read_view(const std::string& db_path, const std::string& view);
// The same rows streamed to `sink`; returns their number.
std::int64_t stream_view(const std::string& db_path, const std::string& view, RowSink& sink,
                         const QueryLimits& limits = {});

enum class OutputFormat { kTable, kCsv, kJson, kMarkdown };

// Writes a result in one format while it streams, handing text to `out` in pieces of about
// 64 KiB at row ends; its memory is a few times the largest row, whatever the row count.
// csv and json go row by row. table and markdown first hold up to kMeasuredRows rows (less
// if they exceed kMeasuredBytes) to measure the column widths and find the numeric columns;
// a result that fits is laid out exactly as a whole, later rows keep those widths (a wider
// cell shifts the rest of its line, nothing is cut) and alignments.
// end(false) writes the held rows but no closing mark: a stopped json array stays unclosed,
// so that no reader takes it for the whole result.
class FormatWriter : public RowSink {
 public:
  static constexpr std::size_t kMeasuredRows = 1000;
  static constexpr std::size_t kMeasuredBytes = 4u << 20;
  using Out = std::function<void(std::string_view)>;

  FormatWriter(OutputFormat format, Out out);
  ~FormatWriter() override;
  FormatWriter(const FormatWriter&) = delete;
  FormatWriter& operator=(const FormatWriter&) = delete;

  void begin(const std::vector<std::string>& columns) override;
  void row(const std::vector<SqlValue>& values) override;
  void end(bool complete) override;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Renderings of a whole result, through FormatWriter. Numbers are written in the shortest
// form that reads back to the same double. NULL is `NULL` (table), empty (csv, markdown) or
// `null` (json).
std::string format_table(const QueryResult& r);     // aligned columns, numbers to the right
std::string format_csv(const QueryResult& r);       // RFC 4180 quoting, header line
std::string format_json(const QueryResult& r);      // array of objects, numbers as numbers
std::string format_markdown(const QueryResult& r);  // GitHub pipe table
std::string format_result(const QueryResult& r, OutputFormat f);

// Shortest decimal text that parses back to exactly v ("0.1", "1e-300", "32"); "inf",
// "-inf" and "nan" for the non-finite values.
std::string format_real(double v);

}  // namespace ternbench::storage
