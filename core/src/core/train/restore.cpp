#include "ternbench/core/train/restore.hpp"

#include <Eigen/Core>
#include <algorithm>

#include "ternbench/base/error.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/train/augment.hpp"
#include "ternbench/core/deploy/deploy_codes.hpp"

namespace ternbench::core {
namespace {

// Row-major stored values into p (whose matrix is (rows, cols) with the same row-major data).
void load_into(Param& p, const NamedTensor& t, const std::string& source) {
  if (t.data.size() != static_cast<std::size_t>(p.value.size()))
    throw DataError(source + ": tensor " + t.name + " has " + std::to_string(t.data.size()) + " values, the model's " +
                p.name + " has " + std::to_string(p.value.size()) + "; the file belongs to another model");
  p.value = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      t.data.data(), p.value.rows(), p.value.cols());
}

}  // namespace

void load_stored_tensors(Model& model, const std::vector<NamedTensor>& tensors, const std::string& source) {
  for (const auto& layer : model.layers()) {
    std::vector<Param*> all = layer->params();
    for (Param* b : layer->buffers()) all.push_back(b);
    for (Param* p : all) {
      const NamedTensor* t = find_tensor(tensors, p->name);
      if (t == nullptr) throw DataError(source + ": no tensor " + p->name + "; the file belongs to another model");
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
      if (auto codes = read_stored_codes(tensors, p->name, p->value.rows(), p->value.cols(), source)) {
        p->value = std::move(codes->decoded);
        continue;
      }
      const NamedTensor* t = find_tensor(tensors, p->name);
      if (t == nullptr) throw DataError(source + ": no tensor " + p->name + "; the file belongs to another model");
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
