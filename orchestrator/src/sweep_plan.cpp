#include "ternbench/orchestrator/sweep_plan.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <new>
#include <set>
#include <tuple>

#include "ternbench/base/error.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/model/model.hpp"
#include "ternbench/core/train/trainer.hpp"
#include "ternbench/orchestrator/progress.hpp"
#include "ternbench/storage/metrics_db.hpp"

namespace ternbench::orchestrator {
namespace {

// The assumed speed of the static model: about what one core trains at (bench/RESULTS.md).
constexpr double kAssumedMacsPerSecond = 2e9;

struct DataShape {
  int channels, height, width, classes, train, test;
};

DataShape data_shape(const std::string& dataset) {
  if (dataset == "cifar10") return {3, 32, 32, 10, 50000, 10000};
  if (dataset == "mnist-10k") return {1, 28, 28, 10, 8004, 1996};
  return {1, 28, 28, 10, 60000, 10000};  // mnist, fashion-mnist
}

// A warm start by run key must name a run this job can find, and one whose weights fit.
void check_init_from(const experiments::Sweep& sweep, const experiments::RunSpec& spec,
                     const std::map<std::string, const experiments::RunSpec*>& in_sweep,
                     const std::map<std::string, storage::RunRecord>& known) {
  const std::string& source = spec.train.init_from;
  if (source.empty()) return;
  if (const auto s = in_sweep.find(source); s != in_sweep.end()) {
    if (auto problem = experiments::warm_start_problem(s->second->train, spec.train))
      throw ConfigError(sweep.file, "train.init_from", 0, "run " + source + ": " + *problem);
    return;
  }
  const auto it = known.find(source);
  if (it == known.end()) {
    throw ConfigError(sweep.file, "train.init_from", 0,
                      "run " + source + " is neither a run of this sweep nor in its results DB; give the key of a "
                      "finished fp run (`ternbench query \"select run_key, dataset, model from results where "
                      "method = 'fp'\"`) or a table such as init_from = { method = \"fp\" }");
  }
  core::TrainConfig cfg;
  try {
    cfg = experiments::parse_run(it->second.config_toml).train;
  } catch (const Error& e) {
    throw ConfigError(sweep.file, "train.init_from", 0,
                      "run " + source + " in the results DB has a config this ternbench does not read (" + e.what() +
                          "); train a new fp source");
  }
  if (auto problem = experiments::warm_start_problem(cfg, spec.train))
    throw ConfigError(sweep.file, "train.init_from", 0, "run " + source + ": " + *problem);
}

// Multiply-adds per image of a forward pass: each weight matrix's entries times the
// positions it is applied at (1 for dense, output pixels for conv). Built once per model.
double macs_per_image(const core::TrainConfig& cfg) {
  static std::mutex mu;
  static std::map<std::string, double> cache;
  std::string key = cfg.dataset;
  key.append("|").append(cfg.model);
  for (const auto& l : cfg.layers) key.append("|").append(core::format_layer_spec(l));
  std::lock_guard<std::mutex> lock(mu);
  if (const auto it = cache.find(key); it != cache.end()) return it->second;
  const DataShape d = data_shape(cfg.dataset);
  double macs = 0;
  try {
    Rng rng(1);
    core::Model model = core::make_model(cfg, d.channels, d.height, d.width, d.classes, rng);
    for (const auto& layer : model.layers()) {
      for (core::Weight* w : layer->weights()) {
        const auto& v = w->latent().value;
        if (v.rows() == 0) continue;
        macs += static_cast<double>(v.size()) * static_cast<double>(layer->out_features() / v.rows());
      }
    }
  } catch (const Error&) {
    macs = 0;  // a model that cannot be built fails as a config error; its cost is moot
  } catch (const std::bad_alloc&) {
    macs = 0;  // too big for this node's memory: the run fails with the same error, not the plan
  }
  macs = std::max(macs, 1.0);
  cache.emplace(key, macs);
  return macs;
}

// The lines of a canonical TOML that static_cost_seconds() depends on. The canonical form
// has one "key = value" line per key (experiments/src/canonical.cpp); the method and its
// stage lengths set how many epochs the run trains (core::planned_epochs).
std::string cost_lines(const std::string& canonical) {
  std::string lines;
  for (const char* key : {"\ndataset = ", "\nepochs = ", "\nfaraone_retrain_epochs = ", "\nfaraone_stage1_epochs = ",
                          "\nlayers = ", "\nmethod = ", "\nmodel = ", "\nsca_finetune_epochs = ", "\ntest_limit = ",
                          "\ntrain_limit = "}) {
    const std::size_t at = canonical.find(key);
    if (at == std::string::npos) continue;
    lines.append(canonical, at, canonical.find('\n', at + 1) - at);
  }
  return lines;
}

// The similar runs of a finished run: same (dataset, model, method), else same (dataset, model).
using Similar = std::tuple<std::string, std::string, std::string>;

struct TextCost {
  double seconds = 0;  // static_cost_seconds of the config; 0 if it does not parse
  int epochs = 1;      // core::planned_epochs of the config
};

// Parsing a config costs more than the plan's other work, so configs with the same cost
// lines share one parse.
TextCost text_cost(const std::string& canonical_toml) {
  static std::mutex mu;
  static std::map<std::string, TextCost> cache;
  const std::string key = cost_lines(canonical_toml);
  {
    std::lock_guard<std::mutex> lock(mu);
    if (const auto it = cache.find(key); it != cache.end()) return it->second;
  }
  TextCost cost;
  try {
    const core::TrainConfig cfg = experiments::parse_run(canonical_toml).train;
    cost = {static_cost_seconds(cfg), std::max(1, core::planned_epochs(cfg))};
  } catch (const Error&) {
    cost = {};
  }
  std::lock_guard<std::mutex> lock(mu);
  cache.emplace(key, cost);
  return cost;
}

// Measured CPU-seconds over static_cost_seconds() of finished runs, averaged per
// (dataset, model, method), per (dataset, model) and over all: a run's estimate is its
// static cost times the closest such ratio, so a different epochs, train_limit or stack
// scales the estimate instead of copying it.
struct Rates {
  std::map<Similar, std::pair<double, int>> exact;
  std::map<std::pair<std::string, std::string>, std::pair<double, int>> coarse;
  std::pair<double, int> all{0.0, 0};

  void add(const storage::RunRecord& r) {
    if (r.status != storage::kStatusDone || r.epochs_done <= 0 || r.train_seconds <= 0) return;
    // Per epoch, as the run may have stopped early (diverged runs are not counted).
    const TextCost cost = text_cost(r.config_toml);
    const double per_epoch = cost.seconds / cost.epochs;
    if (per_epoch <= 0) return;  // written by a ternbench with other keys: no measure for this one
    const double ratio = r.train_seconds * std::max(1, r.threads) / (per_epoch * r.epochs_done);
    auto& e = exact[{r.dataset, r.model, r.method}];
    e.first += ratio;
    ++e.second;
    auto& c = coarse[{r.dataset, r.model}];
    c.first += ratio;
    ++c.second;
    all.first += ratio;
    ++all.second;
  }
  double estimate(const core::TrainConfig& c) const {
    if (auto it = exact.find({c.dataset, c.model, c.method}); it != exact.end())
      return it->second.first / it->second.second * static_cost_seconds(c);
    if (auto it = coarse.find({c.dataset, c.model}); it != coarse.end())
      return it->second.first / it->second.second * static_cost_seconds(c);
    return -1;
  }
  double cost(const core::TrainConfig& c) const {
    const double e = estimate(c);
    if (e >= 0) return e;
    return (all.second > 0 ? all.first / all.second : 1.0) * static_cost_seconds(c);
  }
};

// Sources come before their dependents in a sweep's order only when given as tables, so the
// levels are computed by following each run's chain of sources.
void assign_levels(Plan& plan) {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < plan.runs.size(); ++i) index.emplace(plan.runs[i].spec->run_key, i);
  std::vector<int> memo(plan.runs.size(), -1);
  std::function<int(std::size_t)> level = [&](std::size_t i) -> int {
    if (memo[i] >= 0) return memo[i];
    const auto it = index.find(plan.runs[i].spec->train.init_from);
    const bool waits = it != index.end() && plan.runs[it->second].will_run;
    return memo[i] = waits ? level(it->second) + 1 : 0;
  };
  for (std::size_t i = 0; i < plan.runs.size(); ++i) plan.runs[i].level = plan.runs[i].will_run ? level(i) : 0;
}

// A run that ended with a result a rerun replaces; the others have none yet and resume.
bool has_result(const std::string& state) {
  return state == storage::kStatusDone || state == storage::kStatusDiverged || state == storage::kStatusFailed ||
         state == storage::kStatusConfigError;
}

}  // namespace

double static_cost_seconds(const core::TrainConfig& cfg) {
  const DataShape d = data_shape(cfg.dataset);
  const double train = cfg.train_limit > 0 ? std::min(cfg.train_limit, d.train) : d.train;
  const double test = cfg.test_limit > 0 ? std::min(cfg.test_limit, d.test) : d.test;
  const double epochs = std::max(core::planned_epochs(cfg), 1);
  // Training is a forward and two gradient products per image; each epoch ends with a test pass.
  return macs_per_image(cfg) * epochs * (3.0 * train + test) / kAssumedMacsPerSecond;
}

double static_cost_seconds(const std::string& canonical_toml) { return text_cost(canonical_toml).seconds; }

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
  std::map<std::string, const experiments::RunSpec*> by_key;
  for (const auto& spec : sweep.runs) {
    named.insert(spec.run_key);
    by_key.emplace(spec.run_key, &spec);
  }
  named.insert(sweep.unselected.begin(), sweep.unselected.end());  // left out by --only, still the file's
  for (const auto& spec : sweep.runs) {
    check_init_from(sweep, spec, by_key, known);
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
      } else if (p.state == storage::kStatusConfigError) {
        // Fails again unless what refused it changed (a ternbench update, or an environment
        // failure an older ternbench recorded as a config error): only on request.
        p.will_run = opt.retry_failed;
      } else {
        // done and diverged are results; everything else (interrupted, running from a
        // killed job, pending, blocked) resumes.
        p.will_run = p.state != storage::kStatusDone && p.state != storage::kStatusDiverged;
      }
      if (opt.rerun) {
        p.supersede = has_result(p.state);
        p.will_run = true;
      }
      if (trained_by_other_commit(it->second, opt.git_commit)) ++plan.other_commits[it->second.git_commit];
    }
    p.estimate_seconds = rates.estimate(spec.train);
    p.cost_seconds = p.estimate_seconds >= 0 ? p.estimate_seconds : rates.cost(spec.train);
    plan.runs.push_back(p);
  }
  for (const auto& [key, r] : known)
    if (r.sweep == sweep.name && !named.count(key)) plan.orphans.push_back(r);
  assign_levels(plan);
  return plan;
}

std::unordered_map<std::string, double> expected_costs(const Plan& plan) {
  std::unordered_map<std::string, double> costs;
  for (const auto& r : plan.runs)
    if (r.will_run) costs.emplace(r.spec->run_key, r.cost_seconds);
  return costs;
}

namespace {

// "warm starts: ..." and the CPU-hours of each dependency level; "" for a sweep without them.
std::string format_levels(const experiments::Sweep& sweep, const Plan& plan) {
  int warm = 0, blocked = 0;
  std::map<int, std::pair<int, double>> levels;  // level -> runs, CPU-seconds
  for (const auto& r : plan.runs) {
    warm += r.spec->train.init_from.empty() ? 0 : 1;
    blocked += r.state == storage::kStatusBlocked ? 1 : 0;
    if (!r.will_run) continue;
    auto& l = levels[r.level];
    ++l.first;
    l.second += r.cost_seconds;
  }
  if (warm == 0) return "";
  char buf[256];
  std::snprintf(buf, sizeof buf, "  warm starts:        %d runs start from another run's weights (init_from)", warm);
  std::string out = buf;
  if (sweep.implied_sources > 0) out += "; " + std::to_string(sweep.implied_sources) + " sources added by init_from tables";
  if (blocked > 0) out += "; " + std::to_string(blocked) + " blocked by a source that did not finish";
  out += "\n";
  if (levels.empty()) return out;
  out += "  dependency order:  ";
  for (const auto& [level, l] : levels) {
    std::snprintf(buf, sizeof buf, " level %d: %d runs, %.3f CPU-hours;", level, l.first, l.second / 3600.0);
    out += buf;
  }
  out.pop_back();
  out += " (a level starts as its sources finish; CPU-hours from the cost model)\n";
  return out;
}

}  // namespace

bool trained_by_other_commit(const storage::RunRecord& r, const std::string& commit) {
  return !commit.empty() && r.git_commit != commit &&
         (r.status == storage::kStatusDone || r.status == storage::kStatusDiverged);
}

std::string format_other_commits(const std::map<std::string, int>& other_commits) {
  if (other_commits.empty()) return "";
  int n = 0;
  std::string commits;
  for (const auto& [commit, runs] : other_commits) {
    n += runs;
    if (!commits.empty()) commits += ", ";
    commits += (commit.empty() ? "unknown" : commit.substr(0, 12)) + " " + std::to_string(runs);
  }
  return plural(n, "finished run") + (n == 1 ? " was" : " were") +
         " trained by another commit than this binary's (" + commits +
         "); `ternbench run --rerun` trains them again, keeping the old results as superseded";
}

std::string format_plan(const experiments::Sweep& sweep, const std::string& db_path, const Plan& plan,
                        const PlanOptions& opt) {
  int failed_retry = 0, failed_exhausted = 0, config_errors = 0;
  for (const auto& r : plan.runs) {
    if (r.state == storage::kStatusConfigError && !r.will_run) ++config_errors;
    if (r.state != storage::kStatusFailed && r.state != storage::kStatusConfigError) continue;
    if (r.will_run && !r.supersede) ++failed_retry;
    else if (r.state == storage::kStatusFailed) ++failed_exhausted;
  }
  int superseded = 0;
  for (const auto& r : plan.runs) superseded += r.supersede ? 1 : 0;
  const int resumed = plan.count(storage::kStatusInterrupted) + plan.count(storage::kStatusRunning) +
                      plan.count(storage::kStatusPending) + plan.count(storage::kStatusBlocked);
  char buf[1024];
  std::string out = sweep.name + " (" + sweep.file + ") -> " + db_path + "\n";
  std::snprintf(buf, sizeof buf,
                "  runs in the file:   %zu\n"
                "  to train:           %d (new %d, interrupted or unfinished %d, failed and retried %d%s)\n"
                "  finished:           %d (done %d, diverged %d)\n"
                "  failed, not retried: %d (attempts >= %d; --retry-failed re-queues them)\n"
                "  config errors:      %d (not retried; fix the sweep file, or --retry-failed re-queues them)\n"
                "  in the DB but no longer in the file: %zu\n",
                plan.runs.size(), plan.to_run(), plan.count("new"), resumed, failed_retry,
                opt.rerun ? (", rerun " + std::to_string(superseded)).c_str() : "",
                plan.count(storage::kStatusDone) + plan.count(storage::kStatusDiverged),
                plan.count(storage::kStatusDone), plan.count(storage::kStatusDiverged), failed_exhausted,
                opt.max_attempts, config_errors, plan.orphans.size());
  out += buf;
  if (opt.rerun) {
    std::snprintf(buf, sizeof buf,
                  "  rerun:              %d with a result are trained again from scratch (each result is kept "
                  "in the DB's superseded_runs, its weights file beside the new one)\n",
                  superseded);
    out += buf;
  }
  if (!plan.other_commits.empty()) out += "  code version:       " + format_other_commits(plan.other_commits) + "\n";
  if (!sweep.unselected.empty())
    out += "  selected by --only:  " + std::to_string(plan.runs.size()) + " of " +
           std::to_string(plan.runs.size() + sweep.unselected.size()) + " runs\n";
  if (sweep.duplicates_across_blocks > 0) {
    std::snprintf(buf, sizeof buf, "  blocks:             %zu; %zu duplicates across blocks, run once\n", sweep.blocks,
                  sweep.duplicates_across_blocks);
    out += buf;
  } else if (sweep.blocks > 0) {
    std::snprintf(buf, sizeof buf, "  blocks:             %zu; no duplicates across blocks\n", sweep.blocks);
    out += buf;
  }
  out += format_levels(sweep, plan);
  int unknown = 0;
  const double hours = plan.estimated_cpu_hours(&unknown);
  if (plan.to_run() > 0) {
    if (unknown == plan.to_run()) {
      // No measurement to go by: the static cost model's guess (its speed is an assumption).
      double cost = 0;
      for (const auto& r : plan.runs) cost += r.will_run ? r.cost_seconds : 0;
      std::snprintf(buf, sizeof buf,
                    "  estimate:           about %.3f CPU-hours for %s, from the cost model alone (no finished run "
                    "of a similar config in the DB to measure by yet)\n",
                    cost / 3600.0, plural(plan.to_run(), "run").c_str());
      out += buf;
    } else {
      std::snprintf(buf, sizeof buf, "  estimate:           %.3f CPU-hours for %d runs", hours, plan.to_run() - unknown);
      out += buf;
      if (unknown > 0) out += " (" + std::to_string(unknown) + " more without an estimate)";
      out += ", from finished runs of the same dataset and model\n";
    }
  }
  return out;
}

std::string format_plan_list(const experiments::Sweep& sweep, const Plan& plan) {
  const auto keys = experiments::varying_keys(sweep.runs);
  std::vector<std::vector<std::string>> cells;
  for (const auto& r : plan.runs) {
    std::vector<std::string> row;
    for (const auto& key : keys) {
      const std::string v = experiments::shown_value(*r.spec, key);
      row.push_back(v.empty() ? "" : key + "=" + v);
    }
    row.push_back(r.state);
    row.push_back(r.will_run ? "will run" : "skip");
    const double s = r.estimate_seconds >= 0 ? r.estimate_seconds : r.cost_seconds;
    row.push_back((r.estimate_seconds >= 0 ? "" : "~") + format_duration(s));
    cells.push_back(std::move(row));
  }
  std::vector<std::size_t> width(keys.size() + 3, 0);
  for (const auto& row : cells)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  std::string out = "  runs (" + std::to_string(plan.runs.size()) + "; key, the values that vary, state, " +
                    "expected CPU time, ~ from the cost model):\n";
  for (std::size_t i = 0; i < cells.size(); ++i) {
    std::string line = "  " + plan.runs[i].spec->run_key;
    for (std::size_t c = 0; c < cells[i].size(); ++c) {
      line += "  " + cells[i][c];
      if (c + 1 < cells[i].size()) line.append(width[c] - cells[i][c].size(), ' ');
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace ternbench::orchestrator
