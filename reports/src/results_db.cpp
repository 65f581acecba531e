#include "ternbench/reports/results_db.hpp"

#include <sqlite3.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include "ternbench/base/error.hpp"

namespace ternbench::reports {
namespace {

// Owns one prepared statement.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& path, const std::string& sql) : db_(db), path_(path) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK)
      throw StorageError(path + ": SQL error: " + sqlite3_errmsg(db) + " in: " + sql);
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StorageError(path_ + ": SQL error: " + sqlite3_errmsg(db_));
  }
  sqlite3_stmt* get() { return s_; }

 private:
  sqlite3* db_;
  std::string path_;
  sqlite3_stmt* s_ = nullptr;
};

Value column_value(sqlite3_stmt* s, int i) {
  switch (sqlite3_column_type(s, i)) {
    case SQLITE_INTEGER: return Value::of(static_cast<double>(sqlite3_column_int64(s, i)));
    case SQLITE_FLOAT: return Value::of(sqlite3_column_double(s, i));
    case SQLITE_TEXT:
      return Value::of_text(reinterpret_cast<const char*>(sqlite3_column_text(s, i)));
    default: return Value::null();
  }
}

}  // namespace

ResultsDb::ResultsDb(const std::string& path) : path_(path) {
  if (!std::filesystem::exists(path))
    throw StorageError(path + ": no results DB here; run `ternbench run <sweep.toml>` first or pass --db");
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StorageError(path + ": cannot open the results DB: " + msg);
  }
  sqlite3_busy_timeout(db_, 5000);  // a sweep may be committing right now (WAL mode)
  try {
    const Table t = query("SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name = 'results'");
    if (t.rows.empty() || t.rows[0][0].number < 1) {
      const Table v = query("PRAGMA user_version");
      throw StorageError(path + ": results DB of schema version " + v.rows.at(0).at(0).str() +
                         " has no `results` view; reports need schema 3 (`ternbench run` or "
                         "`ternbench report` with write access upgrades it)");
    }
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

ResultsDb::~ResultsDb() { sqlite3_close(db_); }

Table ResultsDb::query(const std::string& sql, const std::vector<std::string>& params) const {
  Stmt st(db_, path_, sql);
  for (std::size_t i = 0; i < params.size(); ++i)
    sqlite3_bind_text(st.get(), static_cast<int>(i + 1), params[i].c_str(), -1, SQLITE_TRANSIENT);
  Table t;
  const int n = sqlite3_column_count(st.get());
  for (int i = 0; i < n; ++i) t.columns.emplace_back(sqlite3_column_name(st.get(), i));
  while (st.step()) {
    std::vector<Value> row;
    row.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) row.push_back(column_value(st.get(), i));
    t.rows.push_back(std::move(row));
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
