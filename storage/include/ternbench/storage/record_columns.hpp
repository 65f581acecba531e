#pragma once
// The columns of each stored record, described once, in the order of its table's columns:
// the DB's binding and reading (run_rows.cpp, metrics_db.cpp, epoch_layers.cpp), the MPI
// protocol's encoding (orchestrator/src/protocol.cpp) and the schema test
// (tests/storage/record_columns_test.cpp, against PRAGMA table_info) all walk these lists.
// A new column is one line here, plus its migration.
//
// Each visit(r, f) calls f(name, field, empty) per column, with r a record or a const one;
// `empty` says how a text field's "" is stored (ignored for other types).
#include "ternbench/storage/records.hpp"

namespace ternbench::storage {

enum class Empty { kText, kNull };

struct RunColumns {
  template <class R, class F>
  static void visit(R& r, F&& f) {
    constexpr Empty kText = Empty::kText, kNull = Empty::kNull;
    f("run_key", r.run_key, kText);
    f("sweep", r.sweep, kText);
    f("config_toml", r.config_toml, kText);
    f("dataset", r.dataset, kText);
    f("model", r.model, kText);
    f("method", r.method, kText);
    f("seed", r.seed, kText);
    f("lr", r.lr, kText);
    f("status", r.status, kText);
    f("error", r.error, kNull);
    f("weights_path", r.weights_path, kNull);
    f("git_commit", r.git_commit, kText);
    f("git_dirty", r.git_dirty, kText);
    f("host", r.host, kText);
    f("rank", r.rank, kText);
    f("threads", r.threads, kText);
    f("started_at", r.started_at, kNull);
    f("finished_at", r.finished_at, kNull);
    f("train_seconds", r.train_seconds, kText);
    f("epochs_done", r.epochs_done, kText);
    f("train_loss", r.train_loss, kText);
    f("train_acc", r.train_acc, kText);
    f("test_loss", r.test_loss, kText);
    f("test_acc", r.test_acc, kText);
    f("sparsity", r.sparsity, kText);
    f("bits_per_weight", r.bits_per_weight, kText);
    f("n_weights", r.n_weights, kText);
    f("n_nonzero", r.n_nonzero, kText);
    f("attempts", r.attempts, kText);
    f("slurm_job_id", r.slurm_job_id, kNull);
    f("slurm_restart_count", r.slurm_restart_count, kText);
    f("versions", r.versions, kNull);
    f("config_json", r.config_json, kNull);
    f("size_fp32_bits", r.size_fp32_bits, kText);
    f("size_binary_bits", r.size_binary_bits, kText);
    f("size_ternary_2bit_bits", r.size_ternary_2bit_bits, kText);
    f("size_ternary_base3_bits", r.size_ternary_base3_bits, kText);
    f("size_bitmap_bits", r.size_bitmap_bits, kText);
    f("size_relative_index_bits", r.size_relative_index_bits, kText);
    f("n_float_params", r.n_float_params, kText);
    f("float_param_bits", r.float_param_bits, kText);
    f("weights_sha256", r.weights_sha256, kNull);
    f("init_from", r.init_from, kNull);
    f("data_sha256", r.data_sha256, kNull);
  }
};

// A weight matrix's code counts and quantizer statistics, shared by the layers and the
// epoch_layers tables (LayerRecord and EpochLayerRecord name them alike).
struct CodeCountColumns {
  template <class R, class F>
  static void visit(R& l, F&& f) {
    constexpr Empty kText = Empty::kText;
    f("n", l.n, kText);
    f("n_zero", l.n_zero, kText);
    f("n_pos", l.n_pos, kText);
    f("n_neg", l.n_neg, kText);
    f("sparsity", l.sparsity, kText);
    f("scale", l.scale, kText);
    f("delta", l.delta, kText);
  }
};

// The epochs table's columns (the epoch's layers are EpochLayerColumns rows of their own).
struct EpochColumns {
  template <class R, class F>
  static void visit(R& e, F&& f) {
    constexpr Empty kText = Empty::kText;
    f("run_key", e.run_key, kText);
    f("epoch", e.epoch, kText);
    f("train_loss", e.train_loss, kText);
    f("train_acc", e.train_acc, kText);
    f("test_loss", e.test_loss, kText);
    f("test_acc", e.test_acc, kText);
    f("sparsity", e.sparsity, kText);
    f("seconds", e.seconds, kText);
    f("stage", e.stage, kText);
    f("lr", e.lr, kText);
    f("test_acc_continuous", e.test_acc_continuous, kText);
    f("test_loss_continuous", e.test_loss_continuous, kText);
    f("reg_penalty", e.reg_penalty, kText);
  }
};

// The epoch_layers table's columns after its key (run_key, stage, epoch: the epoch's).
struct EpochLayerColumns {
  template <class R, class F>
  static void visit(R& l, F&& f) {
    constexpr Empty kText = Empty::kText;
    f("layer", l.layer, kText);
    f("precision", l.precision, kText);
    CodeCountColumns::visit(l, f);
    f("codes_changed", l.codes_changed, kText);
  }
};

struct LayerColumns {
  template <class R, class F>
  static void visit(R& l, F&& f) {
    constexpr Empty kText = Empty::kText;
    f("run_key", l.run_key, kText);
    f("layer", l.layer, kText);
    f("precision", l.precision, kText);
    f("rows", l.rows, kText);
    f("cols", l.cols, kText);
    CodeCountColumns::visit(l, f);
    f("bits", l.bits, kText);
    f("n_scales", l.n_scales, kText);
    f("bits_fp32", l.bits_fp32, kText);
    f("bits_binary", l.bits_binary, kText);
    f("bits_ternary_2bit", l.bits_ternary_2bit, kText);
    f("bits_ternary_base3", l.bits_ternary_base3, kText);
    f("bits_bitmap", l.bits_bitmap, kText);
    f("bits_relative_index", l.bits_relative_index, kText);
    f("relative_index_b", l.relative_index_b, kText);
  }
};

struct StageColumns {
  template <class R, class F>
  static void visit(R& s, F&& f) {
    constexpr Empty kText = Empty::kText;
    f("run_key", s.run_key, kText);
    f("stage", s.stage, kText);
    f("ordinal", s.ordinal, kText);
    f("epochs", s.epochs, kText);
    f("test_loss", s.test_loss, kText);
    f("test_acc", s.test_acc, kText);
    f("sparsity", s.sparsity, kText);
  }
};

struct InferenceColumns {
  template <class R, class F>
  static void visit(R& i, F&& f) {
    constexpr Empty kText = Empty::kText;
    f("run_key", i.run_key, kText);
    f("engine", i.engine, kText);
    f("threads", i.threads, kText);
    f("n_test", i.n_test, kText);
    f("predictions_identical", i.predictions_identical, kText);
    f("test_acc", i.test_acc, kText);
    f("latency_us", i.latency_us, kText);
    f("float_latency_us", i.float_latency_us, kText);
    f("throughput", i.throughput, kText);
    f("float_throughput", i.float_throughput, kText);
    f("bytes", i.bytes, kText);
    f("float32_bytes", i.float32_bytes, kText);
    f("host", i.host, kText);
    f("git_commit", i.git_commit, kText);
    f("measured_at", i.measured_at, kText);
  }
};

}  // namespace ternbench::storage
