#include "ternbench/orchestrator/protocol.hpp"

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

#include "ternbench/base/error.hpp"
#include "ternbench/storage/record_columns.hpp"

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

// One field of a record, by its type; the order is the record's column list
// (storage/record_columns.hpp), so the encoding is the DB row's.
void put(Writer& w, const std::string& v) { w.str(v); }
void put(Writer& w, double v) { w.f64(v); }
void put(Writer& w, std::int64_t v) { w.i64(v); }
void put(Writer& w, int v) { w.i64(v); }
void put(Writer& w, bool v) { w.i64(v ? 1 : 0); }
void put(Writer& w, const std::optional<std::int64_t>& v) { w.opt_i64(v); }

void get(Reader& in, std::string& v) { v = in.str(); }
void get(Reader& in, double& v) { v = in.f64(); }
void get(Reader& in, std::int64_t& v) { v = in.i64(); }
void get(Reader& in, int& v) { v = in.i32(); }
void get(Reader& in, bool& v) { v = in.i64() != 0; }
void get(Reader& in, std::optional<std::int64_t>& v) { v = in.opt_i64(); }

template <class Columns, class Record>
void put_record(Writer& w, const Record& r) {
  Columns::visit(r, [&](std::string_view, const auto& v, storage::Empty) { put(w, v); });
}

template <class Columns, class Record>
Record get_record(Reader& in) {
  Record r;
  Columns::visit(r, [&](std::string_view, auto& v, storage::Empty) { get(in, v); });
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
  put_record<storage::EpochColumns>(out, e);
  out.i64(static_cast<std::int64_t>(e.layers.size()));
  for (const auto& l : e.layers) put_record<storage::EpochLayerColumns>(out, l);
  return out.take();
}

storage::EpochRecord decode_epoch(const std::string& payload) {
  Reader in(payload);
  storage::EpochRecord e = get_record<storage::EpochColumns, storage::EpochRecord>(in);
  const std::int64_t n = in.i64();
  if (n < 0 || n > 100000) throw CommError("malformed epoch message: layer count " + std::to_string(n));
  for (std::int64_t i = 0; i < n; ++i) {
    e.layers.push_back(get_record<storage::EpochLayerColumns, storage::EpochLayerRecord>(in));
  }
  in.finish();
  return e;
}

std::string encode(const RunResult& r) {
  Writer out;
  put_record<storage::RunColumns>(out, r.run);
  out.i64(static_cast<std::int64_t>(r.layers.size()));
  for (const auto& l : r.layers) put_record<storage::LayerColumns>(out, l);
  out.i64(static_cast<std::int64_t>(r.stages.size()));
  for (const auto& st : r.stages) put_record<storage::StageColumns>(out, st);
  return out.take();
}

RunResult decode_result(const std::string& payload) {
  Reader in(payload);
  RunResult r;
  r.run = get_record<storage::RunColumns, storage::RunRecord>(in);
  const std::int64_t n = in.i64();
  if (n < 0 || n > 100000) throw CommError("malformed result message: layer count " + std::to_string(n));
  for (std::int64_t i = 0; i < n; ++i) {
    r.layers.push_back(get_record<storage::LayerColumns, storage::LayerRecord>(in));
  }
  const std::int64_t n_stages = in.i64();
  if (n_stages < 0 || n_stages > 1000) throw CommError("malformed result message: stage count " + std::to_string(n_stages));
  for (std::int64_t i = 0; i < n_stages; ++i) {
    r.stages.push_back(get_record<storage::StageColumns, storage::StageRecord>(in));
  }
  in.finish();
  return r;
}

}  // namespace ternbench::orchestrator
