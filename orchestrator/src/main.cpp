// The `ternbench` command line. Exceptions become exit codes here and nowhere else
// (besides the worker's per-run boundary in RunExecutor).
#include <malloc.h>
#include <unistd.h>

#include <csignal>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "ternbench/base/error.hpp"
#include "ternbench/base/log.hpp"
#include "ternbench/core/data_fetch.hpp"
#include "ternbench/core/dataset.hpp"
#include "ternbench/experiments/sweep.hpp"
#include "ternbench/core/stop.hpp"
#include "ternbench/experiments/params.hpp"
#include "ternbench/orchestrator/mpi_transport.hpp"
#include "ternbench/orchestrator/status.hpp"
#include "ternbench/orchestrator/sweep_plan.hpp"
#include "ternbench/orchestrator/sweep_runner.hpp"
#include "ternbench/reports/markdown.hpp"
#include "ternbench/storage/metrics_db.hpp"

namespace fs = std::filesystem;
namespace tb = ternbench;

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitBadInput = 2;

// Freed buffers stay in the process: a page fault costs ~11.5 us on these VMs, and Eigen
// mallocs its GEMM blocks on every product.
void keep_freed_memory() {
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 * 1024 * 1024);
}

// First SIGTERM/SIGINT/SIGUSR1: stop at the next batch boundary, record the runs in flight
// as interrupted, exit 75. A second one: leave at once (exit 128 + signal).
void on_stop_signal(int sig) {
  if (tb::core::stop_requested()) _exit(128 + sig);
  tb::core::request_stop();
}

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGUSR1}) sigaction(sig, &sa, nullptr);
}

int cmd_data_fetch(const std::vector<std::string>& names, const std::string& root_opt) {
  const std::string root = root_opt.empty() ? tb::core::data_root() : root_opt;
  for (const auto& name : names) {
    const auto r = tb::core::fetch_dataset(name, root, std::cout);
    std::cout << name << ": " << r.train << " training and " << r.test << " test images in " << r.dir
              << (r.downloaded ? " (fetched)" : " (cached)") << std::endl;
  }
  return 0;
}

int cmd_report(const std::string& sweep_file, std::string db_path, std::string out_path) {
  std::string title = "ternbench report";
  if (!sweep_file.empty()) {
    const auto sweep = tb::experiments::load_sweep(sweep_file);
    if (db_path.empty()) db_path = sweep.db_path;
    title = sweep.name + ": results";
  }
  if (db_path.empty()) throw tb::ConfigError("ternbench report", "", 0, "give a sweep file or --db PATH");
  tb::storage::MetricsDb db(db_path, tb::storage::MetricsDb::Mode::kReadOnly);
  const std::string md = tb::reports::markdown_report(tb::reports::summarize(db.runs()), title);
  if (out_path.empty()) {
    fs::path p(db_path);
    out_path = (p.parent_path() / (p.stem().string() + "-report.md")).string();
  }
  const std::string tmp = out_path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    f << md;
    if (!f) throw tb::StorageError(out_path + ": cannot write the report");
  }
  fs::rename(tmp, out_path);
  std::cout << md << "\nreport written to " << out_path << std::endl;
  return 0;
}

int cmd_plan(const tb::orchestrator::RunOptions& opt) {
  const auto sweep = tb::experiments::load_sweep(opt.sweep_file);
  const std::string db_path = tb::orchestrator::effective_db_path(sweep, opt);
  std::unique_ptr<tb::storage::MetricsDb> db;
  if (fs::exists(db_path)) db = std::make_unique<tb::storage::MetricsDb>(db_path, tb::storage::MetricsDb::Mode::kReadOnly);
  const auto plan = tb::orchestrator::make_plan(sweep, db.get(), opt.plan);
  std::cout << tb::orchestrator::format_plan(sweep, db_path, plan, opt.plan);
  return 0;
}

int cmd_status(const std::string& sweep_file, std::string db_path) {
  int total = 0;
  std::string name = "results";
  if (!sweep_file.empty()) {
    const auto sweep = tb::experiments::load_sweep(sweep_file);
    if (db_path.empty()) db_path = sweep.db_path;
    total = static_cast<int>(sweep.runs.size());
    name = sweep.name;
  }
  if (db_path.empty()) throw tb::ConfigError("ternbench status", "", 0, "give a sweep file or --db PATH");
  tb::storage::MetricsDb db(db_path, tb::storage::MetricsDb::Mode::kReadOnly);
  std::cout << tb::orchestrator::format_status(db.runs(), total, name) << std::endl;
  return 0;
}

int exit_code_for(const std::exception& e) {
  if (dynamic_cast<const tb::ConfigError*>(&e) || dynamic_cast<const tb::DataError*>(&e)) return kExitBadInput;
  return kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory();
  CLI::App app{"ternbench: sweeps of sparse ternary, binary and full-precision networks"};
  app.require_subcommand(1);

  tb::orchestrator::RunOptions run_opt;
  auto* run = app.add_subcommand("run", "train every run of a sweep that is not finished yet");
  run->add_option("sweep", run_opt.sweep_file, "sweep TOML file")->required()->check(CLI::ExistingFile);
  run->add_option("--db", run_opt.db_path,
                  "results DB (default: the sweep's [sweep] db); weights go to <db>-weights/ beside it");
  run->add_option("--data", run_opt.data_root, "dataset directory (default: $TERNBENCH_DATA or ./data)");
  auto add_retry_flags = [&](CLI::App* cmd) {
    cmd->add_flag("--retry-failed", run_opt.plan.retry_failed, "re-queue failed runs whatever their attempt count");
    cmd->add_option("--max-attempts", run_opt.plan.max_attempts,
                    "attempts after which a failed run is no longer retried automatically")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
  };
  add_retry_flags(run);
  run->add_option("--deadline", run_opt.deadline,
                  "stop in time to record unfinished runs this many seconds from now (default: "
                  "SLURM_JOB_END_TIME when set)")
      ->check(CLI::PositiveNumber);
  run->add_option("--deadline-margin", run_opt.deadline_margin,
                  "seconds before the deadline at which runs are stopped and no new run starts")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();

  auto* plan = app.add_subcommand("plan", "show what `run` would do with a sweep, without running anything");
  plan->add_option("sweep", run_opt.sweep_file, "sweep TOML file")->required()->check(CLI::ExistingFile);
  plan->add_option("--db", run_opt.db_path, "results DB (default: the sweep's [sweep] db)");
  add_retry_flags(plan);

  std::string status_sweep, status_db;
  auto* status = app.add_subcommand("status", "one-line summary of a running or finished sweep, from its DB");
  status->add_option("sweep", status_sweep, "sweep TOML file (its DB is used)")->check(CLI::ExistingFile);
  status->add_option("--db", status_db, "results DB (overrides the sweep's)");

  auto* params = app.add_subcommand("params", "list every key a sweep file accepts, with defaults and rules");

  auto* data = app.add_subcommand("data", "manage datasets");
  data->require_subcommand(1);
  std::vector<std::string> fetch_names;
  std::string fetch_root;
  auto* fetch = data->add_subcommand("fetch", "download and convert MNIST / Fashion-MNIST (cached, verified)");
  fetch->add_option("names", fetch_names, "mnist, fashion-mnist")
      ->required()
      ->check(CLI::IsMember(tb::core::fetchable_datasets()));
  fetch->add_option("--data", fetch_root, "dataset directory (default: $TERNBENCH_DATA or ./data)");

  std::string report_sweep, report_db, report_out;
  auto* report = app.add_subcommand("report", "write a Markdown table of a results DB");
  report->add_option("sweep", report_sweep, "sweep TOML file (its DB is used)")->check(CLI::ExistingFile);
  report->add_option("--db", report_db, "results DB (overrides the sweep's)");
  report->add_option("-o,--out", report_out, "output file (default: <db>-report.md)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::cerr << "ternbench: error: " << e.what() << "; see `ternbench --help`" << std::endl;
    return kExitBadInput;
  }

  if (run->parsed() && tb::orchestrator::launched_by_mpi()) {
    tb::orchestrator::MpiSession mpi(&argc, &argv);
    tb::set_log_rank(mpi.rank());
    install_stop_handlers();  // after MPI_Init, which may install handlers of its own
    int rc = 0;
    try {
      rc = tb::orchestrator::run_sweep(run_opt, &mpi);
    } catch (const std::exception& e) {
      std::cerr << "[rank " << mpi.rank() << "] ternbench: error: " << e.what() << std::endl;
      tb::orchestrator::MpiSession::abort(exit_code_for(e));  // never Finalize after one rank failed
    }
    return rc;
  }

  try {
    if (run->parsed()) {
      install_stop_handlers();
      return tb::orchestrator::run_sweep(run_opt, nullptr);
    }
    if (plan->parsed()) return cmd_plan(run_opt);
    if (status->parsed()) return cmd_status(status_sweep, status_db);
    if (params->parsed()) {
      std::cout << tb::experiments::params_help();
      return 0;
    }
    if (fetch->parsed()) return cmd_data_fetch(fetch_names, fetch_root);
    if (report->parsed()) return cmd_report(report_sweep, report_db, report_out);
  } catch (const std::exception& e) {
    std::cerr << "ternbench: error: " << e.what() << std::endl;
    return exit_code_for(e);
  }
  return 0;
}
