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
#include "ternbench/core/nn/layer.hpp"
#include "ternbench/core/train/train_config.hpp"
#include "ternbench/core/nn/weight.hpp"

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
  // Trained values: every layer's params(), each followed by its weights' quantizer
  // parameters (TTQ's Wp, Wn), input to output.
  std::vector<Param*> params();
  // Saved but not trained state (batch-norm running statistics), input to output.
  std::vector<Param*> buffers();
  // The quantizable weight matrices (Layer::weights() of every layer), input to output.
  std::vector<Weight*> weights();
  // Trained values only: buffers are not parameters (as PyTorch counts).
  std::int64_t param_count();

  // Training mode (batch statistics, dropout) or evaluation mode (running statistics, no
  // dropout) for every layer. A new model is in training mode, as in PyTorch.
  void set_training(bool training);
  bool training() const { return training_; }
  // Threads every layer's own kernels may use (Layer::set_threads); make_model sets the
  // run's `threads`. Matrix products follow Eigen's setting, which the trainer sets.
  void set_threads(int threads);

  // Weight::use_deployed for every weight: on evaluates the deployed model (SCA rounded),
  // off the training forward (SCA continuous).
  void use_deployed(bool on);

  // Re-quantizes every weight from its latent values. Call after each parameter update
  // (the trainer calls it before each forward), not per batch of an evaluation.
  void refresh();

  // logits = f(x)                x: (input_size, B)  ->  (output_size, B); valid until the next forward
  // BatchNorm -> ReLU (-> MaxPool2d) runs are computed in one pass each, with the same bits as
  // layer by layer; the outputs inside a run are then not stored.
  Eigen::Ref<const Mat> forward(const Eigen::Ref<const Mat>& x);
  // Sets every Param::grad from dlogits = dL/dlogits. x must be the input of the last forward.
  //                               x: (input_size, B)  dlogits: (output_size, B)
  void backward(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& dlogits);

 private:
  void plan_fusion();

  std::string name_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Mat> acts_;   // acts_[i]: output of layer i, (out_i, capacity)
  std::vector<Mat> grads_;  // grads_[i]: dL/d acts_[i], for i < last
  Mat no_dx_;               // stands in for the first layer's unused dx
  // run_[i]: layers [i, i + run_[i]) run fused from layer i (3: BatchNorm -> ReLU ->
  // MaxPool2d, 2: BatchNorm -> ReLU), 1 alone; entries inside a run are not read.
  std::vector<int> run_;
  Eigen::Index batch_ = 0;  // columns of the last forward
  bool training_ = true;
  int threads_ = 1;
};

struct ModelShape {
  Eigen::Index inputs = 0;   // features per sample: channels * height * width
  Eigen::Index classes = 0;  // logits per sample
};

// Names accepted by TrainConfig::model: mlp (784-500-300-10 on MNIST), lenet300
// (784-300-100-10), lenet5 (TWN variant), vgg7, resnet20 (pre-activation) and custom (the
// stack in TrainConfig::layers). Every model takes its input size from the data set, so
// "mlp" on CIFAR-10 is 3072-500-300-10.
std::vector<std::string> model_names();

// Input and output sizes of cfg.model on images of channels x height x width with `classes`
// classes, after checking that the model can be built on them (a custom stack's shapes chain,
// its kernels fit, its last layer gives `classes` outputs). Throws ternbench::Error naming
// the model, or the custom layer by index ("layers[3] = conv(...)") and the problem.
ModelShape model_shape(const TrainConfig& cfg, int channels, int height, int width, int classes);

// Builds cfg.model (cfg.layers for "custom") for that input, drawing its initial weights
// (and dropout seeds) from rng. Layers are named by kind and position: conv0, conv1, ...,
// dense0, ..., bn0, ..., relu0, pool0, dropout0, flatten0, gap0; ResNet-20 blocks are block0..8
// holding "block<i>/bn0", "block<i>/conv0", "block<i>/bn1", "block<i>/conv1" and, when they
// downsample, "block<i>/shortcut". Parameter names are HDF5 paths ("conv0/W", "bn0/gamma").
// Throws as model_shape does.
Model make_model(const TrainConfig& cfg, int channels, int height, int width, int classes, Rng& rng);

// cfg.model's layer stack on that input as text (docs/models.md, "Layer stack"): a "# " line
// naming the model, "input: 1x28x28", then per layer in forward order "<name>: <layer> ->
// <output shape> (<n> params)", named as make_model names them and written as
// format_layer_spec writes it (a ResNet-20 block: "residual(32, stride=2, shortcut)"), and
// "total: <n> params" (make_model's Model::param_count()). Throws as model_shape does.
std::string model_layer_stack(const TrainConfig& cfg, int channels, int height, int width, int classes);

// Layer policy of cfg.method: quantizes every weight matrix except the first unless
// cfg.quantize_first and the last unless cfg.quantize_last, each with its QuantizerSite
// (layer name, last, seed derive_seed(cfg.seed, "quantizer/<layer>")), and maps the fresh
// init to the method's parameterisation (init_latent). No-op for "fp". Biases stay fp32.
// SCA's theta gets no weight decay.
void apply_method(Model& model, const TrainConfig& cfg);

}  // namespace ternbench::core
