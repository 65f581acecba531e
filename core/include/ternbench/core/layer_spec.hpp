#pragma once
// One entry of a model described as data (TOML `[[train.layers]]` for model = "custom").
#include <string>

namespace ternbench::core {

struct LayerSpec {
  std::string type;   // "dense" | "conv" | "maxpool" | "batchnorm" | "relu" | "dropout" | "flatten" | "gap"
  int units = 0;      // dense: outputs; conv: output channels
  int kernel = 3;     // conv, maxpool: square kernel size
  int stride = 1;     // conv; maxpool (0 = same as kernel)
  int padding = 0;    // conv
  double rate = 0.5;  // dropout: probability of zeroing an activation

  bool operator==(const LayerSpec&) const = default;
};

}  // namespace ternbench::core
