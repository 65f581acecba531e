#pragma once
// Learning-rate schedules, evaluated per step from the progress through training, so a run
// resumed mid-way gets the same rate from its position alone (no scheduler state).
//
// p = epoch index + fraction of that epoch done before the step (0-based: the first step of
// the run has p = 0, the first step of epoch index e has p = e). T = cfg.epochs.
//   constant      lr
//   multistep     lr * gamma^k, k = number of milestones m with m <= floor(p)
//                 (milestone 30 decays from the first step of the 31st epoch, as PyTorch's
//                 MultiStepLR stepped once per epoch)
//   cosine        lr_min + (lr - lr_min) * (1 + cos(pi * p / T)) / 2   (per step, not per epoch)
//   exponential   lr * gamma^p                                          (continuous in p)
// Warm-up (cfg.warmup_epochs = W > 0): while p < W, the schedule's value times p / W, so the
// rate climbs linearly from 0 (the very first step has rate 0) and joins the schedule at W.
#include <string>
#include <vector>

#include "ternbench/core/train/train_config.hpp"

namespace ternbench::core {

// Names accepted by TrainConfig::lr_schedule.
std::vector<std::string> schedule_names();

// The learning rate at progress p (see above). Throws ternbench::Error naming the valid
// schedules when cfg.lr_schedule is unknown; other fields are assumed checked (check_config).
double lr_at(const TrainConfig& cfg, double epoch_progress);

}  // namespace ternbench::core
