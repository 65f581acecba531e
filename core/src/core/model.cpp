#include "ternbench/core/model.hpp"

#include <functional>

#include "ternbench/base/error.hpp"
#include "ternbench/core/dense.hpp"
#include "ternbench/core/relu.hpp"

namespace ternbench::core {

void Model::add(std::unique_ptr<Layer> layer) {
  TB_CHECK(layer != nullptr, "Model::add: null layer");
  TB_CHECK(layers_.empty() || layers_.back()->out_features() == layer->in_features(),
           "Model::add: layer " + layer->name() + " takes " + std::to_string(layer->in_features()) +
               " features but the previous layer gives " + std::to_string(layers_.back()->out_features()));
  layers_.push_back(std::move(layer));
  acts_.emplace_back();
  grads_.emplace_back();
  batch_ = 0;
}

Eigen::Index Model::input_size() const { return layers_.empty() ? 0 : layers_.front()->in_features(); }

Eigen::Index Model::output_size() const { return layers_.empty() ? 0 : layers_.back()->out_features(); }

std::vector<Param*> Model::params() {
  std::vector<Param*> out;
  for (auto& l : layers_) {
    for (Param* p : l->params()) out.push_back(p);
  }
  return out;
}

std::vector<Weight*> Model::weights() {
  std::vector<Weight*> out;
  for (auto& l : layers_) {
    if (Weight* w = l->weight()) out.push_back(w);
  }
  return out;
}

std::int64_t Model::param_count() {
  std::int64_t n = 0;
  for (const Param* p : params()) n += static_cast<std::int64_t>(p->value.size());
  return n;
}

void Model::refresh() {
  for (auto& l : layers_) l->refresh();
}

Eigen::Ref<const Mat> Model::forward(const Eigen::Ref<const Mat>& x) {
  TB_CHECK(!layers_.empty(), "Model::forward: model " + name_ + " has no layers");
  TB_CHECK(x.rows() == input_size(), "Model::forward: input has " + std::to_string(x.rows()) +
                                         " features, model " + name_ + " expects " + std::to_string(input_size()));
  const Eigen::Index B = x.cols();
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    Mat& y = acts_[i];
    if (y.cols() < B) y.resize(layers_[i]->out_features(), B);  // grows once to the largest batch
    if (i == 0) {
      layers_[i]->forward(x, y.leftCols(B));
    } else {
      layers_[i]->forward(acts_[i - 1].leftCols(B), y.leftCols(B));
    }
  }
  batch_ = B;
  return acts_.back().leftCols(B);
}

void Model::backward(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& dlogits) {
  const Eigen::Index B = x.cols();
  TB_CHECK(batch_ == B && x.rows() == input_size(), "Model::backward: x is not the input of the last forward");
  TB_CHECK(dlogits.rows() == output_size() && dlogits.cols() == B, "Model::backward: dlogits shape mismatch");
  const std::size_t last = layers_.size() - 1;
  for (std::size_t i = last + 1; i-- > 0;) {
    const bool want_dx = i > 0;
    if (want_dx && grads_[i - 1].cols() < B) grads_[i - 1].resize(layers_[i - 1]->out_features(), B);
    const Eigen::Ref<const Mat> in = i == 0 ? Eigen::Ref<const Mat>(x) : Eigen::Ref<const Mat>(acts_[i - 1].leftCols(B));
    const Eigen::Ref<const Mat> dy = i == last ? dlogits : Eigen::Ref<const Mat>(grads_[i].leftCols(B));
    if (want_dx) {
      layers_[i]->backward(in, acts_[i].leftCols(B), dy, grads_[i - 1].leftCols(B), true);
    } else {
      layers_[i]->backward(in, acts_[i].leftCols(B), dy, no_dx_, false);
    }
  }
}

namespace {

struct ModelEntry {
  const char* name;
  ModelShape shape;
  std::function<Model(Rng&)> build;
};

// Dense layers of the given widths with ReLU between them (none after the last).
Model make_mlp(const std::string& name, const std::vector<Eigen::Index>& widths, Rng& rng) {
  Model m(name);
  for (std::size_t i = 0; i + 1 < widths.size(); ++i) {
    m.add(std::make_unique<Dense>("dense" + std::to_string(i), widths[i], widths[i + 1], rng));
    if (i + 2 < widths.size()) m.add(std::make_unique<Relu>("relu" + std::to_string(i), widths[i + 1]));
  }
  return m;
}

const std::vector<Eigen::Index> kMlpWidths = {784, 500, 300, 10};

// Add a model here: name, (inputs, classes), builder.
const std::vector<ModelEntry>& registry() {
  static const std::vector<ModelEntry> entries = {
      {"mlp", {kMlpWidths.front(), kMlpWidths.back()}, [](Rng& rng) { return make_mlp("mlp", kMlpWidths, rng); }},
  };
  return entries;
}

const ModelEntry& find_model(const std::string& name) {
  for (const auto& e : registry()) {
    if (name == e.name) return e;
  }
  std::string valid;
  for (const auto& e : registry()) valid += (valid.empty() ? "" : ", ") + std::string(e.name);
  throw Error("model '" + name + "' is unknown (valid: " + valid + ")");
}

}  // namespace

std::vector<std::string> model_names() {
  std::vector<std::string> out;
  for (const auto& e : registry()) out.emplace_back(e.name);
  return out;
}

ModelShape model_shape(const std::string& name) { return find_model(name).shape; }

Model make_model(const std::string& name, Rng& rng) { return find_model(name).build(rng); }

void apply_method(Model& model, const TrainConfig& cfg) {
  if (!method_quantizes(cfg.method)) return;
  const std::vector<Weight*> ws = model.weights();
  for (std::size_t i = 0; i < ws.size(); ++i) {
    const bool first = i == 0, last = i + 1 == ws.size();
    if ((first && !cfg.quantize_first) || (last && !cfg.quantize_last)) continue;
    ws[i]->set_quantizer(make_quantizer(cfg));
  }
}

}  // namespace ternbench::core
