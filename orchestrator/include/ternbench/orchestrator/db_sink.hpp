#pragma once
// Rank 0's ResultSink: everything the coordinator learns goes into the results DB (one
// transaction per batch of messages), and finished runs into the progress report.
#include <cstdio>
#include <map>
#include <optional>
#include <string>

#include "ternbench/experiments/sweep.hpp"
#include "ternbench/orchestrator/progress.hpp"
#include "ternbench/orchestrator/scheduler.hpp"
#include "ternbench/storage/metrics_db.hpp"

namespace ternbench::orchestrator {

class DbSink final : public ResultSink {
 public:
  // specs: every run that may start, by run key (started() reads its config columns).
  // Progress goes to out every TERNBENCH_PROGRESS_INTERVAL seconds (default 60) when out
  // is not a terminal.
  DbSink(storage::MetricsDb& db, const std::map<std::string, const experiments::RunSpec*>& specs, int total,
         std::FILE* out);

  void started(const WorkItem& w, int worker) override;
  void epoch(const storage::EpochRecord& e) override;
  void finished(const RunResult& res) override;
  void blocked(const WorkItem& w, const std::string& reason) override;
  void begin_batch() override;
  void end_batch() override;

  // Names each run in its lines by the keys that tell it apart from the other runs of
  // `sweep` (run_labels.hpp), instead of dataset, model, method and seed alone.
  void label_runs(const std::vector<experiments::RunSpec>& sweep);
  // The cost model's expected wall seconds per run and the workers: an ETA from the start.
  void expect(std::map<std::string, double> wall_seconds, int workers);

  int failed() const { return failed_; }
  int blocked() const { return blocked_; }

 private:
  storage::RunRecord record_of(const WorkItem& w) const;
  std::string label_of(const std::string& run_key) const;
  std::string position() const;

  storage::MetricsDb& db_;
  const std::map<std::string, const experiments::RunSpec*>& specs_;
  Progress progress_;
  std::map<std::string, std::string> labels_;  // run key -> its distinguishing keys
  std::optional<storage::Transaction> batch_;  // rolled back if the coordinator throws mid-batch
  int finished_ = 0, failed_ = 0, blocked_ = 0;
};

}  // namespace ternbench::orchestrator
