#pragma once
// Sweep files: TOML in, a list of fully defaulted runs out. toml++ stays inside src/ (the
// reports' paper specs read their own TOML with it too).
// A file is one grid ([train]) or a union of grids ([[train.block]] entries over a shared
// [train]); [train.zip] tables make several keys one grid axis (docs/sweep-format.md).
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "ternbench/core/train/train_config.hpp"

namespace ternbench::experiments {

struct RunSpec {
  core::TrainConfig train;
  std::string canonical_toml;  // sorted keys, every default written, only keys the method uses
  std::string run_key;         // first 16 hex digits of SHA-256(canonical_toml)
  // What the results DB stores as the run's config (runs.config_json): canonical_toml plus
  // the keys it leaves out at their default (keys added after runs were trained, which stay
  // out of canonical_toml so those runs keep their keys), so that a query reads every key of
  // the run's method. Keys whose default is "" (init_from: no warm start) stay out here too,
  // as runs.init_from is NULL for them. Same sorting and formatting; not hashed.
  std::string stored_toml;
  // Not a grid point of the file: the source of another run's `init_from = { ... }` table.
  bool implied = false;
};

struct Sweep {
  std::string file;         // path the sweep was read from
  std::string name;         // [sweep] name
  std::string db_path;      // [sweep] db, default "results/<name>.sqlite" (relative to the cwd)
  std::string weights_dir;  // [sweep] weights_dir, default "<db without .sqlite>-weights"
  std::vector<RunSpec> runs;  // expansion order: deterministic, duplicates removed
  std::string description;  // [sweep] description, free text ("" if absent)
  std::size_t blocks = 0;   // [[train.block]] entries; 0 when [train] is the only grid
  // Runs a block produced that an earlier block had already produced; each is run once.
  std::size_t duplicates_across_blocks = 0;
  // Runs added as the source of an `init_from = { ... }` table (RunSpec::implied).
  std::size_t implied_sources = 0;
  // Run keys of the file's runs that a selection (--only) left out: they are still the
  // sweep's, so `plan` does not count them as runs the file no longer names.
  std::vector<std::string> unselected;
};

// What a sweep is made of on the command line (docs/sweep-format.md, "Command line").
struct SweepArgs {
  std::string file;                    // "" : a sweep of the overrides alone (kCommandLineSweep)
  std::vector<std::string> overrides;  // "train.epochs=5", "'seed=[1,2,3]'": as if edited into the file
  std::vector<std::string> only;       // "method=sca,twn": keep the runs with one of these values
  // TOML files of [train]/[sweep] keys applied as overrides, in order, before `overrides`.
  std::vector<std::string> set_files;
};

// The name of a sweep given wholly on the command line; its DB is results/<name>.sqlite.
inline constexpr const char* kCommandLineSweep = "cli";
// The file name errors give for the command line ("command line: train.epochs=abc: ...").
inline constexpr const char* kCommandLine = "command line";

// load_sweep() or, without a file, the command-line sweep, with the overrides applied before
// any check (so they obey the file's rules) and the selection made after expansion.
Sweep load_sweep(const SweepArgs& args);

// Parses and expands a sweep file. Throws ConfigError "<file>:<line>: <key.path>: <what>;
// <fix>" for syntax errors, unknown keys, wrong types, missing keys and bad values.
Sweep load_sweep(const std::string& path);
Sweep parse_sweep(const std::string& text, const std::string& file_name);
// The same with `key=value` overrides applied to the parsed file. An error about an
// overridden key names the override instead of a line of the file.
Sweep parse_sweep(const std::string& text, const std::string& file_name, const std::vector<std::string>& overrides);

// Keeps the runs matching every `key=v1,v2` filter (a run matches when its value of key is
// one of the values), and the init_from sources they need. Throws ConfigError naming the
// filter for an unknown key, a bad value, a value no run has, or a selection of nothing.
void select_runs(Sweep& sweep, const std::vector<std::string>& only);

// The keys that take two or more values over the runs using them, in grid order, and a run's value
// of a key as the canonical TOML writes it ("" when the run's method does not use the key).
std::vector<std::string> varying_keys(const std::vector<RunSpec>& runs);
std::string run_value(const RunSpec& run, const std::string& key);
// run_value for people: a plain string without its quotes (fp, not "fp").
std::string shown_value(const RunSpec& run, const std::string& key);

// Rebuilds a run from its canonical TOML (what workers receive). parse_run(c).run_key is
// the key c was made with.
RunSpec parse_run(const std::string& canonical_toml);

// Builds the canonical form, stored form and key of a config. Only the keys cfg.method uses
// are written (and layers only for model = "custom"); the returned train holds defaults for
// the others. Throws ConfigError (file
// "<config>") for a value a sweep file would be refused for.
RunSpec make_run(const core::TrainConfig& cfg);

// Why `source` cannot warm-start `run` (its weights do not fit, or it is not a
// full-precision run), or nothing. One sentence with the fix, for a ConfigError.
std::optional<std::string> warm_start_problem(const core::TrainConfig& source, const core::TrainConfig& run);

}  // namespace ternbench::experiments
