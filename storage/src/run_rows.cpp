// The runs table's row: its columns in RunRecord order, binding and reading them.
#include "run_rows.hpp"

#include <array>
#include <string>
#include <string_view>

#include "ternbench/base/error.hpp"

namespace ternbench::storage::run_rows {
namespace {

using sqlite::Statement;

// Same order as RunRecord and as bind_run/read below.
constexpr std::array<std::string_view, 44> kRunColumns = {
    "run_key",     "sweep",       "config_toml",   "dataset",     "model",      "method",
    "seed",        "lr",          "status",        "error",       "weights_path", "git_commit",
    "git_dirty",   "host",        "rank",          "threads",     "started_at", "finished_at",
    "train_seconds", "epochs_done", "train_loss",  "train_acc",   "test_loss",  "test_acc",
    "sparsity",    "bits_per_weight", "n_weights", "n_nonzero", "attempts",  "slurm_job_id",
    "slurm_restart_count", "versions", "config_json", "size_fp32_bits", "size_binary_bits",
    "size_ternary_2bit_bits", "size_ternary_base3_bits", "size_bitmap_bits",
    "size_relative_index_bits", "n_float_params", "float_param_bits", "weights_sha256", "init_from",
    "data_sha256"};

}  // namespace

std::string column_list() {
  std::string s;
  for (std::string_view c : kRunColumns) {
    if (!s.empty()) s += ", ";
    s += c;
  }
  return s;
}

namespace {

std::string insert_run_sql() {
  std::string values;
  for (std::size_t i = 1; i <= kRunColumns.size(); ++i) {
    values += (i > 1 ? ", ?" : "?") + std::to_string(i);
  }
  return "INSERT INTO runs(" + column_list() + ") VALUES(" + values + ")";
}

std::string update_run_sql() {
  std::string sets;
  for (std::size_t i = 2; i <= kRunColumns.size(); ++i) {
    if (!sets.empty()) sets += ", ";
    sets += std::string(kRunColumns[i - 1]) + " = ?" + std::to_string(i);
  }
  return "UPDATE runs SET " + sets + " WHERE run_key = ?1";
}

void bind_run(Statement& st, const RunRecord& r) {
  int i = 1;
  st.bind(i++, r.run_key);
  st.bind(i++, r.sweep);
  st.bind(i++, r.config_toml);
  st.bind(i++, r.dataset);
  st.bind(i++, r.model);
  st.bind(i++, r.method);
  st.bind(i++, r.seed);
  st.bind(i++, r.lr);
  st.bind(i++, r.status);
  st.bind_text_or_null(i++, r.error);
  st.bind_text_or_null(i++, r.weights_path);
  st.bind(i++, r.git_commit);
  st.bind(i++, r.git_dirty);
  st.bind(i++, r.host);
  st.bind(i++, r.rank);
  st.bind(i++, r.threads);
  st.bind_text_or_null(i++, r.started_at);
  st.bind_text_or_null(i++, r.finished_at);
  st.bind(i++, r.train_seconds);
  st.bind(i++, r.epochs_done);
  st.bind(i++, r.train_loss);
  st.bind(i++, r.train_acc);
  st.bind(i++, r.test_loss);
  st.bind(i++, r.test_acc);
  st.bind(i++, r.sparsity);
  st.bind(i++, r.bits_per_weight);
  st.bind(i++, r.n_weights);
  st.bind(i++, r.n_nonzero);
  st.bind(i++, r.attempts);
  st.bind_text_or_null(i++, r.slurm_job_id);
  st.bind(i++, r.slurm_restart_count);
  st.bind_text_or_null(i++, r.versions);
  st.bind_text_or_null(i++, r.config_json);
  st.bind(i++, r.size_fp32_bits);
  st.bind(i++, r.size_binary_bits);
  st.bind(i++, r.size_ternary_2bit_bits);
  st.bind(i++, r.size_ternary_base3_bits);
  st.bind(i++, r.size_bitmap_bits);
  st.bind(i++, r.size_relative_index_bits);
  st.bind(i++, r.n_float_params);
  st.bind(i++, r.float_param_bits);
  st.bind_text_or_null(i++, r.weights_sha256);
  st.bind_text_or_null(i++, r.init_from);
  st.bind_text_or_null(i++, r.data_sha256);
  TB_CHECK(static_cast<std::size_t>(i - 1) == kRunColumns.size(), "bind_run out of step with kRunColumns");
}

}  // namespace

RunRecord read(const Statement& st) {
  RunRecord r;
  int c = 0;
  r.run_key = st.text(c++);
  r.sweep = st.text(c++);
  r.config_toml = st.text(c++);
  r.dataset = st.text(c++);
  r.model = st.text(c++);
  r.method = st.text(c++);
  r.seed = st.integer(c++);
  r.lr = st.real(c++);
  r.status = st.text(c++);
  r.error = st.text(c++);
  r.weights_path = st.text(c++);
  r.git_commit = st.text(c++);
  r.git_dirty = st.integer(c++) != 0;
  r.host = st.text(c++);
  r.rank = st.int32(c++);
  r.threads = st.int32(c++);
  r.started_at = st.text(c++);
  r.finished_at = st.text(c++);
  r.train_seconds = st.real(c++);
  r.epochs_done = st.int32(c++);
  r.train_loss = st.real(c++);
  r.train_acc = st.real(c++);
  r.test_loss = st.real(c++);
  r.test_acc = st.real(c++);
  r.sparsity = st.real(c++);
  r.bits_per_weight = st.real(c++);
  r.n_weights = st.integer(c++);
  r.n_nonzero = st.integer(c++);
  r.attempts = st.int32(c++);
  r.slurm_job_id = st.text(c++);
  r.slurm_restart_count = st.int32(c++);
  r.versions = st.text(c++);
  r.config_json = st.text(c++);
  r.size_fp32_bits = st.real(c++);
  r.size_binary_bits = st.real(c++);
  r.size_ternary_2bit_bits = st.real(c++);
  r.size_ternary_base3_bits = st.real(c++);
  r.size_bitmap_bits = st.real(c++);
  r.size_relative_index_bits = st.real(c++);
  r.n_float_params = st.optional_integer(c++);
  r.float_param_bits = st.real(c++);
  r.weights_sha256 = st.text(c++);
  r.init_from = st.text(c++);
  r.data_sha256 = st.text(c++);
  return r;
}

// Updates the run's row, or inserts it; returns true when the row already existed.
bool upsert(sqlite3* db, sqlite::StatementCache& stmts, const RunRecord& r) {
  Statement update(stmts, update_run_sql());
  bind_run(update, r);
  update.run();
  if (sqlite3_changes(db) > 0) return true;
  Statement insert(stmts, insert_run_sql());
  bind_run(insert, r);
  insert.run();
  return false;
}

}  // namespace ternbench::storage::run_rows
