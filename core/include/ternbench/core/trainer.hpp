#pragma once
// The epoch loop: trains one model with one method on one dataset. No I/O, no MPI.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ternbench/core/dataset.hpp"
#include "ternbench/core/train_config.hpp"

namespace ternbench::core {

struct EpochMetrics {
  int epoch = 0;  // 1-based
  double train_loss = 0, train_acc = 0;  // averaged over the epoch's mini-batches (as trained)
  double test_loss = 0, test_acc = 0;    // deployed (quantized) model on the test split
  double sparsity = 0;                   // fraction of zeros over all deployed weight matrices
  double lr = 0;                         // learning rate of the epoch's first step (schedule.hpp)
  double seconds = 0;                    // wall time of the epoch (not part of determinism)
};

// Statistics of one weight matrix as deployed.
struct LayerStats {
  std::string name;         // HDF5 path of the weight, e.g. "dense0/W"
  std::string precision;    // "fp32" | "ternary"
  std::int64_t rows = 0, cols = 0;
  std::int64_t n = 0, n_zero = 0, n_pos = 0, n_neg = 0;
  double sparsity = 0;      // n_zero / n
  double scale = 0;         // ternary scale (0 for fp32)
  double delta = 0;         // ternary threshold (0 for fp32)
  double bits = 0;          // storage of this matrix: 32n (fp32) or 2n + 32 (dense ternary)
};

// A tensor as it is stored: row-major (C order), so h5py sees the model's shape.
struct NamedTensor {
  std::string name;                 // "dense0/W", "dense0/b", "dense0/W_latent"
  std::vector<std::int64_t> shape;  // e.g. {out, in}
  std::vector<float> data;
};

struct TrainResult {
  std::vector<EpochMetrics> epochs;
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
TrainResult train(const TrainConfig& cfg, const DataSplit& data, const EpochCallback& on_epoch = {});

}  // namespace ternbench::core
