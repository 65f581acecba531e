#pragma once
// Capture and restore of a run's training state (TrainState, trainer.hpp). Tensor names:
//   progress                  u64 {epochs_done, phase, phase_epochs}
//   param/<name>              f32, every Model::params() entry (TTQ's Wp, Wn included)
//   buffer/<name>             f32, batch-norm running statistics
//   opt/<state name>, opt/steps   f32 optimizer buffers, u64 {steps}
//   rng/<stream>              u64 x4: shuffle, augment, each dropout layer, each stochastic quantizer
//   mask/<weight>, mask_threshold/<weight>   f32 Faraone mask, f64 {threshold}
//   history/epochs, history/stages           f64 rows (metrics of the epochs and stages so far)
//   history/epoch_layers, history/epoch_layer_names   f64 rows {epoch index, name index,
//                             precision, LayerStats numbers} and u8 newline-terminated names
//                             (absent in older checkpoints: their epochs restore without layers)
//   history/epoch_layer_codes_changed   f64, LayerStats::codes_changed of each epoch_layers row
//   init_codes/<weight>       u8 {code + 1}, the deployed codes the run started from
//                             (both absent in older checkpoints: codes_changed is then not known)
#include <string>
#include <utility>
#include <vector>

#include "ternbench/base/rng.hpp"
#include "ternbench/core/model/model.hpp"
#include "ternbench/core/train/optimizer.hpp"
#include "ternbench/core/train/trainer.hpp"

namespace ternbench::core {

struct Progress {
  int epochs_done = 0;   // over all stages
  int phase = 0;         // index of the training phase the last epoch belonged to
  int phase_epochs = 0;  // epochs done in that phase
};

// Every random stream of the model: dropout layers' and stochastic quantizers' (named
// "<layer>" and "quantizer/<weight>").
std::vector<std::pair<std::string, Rng*>> model_streams(Model& model);

// The deployed codes of each of model.weights() (deployed_codes, metrics.hpp).
using InitCodes = std::vector<std::vector<std::int8_t>>;

TrainState capture_state(const Progress& progress, Model& model, Optimizer& opt,
                         const std::vector<std::pair<std::string, Rng*>>& streams,
                         const std::vector<EpochMetrics>& epochs, const std::vector<StageMetrics>& stages,
                         const InitCodes& init_codes);

Progress state_progress(const TrainState& s);
// Parameters, buffers, random streams and Faraone masks. Throws ternbench::Error naming
// the first tensor that is missing or has another size.
void restore_model_state(const TrainState& s, Model& model, const std::vector<std::pair<std::string, Rng*>>& streams);
void restore_optimizer(const TrainState& s, Optimizer& opt);
void restore_history(const TrainState& s, std::vector<EpochMetrics>& epochs, std::vector<StageMetrics>& stages);
// The codes the run started from, one entry per model.weights() (empty where the checkpoint
// has none). Throws ternbench::Error on a damaged entry.
InitCodes restore_init_codes(const TrainState& s, Model& model);

}  // namespace ternbench::core
