#pragma once
// The epoch loop: trains one model with one method on one dataset. No I/O, no MPI.
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ternbench/core/train/dataset.hpp"
#include "ternbench/core/deploy/sizes.hpp"
#include "ternbench/core/train/train_config.hpp"

#include "ternbench/base/tensor.hpp"

namespace ternbench::core {

inline constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

// Statistics of one weight matrix as deployed.
struct LayerStats {
  std::string name;         // HDF5 path of the weight, e.g. "dense0/W"
  std::string precision;    // "fp32" | "binary" | "ternary"
  std::int64_t rows = 0, cols = 0;
  std::int64_t n = 0, n_zero = 0, n_pos = 0, n_neg = 0;
  double sparsity = 0;      // n_zero / n
  double scale = 0;         // ternary scale (0 for fp32)
  double delta = 0;         // ternary threshold (0 for fp32)
  double bits = 0;          // storage as deployed: 32n (fp32), binary (n + 32 S) or dense ternary (2n + 32 S)
  std::int64_t n_scales = 0;  // float scales stored with the codes
  // Share of the deployed codes (sign: -1, 0, +1) that differ from the codes this run
  // started from; kNoValue for fp32 matrices and for a whole-model summary.
  double codes_changed = kNoValue;
};

struct EpochMetrics {
  int epoch = 0;  // 1-based, counted over all stages of the run
  std::string stage = "train";           // faraone: "stage1" | "stage3"; sca fine-tune: "finetune"
  double train_loss = 0, train_acc = 0;  // averaged over the epoch's mini-batches (as trained)
  double test_loss = 0, test_acc = 0;    // deployed (quantized) model on the test split
  double test_loss_continuous = kNoValue, test_acc_continuous = kNoValue;  // sca: tanh(theta) net
  double reg_penalty = kNoValue;         // regularizer term at the epoch's end (sca, faraone stage 1)
  double sparsity = 0;                   // fraction of zeros over all deployed weight matrices
  double lr = 0;                         // learning rate of the epoch's first step (schedule.hpp)
  double seconds = 0;                    // wall time of the epoch (not part of determinism)
  std::vector<LayerStats> layers;        // each deployed weight matrix at the epoch's end
};

// A named evaluation of the finished (or staged) model: "final"; sca: "continuous" and
// "rounded" (and "finetuned"); faraone: "stage1", "stage2" (pruned, not retrained), "stage3".
struct StageMetrics {
  std::string stage;
  int epochs = 0;  // epochs trained when it was taken (all stages so far)
  double test_loss = 0, test_acc = 0, sparsity = 0;
};

using AttrValue = ternbench::AttrValue;
// The trainer's name for the shared tensor struct (ternbench/base/tensor.hpp).
using NamedTensor = ternbench::Tensor;

// The tensor of that name in ts, or nullptr.
const NamedTensor* find_tensor(const std::vector<NamedTensor>& ts, const std::string& name);

// A run's complete training state at an epoch boundary (core/checkpoint.hpp): parameters,
// buffers, optimizer state, every random stream, Faraone's masks and the metric history.
// Training resumed from it ends bit-identical to a run that was never stopped.
struct TrainState {
  int epochs_done = 0;  // over all stages
  std::vector<NamedTensor> tensors;
};

struct Checkpointing {
  // Called after every epoch but the run's last with the state at its end, before on_epoch
  // sees the epoch. The last epoch's state is the final model, which the caller stores
  // right away; saving it too would double a short run's file writes.
  std::function<void(const TrainState&)> save;
  // When set, training continues from this state; the epochs it holds are replayed through
  // on_epoch first (so a store that lost them gets them again). Throws ternbench::Error if
  // the state does not belong to this config's model.
  const TrainState* resume = nullptr;
};

// A warm start (TrainConfig::init_from): the source run's stored tensors, named as the
// weights file names them. They replace the random init of every parameter and buffer
// before the method maps the weights into its own latent parameters (apply_method), so SCA
// gets theta = atanh(clip(sca_init_std * W / std(W), +-0.99)) of the source's W. Ignored
// when resuming: the checkpoint holds the run's own state.
struct WarmStart {
  const std::vector<NamedTensor>* tensors = nullptr;
  std::string source;  // where they came from, for messages
};

// Epochs of the whole run over all its stages (sca's fine-tune, faraone's retraining).
int planned_epochs(const TrainConfig& cfg);

struct TrainResult {
  std::vector<EpochMetrics> epochs;
  std::vector<StageMetrics> stages;  // at least "final" (or the method's named stages)
  ModelSizes sizes;                  // per layer (same order as layers) and totals, DESIGN.md §3
  std::vector<LayerStats> layers;
  std::vector<NamedTensor> weights;  // deployed weights and biases (+ latent weights if quantized)
  bool diverged = false;             // a non-finite loss stopped training
  bool interrupted = false;          // stop_requested() ended training at a batch boundary
  double sparsity = 0;               // whole model, over weight matrices
  double bits_per_weight = 0;        // sum(layer bits) / sum(layer n)
  std::int64_t n_weights = 0, n_nonzero = 0;
  double train_seconds = 0;
};

using EpochCallback = std::function<void(const EpochMetrics&)>;

// Trains cfg on data. Deterministic for a given cfg (and thread count): every random
// stream derives from cfg.seed. Throws ternbench::Error on a bad config value.
TrainResult train(const TrainConfig& cfg, const DataSplit& data, const EpochCallback& on_epoch = {},
                  const Checkpointing& checkpointing = {}, const WarmStart& warm_start = {});

}  // namespace ternbench::core
