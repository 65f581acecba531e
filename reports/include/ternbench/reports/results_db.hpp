#pragma once
// Read-only access to a results DB through the views of schema 3 (`results`, `run_epochs`).
// Reports never write to the DB: it is opened with SQLITE_OPEN_READONLY.
#include <string>
#include <vector>

#include "ternbench/reports/runs.hpp"

struct sqlite3;

namespace ternbench::reports {

struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;
};

// One epoch of one run, from `run_epochs`. Faraone numbers the epochs of each stage from 1,
// so `step` counts the run's epochs across stages (in stage order): 1, 2, ...
struct EpochPoint {
  std::string run_key;
  int step = 0;
  double test_acc = 0;  // NaN when NULL
};

class ResultsDb {
 public:
  // Throws StorageError naming the path when the file is missing, not SQLite, or has no
  // `results` view (a DB older than schema 3: any `ternbench run` upgrades it).
  explicit ResultsDb(const std::string& path);
  ~ResultsDb();
  ResultsDb(const ResultsDb&) = delete;
  ResultsDb& operator=(const ResultsDb&) = delete;

  const std::string& path() const { return path_; }

  // Runs any SELECT; text parameters bound to ?1, ?2, ... Throws StorageError with SQLite's
  // message (the caller adds which spec or option the SQL came from).
  Table query(const std::string& sql, const std::vector<std::string>& params = {}) const;

  // Every run of the DB with its config and results columns; `expected` runs absent from
  // the DB are added with status kStatusNotStarted, so a sweep's unfinished cells show.
  std::vector<RunRow> runs(const std::vector<ExpectedRun>& expected = {}) const;

  // Test accuracy per epoch of every run, ordered by run and step.
  std::vector<EpochPoint> epochs() const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace ternbench::reports
