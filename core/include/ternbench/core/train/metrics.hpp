#pragma once
// Measurements of a model as deployed: accuracy on a data set, per-layer storage statistics
// and the exported tensors.
#include <cstdint>
#include <functional>
#include <vector>

#include "ternbench/core/train/dataset.hpp"
#include "ternbench/core/model/model.hpp"
#include "ternbench/core/train/trainer.hpp"

namespace ternbench::core {

struct Evaluation {
  double loss = 0;      // mean cross-entropy per sample
  double accuracy = 0;  // fraction of correct arg-max predictions
  bool finite = true;   // false when a batch loss was NaN or infinite
};

// Logits (classes, B) of a batch of images (features, B), one sample per column.
using BatchForward = std::function<Eigen::Ref<const Mat>(const Eigen::Ref<const Mat>&)>;

// Loss and accuracy of forward on the first n samples of d (n <= 0: all) in batches of
// `batch` columns; predictions, when given, receives each sample's arg-max (the first on
// ties, as the accuracy counts it).
Evaluation evaluate_batches(const BatchForward& forward, const Dataset& d, std::int64_t n, Eigen::Index batch,
                            std::vector<int>* predictions = nullptr);

// evaluate_batches of the model with the weights as they are deployed now (call
// model.refresh() after the last update), in evaluation mode (running statistics, no
// dropout); the model's mode is restored on return.
Evaluation evaluate(Model& model, const Dataset& d, std::int64_t n, Eigen::Index batch = 1000,
                    std::vector<int>* predictions = nullptr);

// Statistics of one deployed weight matrix (precision, sign counts, scale, threshold, bits).
LayerStats weight_stats(const Weight& w);

// weight_stats of every weight matrix, in Model::weights() order.
std::vector<LayerStats> layer_stats(Model& model);

// The codes of a deployed weight matrix as signs -1, 0, +1, column-major; empty for a
// full-precision matrix (nothing is coded).
std::vector<std::int8_t> deployed_codes(const Weight& w);

// Share of q's entries whose sign differs from codes (deployed_codes of the same matrix
// earlier); kNoValue when codes is empty. Throws ternbench::Error on another size.
double codes_changed(const Mat& q, const std::vector<std::int8_t>& codes);

// Fraction of exact zeros over all deployed weight matrices.
double deployed_sparsity(Model& model);

// Trained float values that are not weight matrices: biases and batch-norm gamma/beta
// (quantizer scales such as TTQ's Wp, Wn are counted with their layer's codes; running
// statistics are not counted, since a deployed model folds them into gamma and beta).
std::int64_t float_param_count(Model& model);

// Fills result.layers, sizes, sparsity, bits_per_weight, n_weights and n_nonzero.
void summarize_weights(Model& model, TrainResult& result);

// Every parameter and buffer, row-major, layer by layer: weight matrices as deployed
// ("<layer>/W", with attributes precision, sparsity, scale, threshold) and, when quantized,
// as trained ("<layer>/W_latent") and as deployable codes ("<layer>/W_codes",
// "<layer>/W_scales", see deployable_codes); biases, batch-norm gamma/beta and
// running_mean/running_var. Shapes are Param::shape when set (conv weights
// {out, in, k, k}), else {rows, cols}, or {rows} for a column vector.
std::vector<NamedTensor> export_weights(Model& model);

}  // namespace ternbench::core
