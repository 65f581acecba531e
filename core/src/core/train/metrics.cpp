#include "ternbench/core/train/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <span>

#include "ternbench/base/error.hpp"
#include "ternbench/core/kernels/loss.hpp"
#include "ternbench/core/kernels/quantize.hpp"
#include "ternbench/core/deploy/deploy_codes.hpp"

namespace ternbench::core {

namespace {

// Puts the model in evaluation mode for its lifetime: evaluating in training mode would mix
// test batches into the running statistics and drop activations.
class EvalMode {
 public:
  explicit EvalMode(Model& m) : model_(m), was_training_(m.training()) { model_.set_training(false); }
  ~EvalMode() { model_.set_training(was_training_); }
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  Model& model_;
  bool was_training_;
};

}  // namespace

Evaluation evaluate_batches(const BatchForward& forward, const Dataset& d, std::int64_t n, Eigen::Index batch,
                            std::vector<int>* predictions) {
  TB_CHECK(batch > 0, "evaluate: batch must be > 0");
  const std::int64_t total = n > 0 ? std::min<std::int64_t>(n, static_cast<std::int64_t>(d.size()))
                                   : static_cast<std::int64_t>(d.size());
  Evaluation e;
  if (predictions) predictions->clear();
  if (total == 0) return e;
  double loss_sum = 0;
  std::int64_t correct = 0;
  for (std::int64_t start = 0; start < total; start += batch) {
    const Eigen::Index b = static_cast<Eigen::Index>(std::min<std::int64_t>(batch, total - start));
    const Eigen::Index s = static_cast<Eigen::Index>(start);
    const Eigen::Ref<const Mat> logits = forward(d.images.middleCols(s, b));
    const kernels::LossResult r = kernels::softmax_cross_entropy_eval(
        logits, std::span<const std::uint8_t>(d.labels.data() + start, static_cast<std::size_t>(b)));
    if (!std::isfinite(r.loss)) e.finite = false;
    loss_sum += r.loss * static_cast<double>(b);
    correct += r.correct;
    if (predictions) {
      for (Eigen::Index j = 0; j < b; ++j) {
        Eigen::Index arg = 0;
        logits.col(j).maxCoeff(&arg);  // the first maximum, as the loss counts correct ones
        predictions->push_back(static_cast<int>(arg));
      }
    }
  }
  e.loss = loss_sum / static_cast<double>(total);
  e.accuracy = static_cast<double>(correct) / static_cast<double>(total);
  return e;
}

Evaluation evaluate(Model& model, const Dataset& d, std::int64_t n, Eigen::Index batch,
                    std::vector<int>* predictions) {
  const EvalMode eval_mode(model);
  return evaluate_batches([&](const Eigen::Ref<const Mat>& x) { return model.forward(x); }, d, n, batch,
                          predictions);
}

LayerStats weight_stats(const Weight& w) {
  const Mat& q = w.deployed();
  const kernels::SignCounts c = kernels::sign_counts(q);
  LayerStats s;
  s.name = w.latent().name;
  s.precision = w.precision();
  s.rows = static_cast<std::int64_t>(q.rows());
  s.cols = static_cast<std::int64_t>(q.cols());
  s.n = static_cast<std::int64_t>(q.size());
  s.n_neg = c.neg;
  s.n_zero = c.zero;
  s.n_pos = c.pos;
  s.sparsity = s.n > 0 ? static_cast<double>(s.n_zero) / static_cast<double>(s.n) : 0.0;
  const bool quantized = s.precision != "fp32";
  s.scale = quantized ? w.quantizer()->scale() : 0.0;
  s.delta = quantized ? w.quantizer()->delta() : 0.0;
  s.n_scales = quantized ? static_cast<std::int64_t>(w.quantizer()->scales().size()) : 0;
  // As deployed: fp32, 1 bit (binary) or 2 bits (dense ternary) per weight plus the scales.
  if (s.precision == "binary") {
    s.bits = binary_bits(s.n, s.n_scales);
  } else if (s.precision == "ternary") {
    s.bits = ternary_2bit_bits(s.n, s.n_scales);
  } else {
    s.bits = fp32_bits(s.n);
  }
  return s;
}

std::vector<std::int8_t> deployed_codes(const Weight& w) {
  if (!w.quantized()) return {};
  const Mat& q = w.deployed();
  std::vector<std::int8_t> out(static_cast<std::size_t>(q.size()));
  const float* p = q.data();
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::int8_t>((p[i] > 0.0f) - (p[i] < 0.0f));
  return out;
}

double codes_changed(const Mat& q, const std::vector<std::int8_t>& codes) {
  if (codes.empty()) return kNoValue;
  TB_CHECK(codes.size() == static_cast<std::size_t>(q.size()), "codes_changed: the codes belong to another matrix");
  const float* p = q.data();
  std::int64_t changed = 0;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    const int sign = (p[i] > 0.0f) - (p[i] < 0.0f);
    changed += sign != codes[i] ? 1 : 0;
  }
  return static_cast<double>(changed) / static_cast<double>(codes.size());
}

double deployed_sparsity(Model& model) {
  std::int64_t zeros = 0, n = 0;
  for (const Weight* w : model.weights()) {
    zeros += kernels::sign_counts(w->deployed()).zero;
    n += static_cast<std::int64_t>(w->deployed().size());
  }
  return n > 0 ? static_cast<double>(zeros) / static_cast<double>(n) : 0.0;
}

std::int64_t float_param_count(Model& model) {
  std::int64_t n = 0;
  for (const auto& layer : model.layers()) {
    const std::vector<Weight*> ws = layer->weights();
    for (const Param* p : layer->params()) {
      const bool weight = std::any_of(ws.begin(), ws.end(), [&](const Weight* x) { return &x->latent() == p; });
      if (!weight) n += static_cast<std::int64_t>(p->value.size());
    }
  }
  return n;
}

std::vector<LayerStats> layer_stats(Model& model) {
  std::vector<LayerStats> out;
  for (const Weight* w : model.weights()) out.push_back(weight_stats(*w));
  return out;
}

void summarize_weights(Model& model, TrainResult& result) {
  result.layers = layer_stats(model);
  const std::vector<Weight*> weights = model.weights();
  std::vector<LayerSizes> sizes;
  double bits = 0;
  std::int64_t n = 0, zeros = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const LayerStats& s = result.layers[i];
    sizes.push_back(layer_sizes(s.name, s.precision, weights[i]->deployed(), s.n_scales));
    bits += s.bits;
    n += s.n;
    zeros += s.n_zero;
  }
  result.n_weights = n;
  result.n_nonzero = n - zeros;
  result.sparsity = n > 0 ? static_cast<double>(zeros) / static_cast<double>(n) : 0.0;
  result.bits_per_weight = n > 0 ? bits / static_cast<double>(n) : 0.0;
  result.sizes = summarize_sizes(std::move(sizes), float_param_count(model));
}

namespace {

// shape: the tensor's stored shape (Param::shape); empty means {rows, cols}, or {rows} for a
// column vector. Data is m's row-major order either way, which a conv weight's
// (out, in*k*k) matrix makes (out, in, k, k) in C order.
NamedTensor row_major(const std::string& name, const Mat& m, const std::vector<std::int64_t>& shape) {
  NamedTensor t;
  t.name = name;
  if (!shape.empty()) {
    std::int64_t n = 1;
    for (const std::int64_t d : shape) n *= d;
    TB_CHECK(n == static_cast<std::int64_t>(m.size()),
             "export_weights: the stored shape of " + name + " does not match its size");
    t.shape = shape;
  } else if (m.cols() == 1) {
    t.shape = {static_cast<std::int64_t>(m.rows())};
  } else {
    t.shape = {static_cast<std::int64_t>(m.rows()), static_cast<std::int64_t>(m.cols())};
  }
  t.data.resize(static_cast<std::size_t>(m.size()));
  Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(t.data.data(), m.rows(),
                                                                                     m.cols()) = m;
  return t;
}

}  // namespace

std::vector<NamedTensor> export_weights(Model& model) {
  std::vector<NamedTensor> out;
  for (const auto& layer : model.layers()) {
    const std::vector<Weight*> ws = layer->weights();
    for (const Param* p : layer->params()) {
      const auto w = std::find_if(ws.begin(), ws.end(), [&](const Weight* x) { return &x->latent() == p; });
      if (w != ws.end()) {
        out.push_back(row_major(p->name, (*w)->deployed(), p->shape));
        const LayerStats s = weight_stats(**w);
        out.back().attrs = {{"precision", s.precision}, {"sparsity", s.sparsity}, {"scale", s.scale},
                            {"threshold", s.delta}};
        if ((*w)->quantized()) {
          out.push_back(row_major(p->name + "_latent", p->value, p->shape));
          for (NamedTensor& t : deployable_codes(**w)) out.push_back(std::move(t));
        }
      } else {
        out.push_back(row_major(p->name, p->value, p->shape));
      }
    }
    for (const Param* b : layer->buffers()) out.push_back(row_major(b->name, b->value, b->shape));
  }
  return out;
}

const NamedTensor* find_tensor(const std::vector<NamedTensor>& ts, const std::string& name) {
  const auto it = std::find_if(ts.begin(), ts.end(), [&](const NamedTensor& t) { return t.name == name; });
  return it == ts.end() ? nullptr : &*it;
}

}  // namespace ternbench::core
