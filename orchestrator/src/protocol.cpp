#include "ternbench/orchestrator/protocol.hpp"

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

#include "ternbench/base/error.hpp"

namespace ternbench::orchestrator {
namespace {

// Fields are length-prefixed ("<n>:<bytes>") so strings may hold anything (TOML, messages).
class Writer {
 public:
  Writer& str(std::string_view s) {
    out_ += std::to_string(s.size());
    out_ += ':';
    out_ += s;
    return *this;
  }
  Writer& i64(std::int64_t v) { return str(std::to_string(v)); }
  Writer& f64(double v) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::hex);
    return str(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
  }
  // nullopt travels as the empty field.
  Writer& opt_i64(const std::optional<std::int64_t>& v) { return v ? i64(*v) : str(""); }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  std::string str() {
    const std::size_t colon = in_.find(':', pos_);
    if (colon == std::string_view::npos) fail();
    std::size_t n = 0;
    const auto r = std::from_chars(in_.data() + pos_, in_.data() + colon, n);
    if (r.ec != std::errc() || r.ptr != in_.data() + colon || colon + 1 + n > in_.size()) fail();
    std::string s(in_.substr(colon + 1, n));
    pos_ = colon + 1 + n;
    return s;
  }
  std::int64_t i64() {
    const std::string s = str();
    std::int64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) fail();
    return v;
  }
  int i32() { return static_cast<int>(i64()); }
  std::optional<std::int64_t> opt_i64() {
    const std::size_t at = pos_;
    if (str().empty()) return std::nullopt;
    pos_ = at;
    return i64();
  }
  double f64() {
    const std::string s = str();
    double v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::hex);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) fail();
    return v;
  }
  void finish() const {
    if (pos_ != in_.size()) fail();
  }

 private:
  [[noreturn]] void fail() const {
    throw CommError("malformed message from another rank (at byte " + std::to_string(pos_) +
                    "); all ranks must run the same ternbench binary");
  }
  std::string_view in_;
  std::size_t pos_ = 0;
};

// hex to_chars omits the "0x" prefix and from_chars expects none, so the pair round-trips.
void put_run(Writer& w, const storage::RunRecord& r) {
  w.str(r.run_key).str(r.sweep).str(r.config_toml).str(r.dataset).str(r.model).str(r.method);
  w.i64(r.seed).f64(r.lr).str(r.status).str(r.error).str(r.weights_path).str(r.git_commit);
  w.i64(r.git_dirty ? 1 : 0).str(r.host).i64(r.rank).i64(r.threads).str(r.started_at).str(r.finished_at);
  w.f64(r.train_seconds).i64(r.epochs_done).f64(r.train_loss).f64(r.train_acc).f64(r.test_loss).f64(r.test_acc);
  w.f64(r.sparsity).f64(r.bits_per_weight).i64(r.n_weights).i64(r.n_nonzero);
  w.i64(r.attempts).str(r.slurm_job_id).i64(r.slurm_restart_count).str(r.versions);
  w.str(r.config_json).f64(r.size_fp32_bits).f64(r.size_binary_bits).f64(r.size_ternary_2bit_bits);
  w.f64(r.size_ternary_base3_bits).f64(r.size_bitmap_bits).f64(r.size_relative_index_bits);
  w.opt_i64(r.n_float_params).f64(r.float_param_bits).str(r.weights_sha256).str(r.init_from).str(r.data_sha256);
}

storage::RunRecord get_run(Reader& in) {
  storage::RunRecord r;
  r.run_key = in.str();
  r.sweep = in.str();
  r.config_toml = in.str();
  r.dataset = in.str();
  r.model = in.str();
  r.method = in.str();
  r.seed = in.i64();
  r.lr = in.f64();
  r.status = in.str();
  r.error = in.str();
  r.weights_path = in.str();
  r.git_commit = in.str();
  r.git_dirty = in.i64() != 0;
  r.host = in.str();
  r.rank = in.i32();
  r.threads = in.i32();
  r.started_at = in.str();
  r.finished_at = in.str();
  r.train_seconds = in.f64();
  r.epochs_done = in.i32();
  r.train_loss = in.f64();
  r.train_acc = in.f64();
  r.test_loss = in.f64();
  r.test_acc = in.f64();
  r.sparsity = in.f64();
  r.bits_per_weight = in.f64();
  r.n_weights = in.i64();
  r.n_nonzero = in.i64();
  r.attempts = in.i32();
  r.slurm_job_id = in.str();
  r.slurm_restart_count = in.i32();
  r.versions = in.str();
  r.config_json = in.str();
  r.size_fp32_bits = in.f64();
  r.size_binary_bits = in.f64();
  r.size_ternary_2bit_bits = in.f64();
  r.size_ternary_base3_bits = in.f64();
  r.size_bitmap_bits = in.f64();
  r.size_relative_index_bits = in.f64();
  r.n_float_params = in.opt_i64();
  r.float_param_bits = in.f64();
  r.weights_sha256 = in.str();
  r.init_from = in.str();
  r.data_sha256 = in.str();
  return r;
}

}  // namespace

std::string encode(const WorkItem& w) {
  Writer out;
  out.str(w.run_key).str(w.sweep).str(w.canonical_toml).str(w.weights_path).str(w.weights_ref).str(w.data_root);
  out.i64(w.attempt).str(w.init_from).str(w.init_weights);
  return out.take();
}

WorkItem decode_work(const std::string& payload) {
  Reader in(payload);
  WorkItem w;
  w.run_key = in.str();
  w.sweep = in.str();
  w.canonical_toml = in.str();
  w.weights_path = in.str();
  w.weights_ref = in.str();
  w.data_root = in.str();
  w.attempt = in.i32();
  w.init_from = in.str();
  w.init_weights = in.str();
  in.finish();
  return w;
}

std::string encode(const storage::EpochRecord& e) {
  Writer out;
  out.str(e.run_key).i64(e.epoch).f64(e.train_loss).f64(e.train_acc).f64(e.test_loss).f64(e.test_acc);
  out.f64(e.sparsity).f64(e.seconds).str(e.stage).f64(e.lr).f64(e.test_acc_continuous).f64(e.test_loss_continuous);
  out.f64(e.reg_penalty).i64(static_cast<std::int64_t>(e.layers.size()));
  for (const auto& l : e.layers) {
    out.str(l.layer).str(l.precision).i64(l.n).i64(l.n_zero).i64(l.n_pos).i64(l.n_neg);
    out.f64(l.sparsity).f64(l.scale).f64(l.delta).f64(l.codes_changed);
  }
  return out.take();
}

storage::EpochRecord decode_epoch(const std::string& payload) {
  Reader in(payload);
  storage::EpochRecord e;
  e.run_key = in.str();
  e.epoch = in.i32();
  e.train_loss = in.f64();
  e.train_acc = in.f64();
  e.test_loss = in.f64();
  e.test_acc = in.f64();
  e.sparsity = in.f64();
  e.seconds = in.f64();
  e.stage = in.str();
  e.lr = in.f64();
  e.test_acc_continuous = in.f64();
  e.test_loss_continuous = in.f64();
  e.reg_penalty = in.f64();
  const std::int64_t n = in.i64();
  if (n < 0 || n > 100000) throw CommError("malformed epoch message: layer count " + std::to_string(n));
  for (std::int64_t i = 0; i < n; ++i) {
    storage::EpochLayerRecord l;
    l.layer = in.str();
    l.precision = in.str();
    l.n = in.i64();
    l.n_zero = in.i64();
    l.n_pos = in.i64();
    l.n_neg = in.i64();
    l.sparsity = in.f64();
    l.scale = in.f64();
    l.delta = in.f64();
    l.codes_changed = in.f64();
    e.layers.push_back(std::move(l));
  }
  in.finish();
  return e;
}

std::string encode(const RunResult& r) {
  Writer out;
  put_run(out, r.run);
  out.i64(static_cast<std::int64_t>(r.layers.size()));
  for (const auto& l : r.layers) {
    out.str(l.run_key).str(l.layer).str(l.precision).i64(l.rows).i64(l.cols).i64(l.n).i64(l.n_zero);
    out.i64(l.n_pos).i64(l.n_neg).f64(l.sparsity).f64(l.scale).f64(l.delta).f64(l.bits);
    out.opt_i64(l.n_scales).f64(l.bits_fp32).f64(l.bits_binary).f64(l.bits_ternary_2bit);
    out.f64(l.bits_ternary_base3).f64(l.bits_bitmap).f64(l.bits_relative_index).opt_i64(l.relative_index_b);
  }
  out.i64(static_cast<std::int64_t>(r.stages.size()));
  for (const auto& s : r.stages) {
    out.str(s.run_key).str(s.stage).i64(s.ordinal).i64(s.epochs).f64(s.test_loss).f64(s.test_acc).f64(s.sparsity);
  }
  return out.take();
}

RunResult decode_result(const std::string& payload) {
  Reader in(payload);
  RunResult r;
  r.run = get_run(in);
  const std::int64_t n = in.i64();
  if (n < 0 || n > 100000) throw CommError("malformed result message: layer count " + std::to_string(n));
  for (std::int64_t i = 0; i < n; ++i) {
    storage::LayerRecord l;
    l.run_key = in.str();
    l.layer = in.str();
    l.precision = in.str();
    l.rows = in.i64();
    l.cols = in.i64();
    l.n = in.i64();
    l.n_zero = in.i64();
    l.n_pos = in.i64();
    l.n_neg = in.i64();
    l.sparsity = in.f64();
    l.scale = in.f64();
    l.delta = in.f64();
    l.bits = in.f64();
    l.n_scales = in.opt_i64();
    l.bits_fp32 = in.f64();
    l.bits_binary = in.f64();
    l.bits_ternary_2bit = in.f64();
    l.bits_ternary_base3 = in.f64();
    l.bits_bitmap = in.f64();
    l.bits_relative_index = in.f64();
    l.relative_index_b = in.opt_i64();
    r.layers.push_back(std::move(l));
  }
  const std::int64_t n_stages = in.i64();
  if (n_stages < 0 || n_stages > 1000) throw CommError("malformed result message: stage count " + std::to_string(n_stages));
  for (std::int64_t i = 0; i < n_stages; ++i) {
    storage::StageRecord st;
    st.run_key = in.str();
    st.stage = in.str();
    st.ordinal = in.i32();
    st.epochs = in.i32();
    st.test_loss = in.f64();
    st.test_acc = in.f64();
    st.sparsity = in.f64();
    r.stages.push_back(std::move(st));
  }
  in.finish();
  return r;
}

}  // namespace ternbench::orchestrator
