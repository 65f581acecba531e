#include "ternbench/core/train/config_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "ternbench/base/error.hpp"
#include "ternbench/core/model/model.hpp"
#include "ternbench/core/train/optimizer.hpp"
#include "ternbench/core/methods/quantizer.hpp"
#include "ternbench/core/train/schedule.hpp"

namespace ternbench::core {
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

[[noreturn]] void fail(const std::string& msg) { throw Error("train config: " + msg); }

template <class T>
std::string str(T v) {
  return std::to_string(v);
}

// Shortest round-trip form ("0.1", not to_string's "0.100000"), so the message shows the
// value the user wrote.
std::string num(double v) {
  char buf[32];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

bool finite_at_least(double v, double lo) { return std::isfinite(v) && v >= lo; }

void check_optimizer(const TrainConfig& cfg) {
  const auto opts = optimizer_names();
  if (std::find(opts.begin(), opts.end(), cfg.optimizer) == opts.end()) {
    fail("optimizer '" + cfg.optimizer + "' is unknown (valid: " + join(opts) + ")");
  }
  if (cfg.optimizer == "sgd" && cfg.nesterov && cfg.momentum == 0) {
    fail("nesterov needs momentum > 0 (got momentum = 0)");
  }
  if (!(cfg.adam_beta1 >= 0 && cfg.adam_beta1 < 1)) fail("adam_beta1 must be in [0, 1) (got " + num(cfg.adam_beta1) + ")");
  if (!(cfg.adam_beta2 >= 0 && cfg.adam_beta2 < 1)) fail("adam_beta2 must be in [0, 1) (got " + num(cfg.adam_beta2) + ")");
  if (!(cfg.adam_eps > 0) || !std::isfinite(cfg.adam_eps)) {
    fail("adam_eps must be a finite number > 0 (got " + num(cfg.adam_eps) + ")");
  }
}

void check_schedule(const TrainConfig& cfg) {
  const auto names = schedule_names();
  if (std::find(names.begin(), names.end(), cfg.lr_schedule) == names.end()) {
    fail("lr_schedule '" + cfg.lr_schedule + "' is unknown (valid: " + join(names) + ")");
  }
  if (!(cfg.lr_gamma > 0) || !std::isfinite(cfg.lr_gamma)) {
    fail("lr_gamma must be a finite number > 0 (got " + num(cfg.lr_gamma) + ")");
  }
  if (!finite_at_least(cfg.lr_min, 0)) fail("lr_min must be a finite number >= 0 (got " + num(cfg.lr_min) + ")");
  if (cfg.lr_schedule == "cosine" && cfg.lr_min > cfg.lr) {
    fail("lr_min (" + num(cfg.lr_min) + ") must not exceed lr (" + num(cfg.lr) + ") for the cosine schedule");
  }
  if (cfg.lr_schedule == "multistep") {
    if (cfg.lr_milestones.empty()) fail("lr_schedule 'multistep' needs lr_milestones (epochs after which lr *= lr_gamma)");
    for (std::size_t i = 0; i < cfg.lr_milestones.size(); ++i) {
      const int m = cfg.lr_milestones[i];
      const std::string at = "lr_milestones[" + str(i) + "] = " + str(m);
      // A milestone at or after the last epoch would never take effect: most likely the
      // epochs were shortened without the milestones.
      if (m < 1 || m >= cfg.epochs) {
        fail(at + " is outside 1.." + str(cfg.epochs - 1) + " (epochs = " + str(cfg.epochs) +
             "; a milestone m decays lr from epoch m + 1 on)");
      }
      if (i > 0 && m <= cfg.lr_milestones[i - 1]) {
        fail(at + " does not come after lr_milestones[" + str(i - 1) + "] = " + str(cfg.lr_milestones[i - 1]) +
             "; milestones must increase");
      }
    }
  }
  if (!finite_at_least(cfg.warmup_epochs, 0) || cfg.warmup_epochs > cfg.epochs) {
    fail("warmup_epochs must be in [0, epochs = " + str(cfg.epochs) + "] (got " + num(cfg.warmup_epochs) + ")");
  }
}

void check_split(const std::string& data_name, const char* which, const Dataset& d, int limit, const ModelShape& shape) {
  const std::string w = data_name + " " + which + " split";
  if (static_cast<std::size_t>(d.images.cols()) != d.labels.size()) {
    throw Error(w + ": " + str(d.images.cols()) + " images but " + str(d.labels.size()) + " labels");
  }
  if (d.images.rows() != shape.inputs) {
    throw Error(w + ": images have " + str(d.images.rows()) + " features but the model expects " + str(shape.inputs));
  }
  if (d.num_classes != shape.classes) {
    throw Error(w + ": " + str(d.num_classes) + " classes but the model has " + str(shape.classes) + " outputs");
  }
  for (std::size_t i = 0; i < d.labels.size(); ++i) {
    if (d.labels[i] >= d.num_classes) {
      throw Error(w + ": label " + str(int{d.labels[i]}) + " of sample " + str(i) + " is not below num_classes " +
                  str(d.num_classes));
    }
  }
  const std::size_t n = limit > 0 ? std::min(d.size(), static_cast<std::size_t>(limit)) : d.size();
  if (n == 0) throw Error(w + ": no samples");
}

}  // namespace

void check_config(const TrainConfig& cfg) {
  const auto methods = method_names();
  if (std::find(methods.begin(), methods.end(), cfg.method) == methods.end()) {
    fail("method '" + cfg.method + "' is unknown (valid: " + join(methods) + ")");
  }
  const auto models = model_names();
  if (std::find(models.begin(), models.end(), cfg.model) == models.end()) {
    fail("model '" + cfg.model + "' is unknown (valid: " + join(models) + ")");
  }
  if (cfg.epochs <= 0) fail("epochs must be > 0 (got " + str(cfg.epochs) + ")");
  if (cfg.batch_size <= 0) fail("batch_size must be > 0 (got " + str(cfg.batch_size) + ")");
  if (!(cfg.lr > 0) || !std::isfinite(cfg.lr)) fail("lr must be a finite number > 0 (got " + str(cfg.lr) + ")");
  if (!(cfg.momentum >= 0 && cfg.momentum < 1)) fail("momentum must be in [0, 1) (got " + str(cfg.momentum) + ")");
  if (!(cfg.weight_decay >= 0) || !std::isfinite(cfg.weight_decay)) {
    fail("weight_decay must be a finite number >= 0 (got " + str(cfg.weight_decay) + ")");
  }
  if (cfg.threads <= 0) fail("threads must be > 0 (got " + str(cfg.threads) + ")");
  if (cfg.threads > kMaxThreads) {
    fail("threads must be at most " + str(kMaxThreads) + " (got " + str(cfg.threads) + "); use more ranks instead");
  }
  check_optimizer(cfg);
  check_schedule(cfg);
  if (cfg.crop_padding < 0) fail("crop_padding must be >= 0 (got " + str(cfg.crop_padding) + ")");
  check_method_config(cfg);  // every method's own keys, by the rules they declare
  if (cfg.train_limit < 0) fail("train_limit must be >= 0 (got " + str(cfg.train_limit) + ")");
  if (cfg.test_limit < 0) fail("test_limit must be >= 0 (got " + str(cfg.test_limit) + ")");
}

void check_data(const TrainConfig& cfg, const DataSplit& data) {
  const Dataset& tr = data.train;
  const Dataset& te = data.test;
  const auto geometry = [](const Dataset& d) {
    return str(d.channels) + "x" + str(d.height) + "x" + str(d.width);
  };
  for (const Dataset* d : {&tr, &te}) {
    const std::string w = data.name + (d == &tr ? " train" : " test") + " split";
    if (d->channels <= 0 || d->height <= 0 || d->width <= 0) {
      throw Error(w + ": image geometry " + geometry(*d) + " (channels x height x width) must be positive");
    }
    const Eigen::Index pixels = Eigen::Index{d->channels} * d->height * d->width;
    if (d->images.rows() != pixels) {
      throw Error(w + ": images have " + str(d->images.rows()) + " features but channels x height x width = " +
                  geometry(*d) + " = " + str(pixels));
    }
  }
  if (tr.channels != te.channels || tr.height != te.height || tr.width != te.width) {
    throw Error(data.name + ": train images are " + geometry(tr) + " but test images are " + geometry(te));
  }
  if (cfg.augment) {
    // Cropping and flipping need a picture; a 1-pixel-high or -wide sample is a feature vector.
    if (tr.height <= 1 || tr.width <= 1) {
      fail("augment needs images (height and width > 1) but " + data.name + " samples are " + geometry(tr));
    }
    if (cfg.crop_padding >= tr.height || cfg.crop_padding >= tr.width) {
      fail("crop_padding " + str(cfg.crop_padding) + " must be below the image size of " + data.name + " (" +
           str(tr.height) + "x" + str(tr.width) + "); otherwise some crops hold no image at all");
    }
  }
  const ModelShape shape = model_shape(cfg, tr.channels, tr.height, tr.width, tr.num_classes);
  check_split(data.name, "train", tr, cfg.train_limit, shape);
  check_split(data.name, "test", te, cfg.test_limit, shape);
}

}  // namespace ternbench::core
