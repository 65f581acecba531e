#pragma once
// Optimizers in PyTorch's conventions, so a config copied from a PyTorch recipe trains the
// same way. Weight decay is L2 added to the gradient (torch.optim.SGD / Adam, not AdamW) and
// applies only to params with Param::decay (weight matrices, not biases or batch norm).
//
// SGD (dampening 0):            g = grad + wd * w
//                               v = momentum * v + g             (v starts at 0, so v1 = g)
//                               w -= lr * v                      plain
//                               w -= lr * (g + momentum * v)     Nesterov
// Adam (amsgrad off), t = 1, 2, ...:
//                               g = grad + wd * w
//                               m = b1 * m + (1 - b1) * g
//                               v = b2 * v + (1 - b2) * g^2
//                               w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ternbench/core/nn/layer.hpp"
#include "ternbench/core/train/train_config.hpp"

namespace ternbench::core {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter from its Param::grad.
  virtual void step() = 0;

  void set_lr(double lr) { lr_ = lr; }
  double lr() const { return lr_; }

  // Updates taken so far (Adam's bias correction depends on it). A checkpoint stores it and
  // restores it with set_steps together with the buffers of state().
  std::int64_t steps() const { return steps_; }
  void set_steps(std::int64_t steps) { steps_ = steps; }

  // Every state buffer, named "<param name>/<buffer>" with PyTorch's buffer names
  // ("dense0/W/momentum_buffer", "dense0/W/exp_avg", "dense0/W/exp_avg_sq"), in parameter
  // order. Each has its parameter's shape. The pointers stay valid for the optimizer's
  // lifetime; writing through them restores a checkpoint.
  virtual std::vector<std::pair<std::string, Mat*>> state() = 0;

 protected:
  Optimizer(std::vector<Param*> params, double lr);

  std::vector<Param*> params_;
  double lr_;
  std::int64_t steps_ = 0;
};

class Sgd final : public Optimizer {
 public:
  // params must outlive the optimizer. Throws ternbench::Error when a gradient's shape
  // differs from its parameter's.
  Sgd(std::vector<Param*> params, double lr, double momentum, double weight_decay, bool nesterov = false);

  void step() override;
  std::vector<std::pair<std::string, Mat*>> state() override;

 private:
  std::vector<Mat> velocity_;
  float momentum_, weight_decay_;
  bool nesterov_;
};

class Adam final : public Optimizer {
 public:
  // params must outlive the optimizer. Throws as Sgd does.
  Adam(std::vector<Param*> params, double lr, double beta1, double beta2, double eps, double weight_decay);

  void step() override;
  std::vector<std::pair<std::string, Mat*>> state() override;

 private:
  std::vector<Mat> m_, v_;
  double beta1_, beta2_, eps_, weight_decay_;
};

// Names accepted by TrainConfig::optimizer.
std::vector<std::string> optimizer_names();

// The optimizer cfg.optimizer with cfg's hyper-parameters and lr = cfg.lr. Throws
// ternbench::Error naming the valid optimizers when cfg.optimizer is unknown.
std::unique_ptr<Optimizer> make_optimizer(const TrainConfig& cfg, std::vector<Param*> params);

}  // namespace ternbench::core
