#include "ternbench/orchestrator/sweep_plan.hpp"

#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "ternbench/storage/metrics_db.hpp"

namespace ternbench::orchestrator {
namespace {

using Similar = std::tuple<std::string, std::string, std::string>;  // dataset, model, method

// CPU-seconds per epoch of finished runs, averaged per (dataset, model, method) and per
// (dataset, model): the estimate of a run is its epochs times the closest such average.
struct Rates {
  std::map<Similar, std::pair<double, int>> exact;
  std::map<std::pair<std::string, std::string>, std::pair<double, int>> coarse;

  void add(const storage::RunRecord& r) {
    if (r.status != storage::kStatusDone || r.epochs_done <= 0 || r.train_seconds <= 0) return;
    const double per_epoch = r.train_seconds * std::max(1, r.threads) / r.epochs_done;
    auto& e = exact[{r.dataset, r.model, r.method}];
    e.first += per_epoch;
    ++e.second;
    auto& c = coarse[{r.dataset, r.model}];
    c.first += per_epoch;
    ++c.second;
  }
  double estimate(const core::TrainConfig& c) const {
    if (auto it = exact.find({c.dataset, c.model, c.method}); it != exact.end())
      return it->second.first / it->second.second * c.epochs;
    if (auto it = coarse.find({c.dataset, c.model}); it != coarse.end())
      return it->second.first / it->second.second * c.epochs;
    return -1;
  }
};

}  // namespace

int Plan::count(const std::string& state) const {
  int n = 0;
  for (const auto& r : runs) n += r.state == state ? 1 : 0;
  return n;
}

int Plan::to_run() const {
  int n = 0;
  for (const auto& r : runs) n += r.will_run ? 1 : 0;
  return n;
}

double Plan::estimated_cpu_hours(int* unknown) const {
  double s = 0;
  int u = 0;
  for (const auto& r : runs) {
    if (!r.will_run) continue;
    if (r.estimate_seconds < 0) ++u;
    else s += r.estimate_seconds;
  }
  if (unknown) *unknown = u;
  return s / 3600.0;
}

Plan make_plan(const experiments::Sweep& sweep, const storage::MetricsDb* db, const PlanOptions& opt) {
  Plan plan;
  Rates rates;
  std::map<std::string, storage::RunRecord> known;
  if (db != nullptr) {
    for (auto& r : db->runs()) {
      rates.add(r);
      known.emplace(r.run_key, std::move(r));
    }
  }
  std::set<std::string> named;
  for (const auto& spec : sweep.runs) {
    named.insert(spec.run_key);
    PlannedRun p;
    p.spec = &spec;
    const auto it = known.find(spec.run_key);
    if (it == known.end()) {
      p.state = "new";
      p.will_run = true;
    } else {
      p.state = it->second.status;
      p.attempts = it->second.attempts;
      if (p.state == storage::kStatusFailed) {
        p.will_run = opt.retry_failed || p.attempts < opt.max_attempts;
      } else {
        // done and diverged are results; a config error would fail again; everything else
        // (interrupted, running from a killed job, pending) resumes.
        p.will_run = p.state != storage::kStatusDone && p.state != storage::kStatusDiverged &&
                     p.state != storage::kStatusConfigError;
      }
    }
    p.estimate_seconds = rates.estimate(spec.train);
    plan.runs.push_back(p);
  }
  for (const auto& [key, r] : known)
    if (r.sweep == sweep.name && !named.count(key)) plan.orphans.push_back(r);
  return plan;
}

std::string format_plan(const experiments::Sweep& sweep, const std::string& db_path, const Plan& plan,
                        const PlanOptions& opt) {
  int failed_retry = 0, failed_exhausted = 0;
  for (const auto& r : plan.runs) {
    if (r.state != storage::kStatusFailed) continue;
    (r.will_run ? failed_retry : failed_exhausted) += 1;
  }
  const int resumed = plan.count(storage::kStatusInterrupted) + plan.count(storage::kStatusRunning) +
                      plan.count(storage::kStatusPending);
  char buf[1024];
  std::string out = sweep.name + " (" + sweep.file + ") -> " + db_path + "\n";
  std::snprintf(buf, sizeof buf,
                "  runs in the file:   %zu\n"
                "  to train:           %d (new %d, interrupted or unfinished %d, failed and retried %d)\n"
                "  finished:           %d (done %d, diverged %d)\n"
                "  failed, not retried: %d (attempts >= %d; --retry-failed re-queues them)\n"
                "  config errors:      %d (never retried; fix the sweep file)\n"
                "  in the DB but no longer in the file: %zu\n",
                plan.runs.size(), plan.to_run(), plan.count("new"), resumed, failed_retry,
                plan.count(storage::kStatusDone) + plan.count(storage::kStatusDiverged),
                plan.count(storage::kStatusDone), plan.count(storage::kStatusDiverged), failed_exhausted,
                opt.max_attempts, plan.count(storage::kStatusConfigError), plan.orphans.size());
  out += buf;
  int unknown = 0;
  const double hours = plan.estimated_cpu_hours(&unknown);
  if (plan.to_run() > 0) {
    if (unknown == plan.to_run()) {
      out += "  estimate:           none yet (no finished run of a similar config in the DB)\n";
    } else {
      std::snprintf(buf, sizeof buf, "  estimate:           %.3f CPU-hours for %d runs", hours, plan.to_run() - unknown);
      out += buf;
      if (unknown > 0) out += " (" + std::to_string(unknown) + " more without an estimate)";
      out += ", from finished runs of the same dataset and model\n";
    }
  }
  return out;
}

}  // namespace ternbench::orchestrator
