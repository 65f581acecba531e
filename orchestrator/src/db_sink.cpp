#include "ternbench/orchestrator/db_sink.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "ternbench/core/train/trainer.hpp"
#include "ternbench/orchestrator/provenance.hpp"
#include "ternbench/orchestrator/run_labels.hpp"
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

void DbSink::label_runs(const std::vector<experiments::RunSpec>& sweep) { labels_ = distinguishing_keys(sweep); }

void DbSink::expect(std::map<std::string, double> wall_seconds, int workers) {
  progress_.expect(std::move(wall_seconds), workers);
}

std::string DbSink::label_of(const std::string& run_key) const {
  const auto it = labels_.find(run_key);
  return run_label(*specs_.at(run_key), it == labels_.end() ? "" : it->second);
}

// "[3/10] ": the runs finished of those this job may train.
std::string DbSink::position() const {
  char buf[64];
  std::snprintf(buf, sizeof buf, "[%d/%zu] ", finished_, specs_.size());
  return buf;
}

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
  progress_.started(w.run_key, core::planned_epochs(specs_.at(w.run_key)->train));
}

void DbSink::epoch(const storage::EpochRecord& e) {
  db_.add_epoch(e);
  progress_.epoch(e.run_key);
}

void DbSink::finished(const RunResult& res) {
  const storage::RunRecord& r = res.run;
  db_.finish_run(r, res.layers, res.stages);
  const bool ok = r.status == storage::kStatusDone || r.status == storage::kStatusDiverged;
  if (r.status == storage::kStatusFailed || r.status == storage::kStatusConfigError) ++failed_;
  ++finished_;
  const std::string label = position() + label_of(r.run_key) + ": ";
  char line[256];
  if (r.status == storage::kStatusDone) {
    std::snprintf(line, sizeof line, "test acc %.2f%%, sparsity %.3f (%.1f s)", 100.0 * r.test_acc, r.sparsity,
                  r.train_seconds);
  } else {
    std::snprintf(line, sizeof line, "%s: ", r.status.c_str());
  }
  const std::string text = label + line + (r.status == storage::kStatusDone ? "" : r.error);
  progress_.finished(r.run_key, ok, text);
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
  const std::string line = position() + label_of(w.run_key) + ": blocked: " + reason;
  progress_.started(w.run_key, 1);  // counted as a run that ended at once
  progress_.finished(w.run_key, false, line);
}

void DbSink::begin_batch() { batch_.emplace(db_); }

void DbSink::end_batch() {
  batch_->commit();
  batch_.reset();
}

}  // namespace ternbench::orchestrator
