#include "ternbench/reports/results_db.hpp"

#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include "ternbench/base/error.hpp"
#include "ternbench/storage/query.hpp"

namespace ternbench::reports {
namespace {

Value value_of(const storage::SqlValue& v) {
  switch (v.type) {
    case storage::SqlValue::Type::kInteger: return Value::of(static_cast<double>(v.integer));
    case storage::SqlValue::Type::kReal: return Value::of(v.real);
    case storage::SqlValue::Type::kText: return Value::of_text(v.bytes);
    default: return Value::null();
  }
}

}  // namespace

ResultsDb::ResultsDb(const std::string& path) : path_(path) {
  if (!std::filesystem::exists(path))
    throw StorageError(path + ": no results DB here; run `ternbench run <sweep.toml>` first or pass --db");
  db_ = std::make_shared<const storage::ReadOnlyDb>(path);
  const Table t = query("SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name = 'results'");
  if (t.rows.empty() || t.rows[0][0].number < 1)
    throw StorageError(path + ": not a ternbench results DB (no `results` view); pass the DB that `ternbench run` wrote");
}

Table ResultsDb::query(const std::string& sql) const {
  const storage::QueryResult r = db_->query(sql);
  Table t;
  t.columns = r.columns;
  t.rows.reserve(r.rows.size());
  for (const auto& row : r.rows) {
    std::vector<Value> values;
    values.reserve(row.size());
    for (const auto& v : row) values.push_back(value_of(v));
    t.rows.push_back(std::move(values));
  }
  return t;
}

std::vector<RunRow> ResultsDb::runs(const std::vector<ExpectedRun>& expected) const {
  const Table t = query(
      "SELECT results.*, runs.config_toml AS tb_config_toml FROM results JOIN runs USING (run_key) "
      "ORDER BY results.run_key");
  std::vector<RunRow> out;
  std::vector<std::string> tomls;
  std::map<std::string, std::string> toml_of;  // run key -> canonical config, for init_from
  std::set<std::string> seen;
  for (const auto& row : t.rows) {
    RunRow r;
    std::string toml;
    for (std::size_t i = 0; i < t.columns.size(); ++i) {
      const std::string& c = t.columns[i];
      if (c == "tb_config_toml") toml = row[i].str();
      else if (c == "run_key") r.run_key = row[i].str();
      else if (c == "status") r.status = row[i].str();
      else r.metrics[c] = row[i];
    }
    r.config = parse_canonical_toml(toml, path_ + ": run " + r.run_key + " config_toml");
    toml_of[r.run_key] = toml;
    tomls.push_back(toml);
    seen.insert(r.run_key);
    out.push_back(std::move(r));
  }
  for (const auto& e : expected) {
    if (seen.count(e.run_key)) continue;
    RunRow r;
    r.run_key = e.run_key;
    r.status = kStatusNotStarted;
    r.config = parse_canonical_toml(e.canonical_toml, "run " + e.run_key);
    toml_of[r.run_key] = e.canonical_toml;
    tomls.push_back(e.canonical_toml);
    seen.insert(e.run_key);
    out.push_back(std::move(r));
  }
  const SourceLookup source_of = [&toml_of](const std::string& key) {
    const auto it = toml_of.find(key);
    return it == toml_of.end() ? std::string() : it->second;
  };
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i].cell_key = cell_key_of(tomls[i], source_of);
    // Shown as the source's cell, which is what the seeds of a cell share.
    if (auto it = out[i].config.find("init_from"); it != out[i].config.end()) {
      const std::string source = source_of(it->second.str());
      if (!source.empty()) {
        it->second = Value::of_text("cell " + cell_id(cell_key_of(source, source_of)));
      }
    }
  }
  return out;
}

std::vector<EpochPoint> ResultsDb::epochs() const {
  const Table t = query(
      "SELECT e.run_key, e.test_acc FROM run_epochs e LEFT JOIN stages s "
      "ON s.run_key = e.run_key AND s.stage = e.stage ORDER BY e.run_key, coalesce(s.ordinal, 0), e.epoch");
  std::vector<EpochPoint> out;
  for (const auto& row : t.rows) {
    EpochPoint p;
    p.run_key = row[0].str();
    p.step = out.empty() || out.back().run_key != p.run_key ? 1 : out.back().step + 1;
    p.test_acc = row[1].is_null() ? std::numeric_limits<double>::quiet_NaN() : row[1].number;
    out.push_back(p);
  }
  return out;
}

}  // namespace ternbench::reports
