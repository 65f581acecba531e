#include "ternbench/storage/merge.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <system_error>

#include "snapshot.hpp"
#include "sqlite_util.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/storage/metrics_db.hpp"
#include "ternbench/storage/query.hpp"
#include "ternbench/storage/sql_value.hpp"

namespace ternbench::storage {
namespace {

namespace fs = std::filesystem;
using Row = std::vector<SqlValue>;

// Columns that say where, when and how fast a run was trained, not what it produced: two
// copies of one run may differ in them and still be the same result.
const std::set<std::string> kProvenanceRunColumns = {
    "sweep", "weights_path", "git_commit", "git_dirty", "host", "rank", "threads", "started_at",
    "finished_at", "train_seconds", "attempts", "slurm_job_id", "slurm_restart_count", "versions"};
const std::set<std::string> kTimingEpochColumns = {"seconds"};
// An inference measurement is timing on some host: two copies of a run may hold different
// ones, and the preferred copy's is kept.
const std::set<std::string> kInferenceMeasurement = {
    "threads", "n_test", "predictions_identical", "test_acc", "latency_us", "float_latency_us", "throughput",
    "float_throughput", "bytes", "float32_bytes", "host", "git_commit", "measured_at"};

// A run-keyed table: its columns (run_key first) and the columns that identify a row of a run.
struct ChildTable {
  std::string name;
  std::vector<std::string> key;
  const std::set<std::string>* ignored = nullptr;
  std::vector<std::string> columns;
};

struct Layout {
  std::vector<std::string> run_columns;
  std::vector<ChildTable> children;  // epochs, epoch_layers, layers, stages, inference
  std::vector<std::string> superseded_columns;  // superseded_runs without its id
};

// One run as one input holds it.
struct RunCopy {
  std::size_t input = 0;
  Row run;
  std::vector<std::vector<Row>> children;  // rows per Layout::children entry
};

const std::set<std::string> kNothing;

Layout make_layout() {
  Layout l;
  l.children = {{"epochs", {"stage", "epoch"}, &kTimingEpochColumns, {}},
                {"epoch_layers", {"stage", "epoch", "layer"}, &kNothing, {}},
                {"layers", {"layer"}, &kNothing, {}},
                {"stages", {"stage"}, &kNothing, {}},
                {"inference", {"engine"}, &kInferenceMeasurement, {}}};
  return l;
}

std::vector<std::string> table_columns(sqlite3* db, const std::string& path, const std::string& table,
                                       const std::string& first = "run_key") {
  sqlite::Statement st(db, path, "SELECT name FROM pragma_table_info(?1) ORDER BY cid");
  st.bind(1, table);
  std::vector<std::string> out;
  while (st.step()) out.push_back(st.text(0));
  if (out.empty() || out[0] != first) {
    throw StorageError(path + ": table " + table + " does not start with " + first + "; not a ternbench results DB");
  }
  return out;
}

std::string column_list(const std::vector<std::string>& columns) {
  std::string s;
  for (const auto& c : columns) {
    if (!s.empty()) s += ", ";
    s += c;
  }
  return s;
}

std::size_t index_of(const std::vector<std::string>& columns, const std::string& name) {
  const auto it = std::find(columns.begin(), columns.end(), name);
  TB_CHECK(it != columns.end(), "merge: no column " + name);
  return static_cast<std::size_t>(it - columns.begin());
}

std::string text_of(const SqlValue& v) {
  switch (v.type) {
    case SqlValue::Type::kInteger: return std::to_string(v.integer);
    case SqlValue::Type::kReal: return format_real(v.real);
    case SqlValue::Type::kText: return v.bytes;
    default: return "";
  }
}

// One superseded_runs row (docs/schema.md): a result that a forced rerun replaced.
struct SupersededRow {
  std::size_t input = 0;
  Row row;  // Layout::superseded_columns
};

struct Loaded {
  std::vector<RunCopy> runs;  // in the order the input recorded them
  std::vector<SupersededRow> superseded;
};

// Every run of one input, and every result a rerun replaced in it.
Loaded load(const std::string& path, std::size_t input, Layout& layout) {
  const Snapshot snap(path);
  sqlite3* db = snap.db();
  const std::vector<std::string> run_columns = table_columns(db, path, "runs");
  if (input == 0) layout.run_columns = run_columns;
  if (run_columns != layout.run_columns) throw StorageError(path + ": runs has other columns than the first input");
  std::vector<RunCopy> runs;
  std::map<std::string, std::size_t> by_key;
  {
    sqlite::Statement st(db, path, "SELECT " + column_list(run_columns) + " FROM runs ORDER BY rowid");
    while (st.step()) {
      RunCopy r;
      r.input = input;
      for (std::size_t i = 0; i < run_columns.size(); ++i) r.run.push_back(st.value(static_cast<int>(i)));
      r.children.resize(layout.children.size());
      by_key[r.run[0].bytes] = runs.size();
      runs.push_back(std::move(r));
    }
  }
  for (std::size_t t = 0; t < layout.children.size(); ++t) {
    ChildTable& child = layout.children[t];
    const std::vector<std::string> columns = table_columns(db, path, child.name);
    if (input == 0) child.columns = columns;
    if (columns != child.columns) throw StorageError(path + ": " + child.name + " has other columns than the first input");
    sqlite::Statement st(db, path, "SELECT " + column_list(columns) + " FROM " + child.name + " ORDER BY rowid");
    while (st.step()) {
      Row row;
      for (std::size_t i = 0; i < columns.size(); ++i) row.push_back(st.value(static_cast<int>(i)));
      const auto it = by_key.find(row[0].bytes);
      // Rows of a deleted run that outlived it (foreign keys were off) belong to no run.
      if (it != by_key.end()) runs[it->second].children[t].push_back(std::move(row));
    }
  }
  std::vector<std::string> columns = table_columns(db, path, "superseded_runs", "id");
  columns.erase(columns.begin());  // the output numbers the rows again
  if (input == 0) layout.superseded_columns = columns;
  if (columns != layout.superseded_columns) {
    throw StorageError(path + ": superseded_runs has other columns than the first input");
  }
  std::vector<SupersededRow> superseded;
  sqlite::Statement st(db, path, "SELECT " + column_list(columns) + " FROM superseded_runs ORDER BY id");
  while (st.step()) {
    SupersededRow r{input, {}};
    for (std::size_t i = 0; i < columns.size(); ++i) r.row.push_back(st.value(static_cast<int>(i)));
    superseded.push_back(std::move(r));
  }
  return {std::move(runs), std::move(superseded)};
}

// Labels of what differs between two copies of a child table's rows, at most kMaxLabels.
void diff_rows(const ChildTable& t, const std::vector<Row>& a, const std::vector<Row>& b,
               std::vector<std::string>& out) {
  constexpr std::size_t kMaxLabels = 3;
  std::vector<std::size_t> key_idx;
  for (const auto& k : t.key) key_idx.push_back(index_of(t.columns, k));
  auto key_of = [&](const Row& r) {
    std::string k;
    for (std::size_t i : key_idx) {
      if (!k.empty()) k += ' ';
      k += text_of(r[i]);
    }
    return k;
  };
  std::map<std::string, const Row*> in_a;
  for (const Row& r : a) in_a[key_of(r)] = &r;
  std::set<std::string> seen;
  std::vector<std::string> labels;
  for (const Row& r : b) {
    const std::string k = key_of(r);
    seen.insert(k);
    const auto it = in_a.find(k);
    if (it == in_a.end()) {
      labels.push_back(t.name + "[" + k + "] (only in the second)");
      continue;
    }
    for (std::size_t i = 1; i < t.columns.size(); ++i) {
      if (t.ignored->count(t.columns[i]) == 0 && (*it->second)[i] != r[i]) {
        labels.push_back(t.name + "[" + k + "]." + t.columns[i]);
      }
    }
  }
  for (const auto& [k, row] : in_a) {
    if (seen.count(k) == 0) labels.push_back(t.name + "[" + k + "] (only in the first)");
  }
  const std::size_t n = labels.size();
  if (n > kMaxLabels) {
    labels.resize(kMaxLabels);
    std::string more = "and ";
    more.append(std::to_string(n - kMaxLabels)).append(" more in ").append(t.name);
    labels.push_back(more);
  }
  out.insert(out.end(), labels.begin(), labels.end());
}

std::vector<std::string> differences(const Layout& layout, const RunCopy& a, const RunCopy& b) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < layout.run_columns.size(); ++i) {
    if (kProvenanceRunColumns.count(layout.run_columns[i]) == 0 && a.run[i] != b.run[i]) {
      out.push_back(layout.run_columns[i]);
    }
  }
  for (std::size_t t = 0; t < layout.children.size(); ++t) {
    diff_rows(layout.children[t], a.children[t], b.children[t], out);
  }
  return out;
}

std::string joined(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& i : items) {
    if (!s.empty()) s += ", ";
    s += i;
  }
  return s;
}

// Settles duplicates of one run_key; returns the copy to keep.
class Chooser {
 public:
  Chooser(const Layout& layout, const std::vector<std::string>& inputs, const MergeOptions& opt,
          MergeReport& report)
      : layout_(layout),
        inputs_(inputs),
        opt_(opt),
        report_(report),
        status_(index_of(layout.run_columns, "status")),
        finished_(index_of(layout.run_columns, "finished_at")),
        started_(index_of(layout.run_columns, "started_at")) {}

  const RunCopy* choose(const RunCopy* kept, const RunCopy* other) {
    const std::string key = kept->run[0].bytes;
    const std::string& a = inputs_[kept->input];
    const std::string& b = inputs_[other->input];
    const std::vector<std::string> diff = differences(layout_, *kept, *other);
    if (diff.empty()) {
      note(key, "identical in " + a + " and " + b + "; kept one copy");
      return kept;
    }
    const std::string sa = kept->run[status_].bytes, sb = other->run[status_].bytes;
    const bool ra = is_result(sa), rb = is_result(sb);
    if (ra != rb) {
      const RunCopy* win = ra ? kept : other;
      note(key, "kept the " + (ra ? sa : sb) + " run from " + inputs_[win->input] + " over the " +
                    (ra ? sb : sa) + " one from " + inputs_[(ra ? other : kept)->input]);
      return win;
    }
    if (!ra) {
      const RunCopy* win = newer(other, kept) ? other : kept;
      note(key, "not finished in " + a + " (" + sa + ") nor in " + b + " (" + sb + "); kept the newer, from " +
                    inputs_[win->input]);
      return win;
    }
    const std::string what = "differs between " + a + " and " + b + " (" + joined(diff) + "); ";
    if (opt_.prefer == MergeOptions::Prefer::kFirst) {
      note(key, what + "kept " + a + "'s (--prefer-first)");
      return kept;
    }
    if (opt_.prefer == MergeOptions::Prefer::kNewest) {
      const RunCopy* win = newer(other, kept) ? other : kept;
      note(key, what + "kept the newer, from " + inputs_[win->input] + " (--prefer-newest)");
      return win;
    }
    report_.conflicts.push_back({key, diff, a, b});
    return kept;
  }

 private:
  static bool is_result(const std::string& status) { return status == kStatusDone || status == kStatusDiverged; }
  std::string time_of(const RunCopy* r) const {
    return !r->run[finished_].is_null() ? r->run[finished_].bytes : r->run[started_].bytes;
  }
  // Strictly newer: on a tie the earlier input wins.
  bool newer(const RunCopy* x, const RunCopy* than) const { return time_of(x) > time_of(than); }
  void note(const std::string& key, const std::string& text) { report_.notes.push_back("run " + key + ": " + text); }

  const Layout& layout_;
  const std::vector<std::string>& inputs_;
  const MergeOptions& opt_;
  MergeReport& report_;
  std::size_t status_, finished_, started_;
};

// The weights file of a run, re-expressed relative to the output DB's directory.
// `owner` names whose file it is in a warning ("run k1").
SqlValue rebase_weights(const SqlValue& wp, const std::string& input, const std::string& output,
                        const std::string& owner, MergeReport& report) {
  if (wp.type != SqlValue::Type::kText || wp.bytes.empty()) return wp;
  const fs::path file = (fs::absolute(input).parent_path() / wp.bytes).lexically_normal();
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    report.warnings.push_back(owner + ": weights file " + file.string() + " (named by " + input + ") does not exist");
  }
  fs::path rel = file.lexically_relative(fs::absolute(output).parent_path().lexically_normal());
  return SqlValue::of_text(rel.empty() ? file.string() : rel.string());
}

// Removes a DB file and SQLite's side files unless released.
class FileGuard {
 public:
  explicit FileGuard(std::string path) : path_(std::move(path)) { remove_all(); }
  ~FileGuard() {
    if (!released_) remove_all();
  }
  FileGuard(const FileGuard&) = delete;
  FileGuard& operator=(const FileGuard&) = delete;
  void release() { released_ = true; }
  void remove_all() const {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path_ + suffix, ec);
  }

 private:
  std::string path_;
  bool released_ = false;
};

std::string insert_sql(const std::string& table, const std::vector<std::string>& columns) {
  std::string values;
  for (std::size_t i = 1; i <= columns.size(); ++i) {
    if (i > 1) values += ", ";
    values.append("?").append(std::to_string(i));
  }
  std::string sql = "INSERT INTO ";
  sql.append(table).append("(").append(column_list(columns)).append(") VALUES(").append(values).append(")");
  return sql;
}

void insert_row(sqlite::Statement& st, const Row& row) {
  st.reset();
  for (std::size_t i = 0; i < row.size(); ++i) st.bind(static_cast<int>(i + 1), row[i]);
  st.run();
}

void write_output(const std::string& output, const Layout& layout, const std::vector<const RunCopy*>& runs,
                  const std::vector<SupersededRow>& superseded, const std::vector<std::string>& inputs,
                  MergeReport& report) {
  std::string tmp = output;
  tmp.append(".tmp.").append(std::to_string(getpid()));
  FileGuard guard(tmp);
  { const MetricsDb create(tmp); }  // the schema of this binary, views included
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(tmp.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close_v2(db);
    throw StorageError(tmp + ": cannot open the new DB");
  }
  try {
    sqlite::exec(db, tmp, "PRAGMA foreign_keys = ON");
    sqlite::exec(db, tmp, "BEGIN IMMEDIATE");
    sqlite::Statement run_insert(db, tmp, insert_sql("runs", layout.run_columns));
    std::vector<std::unique_ptr<sqlite::Statement>> child_inserts;
    for (const ChildTable& t : layout.children) {
      child_inserts.push_back(std::make_unique<sqlite::Statement>(db, tmp, insert_sql(t.name, t.columns)));
    }
    const std::size_t wp = index_of(layout.run_columns, "weights_path");
    for (const RunCopy* r : runs) {
      Row row = r->run;
      row[wp] = rebase_weights(row[wp], inputs[r->input], output, "run " + row[0].bytes, report);
      insert_row(run_insert, row);
      for (std::size_t t = 0; t < layout.children.size(); ++t) {
        for (const Row& child : r->children[t]) insert_row(*child_inserts[t], child);
      }
    }
    sqlite::Statement superseded_insert(db, tmp, insert_sql("superseded_runs", layout.superseded_columns));
    const std::size_t kept = index_of(layout.superseded_columns, "weights_kept");
    for (const SupersededRow& s : superseded) {
      Row row = s.row;
      row[kept] = rebase_weights(row[kept], inputs[s.input], output, "superseded result of run " + row[0].bytes, report);
      insert_row(superseded_insert, row);
    }
    sqlite::exec(db, tmp, "COMMIT");
    // One self-contained file to rename: no -wal beside it (`ternbench run` turns WAL back on).
    sqlite::exec(db, tmp, "PRAGMA journal_mode = DELETE");
  } catch (...) {
    sqlite3_close_v2(db);
    throw;
  }
  sqlite3_close_v2(db);
  // A -wal or -journal left by an older file at `output` would be replayed into the new one.
  std::error_code ec;
  for (const char* suffix : {"-wal", "-shm", "-journal"}) fs::remove(output + suffix, ec);
  fs::rename(tmp, output, ec);
  if (ec) throw StorageError(output + ": cannot rename " + tmp + " into place: " + ec.message());
  guard.release();
  report.runs_written = static_cast<int>(runs.size());
}

// Every input's superseded results, each once (two copies of one DB hold the same rows), in
// the order they were superseded; rows superseded at the same time keep the inputs' order.
std::vector<SupersededRow> superseded_history(const Layout& layout, const std::vector<Loaded>& loaded) {
  std::vector<SupersededRow> out;
  std::set<std::string> seen;
  for (const Loaded& in : loaded) {
    for (const SupersededRow& s : in.superseded) {
      std::string key;  // each value's type and exact text
      for (const SqlValue& v : s.row) {
        key += static_cast<char>('0' + static_cast<int>(v.type));
        key += v.type == SqlValue::Type::kBlob ? v.bytes : text_of(v);
        key += '\x1f';
      }
      if (seen.insert(key).second) out.push_back(s);
    }
  }
  const std::size_t at = index_of(layout.superseded_columns, "superseded_at");
  std::stable_sort(out.begin(), out.end(),
                   [at](const SupersededRow& a, const SupersededRow& b) { return a.row[at].bytes < b.row[at].bytes; });
  return out;
}

void check_arguments(const std::vector<std::string>& inputs, const std::string& output, const MergeOptions& opt) {
  if (inputs.empty()) throw ConfigError("ternbench merge", "", 0, "give at least one input DB");
  if (output.empty()) throw ConfigError("ternbench merge", "-o", 0, "give the output DB with -o PATH");
  std::error_code ec;
  if (!fs::exists(output, ec)) return;
  // Replacing a DB under its live writer would lose everything it writes from then on.
  if (const std::optional<WriterInfo> w = live_writer(output)) {
    throw ConfigError("ternbench merge", "-o", 0,
                      output + " is in use by " + w->describe() + "; merge into another file, or wait for it to finish");
  }
  for (const auto& in : inputs) {
    if (fs::equivalent(output, in, ec)) {
      throw ConfigError("ternbench merge", "-o", 0, output + " is also an input; write the merge to a new file");
    }
  }
  if (!opt.force) throw ConfigError("ternbench merge", "-o", 0, output + " exists; pass --force to replace it");
}

}  // namespace

MergeReport merge_dbs(const std::vector<std::string>& inputs, const std::string& output, const MergeOptions& opt) {
  check_arguments(inputs, output, opt);
  Layout layout = make_layout();
  std::vector<Loaded> loaded;
  for (std::size_t i = 0; i < inputs.size(); ++i) loaded.push_back(load(inputs[i], i, layout));

  MergeReport report;
  Chooser chooser(layout, inputs, opt, report);
  std::vector<std::string> order;  // keys by first appearance
  std::map<std::string, const RunCopy*> chosen;
  for (const Loaded& in : loaded) {
    for (const RunCopy& r : in.runs) {
      const std::string& key = r.run[0].bytes;
      auto it = chosen.find(key);
      if (it == chosen.end()) {
        order.push_back(key);
        chosen.emplace(key, &r);
      } else {
        it->second = chooser.choose(it->second, &r);
      }
    }
  }
  if (!report.conflicts.empty()) return report;
  std::vector<const RunCopy*> runs;
  for (const auto& key : order) runs.push_back(chosen.at(key));
  write_output(output, layout, runs, superseded_history(layout, loaded), inputs, report);
  return report;
}

std::string describe(const MergeConflict& c) {
  return "run " + c.run_key + ": " + joined(c.fields) + " differ between " + c.first_file + " and " + c.second_file;
}

}  // namespace ternbench::storage
