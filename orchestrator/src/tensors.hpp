#pragma once
// Conversions between the trainer's tensors and the weights file's (same fields, no copy of
// values beyond the moves).
#include <vector>

#include "ternbench/core/train/trainer.hpp"
#include "ternbench/storage/weights_file.hpp"

namespace ternbench::orchestrator {

std::vector<storage::Tensor> to_storage(std::vector<core::NamedTensor>&& in);
std::vector<core::NamedTensor> to_core(std::vector<storage::Tensor>&& in);

}  // namespace ternbench::orchestrator
