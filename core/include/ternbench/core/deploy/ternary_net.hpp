#pragma once
// The ternary inference engine: a restored model run with the multiplication-free kernels of
// kernels/ternary.hpp (docs/inference.md). Each quantized weight layer is built from its
// deployable codes and scales as the weights file stores them; a batch norm that follows a
// weight layer is folded into that layer's scales and bias; full-precision weight layers
// (the last layer, as the papers keep it) run the float path. Activations stay
// batch-innermost from the first layer to the logits.
#include <Eigen/Core>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "ternbench/base/tensor.hpp"
#include "ternbench/core/model/model.hpp"
#include "ternbench/core/train/dataset.hpp"
#include "ternbench/core/train/metrics.hpp"

namespace ternbench::core {

// One step of the engine, for printing: "ternary conv", "float dense", "relu", ...
struct EngineStep {
  std::string name;    // the model's layer ("conv0"; "conv0+bn0" when a batch norm was folded)
  std::string kind;
  std::size_t bytes = 0;   // resident parameter bytes of the step
  double sparsity = -1;    // share of zero codes; -1 for a step without codes
};

class TernaryNet {
 public:
  // The engine form of model, a model restore_model() rebuilt from `tensors` (a run's weights
  // file, named `source` in errors). Every "<layer>/W" with "<layer>/W_codes" runs on the
  // ternary kernels, built from the codes and "<layer>/W_scales"; codes whose decoded values
  // differ from the stored "<layer>/W" are an error naming the file and the first entry that
  // differs. Throws ternbench::Error for a layer kind the engine does not run (residual
  // blocks).
  TernaryNet(Model& model, const std::vector<Tensor>& tensors, const std::string& source, int threads);
  ~TernaryNet();
  TernaryNet(TernaryNet&&) noexcept;
  TernaryNet& operator=(TernaryNet&&) noexcept;

  // logits = f(x)   x: (input_size, B), one sample per column, as Model::forward takes it
  //                 ->  (classes, B); valid until the next forward.
  const Mat& forward(const Eigen::Ref<const Mat>& x);

  const std::vector<EngineStep>& steps() const;
  // Resident bytes of every step's parameters (codes as index lists, scales, biases, float
  // layers' weights), and of the same network's parameters and buffers as float32.
  std::size_t bytes() const;
  std::size_t float32_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// evaluate_batches() of metrics.hpp through the engine.
Evaluation evaluate_engine(TernaryNet& net, const Dataset& d, std::int64_t n, Eigen::Index batch = 1000,
                           std::vector<int>* predictions = nullptr);

}  // namespace ternbench::core
