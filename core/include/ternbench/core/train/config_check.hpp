#pragma once
// Validation of a training run before any work starts.
#include "ternbench/core/train/dataset.hpp"
#include "ternbench/core/train/train_config.hpp"

namespace ternbench::core {

// Throws ternbench::Error naming the field and the valid values, e.g.
// "train config: method 'twm' is unknown (valid: fp, twn)".
void check_config(const TrainConfig& cfg);

// Throws ternbench::Error when data does not fit cfg.model (feature count, classes), images
// and labels disagree, a label is out of range, or a split (after the limits) is empty.
void check_data(const TrainConfig& cfg, const DataSplit& data);

}  // namespace ternbench::core
