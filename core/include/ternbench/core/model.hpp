#pragma once
// A feed-forward stack of layers plus its activation buffers, and the model registry.
// Buffers grow to the largest batch seen and are then reused through column views, so a
// steady-state step (including a smaller last batch) allocates nothing.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ternbench/base/rng.hpp"
#include "ternbench/core/layer.hpp"
#include "ternbench/core/train_config.hpp"
#include "ternbench/core/weight.hpp"

namespace ternbench::core {

class Model {
 public:
  explicit Model(std::string name) : name_(std::move(name)) {}

  // Appends a layer; its in_features must equal the previous layer's out_features.
  void add(std::unique_ptr<Layer> layer);

  const std::string& name() const { return name_; }
  Eigen::Index input_size() const;
  Eigen::Index output_size() const;
  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }
  std::vector<Param*> params();
  std::vector<Weight*> weights();  // the quantizable weight matrices, input to output
  std::int64_t param_count();

  // Re-quantizes every weight from its latent values. Call after each parameter update
  // (the trainer calls it before each forward), not per batch of an evaluation.
  void refresh();

  // logits = f(x)                x: (input_size, B)  ->  (output_size, B); valid until the next forward
  Eigen::Ref<const Mat> forward(const Eigen::Ref<const Mat>& x);
  // Sets every Param::grad from dlogits = dL/dlogits. x must be the input of the last forward.
  //                               x: (input_size, B)  dlogits: (output_size, B)
  void backward(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& dlogits);

 private:
  std::string name_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Mat> acts_;   // acts_[i]: output of layer i, (out_i, capacity)
  std::vector<Mat> grads_;  // grads_[i]: dL/d acts_[i], for i < last
  Mat no_dx_;               // stands in for the first layer's unused dx
  Eigen::Index batch_ = 0;  // columns of the last forward
};

struct ModelShape {
  Eigen::Index inputs = 0;   // features per sample
  Eigen::Index classes = 0;  // logits per sample
};

// Names accepted by TrainConfig::model: {"mlp"} (784-500-300-10, ReLU).
std::vector<std::string> model_names();

// Input and output sizes of a registered model. Throws ternbench::Error listing the names.
ModelShape model_shape(const std::string& name);

// Builds a registered model, drawing its initial weights from rng. Weight layers are named
// dense0, dense1, ...; parameter names are HDF5 paths ("dense0/W", "dense0/b").
// Throws ternbench::Error listing the valid names for an unknown one.
Model make_model(const std::string& name, Rng& rng);

// Layer policy of cfg.method: quantizes every weight matrix except the first unless
// cfg.quantize_first and the last unless cfg.quantize_last. No-op for "fp". Biases stay fp32.
void apply_method(Model& model, const TrainConfig& cfg);

}  // namespace ternbench::core
