#include "ternbench/orchestrator/status.hpp"

#include <ctime>
#include <filesystem>
#include <map>
#include <set>

#include "ternbench/orchestrator/progress.hpp"
#include "ternbench/orchestrator/run_executor.hpp"
#include "ternbench/orchestrator/sweep_plan.hpp"

namespace ternbench::orchestrator {

long long parse_utc(const std::string& iso) {
  std::tm tm{};
  if (strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr) return -1;
  return static_cast<long long>(timegm(&tm));
}

namespace {

// Counts and line of format_status; `writer` is null when the caller does not know the lease.
std::string status_line(const std::vector<storage::RunRecord>& runs, int total, const std::string& name,
                        const std::optional<storage::WriterInfo>* writer) {
  std::map<std::string, int> by_status;
  long long first_start = -1, last_end = -1;
  const bool live = writer == nullptr || (writer->has_value() && (*writer)->alive);
  const long long live_since = writer != nullptr && live ? parse_utc((*writer)->since) : -1;
  int stale = 0;
  for (const auto& r : runs) {
    // A live writer restarts the runs a dead one left running, and marks each as it starts.
    if (r.status == storage::kStatusRunning && (!live || parse_utc(r.started_at) < live_since)) {
      ++stale;
    } else {
      ++by_status[r.status];
    }
    const long long s = parse_utc(r.started_at), e = parse_utc(r.finished_at);
    if (s >= 0 && (first_start < 0 || s < first_start)) first_start = s;
    if (e > last_end) last_end = e;
  }
  ProgressCounts c;
  c.progressing = live;
  c.total = total > 0 ? total : static_cast<int>(runs.size());
  c.done = by_status[storage::kStatusDone] + by_status[storage::kStatusDiverged];
  c.running = by_status[storage::kStatusRunning];
  c.failed = by_status[storage::kStatusFailed] + by_status[storage::kStatusConfigError];
  // Throughput from the DB's own timestamps, so it means the same on a login node.
  const long long now = parse_utc(utc_now());
  const long long end = c.running > 0 ? now : last_end;
  if (first_start >= 0 && end > first_start) c.elapsed_seconds = static_cast<double>(end - first_start);
  std::string out = name + ": " + format_progress(c);
  if (by_status[storage::kStatusInterrupted] > 0)
    out += ", " + std::to_string(by_status[storage::kStatusInterrupted]) + " interrupted";
  if (by_status[storage::kStatusBlocked] > 0)
    out += ", " + std::to_string(by_status[storage::kStatusBlocked]) + " blocked (their init_from source did not finish)";
  if (stale > 0) {
    out += ", " + std::to_string(stale) + " stale (left running by ";
    if (live) {
      out += "an earlier job; this one trains them again)";
    } else if (writer->has_value()) {
      const storage::WriterInfo& w = **writer;
      out += w.describe() + ", which is gone: " + w.gone_because + "; `ternbench run` trains them again)";
    } else {
      out += "a job that ended without finishing them; no process writes this DB; `ternbench run` trains them "
             "again)";
    }
  }
  return out;
}

}  // namespace

std::string format_status(const std::vector<storage::RunRecord>& runs, int total, const std::string& name) {
  return status_line(runs, total, name, nullptr);
}

std::string format_status(const std::vector<storage::RunRecord>& runs, int total, const std::string& name,
                          const std::optional<storage::WriterInfo>& writer) {
  return status_line(runs, total, name, &writer);
}

std::string format_sweep_status(const experiments::Sweep& sweep, const std::string& db_path,
                                const std::string& commit) {
  const int total = static_cast<int>(sweep.runs.size());
  std::error_code ec;
  if (!std::filesystem::exists(db_path, ec))
    return format_status({}, total, sweep.name) + " (not started: no results DB at " + db_path + " yet)";
  const storage::MetricsDb db(db_path, storage::MetricsDb::Mode::kReadOnly);
  std::set<std::string> keys;
  for (const auto& r : sweep.runs) keys.insert(r.run_key);
  std::vector<storage::RunRecord> runs;
  std::map<std::string, int> other_commits;
  for (auto& r : db.runs()) {
    if (!keys.count(r.run_key)) continue;
    if (trained_by_other_commit(r, commit)) ++other_commits[r.git_commit];
    runs.push_back(std::move(r));
  }
  std::string out = format_status(runs, total, sweep.name, db.writer());
  if (!other_commits.empty()) out += "\nwarning: " + format_other_commits(other_commits);
  return out;
}

}  // namespace ternbench::orchestrator
