#pragma once
// `ternbench merge`: the runs of several results DBs (e.g. one per cluster job) in one new DB.
#include <string>
#include <vector>

namespace ternbench::storage {

struct MergeOptions {
  // How two finished runs with the same key and different metrics are settled: not at all
  // (a conflict), by the first input that has the run, or by the later finished_at.
  enum class Prefer { kNone, kFirst, kNewest };
  Prefer prefer = Prefer::kNone;
  bool force = false;  // replace an existing output file
};

struct MergeConflict {
  std::string run_key;
  std::vector<std::string> fields;  // what differs, e.g. "test_acc", "epochs[train 2].test_acc"
  std::string first_file, second_file;
};

struct MergeReport {
  std::vector<std::string> notes;         // how each duplicate run was settled
  std::vector<std::string> warnings;      // e.g. a weights file that does not exist
  std::vector<MergeConflict> conflicts;   // unsettled: when not empty, nothing was written
  int runs_written = 0;
};

// Copies every run of `inputs`, with its epochs, epoch layers, layers and stages, into a new
// DB at `output` (written to a temporary file beside it, then renamed). The same run_key in
// several inputs is kept once when every stored metric is identical (timings and
// provenance such as host or started_at do not count); a finished run (done, diverged) wins
// over one that is not; two finished runs that differ are a conflict unless `opt.prefer`
// settles it. weights_path is rewritten relative to the output's directory. Inputs are only
// read (an input of an older schema version is migrated in a temporary copy).
// Throws ConfigError for bad arguments (no input, output exists without force, output is
// an input) and StorageError for unreadable inputs or an unwritable output.
MergeReport merge_dbs(const std::vector<std::string>& inputs, const std::string& output,
                      const MergeOptions& opt);

// "run <key>: <fields> differ between <first> and <second>"
std::string describe(const MergeConflict& c);

}  // namespace ternbench::storage
