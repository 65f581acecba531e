#pragma once
// Plain description of one training run. Built by tb::experiments from TOML; no TOML here.
#include <cstdint>
#include <string>

namespace ternbench::core {

struct TrainConfig {
  std::string dataset = "mnist";   // "mnist" | "fashion-mnist"
  std::string model = "mlp";       // "mlp" (784-500-300-10)
  std::string method = "fp";       // "fp" | "twn"
  std::uint64_t seed = 1;          // sole source of every random stream of the run
  int epochs = 10;
  int batch_size = 64;
  double lr = 0.05;
  double momentum = 0.9;
  double weight_decay = 0.0;       // L2 on weight matrices only (not biases)
  int threads = 1;
  bool quantize_first = true;      // quantize the first weight layer (quantized methods)
  bool quantize_last = false;      // quantize the last weight layer (papers keep it fp)
  double delta_factor = 0.7;       // twn: threshold = delta_factor * mean|W|
  int train_limit = 0;             // use only the first N training images (0 = all)
  int test_limit = 0;              // use only the first N test images (0 = all)
};

}  // namespace ternbench::core
