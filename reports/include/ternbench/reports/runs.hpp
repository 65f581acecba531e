#pragma once
// Runs as the reports see them: the config keys of each run (parsed from its canonical
// TOML) and its metrics (columns of the `results` view), plus the seed-free cell key that
// groups runs differing only by seed.
#include <map>
#include <optional>
#include <functional>
#include <string>
#include <vector>

namespace ternbench::reports {

// A scalar read from SQLite or from a canonical TOML line.
struct Value {
  enum class Kind { kNull, kNumber, kText, kBool };
  Kind kind = Kind::kNull;
  double number = 0;
  std::string text;  // kText: the string; kNumber/kBool: the spelling it was read from

  static Value null() { return {}; }
  static Value of(double v);
  static Value of_text(std::string s);
  static Value of_bool(bool b);
  bool is_null() const { return kind == Kind::kNull; }
  std::string str() const;  // display form: "0.5", "mnist", "true", "" for NULL
};
bool operator==(const Value& a, const Value& b);

// Status of a run the sweep expects but the DB has never seen.
inline constexpr const char* kStatusNotStarted = "not started";

struct RunRow {
  std::string run_key;
  std::string status;
  std::string cell_key;               // canonical TOML without its seed line
  std::map<std::string, Value> config;   // [train] keys of the canonical TOML
  std::map<std::string, Value> metrics;  // columns of the results view (NULL: absent)
  std::optional<double> metric(const std::string& name) const;  // nullopt for NULL/absent/text
};

// A run a sweep file expands to (run_key + canonical TOML), for the runs not in the DB yet.
struct ExpectedRun {
  std::string run_key;
  std::string canonical_toml;
};

// The `key = value` lines of a canonical TOML (one flat [train] table, scalar or list values).
// Lists are kept as their text. Throws ConfigError naming `origin` on a line it cannot read.
std::map<std::string, Value> parse_canonical_toml(const std::string& text, const std::string& origin);

// The canonical TOML without the `seed = ...` line: equal for runs that differ only by seed.
// The canonical config of a run (source_of(run key) returns it; "" when unknown).
using SourceLookup = std::function<std::string(const std::string& run_key)>;
// A warm-started run's init_from line names its source's cell ("cell <id>") when
// source_of knows the source, so the seeds of one recipe share a cell.
std::string cell_key_of(const std::string& canonical_toml, const SourceLookup& source_of = {});
// The short id of a cell key (the cells' `cell` column).
std::string cell_id(const std::string& cell_key);

}  // namespace ternbench::reports
