#pragma once
// One entry of a model described as data (TOML `[[train.layers]]` for model = "custom").
#include <cstdint>
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

// The largest stack a sweep may describe (docs/sweep-format.md states them). A larger one is
// a typo or a model that cannot be trained in this machine's memory, so it is refused with a
// message instead of failing in an allocation.
inline constexpr int kMaxLayerUnits = 65536;  // dense outputs, conv output channels
inline constexpr int kMaxLayerWindow = 64;    // conv and maxpool kernel, stride and padding
inline constexpr std::int64_t kMaxModelParams = 50'000'000;  // weights, biases, batch-norm scales and shifts
inline constexpr std::int64_t kMaxActivationsPerImage = 8'000'000;  // outputs of every layer, summed

// One layer written as text, as sweep files give it: "dense(512)", "conv(32, kernel=5,
// padding=2)", "maxpool(2)", "dropout(0.3)", "batchnorm", "relu", "flatten", "gap".
// Throws ternbench::Error saying what is wrong and what is valid, also for a size above the
// maxima above (the model-wide ones are checked where the model's shapes are known).
LayerSpec parse_layer_spec(const std::string& text);

// The one canonical spelling, with every option written: "conv(32, kernel=5, stride=1,
// padding=2)", "maxpool(kernel=2, stride=2)". parse_layer_spec(format_layer_spec(s)) == s.
std::string format_layer_spec(const LayerSpec& spec);

}  // namespace ternbench::core
