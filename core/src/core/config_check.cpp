#include "ternbench/core/config_check.hpp"

#include <algorithm>
#include <cmath>

#include "ternbench/base/error.hpp"
#include "ternbench/core/model.hpp"
#include "ternbench/core/quantizer.hpp"

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
  if (!(cfg.delta_factor >= 0) || !std::isfinite(cfg.delta_factor)) {
    fail("delta_factor must be a finite number >= 0 (got " + str(cfg.delta_factor) + ")");
  }
  if (cfg.train_limit < 0) fail("train_limit must be >= 0 (got " + str(cfg.train_limit) + ")");
  if (cfg.test_limit < 0) fail("test_limit must be >= 0 (got " + str(cfg.test_limit) + ")");
}

void check_data(const TrainConfig& cfg, const DataSplit& data) {
  const ModelShape shape = model_shape(cfg.model);
  check_split(data.name, "train", data.train, cfg.train_limit, shape);
  check_split(data.name, "test", data.test, cfg.test_limit, shape);
}

}  // namespace ternbench::core
