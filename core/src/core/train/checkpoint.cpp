#include "ternbench/core/train/checkpoint.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "ternbench/base/error.hpp"
#include "ternbench/core/nn/dropout.hpp"
#include "ternbench/core/methods/quantizer.hpp"

namespace ternbench::core {
namespace {

// Stage names travel as indices into these lists inside the f64 history rows.
const std::array<const char*, 4> kEpochStages = {"train", "finetune", "stage1", "stage3"};
const std::array<const char*, 7> kStageNames = {"final", "continuous", "rounded", "finetuned",
                                                "stage1", "stage2",     "stage3"};
const std::array<const char*, 3> kPrecisions = {"fp32", "binary", "ternary"};
constexpr std::size_t kEpochRow = 12, kStageRow = 5, kLayerRow = 14;

template <std::size_t N>
double index_of(const std::array<const char*, N>& names, const std::string& name) {
  for (std::size_t i = 0; i < N; ++i) {
    if (name == names[i]) return static_cast<double>(i);
  }
  throw Error("checkpoint: unknown stage or precision name " + name);
}

template <std::size_t N>
std::string name_at(const std::array<const char*, N>& names, double i) {
  if (!(i >= 0 && i < static_cast<double>(N))) throw Error("checkpoint: bad stage or precision index in the history");
  return names[static_cast<std::size_t>(i)];
}

NamedTensor f32(std::string name, const Mat& m) {
  NamedTensor t;
  t.name = std::move(name);
  t.shape = {static_cast<std::int64_t>(m.size())};
  t.data.assign(m.data(), m.data() + m.size());  // column-major as held; restored the same way
  return t;
}

NamedTensor words(std::string name, std::vector<std::uint64_t> w) {
  NamedTensor t;
  t.name = std::move(name);
  t.shape = {static_cast<std::int64_t>(w.size())};
  t.u64 = std::move(w);
  return t;
}

NamedTensor reals(std::string name, std::vector<double> v, std::int64_t row) {
  NamedTensor t;
  t.name = std::move(name);
  t.shape = {static_cast<std::int64_t>(v.size()) / row, row};
  t.f64 = std::move(v);
  return t;
}

// Layer statistics of every epoch: one f64 row per (epoch, weight), keyed by the epoch's
// position in the history and the weight's index in a names tensor stored once, since every
// epoch of a run has the same weights. Rows carry their epoch so that a history resumed
// from a checkpoint without them (epochs with no rows) still round-trips.
void put_layer_history(std::vector<NamedTensor>& ts, const std::vector<EpochMetrics>& epochs) {
  std::vector<std::string> names;
  std::vector<double> rows, changed;
  for (std::size_t i = 0; i < epochs.size(); ++i) {
    for (const LayerStats& l : epochs[i].layers) {
      changed.push_back(l.codes_changed);
      const auto it = std::find(names.begin(), names.end(), l.name);
      const auto name = static_cast<double>(it - names.begin());
      if (it == names.end()) names.push_back(l.name);
      rows.insert(rows.end(), {static_cast<double>(i), name, index_of(kPrecisions, l.precision),
                               static_cast<double>(l.rows), static_cast<double>(l.cols), static_cast<double>(l.n),
                               static_cast<double>(l.n_zero), static_cast<double>(l.n_pos),
                               static_cast<double>(l.n_neg), l.sparsity, l.scale, l.delta, l.bits,
                               static_cast<double>(l.n_scales)});
    }
  }
  NamedTensor joined;
  joined.name = "history/epoch_layer_names";
  for (const std::string& n : names) {
    if (n.find('\n') != std::string::npos) throw Error("checkpoint: weight name with a newline: " + n);
    joined.u8.insert(joined.u8.end(), n.begin(), n.end());
    joined.u8.push_back('\n');
  }
  joined.shape = {static_cast<std::int64_t>(joined.u8.size())};
  ts.push_back(std::move(joined));
  ts.push_back(reals("history/epoch_layers", std::move(rows), kLayerRow));
  ts.push_back(reals("history/epoch_layer_codes_changed", std::move(changed), 1));
}

std::vector<std::string> split_names(const std::vector<std::uint8_t>& bytes) {
  std::vector<std::string> names;
  std::string cur;
  for (const std::uint8_t b : bytes) {
    if (b == '\n') {
      names.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(b));
    }
  }
  return names;
}

std::size_t index_in(double v, std::size_t n, const char* what) {
  if (!(v >= 0 && v < static_cast<double>(n))) {
    std::string msg = "checkpoint's history/epoch_layers is damaged (bad ";
    msg.append(what).append(" index)");
    throw Error(msg);
  }
  return static_cast<std::size_t>(v);
}

// Checkpoints written before per-epoch layer statistics have neither tensor: their epochs
// come back without layers.
void get_layer_history(const TrainState& s, std::vector<EpochMetrics>& epochs) {
  const NamedTensor* names_t = find_tensor(s.tensors, "history/epoch_layer_names");
  const NamedTensor* rows_t = find_tensor(s.tensors, "history/epoch_layers");
  if (names_t == nullptr && rows_t == nullptr) return;
  if (names_t == nullptr || rows_t == nullptr) throw Error("checkpoint has only half of its layer history");
  const std::vector<std::string> names = split_names(names_t->u8);
  const std::vector<double>& r = rows_t->f64;
  if (r.size() % kLayerRow != 0) throw Error("checkpoint's history/epoch_layers is damaged (ragged rows)");
  const NamedTensor* changed_t = find_tensor(s.tensors, "history/epoch_layer_codes_changed");
  if (changed_t != nullptr && changed_t->f64.size() != r.size() / kLayerRow)
    throw Error("checkpoint's history/epoch_layer_codes_changed is damaged (not one value per layer row)");
  for (std::size_t i = 0; i < r.size(); i += kLayerRow) {
    LayerStats l;
    if (changed_t != nullptr) l.codes_changed = changed_t->f64[i / kLayerRow];
    const std::size_t epoch = index_in(r[i], epochs.size(), "epoch");
    l.name = names[index_in(r[i + 1], names.size(), "name")];
    l.precision = name_at(kPrecisions, r[i + 2]);
    l.rows = static_cast<std::int64_t>(r[i + 3]);
    l.cols = static_cast<std::int64_t>(r[i + 4]);
    l.n = static_cast<std::int64_t>(r[i + 5]);
    l.n_zero = static_cast<std::int64_t>(r[i + 6]);
    l.n_pos = static_cast<std::int64_t>(r[i + 7]);
    l.n_neg = static_cast<std::int64_t>(r[i + 8]);
    l.sparsity = r[i + 9];
    l.scale = r[i + 10];
    l.delta = r[i + 11];
    l.bits = r[i + 12];
    l.n_scales = static_cast<std::int64_t>(r[i + 13]);
    epochs[epoch].layers.push_back(std::move(l));
  }
}

const NamedTensor& get(const TrainState& s, const std::string& name) {
  const NamedTensor* t = find_tensor(s.tensors, name);
  if (t == nullptr) throw Error("checkpoint has no " + name + "; it belongs to another model or method");
  return *t;
}

void load(const TrainState& s, const std::string& name, Mat& m) {
  const NamedTensor& t = get(s, name);
  if (t.data.size() != static_cast<std::size_t>(m.size()))
    throw Error("checkpoint's " + name + " has " + std::to_string(t.data.size()) + " values, the model's has " +
                std::to_string(m.size()));
  std::copy(t.data.begin(), t.data.end(), m.data());
}

void load_rng(const TrainState& s, const std::string& name, Rng& r) {
  const NamedTensor& t = get(s, name);
  if (t.u64.size() != 4) throw Error("checkpoint's " + name + " is not a random stream state");
  std::copy(t.u64.begin(), t.u64.end(), r.state);
}

}  // namespace

std::vector<std::pair<std::string, Rng*>> model_streams(Model& model) {
  std::vector<std::pair<std::string, Rng*>> out;
  for (const auto& l : model.layers()) {
    if (auto* d = dynamic_cast<Dropout*>(l.get())) out.emplace_back(d->name(), &d->rng());
  }
  for (Weight* w : model.weights()) {
    if (auto* bc = dynamic_cast<BinaryConnectQuantizer*>(w->quantizer()))
      out.emplace_back("quantizer/" + w->latent().name, &bc->rng());
  }
  return out;
}

TrainState capture_state(const Progress& progress, Model& model, Optimizer& opt,
                         const std::vector<std::pair<std::string, Rng*>>& streams,
                         const std::vector<EpochMetrics>& epochs, const std::vector<StageMetrics>& stages,
                         const InitCodes& init_codes) {
  TrainState s;
  s.epochs_done = progress.epochs_done;
  auto& ts = s.tensors;
  ts.push_back(words("progress", {static_cast<std::uint64_t>(progress.epochs_done),
                                  static_cast<std::uint64_t>(progress.phase),
                                  static_cast<std::uint64_t>(progress.phase_epochs)}));
  for (const Param* p : model.params()) ts.push_back(f32("param/" + p->name, p->value));
  for (const Param* p : model.buffers()) ts.push_back(f32("buffer/" + p->name, p->value));
  for (const auto& [name, m] : opt.state()) ts.push_back(f32("opt/" + name, *m));
  ts.push_back(words("opt/steps", {static_cast<std::uint64_t>(opt.steps())}));
  for (const auto& [name, r] : streams) ts.push_back(words("rng/" + name, {r->state, r->state + 4}));
  for (Weight* w : model.weights()) {
    const Quantizer* q = w->quantizer();
    const Mat* mask = q != nullptr ? q->pruning_mask() : nullptr;
    if (mask == nullptr) continue;
    ts.push_back(f32("mask/" + w->latent().name, *mask));
    ts.push_back(reals("mask_threshold/" + w->latent().name, {q->delta()}, 1));
  }
  std::vector<double> rows;
  for (const EpochMetrics& e : epochs) {
    rows.insert(rows.end(), {static_cast<double>(e.epoch), index_of(kEpochStages, e.stage), e.train_loss,
                             e.train_acc, e.test_loss, e.test_acc, e.test_loss_continuous, e.test_acc_continuous,
                             e.reg_penalty, e.sparsity, e.lr, e.seconds});
  }
  ts.push_back(reals("history/epochs", std::move(rows), kEpochRow));
  put_layer_history(ts, epochs);
  rows.clear();
  for (const StageMetrics& m : stages) {
    rows.insert(rows.end(), {index_of(kStageNames, m.stage), static_cast<double>(m.epochs), m.test_loss, m.test_acc,
                             m.sparsity});
  }
  ts.push_back(reals("history/stages", std::move(rows), kStageRow));
  const std::vector<Weight*> weights = model.weights();
  for (std::size_t i = 0; i < weights.size() && i < init_codes.size(); ++i) {
    if (init_codes[i].empty()) continue;
    NamedTensor t;
    t.name = "init_codes/" + weights[i]->latent().name;
    t.shape = {static_cast<std::int64_t>(init_codes[i].size())};
    for (const std::int8_t c : init_codes[i]) t.u8.push_back(static_cast<std::uint8_t>(c + 1));
    ts.push_back(std::move(t));
  }
  return s;
}

Progress state_progress(const TrainState& s) {
  const NamedTensor& t = get(s, "progress");
  if (t.u64.size() != 3) throw Error("checkpoint's progress record is damaged");
  return Progress{static_cast<int>(t.u64[0]), static_cast<int>(t.u64[1]), static_cast<int>(t.u64[2])};
}

void restore_model_state(const TrainState& s, Model& model, const std::vector<std::pair<std::string, Rng*>>& streams) {
  for (Param* p : model.params()) load(s, "param/" + p->name, p->value);
  for (Param* p : model.buffers()) load(s, "buffer/" + p->name, p->value);
  for (Weight* w : model.weights()) {
    Quantizer* q = w->quantizer();
    const std::string key = "mask/" + w->latent().name;
    if (q == nullptr || find_tensor(s.tensors, key) == nullptr) continue;
    Mat mask(w->latent().value.rows(), w->latent().value.cols());
    load(s, key, mask);
    const NamedTensor& d = get(s, "mask_threshold/" + w->latent().name);
    q->restore_pruning_mask(mask, d.f64.empty() ? 0.0 : d.f64[0]);
  }
  model.refresh();
  // Last: refreshing a stochastic quantizer draws from its stream.
  for (const auto& [name, r] : streams) load_rng(s, "rng/" + name, *r);
}

void restore_optimizer(const TrainState& s, Optimizer& opt) {
  for (const auto& [name, m] : opt.state()) load(s, "opt/" + name, *m);
  const NamedTensor& steps = get(s, "opt/steps");
  if (steps.u64.size() != 1) throw Error("checkpoint's opt/steps is damaged");
  opt.set_steps(static_cast<std::int64_t>(steps.u64[0]));
}

void restore_history(const TrainState& s, std::vector<EpochMetrics>& epochs, std::vector<StageMetrics>& stages) {
  const std::vector<double>& e = get(s, "history/epochs").f64;
  epochs.clear();
  for (std::size_t i = 0; i + kEpochRow <= e.size(); i += kEpochRow) {
    EpochMetrics m;
    m.epoch = static_cast<int>(e[i]);
    m.stage = name_at(kEpochStages, e[i + 1]);
    m.train_loss = e[i + 2];
    m.train_acc = e[i + 3];
    m.test_loss = e[i + 4];
    m.test_acc = e[i + 5];
    m.test_loss_continuous = e[i + 6];
    m.test_acc_continuous = e[i + 7];
    m.reg_penalty = e[i + 8];
    m.sparsity = e[i + 9];
    m.lr = e[i + 10];
    m.seconds = e[i + 11];
    epochs.push_back(m);
  }
  get_layer_history(s, epochs);
  const std::vector<double>& st = get(s, "history/stages").f64;
  stages.clear();
  for (std::size_t i = 0; i + kStageRow <= st.size(); i += kStageRow) {
    StageMetrics m;
    m.stage = name_at(kStageNames, st[i]);
    m.epochs = static_cast<int>(st[i + 1]);
    m.test_loss = st[i + 2];
    m.test_acc = st[i + 3];
    m.sparsity = st[i + 4];
    stages.push_back(m);
  }
}

InitCodes restore_init_codes(const TrainState& s, Model& model) {
  InitCodes out;
  for (const Weight* w : model.weights()) {
    std::vector<std::int8_t>& codes = out.emplace_back();
    const std::string name = "init_codes/" + w->latent().name;
    const NamedTensor* t = find_tensor(s.tensors, name);
    if (t == nullptr) continue;
    if (t->u8.size() != static_cast<std::size_t>(w->latent().value.size()) ||
        std::any_of(t->u8.begin(), t->u8.end(), [](std::uint8_t c) { return c > 2; }))
      throw Error("checkpoint's " + name + " is damaged (not one code 0..2 per weight)");
    for (const std::uint8_t c : t->u8) codes.push_back(static_cast<std::int8_t>(static_cast<int>(c) - 1));
  }
  return out;
}

}  // namespace ternbench::core
