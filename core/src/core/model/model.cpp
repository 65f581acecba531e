#include "ternbench/core/model/model.hpp"

#include "ternbench/base/error.hpp"
#include "ternbench/core/methods/method.hpp"
#include "ternbench/core/nn/batchnorm.hpp"
#include "ternbench/core/nn/maxpool2d.hpp"
#include "ternbench/core/nn/relu.hpp"

namespace ternbench::core {

void Model::add(std::unique_ptr<Layer> layer) {
  TB_CHECK(layer != nullptr, "Model::add: null layer");
  TB_CHECK(layers_.empty() || layers_.back()->out_features() == layer->in_features(),
           "Model::add: layer " + layer->name() + " takes " + std::to_string(layer->in_features()) +
               " features but the previous layer gives " + std::to_string(layers_.back()->out_features()));
  layer->set_training(training_);
  layer->set_threads(threads_);
  layers_.push_back(std::move(layer));
  acts_.emplace_back();
  grads_.emplace_back();
  batch_ = 0;
  plan_fusion();
}

void Model::plan_fusion() {
  // BatchNorm -> ReLU [-> MaxPool2d] runs, left to right. Only the exact layer types: their
  // fused paths are defined to give what their separate forwards and backwards give.
  const std::size_t n = layers_.size();
  run_.assign(n, 1);
  for (std::size_t i = 0; i + 1 < n;) {
    auto* bn = dynamic_cast<BatchNorm*>(layers_[i].get());
    if (bn == nullptr || dynamic_cast<Relu*>(layers_[i + 1].get()) == nullptr) {
      ++i;
      continue;
    }
    auto* pool = i + 2 < n ? dynamic_cast<MaxPool2d*>(layers_[i + 2].get()) : nullptr;
    run_[i] = pool != nullptr && pool->fuses(*bn) ? 3 : 2;
    i += static_cast<std::size_t>(run_[i]);
  }
}

Eigen::Index Model::input_size() const { return layers_.empty() ? 0 : layers_.front()->in_features(); }

Eigen::Index Model::output_size() const { return layers_.empty() ? 0 : layers_.back()->out_features(); }

std::vector<Param*> Model::params() {
  std::vector<Param*> out;
  for (auto& l : layers_) {
    for (Param* p : l->params()) out.push_back(p);
    for (Weight* w : l->weights()) {
      for (Param* p : w->quantizer_params()) out.push_back(p);
    }
  }
  return out;
}

void Model::use_deployed(bool on) {
  for (Weight* w : weights()) w->use_deployed(on);
}

std::vector<Param*> Model::buffers() {
  std::vector<Param*> out;
  for (auto& l : layers_) {
    for (Param* p : l->buffers()) out.push_back(p);
  }
  return out;
}

std::vector<Weight*> Model::weights() {
  std::vector<Weight*> out;
  for (auto& l : layers_) {
    for (Weight* w : l->weights()) out.push_back(w);
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

void Model::set_threads(int threads) {
  threads_ = threads < 1 ? 1 : threads;
  for (auto& l : layers_) l->set_threads(threads_);
}

void Model::set_training(bool training) {
  training_ = training;
  for (auto& l : layers_) l->set_training(training);
}

Eigen::Ref<const Mat> Model::forward(const Eigen::Ref<const Mat>& x) {
  TB_CHECK(!layers_.empty(), "Model::forward: model " + name_ + " has no layers");
  TB_CHECK(x.rows() == input_size(), "Model::forward: input has " + std::to_string(x.rows()) +
                                         " features, model " + name_ + " expects " + std::to_string(input_size()));
  const Eigen::Index B = x.cols();
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    Mat& y = acts_[i];
    if (y.cols() < B) y.resize(layers_[i]->out_features(), B);  // grows once to the largest batch
  }
  for (std::size_t i = 0; i < layers_.size(); i += static_cast<std::size_t>(run_[i])) {
    const Eigen::Ref<const Mat> in = i == 0 ? Eigen::Ref<const Mat>(x) : Eigen::Ref<const Mat>(acts_[i - 1].leftCols(B));
    // A fused run writes only its last layer's output: the earlier ones are not read again
    // (BatchNorm's backward needs its input, ReLU's its output, which is then stored or
    // implied by the pooled values).
    if (run_[i] == 3) {
      static_cast<MaxPool2d&>(*layers_[i + 2])
          .forward_bn_relu(static_cast<BatchNorm&>(*layers_[i]), in, acts_[i + 2].leftCols(B));
    } else if (run_[i] == 2) {
      static_cast<BatchNorm&>(*layers_[i]).forward_relu(in, acts_[i + 1].leftCols(B));
    } else {
      layers_[i]->forward(in, acts_[i].leftCols(B));
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
  bool dy_in_next = false;  // layer i's dy is in grads_[i + 1] (a fused run's BatchNorm wrote it in place)
  for (std::size_t i = last + 1; i-- > 0;) {
    const bool want_dx = i > 0;
    const Eigen::Ref<const Mat> dy = i == last     ? dlogits
                                     : dy_in_next ? Eigen::Ref<const Mat>(grads_[i + 1].leftCols(B))
                                                  : Eigen::Ref<const Mat>(grads_[i].leftCols(B));
    dy_in_next = false;
    if (i >= 2 && run_[i - 2] == 3) {
      // The pool of a fused run: its backward, the ReLU's and the BatchNorm's sums in one pass
      // into the BatchNorm's dy, then the rest of the BatchNorm's backward.
      const std::size_t n = i - 2;
      if (grads_[n].cols() < B) grads_[n].resize(layers_[n]->out_features(), B);
      auto& bn = static_cast<BatchNorm&>(*layers_[n]);
      const Eigen::Ref<const Mat> in = n == 0 ? Eigen::Ref<const Mat>(x) : Eigen::Ref<const Mat>(acts_[n - 1].leftCols(B));
      static_cast<MaxPool2d&>(*layers_[i]).backward_relu_bn(acts_[i].leftCols(B), dy, bn, in, grads_[n].leftCols(B));
      // The BatchNorm's dx overwrites its dy (element-wise, so allowed), which is then in cache
      // instead of a second buffer; layer n - 1 reads it from there.
      bn.backward_from_terms(in, grads_[n].leftCols(B), grads_[n].leftCols(B), n > 0);
      i = n;  // the ReLU and the BatchNorm are done
      dy_in_next = true;
      continue;
    }
    if (want_dx && grads_[i - 1].cols() < B) grads_[i - 1].resize(layers_[i - 1]->out_features(), B);
    const Eigen::Ref<const Mat> in = i == 0 ? Eigen::Ref<const Mat>(x) : Eigen::Ref<const Mat>(acts_[i - 1].leftCols(B));
    if (want_dx) {
      layers_[i]->backward(in, acts_[i].leftCols(B), dy, grads_[i - 1].leftCols(B), true);
    } else {
      layers_[i]->backward(in, acts_[i].leftCols(B), dy, no_dx_, false);
    }
  }
}

void apply_method(Model& model, const TrainConfig& cfg) {
  const Method& method = find_method(cfg.method);
  const std::vector<Weight*> ws = model.weights();
  for (std::size_t i = 0; i < ws.size(); ++i) {
    const bool first = i == 0, last = i + 1 == ws.size();
    if ((first && !cfg.quantize_first) || (last && !cfg.quantize_last)) continue;
    QuantizerSite site;
    const std::string& name = ws[i]->latent().name;  // "<layer>/W"
    site.layer = name.substr(0, name.rfind('/'));
    site.last = last;
    site.seed = derive_seed(cfg.seed, "quantizer/" + site.layer);
    method.adopt(*ws[i], cfg, site);
  }
}

}  // namespace ternbench::core
