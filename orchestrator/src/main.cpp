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
#include "ternbench/base/version.hpp"
#include "ternbench/datalib/data_fetch.hpp"
#include "ternbench/datalib/loading.hpp"
#include "ternbench/experiments/sweep.hpp"
#include "ternbench/core/train/stop.hpp"
#include "ternbench/experiments/params.hpp"
#include "ternbench/orchestrator/cli_infer.hpp"
#include "ternbench/orchestrator/cli_results.hpp"
#include "ternbench/orchestrator/mpi_transport.hpp"
#include "ternbench/orchestrator/provenance.hpp"
#include "ternbench/orchestrator/status.hpp"
#include "ternbench/orchestrator/sweep_plan.hpp"
#include "ternbench/orchestrator/sweep_runner.hpp"
#include "ternbench/storage/metrics_db.hpp"
#include "cli_report.hpp"
#include "cli_sweep_words.hpp"

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
  const std::string root = root_opt.empty() ? tb::data::data_root() : root_opt;
  for (const auto& name : names) {
    const auto r = tb::data::fetch_dataset(name, root, std::cout);
    std::cout << name << ": " << r.train << " training and " << r.test << " test images in " << r.dir
              << (r.downloaded ? " (fetched)" : " (cached)") << std::endl;
  }
  return 0;
}

int cmd_plan(const tb::orchestrator::RunOptions& opt, bool list) {
  const auto sweep =
      tb::experiments::load_sweep(tb::experiments::SweepArgs{opt.sweep_file, opt.overrides, opt.only, opt.set_files});
  const std::string db_path = tb::orchestrator::effective_db_path(sweep, opt);
  std::unique_ptr<tb::storage::MetricsDb> db;
  if (fs::exists(db_path)) db = std::make_unique<tb::storage::MetricsDb>(db_path, tb::storage::MetricsDb::Mode::kReadOnly);
  const auto plan = tb::orchestrator::make_plan(sweep, db.get(), opt.plan);
  std::cout << tb::orchestrator::format_plan(sweep, db_path, plan, opt.plan);
  if (list) std::cout << tb::orchestrator::format_plan_list(sweep, plan);
  return 0;
}

int cmd_status(const tb::orchestrator::SweepWords& words, std::string db_path) {
  if (words.given()) {
    // The sweep's runs only (after --only, the selected ones): a DB may hold other sweeps.
    const auto sweep = tb::experiments::load_sweep(words.args());
    std::cout << tb::orchestrator::format_sweep_status(sweep, tb::orchestrator::db_path_of(&sweep, db_path),
                                                       tb::git_commit())
              << std::endl;
    return 0;
  }
  db_path = tb::orchestrator::db_path_of(nullptr, db_path);
  if (db_path.empty()) throw tb::ConfigError("ternbench status", "", 0, "give a sweep file or --db PATH");
  tb::storage::MetricsDb db(db_path, tb::storage::MetricsDb::Mode::kReadOnly);
  std::cout << tb::orchestrator::format_status(db.runs(), 0, "results", db.writer()) << std::endl;
  return 0;
}

int exit_code_for(const std::exception& e) {
  if (dynamic_cast<const tb::ConfigError*>(&e) || dynamic_cast<const tb::DataError*>(&e)) return kExitBadInput;
  return kExitFailure;
}

// A failed parse as one line naming the subcommand it concerns and the first unknown option,
// if any: CLI11 reports a failed check (a missing file) before an unexpected argument.
std::string parse_error_line(const CLI::App& app, const CLI::ParseError& e) {
  std::string command = "ternbench", unknown;
  for (const CLI::App* a = &app; a != nullptr && unknown.empty();) {
    if (a != &app) command += " " + a->get_name();
    for (const std::string& arg : a->remaining(false)) {
      if (unknown.empty() && arg.size() > 1 && arg[0] == '-') unknown = arg.substr(0, arg.find('='));
    }
    const auto subs = a->get_subcommands();
    a = subs.empty() ? nullptr : subs.front();
  }
  const std::string what = unknown.empty() ? e.what() : "unknown option " + unknown;
  return command + ": " + what + "; see `" + command + " --help`";
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory();
  CLI::App app{"ternbench: sweeps of sparse ternary, binary and full-precision networks"};
  app.require_subcommand(1);
  app.set_version_flag("--version", [] { return tb::orchestrator::version_text(); });

  tb::orchestrator::RunOptions run_opt;
  run_opt.plan.git_commit = tb::git_commit();  // plan, status and run warn of results of other commits
  tb::orchestrator::SweepWords run_words, status_words, report_words;
  bool plan_list = false;
  auto* run = app.add_subcommand("run", "train every run of a sweep that is not finished yet");
  run_words.add_to(run);
  run->add_option("--db", run_opt.db_path,
                  "results DB (default: the sweep's [sweep] db); weights go to <db>-weights/ beside it");
  run->add_option("--data", run_opt.data_root, "dataset directory (default: $TERNBENCH_DATA or ./data)");
  auto add_retry_flags = [&](CLI::App* cmd) {
    cmd->add_flag("--retry-failed", run_opt.plan.retry_failed,
                  "re-queue failed runs whatever their attempt count, and config_error runs");
    cmd->add_option("--max-attempts", run_opt.plan.max_attempts,
                    "attempts after which a failed run is no longer retried automatically")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->add_flag("--rerun", run_opt.plan.rerun,
                  "train every run of the sweep again, finished ones too; each result is kept in the DB "
                  "(superseded_runs, weights as <run_key>.superseded-<n>.h5) and the new one replaces it");
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
  run_words.add_to(plan);
  plan->add_flag("--list", plan_list, "also print every run: key, the values that vary, state, expected cost");
  plan->add_option("--db", run_opt.db_path, "results DB (default: the sweep's [sweep] db)");
  add_retry_flags(plan);

  std::string status_db;
  auto* status = app.add_subcommand("status", "one-line summary of a running or finished sweep, from its DB");
  status_words.add_to(status);
  status->add_option("--db", status_db, "results DB (overrides the sweep's)");

  auto* params = app.add_subcommand("params", "list every key a sweep file accepts, with defaults and rules");

  auto* data = app.add_subcommand("data", "manage datasets");
  data->require_subcommand(1);
  std::vector<std::string> fetch_names;
  std::string fetch_root;
  auto* fetch = data->add_subcommand("fetch", "download and convert MNIST / Fashion-MNIST (cached, verified)");
  fetch->add_option("names", fetch_names, "mnist, fashion-mnist")
      ->required()
      ->check(CLI::IsMember(tb::data::fetchable_datasets()));
  fetch->add_option("--data", fetch_root, "dataset directory (default: $TERNBENCH_DATA or ./data)");

  tb::orchestrator::ReportCommand report_cmd;
  auto add_report_options = [&](CLI::App* cmd) {
    cmd->add_option("--db", report_cmd.db_path, "results DB (overrides the sweep's)");
    cmd->add_option("-o,--out", report_cmd.out_dir, "output directory (default: <db>-report/ or <db>-paper-<name>/)");
    cmd->add_option("--format", report_cmd.formats, "comma-separated subset of md,tex,html (cells.csv is always written)")
        ->capture_default_str();
    cmd->add_flag("--smoke", report_cmd.smoke, "use the paper spec's small smoke sweep");
  };
  auto* report = app.add_subcommand("report", "write Markdown, LaTeX and HTML reports of a results DB or a paper spec");
  report_words.add_to(report);
  report->add_option("--paper", report_cmd.paper, "render experiments/papers/NAME.toml with verdicts");
  report->add_option("--min-seeds", report_cmd.min_seeds, "cells with fewer finished seeds are marked")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  add_report_options(report);
  auto* reproduce = app.add_subcommand("reproduce", "run a paper spec's sweep (skipping finished runs), then render it");
  reproduce->add_option("name", report_cmd.paper, "spec name in experiments/papers/, or a path")->required();
  reproduce->add_option("--data", run_opt.data_root, "dataset directory (default: $TERNBENCH_DATA or ./data)");
  add_report_options(reproduce);
  add_retry_flags(reproduce);

  const tb::orchestrator::ResultsCommands results_commands(app);  // query, export, merge
  tb::orchestrator::InferOptions infer_opt;
  auto* infer = tb::orchestrator::add_infer_command(app, infer_opt);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::cerr << "ternbench: error: " << parse_error_line(app, e) << std::endl;
    return kExitBadInput;
  }

  if ((run->parsed() || plan->parsed()) && !run_words.given()) {
    std::cerr << "ternbench: error: give a sweep file, or a sweep on the command line: --model lenet5 --dataset "
                 "mnist 'method=[fp,twn]'; see `ternbench --help`"
              << std::endl;
    return kExitBadInput;
  }
  for (const auto* words : {&status_words, &report_words}) {
    if (words->given() || words->only.empty()) continue;
    std::cerr << "ternbench: error: --only selects runs of a sweep; give the sweep file (or --model, --dataset and "
                 "overrides) as well"
              << std::endl;
    return kExitBadInput;
  }
  if (run->parsed() || plan->parsed()) {
    const auto args = run_words.args();
    run_opt.sweep_file = args.file;
    run_opt.overrides = args.overrides;
    run_opt.only = args.only;
    run_opt.set_files = args.set_files;
  }
  if (report->parsed()) {
    const auto args = report_words.args();
    report_cmd.sweep_file = args.file;
    report_cmd.overrides = args.overrides;
    report_cmd.only = args.only;
    report_cmd.set_files = args.set_files;
  }

  if ((run->parsed() || reproduce->parsed()) && tb::orchestrator::launched_by_mpi()) {
    tb::orchestrator::MpiSession mpi(&argc, &argv);
    tb::set_log_rank(mpi.rank());
    install_stop_handlers();  // after MPI_Init, which may install handlers of its own
    int rc = 0;
    try {
      rc = reproduce->parsed() ? tb::orchestrator::cmd_reproduce(report_cmd, run_opt, &mpi)
                               : tb::orchestrator::run_sweep(run_opt, &mpi);
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
    if (plan->parsed()) return cmd_plan(run_opt, plan_list);
    if (status->parsed()) return cmd_status(status_words, status_db);
    if (params->parsed()) {
      std::cout << tb::experiments::params_help();
      return 0;
    }
    if (fetch->parsed()) return cmd_data_fetch(fetch_names, fetch_root);
    if (report->parsed()) return tb::orchestrator::cmd_report(report_cmd);
    if (reproduce->parsed()) {
      install_stop_handlers();
      return tb::orchestrator::cmd_reproduce(report_cmd, run_opt, nullptr);
    }
    if (const auto rc = results_commands.run()) return *rc;
    if (infer->parsed()) return tb::orchestrator::run_infer(infer_opt);
  } catch (const std::exception& e) {
    std::cerr << "ternbench: error: " << e.what() << std::endl;
    return exit_code_for(e);
  }
  return 0;
}
