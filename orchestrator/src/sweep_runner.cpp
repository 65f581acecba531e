#include "ternbench/orchestrator/sweep_runner.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>

#include "ternbench/base/error.hpp"
#include "ternbench/base/version.hpp"
#include "ternbench/datalib/loading.hpp"
#include "ternbench/experiments/sweep.hpp"
#include "ternbench/core/train/stop.hpp"
#include "ternbench/orchestrator/db_sink.hpp"
#include "ternbench/orchestrator/deadline.hpp"
#include "ternbench/orchestrator/mpi_transport.hpp"
#include "ternbench/orchestrator/progress.hpp"
#include "ternbench/orchestrator/provenance.hpp"
#include "ternbench/orchestrator/run_executor.hpp"
#include "ternbench/orchestrator/scheduler.hpp"
#include "ternbench/orchestrator/sweep_plan.hpp"
#include "ternbench/storage/metrics_db.hpp"

namespace fs = std::filesystem;

namespace ternbench::orchestrator {
namespace {

// Every dataset the runs to train need is checked (files present, headers, sizes, labels)
// before anything is written: a missing or damaged file stops the job with one line naming
// it and the fix (exit 2), instead of failing every run. Nothing is downloaded: the fix of a
// missing registry dataset is the `ternbench data fetch` command the message gives.
void check_datasets(const std::vector<PlannedRun>& todo, const std::string& root) {
  std::set<std::string> names;
  for (const auto& p : todo) names.insert(p.spec->train.dataset);
  for (const auto& name : names) data::check_dataset(name, root);
}

// A killed writer leaves "<file>.tmp.<pid>" behind (weights and checkpoints are written
// to a temporary name and renamed). One job writes a sweep's weights directory, so at its
// start no such file can belong to a live writer.
void remove_stale_temp_files(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.find(".tmp.") != std::string::npos) fs::remove(it->path(), ec);
  }
}

// One DB holds one content per dataset name (docs/data.md): finished runs trained on other
// bytes than the data root now holds would be mixed with the new runs in every report.
void check_data_matches_db(const std::vector<PlannedRun>& todo, const std::vector<storage::RunRecord>& done,
                           const std::string& db_path, const std::string& root) {
  std::set<std::string> names;
  for (const auto& p : todo) names.insert(p.spec->train.dataset);
  std::map<std::string, std::map<std::string, int>> trained;  // dataset -> fingerprint -> done runs
  for (const auto& r : done)
    if (names.count(r.dataset) && !r.data_sha256.empty()) ++trained[r.dataset][r.data_sha256];
  for (const auto& [name, prints] : trained) {
    const std::string now = data::dataset_fingerprint(name, root);
    for (const auto& [print, n] : prints) {
      if (print == now) continue;
      throw DataError(data::dataset_dir(root, name) + ": holds data with fingerprint " + now.substr(0, 16) + ", but " +
                      std::to_string(n) + " finished " + name + " runs in " + db_path + " were trained on " +
                      print.substr(0, 16) + "; restore the files they were trained on, or give this data its own "
                      "results DB (--db or [sweep] db)");
    }
  }
}

// SQLite writes the DB file and creates its -wal, -shm or -journal beside it.
bool writable(const std::string& db_path) {
  const fs::path dir = fs::path(db_path).parent_path();
  return access(db_path.c_str(), W_OK) == 0 && access(dir.empty() ? "." : dir.c_str(), W_OK) == 0;
}

std::string relative_to(const fs::path& file, const fs::path& dir) {
  const fs::path rel = fs::absolute(file).lexically_normal().lexically_relative(fs::absolute(dir).lexically_normal());
  return rel.empty() ? file.string() : rel.string();
}

// The name a superseded weights file is kept under, beside the run's current one: the first
// free "<run_key>.superseded-<n>.h5".
fs::path kept_weights_name(const fs::path& weights_dir, const std::string& run_key) {
  std::error_code ec;
  for (int n = 1;; ++n) {
    fs::path p = weights_dir / (run_key + ".superseded-" + std::to_string(n) + ".h5");
    if (!fs::exists(p, ec)) return p;
  }
}

// Keeps each result of a --rerun plan in superseded_runs and its weights file under another
// name (a hard link, else a copy: the new run replaces the file by renaming over it), then
// resets the run to pending, all in one transaction. If the DB write fails, the kept files
// go again.
void supersede_results(const Plan& plan, storage::MetricsDb& db) {
  const fs::path db_dir = fs::absolute(db.path()).parent_path();
  std::vector<std::pair<std::string, fs::path>> kept;  // run key, kept file
  std::vector<fs::path> made;
  for (const auto& p : plan.runs) {
    if (!p.supersede) continue;
    const std::optional<storage::RunRecord> row = db.run(p.spec->run_key);
    fs::path keep;
    std::error_code ec;
    if (row && !row->weights_path.empty() && fs::is_regular_file(db_dir / row->weights_path, ec)) {
      const fs::path from = db_dir / row->weights_path;
      keep = kept_weights_name(from.parent_path(), p.spec->run_key);
      fs::create_hard_link(from, keep, ec);
      if (ec) fs::copy_file(from, keep, ec);
      if (ec) {
        for (const auto& f : made) fs::remove(f, ec);
        throw StorageError(from.string() + ": cannot keep the weights of the result a rerun supersedes as " +
                           keep.string() + ": " + ec.message() + "; nothing was changed");
      }
      made.push_back(keep);
    }
    kept.emplace_back(p.spec->run_key, keep);
  }
  if (kept.empty()) return;
  try {
    storage::Transaction t(db);
    const std::string at = utc_now();
    for (const auto& [key, file] : kept)
      db.supersede_run(key, at, git_commit(), file.empty() ? "" : relative_to(file, db_dir));
    t.commit();
  } catch (...) {
    std::error_code ec;
    for (const auto& f : made) fs::remove(f, ec);
    throw;
  }
  std::cout << db.path() << ": " << plural(static_cast<long long>(kept.size()), "result")
            << " set aside for the rerun (kept in superseded_runs";
  if (!made.empty()) std::cout << ", " << plural(static_cast<long long>(made.size()), "weights file") << " as <run_key>.superseded-<n>.h5";
  std::cout << ")" << std::endl;
}

}  // namespace

std::string db_path_of(const experiments::Sweep* sweep, const std::string& flag) {
  const std::string path = flag.empty() && sweep != nullptr ? sweep->db_path : flag;
  std::error_code ec;
  if (path.empty() || !fs::is_directory(path, ec)) return path;
  const std::string stem = sweep != nullptr ? sweep->name : "results";
  const std::string example = (fs::path(path) / (stem + ".sqlite")).string();
  if (!flag.empty()) {
    throw ConfigError("--db", "", 0,
                      path + " is a directory, not a results DB file; give the path of a file, such as " + example);
  }
  const bool by_default = sweep->db_path == "results/" + sweep->name + ".sqlite";
  throw ConfigError(sweep->file, "sweep.db", 0,
                    "\"" + path + "\"" + (by_default ? " (the default when [sweep] has no db)" : "") +
                        " is a directory, not a results DB file; set db to the path of a file, such as db = \"" +
                        example + "\"");
}

std::string effective_db_path(const experiments::Sweep& sweep, const RunOptions& opt) {
  return db_path_of(&sweep, opt.db_path);
}

int run_sweep(const RunOptions& opt, const MpiSession* mpi) {
  const bool coordinator = mpi == nullptr || mpi->rank() == 0;
  std::unique_ptr<MpiTransport> net;
  if (mpi != nullptr) net = std::make_unique<MpiTransport>();
  // Every rank watches the walltime itself: a worker deep in an epoch cannot hear rank 0.
  const DeadlineTimer deadline(resolve_deadline(opt.deadline), opt.deadline_margin);

  if (!coordinator) {
    RunExecutor exec(mpi->rank());
    run_worker(*net, [&](const WorkItem& w, const EpochEmitter& emit) { return exec.execute(w, emit); });
    return core::stop_requested() ? kExitInterrupted : kExitOk;
  }

  const experiments::Sweep sweep = experiments::load_sweep(experiments::SweepArgs{opt.sweep_file, opt.overrides, opt.only, opt.set_files});
  const std::string db_path = effective_db_path(sweep, opt);
  // --db moves the whole store: weights go next to the DB that references them.
  const fs::path weights_dir =
      opt.db_path.empty() ? fs::path(sweep.weights_dir)
                          : fs::path(db_path).parent_path() / (fs::path(db_path).stem().string() + "-weights");
  const std::string data_root = opt.data_root.empty() ? data::data_root() : opt.data_root;
  // Everything that can refuse the job is checked against the DB as it stands, read-only,
  // so a refused job (an init_from key the DB cannot hold, a missing or damaged data file,
  // data other than the DB's runs were trained on) neither creates nor changes it.
  {
    std::error_code ec;
    std::optional<storage::MetricsDb> before;
    if (fs::exists(db_path, ec)) before.emplace(db_path, storage::MetricsDb::Mode::kReadOnly);
    const Plan plan = make_plan(sweep, before ? &*before : nullptr, opt.plan);
    std::vector<PlannedRun> todo;
    for (const auto& p : plan.runs)
      if (p.will_run) todo.push_back(p);
    check_datasets(todo, data_root);
    if (before) check_data_matches_db(todo, before->runs(storage::kStatusDone), db_path, data_root);
  }
  std::error_code ec;
  // A finished sweep on read-only media (archived, shared) has nothing to write: it is read.
  const bool read_only = fs::exists(db_path, ec) && !writable(db_path);
  using Mode = storage::MetricsDb::Mode;
  storage::MetricsDb db(db_path, read_only ? Mode::kReadOnly : Mode::kReadWrite);
  // One live writer per DB: a second job on it would train every unfinished run again. A
  // holder that died (kill -9, node failure) left runs `running`; the plan trains them again.
  if (!read_only) {
    if (const auto gone = db.take_writer_lease("ternbench run " + opt.sweep_file)) {
      std::cout << db_path << ": taking over from " << gone->describe() << ", which ended without finishing ("
                << gone->gone_because << "); its unfinished runs are trained again" << std::endl;
    }
  }

  // A forced rerun first sets every selected result aside (one transaction); from then on
  // those runs are pending, so the plan below, and any later plain `run` after a kill,
  // trains them as it would any unfinished run.
  // (A read-only DB keeps the rerun in its plan, which the check below then refuses.)
  PlanOptions plain = opt.plan;
  if (opt.plan.rerun && !read_only) {
    supersede_results(make_plan(sweep, &db, opt.plan), db);
    plain.rerun = false;
  }
  // Planned again, not reused from the read-only check: between that check and the lease
  // the rows may have changed (a writer that finished meanwhile, a take-over). A plan costs
  // one read of the runs table; the networks' multiply-adds are counted once per process.
  const Plan plan = make_plan(sweep, &db, plain);
  std::vector<PlannedRun> todo;
  std::map<std::string, const experiments::RunSpec*> specs;
  for (const auto& p : plan.runs) {
    if (!p.will_run) continue;
    todo.push_back(p);
    specs[p.spec->run_key] = p.spec;
  }
  const std::size_t skipped = plan.runs.size() - todo.size();
  if (todo.empty()) {
    std::cout << sweep.name << ": " << (plan.runs.size() == 1 ? "the only run" : "all " + plural(static_cast<long long>(plan.runs.size()), "run"))
              << " already finished in " << db_path << "; nothing to train";
    const int not_retried = plan.count(storage::kStatusFailed) + plan.count(storage::kStatusConfigError);
    if (not_retried > 0)
      std::cout << " (" << not_retried << " failed and not retried; see `ternbench plan " << sweep.file
                << "`; --retry-failed re-queues them)";
    std::cout << std::endl;
    if (net) {
      DbSink unused(db, specs, 0, stdout);
      run_coordinator(*net, {}, unused);  // every worker asks once and is told to stop
    }
    return kExitOk;
  }
  if (read_only) {
    throw StorageError(db_path + ": cannot write the results DB (the file or its directory is read-only), and " +
                       std::to_string(todo.size()) + " runs are left to train; copy it to a writable directory "
                       "and pass --db");
  }

  remove_stale_temp_files(weights_dir);

  const fs::path db_dir = fs::absolute(db_path).parent_path();
  std::vector<WorkItem> work;
  for (const auto& p : todo) {
    WorkItem w;
    w.run_key = p.spec->run_key;
    w.sweep = sweep.name;
    w.canonical_toml = p.spec->canonical_toml;
    const fs::path weights = fs::absolute(weights_dir / (p.spec->run_key + ".h5"));
    w.weights_path = weights.string();
    w.weights_ref = relative_to(weights, db_dir);
    w.data_root = fs::absolute(data_root).string();
    w.attempt = p.attempts + 1;
    w.init_from = p.spec->train.init_from;
    if (!w.init_from.empty()) {
      // Where the source's file is or will be: as recorded in the DB, else where this job writes it.
      const std::optional<storage::RunRecord> source = db.run(w.init_from);
      w.init_weights = source && !source->weights_path.empty()
                           ? (db_dir / source->weights_path).lexically_normal().string()
                           : fs::absolute(weights_dir / (w.init_from + ".h5")).string();
    }
    work.push_back(std::move(w));
  }
  const StatusLookup status_of = [&db](const std::string& key) { return db.status(key).value_or(""); };

  const int workers = net ? net->size() - 1 : 1;
  std::cout << sweep.name << ": " << plural(static_cast<long long>(work.size()), "run") << " to train";
  if (skipped > 0) std::cout << " (" << skipped << " already finished or not retried)";
  std::cout << " on " << plural(workers, "worker") << "; results in " << db_path << std::endl;
  if (!plan.other_commits.empty()) std::cout << "warning: " << format_other_commits(plan.other_commits) << std::endl;

  // A run starts only if no stop was requested and its estimate fits the walltime left;
  // the rest waits for the next job.
  std::map<std::string, double> wall_estimate;
  for (const auto& p : todo)
    if (p.estimate_seconds > 0) wall_estimate[p.spec->run_key] = p.estimate_seconds / std::max(1, p.spec->train.threads);
  int deferred = 0;
  const Admission admit = [&](const WorkItem& w) {
    if (core::stop_requested()) return false;
    const auto it = wall_estimate.find(w.run_key);
    if (it != wall_estimate.end() && it->second > deadline.seconds_left()) {
      ++deferred;
      return false;
    }
    return true;
  };

  // Longest expected run first: measured times of similar finished runs, else the static
  // cost model scaled to them (sweep_plan.cpp).
  const auto costs = expected_costs(plan);
  const CostModel cost = [&costs](const WorkItem& w) {
    const auto it = costs.find(w.run_key);
    return it == costs.end() ? 0.0 : it->second;
  };
  int failed = 0;
  int blocked = 0;
  {
    DbSink sink(db, specs, static_cast<int>(work.size()), stdout);
    sink.label_runs(sweep.runs);
    std::map<std::string, double> wall;  // the cost model's CPU-seconds over the run's threads
    for (const auto& p : todo) wall[p.spec->run_key] = p.cost_seconds / std::max(1, p.spec->train.threads);
    sink.expect(std::move(wall), workers);
    if (net) {
      run_coordinator(*net, work, sink, admit, cost, status_of);
    } else {
      RunExecutor exec(0);
      run_embedded(
          work, [&](const WorkItem& w, const EpochEmitter& emit) { return exec.execute(w, emit); }, sink, admit,
          cost, status_of);
    }
    failed = sink.failed();
    blocked = sink.blocked();
  }
  const Plan after = make_plan(sweep, &db, plain);  // with --rerun, every run would count as left
  std::cout << sweep.name << ": " << after.count(storage::kStatusDone) << " done, "
            << after.count(storage::kStatusDiverged) << " diverged, " << after.count(storage::kStatusFailed)
            << " failed, " << plural(after.count(storage::kStatusConfigError), "config error");
  if (after.count(storage::kStatusBlocked) > 0) std::cout << ", " << after.count(storage::kStatusBlocked) << " blocked";
  std::cout << "; results in " << db_path << std::endl;
  if (core::stop_requested() || deferred > 0) {
    std::cout << sweep.name << ": stopped early (" << (deferred > 0 ? "walltime" : "signal") << "); "
              << plural(after.to_run(), "run") << " left; run the same command again to resume (exit code "
              << kExitInterrupted << ")" << std::endl;
    return kExitInterrupted;
  }
  return failed + blocked > 0 ? kExitRunsFailed : kExitOk;
}

}  // namespace ternbench::orchestrator
