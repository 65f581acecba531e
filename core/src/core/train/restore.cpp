#include "ternbench/core/train/restore.hpp"

#include <Eigen/Core>
#include <algorithm>

#include "ternbench/base/error.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/train/augment.hpp"
#include "ternbench/core/deploy/deploy_codes.hpp"

namespace ternbench::core {
namespace {

template <class T>
const T* find_attr(const NamedTensor& t, const std::string& key) {
  for (const auto& [k, v] : t.attrs) {
    if (k == key) return std::get_if<T>(&v);
  }
  return nullptr;
}

// Row-major stored values into p (whose matrix is (rows, cols) with the same row-major data).
void load_into(Param& p, const NamedTensor& t, const std::string& source) {
  if (t.data.size() != static_cast<std::size_t>(p.value.size()))
    throw Error(source + ": tensor " + t.name + " has " + std::to_string(t.data.size()) + " values, the model's " +
                p.name + " has " + std::to_string(p.value.size()) + "; the file belongs to another model");
  p.value = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      t.data.data(), p.value.rows(), p.value.cols());
}

Mat decode_weight(const NamedTensor& codes, const std::vector<NamedTensor>& ts, const Param& p,
                  const std::string& source) {
  const auto* encoding = find_attr<std::string>(codes, "encoding");
  const auto* layout = find_attr<std::string>(codes, "scale_layout");
  if (encoding == nullptr || layout == nullptr)
    throw Error(source + ": " + codes.name + " lacks its encoding or scale_layout attribute; the file is damaged");
  const NamedTensor* scales = find_tensor(ts, p.name + "_scales");
  const std::span<const float> s = scales ? std::span<const float>(scales->data) : std::span<const float>();
  try {
    return decode_deployed(codes.u8, *encoding, p.value.rows(), p.value.cols(), s, *layout);
  } catch (const Error& e) {
    throw Error(source + ": " + codes.name + ": " + e.what());
  }
}


}  // namespace

void load_stored_tensors(Model& model, const std::vector<NamedTensor>& tensors, const std::string& source) {
  for (const auto& layer : model.layers()) {
    std::vector<Param*> all = layer->params();
    for (Param* b : layer->buffers()) all.push_back(b);
    for (Param* p : all) {
      const NamedTensor* t = find_tensor(tensors, p->name);
      if (t == nullptr) throw Error(source + ": no tensor " + p->name + "; the file belongs to another model");
      load_into(*p, *t, source);
    }
  }
  model.refresh();
}

Model restore_model(const TrainConfig& cfg, const DataSplit& data, const std::vector<NamedTensor>& tensors,
                    const std::string& source) {
  const Dataset& tr = data.train;
  Rng unused(0);  // every value is overwritten below
  Model model = make_model(cfg, tr.channels, tr.height, tr.width, tr.num_classes, unused);
  for (const auto& layer : model.layers()) {
    std::vector<Param*> all = layer->params();
    for (Param* b : layer->buffers()) all.push_back(b);
    for (Param* p : all) {
      const NamedTensor* codes = find_tensor(tensors, p->name + "_codes");
      if (codes != nullptr) {
        p->value = decode_weight(*codes, tensors, *p, source);
        continue;
      }
      const NamedTensor* t = find_tensor(tensors, p->name);
      if (t == nullptr) throw Error(source + ": no tensor " + p->name + "; the file belongs to another model");
      load_into(*p, *t, source);
    }
  }
  model.refresh();
  model.set_training(false);
  return model;
}

Dataset test_split_as_evaluated(const TrainConfig& cfg, const DataSplit& data) {
  Dataset train_subset, test_subset;
  const Dataset& train = limited_subset(data.train, cfg.train_limit, train_subset) ? train_subset : data.train;
  const Dataset& test = limited_subset(data.test, cfg.test_limit, test_subset) ? test_subset : data.test;
  if (!cfg.normalize) return test;
  const ChannelStats stats = channel_stats(train, static_cast<std::int64_t>(train.size()));
  return normalized_prefix(test, test.size(), stats);
}

Evaluation evaluate_test_split(const TrainConfig& cfg, const DataSplit& data, Model& model) {
  // The run's thread count: results are bit-identical for a given count, not across counts.
  Eigen::setNbThreads(cfg.threads);
  const Dataset test = test_split_as_evaluated(cfg, data);
  return evaluate(model, test, static_cast<std::int64_t>(test.size()));
}

}  // namespace ternbench::core
