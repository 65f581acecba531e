#include "ternbench/orchestrator/db_sink.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "ternbench/orchestrator/provenance.hpp"
#include "ternbench/orchestrator/run_executor.hpp"

namespace ternbench::orchestrator {
namespace {
// Seconds between summary lines when the output is not a terminal (Slurm logs).
double progress_interval() {
  const char* v = std::getenv("TERNBENCH_PROGRESS_INTERVAL");
  return v ? std::atof(v) : 60.0;
}
}  // namespace

DbSink::DbSink(storage::MetricsDb& db, const std::map<std::string, const experiments::RunSpec*>& specs, int total,
               std::FILE* out)
    : db_(db), specs_(specs), progress_(total, out, progress_interval()) {}

// The run's row as the coordinator knows it before any result: its config columns.
storage::RunRecord DbSink::record_of(const WorkItem& w) const {
  const core::TrainConfig& c = specs_.at(w.run_key)->train;
  storage::RunRecord r;
  r.run_key = w.run_key;
  r.sweep = w.sweep;
  r.config_toml = w.canonical_toml;
  r.dataset = c.dataset;
  r.model = c.model;
  r.method = c.method;
  r.seed = static_cast<std::int64_t>(c.seed);
  r.lr = c.lr;
  r.threads = c.threads;
  r.init_from = c.init_from;
  stamp_provenance(r);
  return r;
}

void DbSink::started(const WorkItem& w, int worker) {
  storage::RunRecord r = record_of(w);
  r.status = storage::kStatusRunning;
  r.rank = worker;
  // The attempt counts once the run reports how it ended (RunExecutor::execute decides): a
  // job that dies with it in flight (a kill, a full disk that stops every rank) costs none.
  r.attempts = w.attempt - 1;
  r.started_at = utc_now();
  db_.start_run(r);
  progress_.started();
}

void DbSink::epoch(const storage::EpochRecord& e) { db_.add_epoch(e); }

void DbSink::finished(const RunResult& res) {
  const storage::RunRecord& r = res.run;
  db_.finish_run(r, res.layers, res.stages);
  const bool ok = r.status == storage::kStatusDone || r.status == storage::kStatusDiverged;
  if (r.status == storage::kStatusFailed || r.status == storage::kStatusConfigError) ++failed_;
  ++finished_;
  char line[512];
  if (r.status == storage::kStatusDone) {
    std::snprintf(line, sizeof line, "[%d/%zu] %s %s %s seed=%lld: test acc %.2f%%, sparsity %.3f (%.1f s)",
                  finished_, specs_.size(), r.dataset.c_str(), r.model.c_str(), r.method.c_str(),
                  static_cast<long long>(r.seed), 100.0 * r.test_acc, r.sparsity, r.train_seconds);
  } else {
    std::snprintf(line, sizeof line, "[%d/%zu] %s %s %s seed=%lld: %s: %s", finished_, specs_.size(),
                  r.dataset.c_str(), r.model.c_str(), r.method.c_str(), static_cast<long long>(r.seed),
                  r.status.c_str(), r.error.c_str());
  }
  progress_.finished(ok, line);
}

void DbSink::blocked(const WorkItem& w, const std::string& reason) {
  storage::RunRecord r = record_of(w);
  r.status = storage::kStatusBlocked;
  r.error = reason + "; it starts once its source is done (fix the source, e.g. `--retry-failed`)";
  r.attempts = w.attempt - 1;  // never started: a blocked run costs no attempt
  r.started_at = utc_now();
  r.finished_at = r.started_at;
  db_.start_run(r);
  ++blocked_;
  ++finished_;
  char line[512];
  std::snprintf(line, sizeof line, "[%d/%zu] %s %s %s seed=%lld: blocked: %s", finished_, specs_.size(),
                r.dataset.c_str(), r.model.c_str(), r.method.c_str(), static_cast<long long>(r.seed), reason.c_str());
  progress_.started();  // counted as a run that ended at once
  progress_.finished(false, line);
}

void DbSink::begin_batch() { batch_.emplace(db_); }

void DbSink::end_batch() {
  batch_->commit();
  batch_.reset();
}

}  // namespace ternbench::orchestrator
