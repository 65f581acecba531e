#pragma once
// Plain description of one training run. Built by tb::experiments from TOML; no TOML here.
#include <cstdint>
#include <string>
#include <vector>

#include "ternbench/core/nn/layer_spec.hpp"

namespace ternbench::core {

// The most threads one run may use. A fixed number, not the machine's core count, so that a
// sweep file is valid or not whatever machine reads it (`threads` is part of a run's key);
// it stops `threads = 1000000` from starting a million threads. Ranks, not threads, are
// ternbench's unit of parallelism (docs/training.md).
inline constexpr int kMaxThreads = 256;

struct TrainConfig {
  std::string dataset = "mnist";   // "mnist" | "mnist-10k" | "fashion-mnist" | "cifar10"
  std::string model = "mlp";       // see model_names(); "custom" builds `layers`
  std::vector<LayerSpec> layers;   // model = "custom": the stack, input to output
  std::string method = "fp";       // a registered method's name (core::methods())
  std::uint64_t seed = 1;          // sole source of every random stream of the run
  int epochs = 10;
  int batch_size = 64;
  int threads = 1;                 // threads of this run's rank (ranks are the unit of parallelism)

  // Optimizer.
  std::string optimizer = "sgd";   // "sgd" | "adam"
  double lr = 0.05;
  double momentum = 0.9;           // sgd
  bool nesterov = false;           // sgd
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_eps = 1e-8;
  double weight_decay = 0.0;       // L2 on weight matrices only (not biases, not batch norm)

  // Learning-rate schedule, evaluated per step from the epoch fraction.
  std::string lr_schedule = "constant";  // "constant" | "multistep" | "cosine" | "exponential"
  std::vector<int> lr_milestones;  // multistep: lr *= lr_gamma after each of these epochs
  double lr_gamma = 0.1;           // multistep factor, or exponential factor per epoch
  double lr_min = 0.0;             // cosine: final lr
  double warmup_epochs = 0.0;      // linear warm-up from 0 over this many epochs (0 = none)

  // Data.
  bool normalize = false;          // per-channel mean/std of the training split
  bool augment = false;            // random crop with padding + horizontal flip (run's RNG)
  int crop_padding = 4;

  // Method.
  bool quantize_first = true;      // quantize the first weight layer (quantized methods)
  bool quantize_last = false;      // quantize the last weight layer (papers keep it fp)
  double delta_factor = 0.7;       // twn: threshold = delta_factor * mean|W|

  // Methods: per-method options (docs/methods.md). Each method declares its own keys and
  // their rules in its file (Method::options); check_method_config() in quantizer.hpp
  // applies them, and the method's quantizer and regularizer read them.
  bool bc_stochastic = false;      // binaryconnect: stochastic (true) or deterministic sign
  double bc_h = 1.0;               // binaryconnect: values +-H; latent clipped to [-H, H]
  bool twn_per_channel = false;    // twn: delta and alpha per output channel (row)
  double ttq_threshold = 0.05;     // ttq: D = ttq_threshold * max|W|
  double sca_alpha = 0.5;          // sca: WDR controller, 0 < alpha < 2 (sparsity grows with it)
  double sca_lambda = 0.03;        // sca: WDR strength (for the summed form)
  double sca_init_std = 0.5;       // sca: theta = atanh(clip(init_std * W0 / std(W0), -0.99, 0.99))
  std::string sca_wdr = "sum";     // sca: "sum" over weights | "mean" per layer (sum / n)
  double sca_lambda_warmup_epochs = 0.0;  // sca: lambda ramps linearly from 0 over these epochs
  bool sca_scale_last = true;      // sca: deployed last layer (no batch norm) gets a float scale
  int sca_finetune_epochs = 0;     // sca: epochs of float-only training after rounding
  double sca_theta_lr_scale = 1.0; // sca: theta's learning rate is lr * sca_theta_lr_scale
  double sca_lambda_final = 0.0;   // sca: lambda grows geometrically from sca_lambda to this at
                                   // the end of training (0 = constant)
  double fp_init_std = 0.0;        // fp: weights a quantized method would quantize start at
                                   // clip(fp_init_std * W0 / std(W0), +-0.99) (0 = standard init)
  std::string faraone_threshold = "max";  // faraone: D = faraone_t * max|W| ("max") or
                                          // faraone_mean_factor * mean|W| ("mean")
  double faraone_t = 0.05;         // faraone: factor of the "max" rule
  double faraone_mean_factor = 0.7;  // faraone: factor of the "mean" rule
  double faraone_lambda2 = 1e-4;   // faraone stage 1: lambda2 * ||W||^2 (ternbench default)
  double faraone_lambdaq = 1e-4;   // faraone stage 1: lambdaq * sum_{|w|<D} |w| (ternbench default)
  double faraone_target_sparsity = 0.0;  // faraone stage 2: raise D to prune at least this share
  int faraone_stage1_epochs = 0;   // faraone stage 1 length; 0 = epochs
  int faraone_retrain_epochs = 0;  // faraone stage 3 length; 0 = epochs
  std::string faraone_retrain_quantizer = "twn";  // faraone stage 3: "twn" (alpha = mean|W| on
                                                  // the mask) | "ttq" (learned Wp, Wn)

  // Warm start: the run key of the full-precision run whose stored weights replace the random
  // init ("" = none). Each method maps them into its latent parameters (docs/methods.md).
  std::string init_from;

  int train_limit = 0;             // use N training images, class by class (limited_subset; 0 = all)
  int test_limit = 0;              // use N test images, class by class (limited_subset; 0 = all)
};

}  // namespace ternbench::core
