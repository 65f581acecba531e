#pragma once
// Rebuilding a trained model from its stored tensors, and evaluating it exactly as the
// trainer evaluated it (`ternbench infer`, the reload tests).
#include <string>
#include <vector>

#include "ternbench/core/train/dataset.hpp"
#include "ternbench/core/train/metrics.hpp"
#include "ternbench/core/model/model.hpp"
#include "ternbench/core/train/trainer.hpp"

namespace ternbench::core {

// The deployed model of cfg on data's shapes, full precision, with every parameter and
// buffer taken from tensors (as export_weights names them). A quantized weight "<l>/W" is
// rebuilt from its packed codes "<l>/W_codes" and scales "<l>/W_scales" when present (the
// deployable form), else from "<l>/W". Throws ternbench::Error naming the missing tensor or
// the one whose shape does not match the model, and `source` (the file) in the message.
Model restore_model(const TrainConfig& cfg, const DataSplit& data, const std::vector<NamedTensor>& tensors,
                    const std::string& source);

// Sets every parameter and buffer of model from the tensor of the same name in tensors
// (float values, row-major). Throws ternbench::Error naming source and the tensor that is
// missing or has another size.
void load_stored_tensors(Model& model, const std::vector<NamedTensor>& tensors, const std::string& source);

// The test samples evaluate_test_split() evaluates: the test_limit subset, normalized with
// the statistics of the train_limit subset when cfg.normalize.
Dataset test_split_as_evaluated(const TrainConfig& cfg, const DataSplit& data);

// Test split evaluation as train() does it: the test_limit subset, normalized with the
// statistics of the train_limit subset when cfg.normalize, with cfg.threads threads.
Evaluation evaluate_test_split(const TrainConfig& cfg, const DataSplit& data, Model& model);

}  // namespace ternbench::core
