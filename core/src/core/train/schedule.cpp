#include "ternbench/core/train/schedule.hpp"

#include <cmath>
#include <numbers>

#include "ternbench/base/error.hpp"

namespace ternbench::core {
namespace {

double scheduled(const TrainConfig& cfg, double p) {
  if (cfg.lr_schedule == "constant") return cfg.lr;
  if (cfg.lr_schedule == "multistep") {
    const double completed = std::floor(p);
    int k = 0;
    for (int m : cfg.lr_milestones)
      if (static_cast<double>(m) <= completed) ++k;
    // Repeated multiplication, not pow: the decayed rate is then exactly what a PyTorch
    // scheduler computes (lr * 0.1 * 0.1), bit for bit.
    double lr = cfg.lr;
    for (int i = 0; i < k; ++i) lr *= cfg.lr_gamma;
    return lr;
  }
  if (cfg.lr_schedule == "cosine") {
    const double t = p / static_cast<double>(cfg.epochs);
    return cfg.lr_min + (cfg.lr - cfg.lr_min) * (1.0 + std::cos(std::numbers::pi * t)) / 2.0;
  }
  if (cfg.lr_schedule == "exponential") return cfg.lr * std::pow(cfg.lr_gamma, p);
  std::string valid;
  for (const auto& n : schedule_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw Error("lr_schedule '" + cfg.lr_schedule + "' is unknown (valid: " + valid + ")");
}

}  // namespace

std::vector<std::string> schedule_names() { return {"constant", "multistep", "cosine", "exponential"}; }

double lr_at(const TrainConfig& cfg, double epoch_progress) {
  const double lr = scheduled(cfg, epoch_progress);
  if (cfg.warmup_epochs > 0 && epoch_progress < cfg.warmup_epochs) return lr * (epoch_progress / cfg.warmup_epochs);
  return lr;
}

}  // namespace ternbench::core
