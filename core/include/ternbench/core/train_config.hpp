#pragma once
// Plain description of one training run. Built by tb::experiments from TOML; no TOML here.
#include <cstdint>
#include <string>
#include <vector>

#include "ternbench/core/layer_spec.hpp"

namespace ternbench::core {

struct TrainConfig {
  std::string dataset = "mnist";   // "mnist" | "fashion-mnist" | "cifar10"
  std::string model = "mlp";       // see model_names(); "custom" builds `layers`
  std::vector<LayerSpec> layers;   // model = "custom": the stack, input to output
  std::string method = "fp";       // "fp" | "twn"
  std::uint64_t seed = 1;          // sole source of every random stream of the run
  int epochs = 10;
  int batch_size = 64;
  int threads = 1;                 // threads of this run's rank (ranks are the unit of parallelism)

  // Optimizer.
  std::string optimizer = "sgd";   // "sgd" | "adam"
  double lr = 0.05;
  double momentum = 0.9;           // sgd
  bool nesterov = false;           // sgd
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_eps = 1e-8;
  double weight_decay = 0.0;       // L2 on weight matrices only (not biases, not batch norm)

  // Learning-rate schedule, evaluated per step from the epoch fraction.
  std::string lr_schedule = "constant";  // "constant" | "multistep" | "cosine" | "exponential"
  std::vector<int> lr_milestones;  // multistep: lr *= lr_gamma after each of these epochs
  double lr_gamma = 0.1;           // multistep factor, or exponential factor per epoch
  double lr_min = 0.0;             // cosine: final lr
  double warmup_epochs = 0.0;      // linear warm-up from 0 over this many epochs (0 = none)

  // Data.
  bool normalize = false;          // per-channel mean/std of the training split
  bool augment = false;            // random crop with padding + horizontal flip (run's RNG)
  int crop_padding = 4;

  // Method.
  bool quantize_first = true;      // quantize the first weight layer (quantized methods)
  bool quantize_last = false;      // quantize the last weight layer (papers keep it fp)
  double delta_factor = 0.7;       // twn: threshold = delta_factor * mean|W|

  int train_limit = 0;             // use only the first N training images (0 = all)
  int test_limit = 0;              // use only the first N test images (0 = all)
};

}  // namespace ternbench::core
