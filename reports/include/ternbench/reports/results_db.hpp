#pragma once
// Read-only access to a results DB through its views (`results`, `run_epochs`), by storage's
// read-only query path (storage/query.hpp): reports never write to the DB, and a DB of an
// older schema is read through a temporary copy, migrated once for all of a report's queries.
#include <memory>
#include <string>
#include <vector>

#include "ternbench/reports/runs.hpp"
#include "ternbench/storage/query.hpp"

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
  // Throws StorageError naming the path when the file is missing, not a results DB, or of
  // a newer schema than this binary reads.
  explicit ResultsDb(const std::string& path);

  const std::string& path() const { return path_; }

  // Runs one read-only SELECT. Throws StorageError (QueryError) with SQLite's message; the
  // caller adds which spec or option the SQL came from.
  Table query(const std::string& sql) const;

  // Every run of the DB with its config and results columns; `expected` runs absent from
  // the DB are added with status kStatusNotStarted, so a sweep's unfinished cells show.
  std::vector<RunRow> runs(const std::vector<ExpectedRun>& expected = {}) const;

  // Test accuracy per epoch of every run, ordered by run and step.
  std::vector<EpochPoint> epochs() const;

 private:
  std::string path_;
  std::shared_ptr<const storage::ReadOnlyDb> db_;  // shared by copies
};

}  // namespace ternbench::reports
