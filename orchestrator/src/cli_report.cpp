#include "cli_report.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>
#include <set>

#include "ternbench/base/error.hpp"
#include "ternbench/core/methods/method.hpp"
#include "ternbench/experiments/sweep.hpp"
#include "ternbench/orchestrator/mpi_transport.hpp"
#include "ternbench/reports/methods.hpp"
#include "ternbench/reports/output.hpp"
#include "ternbench/reports/paper.hpp"
#include "ternbench/reports/report.hpp"
#include "ternbench/reports/results_db.hpp"
#include "ternbench/storage/metrics_db.hpp"

namespace fs = std::filesystem;

namespace ternbench::orchestrator {
namespace {

// Reports know the methods only from what the program hands over (reports/methods.hpp).
void hand_methods_to_reports() {
  reports::set_methods_from(core::methods());
}

// A DB written by an older ternbench gains the views reports read. The upgrade is the same
// one `ternbench run` does on open; a newer DB is refused by MetricsDb with its own message.
void upgrade_if_old(const std::string& db_path) {
  if (!fs::exists(db_path)) return;  // ResultsDb says what to do
  int version = 0;
  {
    storage::MetricsDb ro(db_path, storage::MetricsDb::Mode::kReadOnly);
    version = ro.schema_version();
  }
  // On a read-only directory or file (an archived sweep) the report reads an upgraded
  // temporary copy instead (ResultsDb opens the DB read-only).
  const std::string dir = fs::path(db_path).parent_path().empty() ? "." : fs::path(db_path).parent_path().string();
  const bool writable = access(db_path.c_str(), W_OK) == 0 && access(dir.c_str(), W_OK) == 0;
  if (version < storage::MetricsDb::kSchemaVersion && writable) {
    std::cerr << db_path << ": upgrading the results DB from schema " << version << " to "
              << storage::MetricsDb::kSchemaVersion << std::endl;
    storage::MetricsDb rw(db_path);
  }
}

std::vector<reports::ExpectedRun> expected_runs(const experiments::Sweep& sweep) {
  std::vector<reports::ExpectedRun> out;
  for (const auto& r : sweep.runs) out.push_back({r.run_key, r.canonical_toml});
  return out;
}

std::string default_out(const std::string& db_path, const std::string& suffix) {
  const fs::path p(db_path);
  return (p.parent_path() / (p.stem().string() + suffix)).string();
}

void print_paths(const std::vector<std::string>& paths) {
  for (const auto& p : paths)
    if (p.find("/charts/") == std::string::npos && p.find("/tables/") == std::string::npos) std::cout << p << "\n";
  std::cout << std::flush;
}

// suggest_reproduce: `report --paper` on a DB the spec's sweep has not written yet names the
// command that trains it (`reproduce` renders right after training, so it needs no hint).
int render_paper(const ReportCommand& cmd, const reports::PaperSpec& spec, const experiments::Sweep* sweep,
                 bool suggest_reproduce = false) {
  std::string db_path = cmd.db_path;
  if (db_path.empty() && sweep) db_path = sweep->db_path;
  const auto formats = reports::parse_formats(cmd.formats);
  const std::string reproduce = "ternbench reproduce " + cmd.paper + (cmd.smoke ? " --smoke" : "");
  if (suggest_reproduce && !fs::exists(db_path))
    throw StorageError(db_path + ": no results DB here yet; run `" + reproduce + "` to train the spec's sweep and render it");
  upgrade_if_old(db_path);
  reports::ResultsDb db(db_path);
  auto runs = db.runs(sweep ? expected_runs(*sweep) : std::vector<reports::ExpectedRun>{});
  const bool any_run = std::any_of(runs.begin(), runs.end(),
                                   [](const reports::RunRow& r) { return r.status != reports::kStatusNotStarted; });
  if (suggest_reproduce && !any_run)
    std::cerr << db_path << ": no runs of this spec yet; `" << reproduce << "` trains them and renders the report"
              << std::endl;
  reports::add_derived_metrics(runs);
  reports::add_spec_metrics(spec, db, runs);
  const auto result = reports::evaluate_paper(spec, runs);
  const std::string out = cmd.out_dir.empty() ? default_out(db_path, "-paper-" + spec.name) : cmd.out_dir;
  print_paths(reports::write_files(out, reports::paper_files(result, db_path, formats)));
  std::string counts;
  for (const char* verdict : {"reproduced", "deviates", "missing", "no reference"}) {
    const auto it = result.verdict_counts.find(verdict);
    counts.append(counts.empty() ? "" : ", ").append(std::to_string(it == result.verdict_counts.end() ? 0 : it->second));
    counts.append(" ").append(verdict);
  }
  std::cout << spec.name << ": " << counts << "; report written to " << (fs::path(out) / "report.md").string()
            << std::endl;
  return 0;
}

const std::string& spec_sweep(const reports::PaperSpec& spec, bool smoke) {
  if (!smoke) return spec.sweep;
  if (spec.smoke_sweep.empty())
    throw ConfigError(spec.file, "paper.smoke_sweep", 0, "this spec has no smoke sweep; drop --smoke or add one");
  return spec.smoke_sweep;
}

}  // namespace

int cmd_report(const ReportCommand& cmd) {
  hand_methods_to_reports();
  if (!cmd.paper.empty()) {
    if (!cmd.sweep_file.empty())
      throw ConfigError("ternbench report", "", 0, "give either a sweep file or --paper NAME, not both");
    auto spec = reports::load_paper_spec(reports::paper_spec_path(cmd.paper));
    if (cmd.smoke) spec.min_seeds = spec.smoke_min_seeds;
    std::optional<experiments::Sweep> sweep;
    const std::string& sweep_file = spec_sweep(spec, cmd.smoke);
    if (fs::exists(sweep_file)) sweep = experiments::load_sweep(sweep_file);
    else if (cmd.db_path.empty())
      throw ConfigError(spec.file, "paper.sweep", 0, "sweep file " + sweep_file + " not found; run from the repository root or pass --db");
    return render_paper(cmd, spec, sweep ? &*sweep : nullptr, true);
  }
  if (cmd.smoke) throw ConfigError("ternbench report", "--smoke", 0, "--smoke goes with --paper NAME");
  std::string db_path = cmd.db_path;
  reports::ReportOptions opt;
  opt.min_seeds = cmd.min_seeds;
  std::vector<reports::ExpectedRun> expected;
  if (!cmd.sweep_file.empty() || !cmd.overrides.empty() || !cmd.set_files.empty()) {
    const auto sweep =
        experiments::load_sweep(experiments::SweepArgs{cmd.sweep_file, cmd.overrides, cmd.only, cmd.set_files});
    if (db_path.empty()) db_path = sweep.db_path;
    opt.title = sweep.name + ": results";
    expected = expected_runs(sweep);
  }
  if (db_path.empty()) throw ConfigError("ternbench report", "", 0, "give a sweep file, --paper NAME or --db PATH");
  const auto formats = reports::parse_formats(cmd.formats);
  opt.source = db_path;
  upgrade_if_old(db_path);
  reports::ResultsDb db(db_path);
  auto runs = db.runs(expected);
  if (!cmd.only.empty()) {
    // --only reports the selected runs alone, not the DB's other runs.
    std::set<std::string> keep;
    for (const auto& e : expected) keep.insert(e.run_key);
    std::erase_if(runs, [&](const reports::RunRow& r) { return !keep.count(r.run_key); });
  }
  const auto report = reports::build_report(runs, db.epochs(), opt);
  const std::string out = cmd.out_dir.empty() ? default_out(db_path, "-report") : cmd.out_dir;
  const auto paths = reports::write_files(out, reports::report_files(report, formats));
  print_paths(paths);
  std::cout << "report written to " << paths.front() << std::endl;
  return 0;
}

int cmd_reproduce(const ReportCommand& cmd, RunOptions run, const MpiSession* mpi) {
  hand_methods_to_reports();
  auto spec = reports::load_paper_spec(reports::paper_spec_path(cmd.paper));
  if (cmd.smoke) spec.min_seeds = spec.smoke_min_seeds;
  run.sweep_file = spec_sweep(spec, cmd.smoke);
  if (!cmd.db_path.empty()) run.db_path = cmd.db_path;
  if (!fs::exists(run.sweep_file))
    throw ConfigError(spec.file, cmd.smoke ? "paper.smoke_sweep" : "paper.sweep", 0,
                      "sweep file " + run.sweep_file + " not found; run from the repository root");
  const int rc = run_sweep(run, mpi);
  if (mpi && mpi->rank() != 0) return rc;
  const auto sweep = experiments::load_sweep(run.sweep_file);
  ReportCommand render = cmd;
  if (render.db_path.empty()) render.db_path = effective_db_path(sweep, run);
  render_paper(render, spec, &sweep);
  return rc;
}

}  // namespace ternbench::orchestrator
