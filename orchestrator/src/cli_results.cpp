#include "ternbench/orchestrator/cli_results.hpp"

#include <CLI/CLI.hpp>
#include <cstdint>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ternbench/base/error.hpp"
#include "ternbench/experiments/sweep.hpp"
#include "ternbench/storage/atomic_file.hpp"
#include "ternbench/storage/merge.hpp"
#include "ternbench/storage/query.hpp"

namespace ternbench::orchestrator {

namespace st = storage;

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitConflict = 3;

const std::map<std::string, st::OutputFormat> kFormats = {{"table", st::OutputFormat::kTable},
                                                          {"csv", st::OutputFormat::kCsv},
                                                          {"json", st::OutputFormat::kJson},
                                                          {"markdown", st::OutputFormat::kMarkdown}};

// The flag that raises each limit, for the message of a statement it stopped.
std::string limit_hint(st::QueryLimitError::Limit limit) {
  switch (limit) {
    case st::QueryLimitError::Limit::kRows: return "--max-rows N raises it (0: no limit)";
    case st::QueryLimitError::Limit::kTime: return "--timeout SECONDS raises it (0: no limit)";
    case st::QueryLimitError::Limit::kMemory: return "--max-memory MIB raises it (0: no limit)";
  }
  return "";
}

void add_limit_options(CLI::App* cmd, st::QueryLimits& limits) {
  cmd->add_option("--max-rows", limits.max_rows, "stop with an error after this many rows (0: no limit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--timeout", limits.timeout_seconds,
                  "stop with an error after SQLite has run the statement this many seconds (0: no limit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--max-memory", limits.max_memory_mib,
                  "stop with an error when SQLite needs more than this many MiB for the statement (0: no limit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

// Hands streamed text to stdout; a failed write (a full disk behind a redirection) stops
// the query instead of going unnoticed.
void write_stdout(std::string_view piece) {
  std::cout.write(piece.data(), static_cast<std::streamsize>(piece.size()));
  if (!std::cout) throw StorageError("cannot write to standard output");
}

// Where a results command reads: --db, else the DB of the sweep file, as `ternbench status`.
std::string resolve_db(const std::string& sweep_file, const std::string& db, const char* command) {
  if (!db.empty()) return db;
  if (!sweep_file.empty()) return experiments::load_sweep(sweep_file).db_path;
  throw ConfigError(std::string("ternbench ") + command, "", 0, "give a sweep file or --db PATH");
}

}  // namespace

struct ResultsCommands::Options {
  CLI::App* query = nullptr;
  CLI::App* exporter = nullptr;
  CLI::App* merge = nullptr;

  std::string sql, sweep_file, db, format = "table";
  std::string method, dataset, status, sweep;
  st::QueryLimits query_limits, export_limits;

  std::string export_sweep_file, export_db, export_format = "csv", view = "results", export_out;

  std::vector<std::string> inputs;
  std::string merge_out;
  bool force = false, prefer_first = false, prefer_newest = false;

  int run_query() const;
  int run_export() const;
  int run_merge() const;
};

ResultsCommands::ResultsCommands(CLI::App& app) : opt_(std::make_unique<Options>()) {
  Options& o = *opt_;
  o.query = app.add_subcommand("query", "run one read-only SQL statement on a results DB (docs/schema.md)");
  o.query->add_option("sql", o.sql, "a SELECT, e.g. \"SELECT method, avg(test_acc) FROM results GROUP BY method\"")
      ->required();
  o.query->add_option("sweep_file", o.sweep_file, "sweep TOML file (its DB is used)")->check(CLI::ExistingFile);
  o.query->add_option("--db", o.db, "results DB (overrides the sweep's)");
  o.query->add_option("--format", o.format, "output format")
      ->check(CLI::IsMember({"table", "csv", "json", "markdown"}))
      ->capture_default_str();
  o.query->add_option("--method", o.method, "keep rows whose method column equals this");
  o.query->add_option("--dataset", o.dataset, "keep rows whose dataset column equals this");
  o.query->add_option("--status", o.status, "keep rows whose status column equals this");
  o.query->add_option("--sweep", o.sweep, "keep rows whose sweep column equals this");
  add_limit_options(o.query, o.query_limits);

  o.exporter = app.add_subcommand("export", "write a whole view of a results DB as CSV or JSON");
  o.exporter->add_option("sweep_file", o.export_sweep_file, "sweep TOML file (its DB is used)")
      ->check(CLI::ExistingFile);
  o.exporter->add_option("--db", o.export_db, "results DB (overrides the sweep's)");
  o.exporter->add_option("--format", o.export_format, "output format")
      ->check(CLI::IsMember({"csv", "json"}))
      ->capture_default_str();
  o.exporter->add_option("--view", o.view, "which view")
      ->check(CLI::IsMember(st::exportable_views()))
      ->capture_default_str();
  o.exporter->add_option("-o,--out", o.export_out, "output file, replaced atomically (default: stdout)");
  add_limit_options(o.exporter, o.export_limits);

  o.merge = app.add_subcommand("merge", "merge results DBs into a new one, checking that shared runs agree");
  o.merge->add_option("inputs", o.inputs, "results DBs to merge (only read)")->required();
  o.merge->add_option("-o,--out", o.merge_out, "the new DB")->required();
  o.merge->add_flag("--force", o.force, "replace the output file if it exists");
  auto* first = o.merge->add_flag("--prefer-first", o.prefer_first,
                                  "settle conflicting finished runs with the first input's copy");
  auto* newest = o.merge->add_flag("--prefer-newest", o.prefer_newest,
                                   "settle conflicting finished runs with the later finished_at");
  first->excludes(newest);
}

ResultsCommands::~ResultsCommands() = default;

std::optional<int> ResultsCommands::run() const {
  const Options& o = *opt_;
  if (!o.query->parsed() && !o.exporter->parsed() && !o.merge->parsed()) return std::nullopt;
  try {
    if (o.query->parsed()) return o.run_query();
    if (o.exporter->parsed()) return o.run_export();
    return o.run_merge();
  } catch (const st::QueryLimitError& e) {
    std::cerr << "ternbench: error: " << e.what() << "; " << limit_hint(e.limit()) << std::endl;
    return kExitBadInput;
  } catch (const st::QueryError& e) {
    std::cerr << "ternbench: error: " << e.what() << std::endl;
    return kExitBadInput;
  } catch (const ConfigError& e) {
    std::cerr << "ternbench: error: " << e.what() << std::endl;
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "ternbench: error: " << e.what() << std::endl;
    return kExitFailure;
  }
}

int ResultsCommands::Options::run_query() const {
  std::vector<st::QueryFilter> filters;
  for (const auto& [column, value] : {std::pair{"method", &method}, std::pair{"dataset", &dataset},
                                      std::pair{"status", &status}, std::pair{"sweep", &sweep}}) {
    if (!value->empty()) filters.push_back({column, *value});
  }
  st::FormatWriter out(kFormats.at(format), write_stdout);
  st::stream_query(resolve_db(sweep_file, db, "query"), sql, filters, out, query_limits);
  std::cout.flush();
  return 0;
}

// To stdout, rows are written as they come; to a file, they go to a temporary file that
// replaces -o only when the whole view was written.
int ResultsCommands::Options::run_export() const {
  const std::string db_path = resolve_db(export_sweep_file, export_db, "export");
  if (export_out.empty()) {
    st::FormatWriter out(kFormats.at(export_format), write_stdout);
    st::stream_view(db_path, view, out, export_limits);
    std::cout.flush();
    return 0;
  }
  // Created at the first piece, so that a DB that cannot be read leaves no trace at -o.
  std::optional<st::AtomicFileWriter> file;
  st::FormatWriter out(kFormats.at(export_format), [&](std::string_view piece) {
    if (!file) file.emplace(export_out);
    file->write(piece);
  });
  const std::int64_t rows = st::stream_view(db_path, view, out, export_limits);
  if (!file) file.emplace(export_out);
  file->commit();
  std::cout << "wrote " << rows << " rows of " << view << " to " << export_out << std::endl;
  return 0;
}

int ResultsCommands::Options::run_merge() const {
  st::MergeOptions mo;
  mo.force = force;
  if (prefer_first) mo.prefer = st::MergeOptions::Prefer::kFirst;
  if (prefer_newest) mo.prefer = st::MergeOptions::Prefer::kNewest;
  const st::MergeReport rep = st::merge_dbs(inputs, merge_out, mo);
  for (const auto& n : rep.notes) std::cout << n << '\n';
  for (const auto& w : rep.warnings) std::cerr << "ternbench: warning: " << w << '\n';
  if (!rep.conflicts.empty()) {
    for (const auto& c : rep.conflicts) std::cerr << "CONFLICT " << st::describe(c) << '\n';
    std::cerr << "ternbench: error: " << rep.conflicts.size() << " conflicting run"
              << (rep.conflicts.size() == 1 ? "" : "s") << "; nothing written to " << merge_out
              << ". Pass --prefer-first or --prefer-newest to pick one copy" << std::endl;
    return kExitConflict;
  }
  std::cout << "merged " << rep.runs_written << " runs from " << inputs.size() << " DB"
            << (inputs.size() == 1 ? "" : "s") << " into " << merge_out << std::endl;
  return 0;
}

}  // namespace ternbench::orchestrator
