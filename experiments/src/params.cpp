// The [train] parameter table and the code it drives: reading, type checks and value checks.
// Adding a training knob means one add(...) line below plus the TrainConfig field.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <type_traits>
#include <utility>

#include "params_internal.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/core/methods/method.hpp"

namespace ternbench::experiments {
namespace detail {
namespace {

using Problem = std::optional<std::string>;
using ProblemFn = std::function<Problem(const ParamValue&)>;

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.append(sep);
    out.append(items[i]);
  }
  return out;
}

// Optimal string alignment distance: Levenshtein plus adjacent transpositions, so the
// common "alpah" typo is one edit from "alpha", not two.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

// The closest candidate within two edits, or "". A two-letter key two edits away from
// another two-letter key is no hint at all, hence the length condition.
std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = 3;
  for (const auto& c : candidates) {
    const std::size_t dist = edit_distance(word, c);
    if (dist < best_d && dist < word.size()) {
      best_d = dist;
      best = c;
    }
  }
  return best;
}

std::string quoted(const std::string& s) { return format_toml_value(ParamValue(s)); }

// A value rule and its human text, built together so the help listing and the error
// message cannot disagree.
struct Check {
  std::string text;
  ProblemFn problem;
  std::vector<std::string> choices;
};

Check one_of(std::vector<std::string> choices, const std::string& noun) {
  const std::string list = join(choices, ", ");
  ProblemFn fn = [choices, noun, list](const ParamValue& v) -> Problem {
    const auto& s = std::get<std::string>(v);
    if (std::find(choices.begin(), choices.end(), s) != choices.end()) return std::nullopt;
    std::string msg = "unknown " + noun + " " + quoted(s) + "; ";
    if (const std::string guess = closest(s, choices); !guess.empty())
      msg += "did you mean " + quoted(guess) + "? ";
    return msg + "valid " + noun + "s: " + list;
  };
  return {"one of: " + list, std::move(fn), std::move(choices)};
}

// Integers stored in a field of type T: the upper bound is T's, so `epochs = 3000000000`
// is refused instead of wrapping.
template <class T>
Check int_at_least(std::int64_t lo) {
  const std::int64_t hi =
      static_cast<std::uint64_t>(std::numeric_limits<T>::max()) >
              static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
          ? std::numeric_limits<std::int64_t>::max()
          : static_cast<std::int64_t>(std::numeric_limits<T>::max());
  ProblemFn fn = [lo, hi](const ParamValue& v) -> Problem {
    const std::int64_t x = std::get<std::int64_t>(v);
    if (x < lo) return "must be >= " + std::to_string(lo) + ", got " + std::to_string(x);
    if (x > hi) return "must be <= " + std::to_string(hi) + ", got " + std::to_string(x);
    return std::nullopt;
  };
  return {">= " + std::to_string(lo), std::move(fn), {}};
}

// lo < x (lo_open) or lo <= x; x < hi when hi is finite.
Check float_range(double lo, bool lo_open, double hi = std::numeric_limits<double>::infinity()) {
  const std::string lo_s = format_toml_value(ParamValue(lo));
  std::string text;
  if (std::isinf(hi))
    text = (lo_open ? "> " : ">= ") + lo_s;
  else
    text = (lo_open ? "(" : "[") + lo_s + ", " + format_toml_value(ParamValue(hi)) + ")";
  ProblemFn fn = [lo, lo_open, hi, text](const ParamValue& v) -> Problem {
    const double x = std::get<double>(v);
    const std::string got = ", got " + format_toml_value(ParamValue(x));
    if (!std::isfinite(x)) return "must be a finite number" + got;
    const bool ok = (lo_open ? x > lo : x >= lo) && x < hi;
    if (ok) return std::nullopt;
    return (std::isinf(hi) ? "must be " : "must be in ") + text + got;
  };
  return {text, std::move(fn), {}};
}

// Epoch milestones: positive and strictly increasing (whether they fall inside the run's
// epochs is checked with the whole config, by the trainer's config check).
Check increasing_epochs() {
  ProblemFn fn = [](const ParamValue& v) -> Problem {
    const auto& xs = std::get<IntList>(v);
    for (std::size_t i = 0; i < xs.size(); ++i) {
      if (xs[i] < 1) return "milestones must be >= 1, got " + std::to_string(xs[i]);
      if (i > 0 && xs[i] <= xs[i - 1]) return "milestones must increase, got " + format_toml_value(v);
      if (xs[i] > std::numeric_limits<int>::max()) return "milestone too large: " + std::to_string(xs[i]);
    }
    return std::nullopt;
  };
  return {"increasing epochs >= 1", std::move(fn), {}};
}

Check layer_texts() {
  ProblemFn fn = [](const ParamValue& v) -> Problem {
    const auto& xs = std::get<StringList>(v);
    for (std::size_t i = 0; i < xs.size(); ++i) {
      try {
        (void)core::parse_layer_spec(xs[i]);
      } catch (const Error& e) {
        return "entry " + std::to_string(i) + ": " + e.what();
      }
    }
    return std::nullopt;
  };
  return {"layer texts such as \"conv(32, kernel=5)\", \"relu\"", std::move(fn), {}};
}

// A run key: the first 16 hex digits of a SHA-256, as make_run() writes them; "" = none.
Check run_key_or_empty() {
  ProblemFn fn = [](const ParamValue& v) -> Problem {
    const auto& s = std::get<std::string>(v);
    if (s.empty()) return std::nullopt;
    const bool hex = s.size() == 16 && std::all_of(s.begin(), s.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
    if (hex) return std::nullopt;
    return "expected a run key (16 lowercase hex digits, e.g. \"3f2a9c0d1e4b5a67\") or a table of the keys "
           "that make the source run, e.g. init_from = { method = \"fp\" }; got " + quoted(s);
  };
  return {"a run key, or a table of keys (docs/sweep-format.md)", std::move(fn), {}};
}

Check any_bool() {
  return {"true or false", [](const ParamValue&) -> Problem { return std::nullopt; }, {}};
}

enum class Need { kRequired, kOptional };

// Which methods quantize weights; keys that shape quantization apply to these only.
std::vector<std::string> quantizing_methods() {
  std::vector<std::string> out;
  for (const core::Method* m : core::methods()) {
    if (m->quantizes()) out.emplace_back(m->name());
  }
  return out;
}
const std::vector<std::string> kEveryMethod = {};

template <class T>
void add(std::vector<TrainParam>& table, const std::string& name, T core::TrainConfig::*field,
         Need need, Check check, const std::vector<std::string>& methods,
         const std::string& description) {
  TrainParam p;
  p.info.name = name;
  p.info.required = need == Need::kRequired;
  p.info.methods = methods;
  p.info.choices = std::move(check.choices);
  p.info.check = std::move(check.text);
  p.info.description = description;
  p.problem = std::move(check.problem);
  if constexpr (std::is_same_v<T, std::string>) {
    p.info.type = ParamType::kString;
    p.set = [field](core::TrainConfig& c, const ParamValue& v) { c.*field = std::get<std::string>(v); };
    p.get = [field](const core::TrainConfig& c) { return ParamValue(c.*field); };
  } else if constexpr (std::is_same_v<T, bool>) {
    p.info.type = ParamType::kBool;
    p.set = [field](core::TrainConfig& c, const ParamValue& v) { c.*field = std::get<bool>(v); };
    p.get = [field](const core::TrainConfig& c) { return ParamValue(c.*field); };
  } else if constexpr (std::is_same_v<T, double>) {
    p.info.type = ParamType::kFloat;
    p.set = [field](core::TrainConfig& c, const ParamValue& v) { c.*field = std::get<double>(v); };
    // -0.0 and 0.0 train identically, so they must not make two run keys.
    p.get = [field](const core::TrainConfig& c) {
      const double x = c.*field;
      return ParamValue(x == 0.0 ? 0.0 : x);
    };
  } else if constexpr (std::is_same_v<T, std::vector<int>>) {
    p.info.type = ParamType::kIntList;
    p.set = [field](core::TrainConfig& c, const ParamValue& v) {
      const auto& xs = std::get<IntList>(v);
      (c.*field).assign(xs.size(), 0);
      for (std::size_t i = 0; i < xs.size(); ++i) (c.*field)[i] = static_cast<int>(xs[i]);
    };
    p.get = [field](const core::TrainConfig& c) { return ParamValue(IntList((c.*field).begin(), (c.*field).end())); };
  } else if constexpr (std::is_same_v<T, std::vector<core::LayerSpec>>) {
    // Layers travel as their canonical text, so spelling variants are one run key.
    p.info.type = ParamType::kStringList;
    p.set = [field](core::TrainConfig& c, const ParamValue& v) {
      (c.*field).clear();
      for (const auto& text : std::get<StringList>(v)) (c.*field).push_back(core::parse_layer_spec(text));
    };
    p.get = [field](const core::TrainConfig& c) {
      StringList out;
      for (const auto& spec : c.*field) out.push_back(core::format_layer_spec(spec));
      return ParamValue(out);
    };
  } else {
    static_assert(std::is_integral_v<T>, "unsupported TrainConfig field type");
    p.info.type = ParamType::kInteger;
    p.set = [field](core::TrainConfig& c, const ParamValue& v) {
      c.*field = static_cast<T>(std::get<std::int64_t>(v));
    };
    // A uint64 seed above INT64_MAX wraps to a negative number here (C++20 conversion is
    // modular), which the ">= 0" check then rejects: TOML integers are signed 64-bit.
    p.get = [field](const core::TrainConfig& c) {
      return ParamValue(static_cast<std::int64_t>(c.*field));
    };
  }
  p.default_value = p.get(core::TrainConfig{});
  if (!p.info.required) p.info.default_text = format_toml_value(p.default_value);
  table.push_back(std::move(p));
}

std::vector<TrainParam> build_train_table() {
  using TC = core::TrainConfig;
  std::vector<TrainParam> t;
  add(t, "dataset", &TC::dataset, Need::kRequired, one_of({"mnist", "mnist-10k", "fashion-mnist", "cifar10"}, "dataset"),
      kEveryMethod, "Dataset to train and test on (cifar10: the official binary files in $TERNBENCH_DATA/cifar10).");
  add(t, "method", &TC::method, Need::kRequired, one_of(core::method_names(), "method"), kEveryMethod,
      "Training method: fp (full precision), binaryconnect, bwn, twn, ttq, sca, faraone "
      "(docs/methods.md).");
  add(t, "model", &TC::model, Need::kOptional,
      one_of({"mlp", "lenet300", "lenet5", "vgg7", "resnet20", "custom"}, "model"), kEveryMethod,
      "Network: mlp 784-500-300-10, lenet300 784-300-100-10, lenet5 (TWN variant), vgg7, resnet20, "
      "or custom (the stack in layers).");
  add(t, "layers", &TC::layers, Need::kOptional, layer_texts(), kEveryMethod,
      "model = \"custom\": the layers, input to output, e.g. [\"conv(32, kernel=5)\", \"batchnorm\", "
      "\"relu\", \"maxpool(2)\", \"flatten\", \"dense(10)\"]; a list of such lists is a grid axis.");
  add(t, "seed", &TC::seed, Need::kOptional, int_at_least<std::uint64_t>(0), kEveryMethod,
      "Seed of every random stream of the run (initialisation, shuffling, augmentation, dropout).");
  add(t, "epochs", &TC::epochs, Need::kOptional, int_at_least<int>(1), kEveryMethod,
      "Passes over the training set.");
  add(t, "batch_size", &TC::batch_size, Need::kOptional, int_at_least<int>(1), kEveryMethod,
      "Images per optimizer step.");
  add(t, "optimizer", &TC::optimizer, Need::kOptional, one_of({"sgd", "adam"}, "optimizer"), kEveryMethod,
      "sgd (momentum, optional Nesterov) or adam.");
  add(t, "lr", &TC::lr, Need::kOptional, float_range(0.0, true), kEveryMethod,
      "Learning rate (the schedule's starting value).");
  add(t, "momentum", &TC::momentum, Need::kOptional, float_range(0.0, false, 1.0), kEveryMethod,
      "SGD momentum.");
  add(t, "nesterov", &TC::nesterov, Need::kOptional, any_bool(), kEveryMethod, "SGD with Nesterov momentum.");
  add(t, "adam_beta1", &TC::adam_beta1, Need::kOptional, float_range(0.0, false, 1.0), kEveryMethod,
      "Adam's first-moment decay.");
  add(t, "adam_beta2", &TC::adam_beta2, Need::kOptional, float_range(0.0, false, 1.0), kEveryMethod,
      "Adam's second-moment decay.");
  add(t, "adam_eps", &TC::adam_eps, Need::kOptional, float_range(0.0, true), kEveryMethod,
      "Adam's denominator term.");
  add(t, "weight_decay", &TC::weight_decay, Need::kOptional, float_range(0.0, false), kEveryMethod,
      "L2 penalty on weight matrices (not biases or batch-norm parameters).");
  add(t, "lr_schedule", &TC::lr_schedule, Need::kOptional,
      one_of({"constant", "multistep", "cosine", "exponential"}, "schedule"), kEveryMethod,
      "How the learning rate changes over the epochs.");
  add(t, "lr_milestones", &TC::lr_milestones, Need::kOptional, increasing_epochs(), kEveryMethod,
      "multistep: the lr is multiplied by lr_gamma after each of these epochs, e.g. [15, 25].");
  add(t, "lr_gamma", &TC::lr_gamma, Need::kOptional, float_range(0.0, true), kEveryMethod,
      "multistep factor, or exponential factor per epoch.");
  add(t, "lr_min", &TC::lr_min, Need::kOptional, float_range(0.0, false), kEveryMethod,
      "cosine: the learning rate at the end.");
  add(t, "warmup_epochs", &TC::warmup_epochs, Need::kOptional, float_range(0.0, false), kEveryMethod,
      "Linear warm-up of the learning rate over this many epochs (0 = none).");
  add(t, "normalize", &TC::normalize, Need::kOptional, any_bool(), kEveryMethod,
      "Standardize each channel with the training split's mean and std.");
  add(t, "augment", &TC::augment, Need::kOptional, any_bool(), kEveryMethod,
      "Random crop (zero padding crop_padding) and horizontal flip of training images.");
  add(t, "crop_padding", &TC::crop_padding, Need::kOptional, int_at_least<int>(0), kEveryMethod,
      "Padding of the random crop.");
  add(t, "threads", &TC::threads, Need::kOptional, int_at_least<int>(1), kEveryMethod,
      "Threads one run may use.");
  add(t, "quantize_first", &TC::quantize_first, Need::kOptional, any_bool(), quantizing_methods(),
      "Quantize the first weight layer (false keeps it full precision).");
  add(t, "quantize_last", &TC::quantize_last, Need::kOptional, any_bool(), quantizing_methods(),
      "Quantize the last weight layer (the papers keep it full precision).");
  add(t, "delta_factor", &TC::delta_factor, Need::kOptional, float_range(0.0, true), {"twn"},
      "TWN threshold: delta = delta_factor * mean|W| per layer.");
  add(t, "twn_per_channel", &TC::twn_per_channel, Need::kOptional, any_bool(), {"twn"},
      "TWN threshold and scale per output channel instead of per layer.");
  add(t, "bc_stochastic", &TC::bc_stochastic, Need::kOptional, any_bool(), {"binaryconnect"},
      "BinaryConnect: stochastic binarization (true) or deterministic sign (false).");
  add(t, "bc_h", &TC::bc_h, Need::kOptional, float_range(0.0, true), {"binaryconnect"},
      "BinaryConnect: weights are +-bc_h; latent weights are clipped to [-bc_h, bc_h].");
  add(t, "ttq_threshold", &TC::ttq_threshold, Need::kOptional, float_range(0.0, false, 1.0), {"ttq"},
      "TTQ threshold factor: D = ttq_threshold * max|W| per layer.");
  add(t, "sca_alpha", &TC::sca_alpha, Need::kOptional, float_range(0.0, true, 2.0), {"sca"},
      "SCA: the WDR controller alpha in (0, 2); sparsity grows with it.");
  add(t, "sca_lambda", &TC::sca_lambda, Need::kOptional, float_range(0.0, false), {"sca"},
      "SCA: strength lambda of the weight discretization regularizer.");
  add(t, "sca_wdr", &TC::sca_wdr, Need::kOptional, one_of({"sum", "mean"}, "form"), {"sca"},
      "SCA: WDR summed over a layer's weights (sum) or averaged per layer (mean).");
  add(t, "sca_init_std", &TC::sca_init_std, Need::kOptional, float_range(0.0, true), {"sca"},
      "SCA: spread of tanh(theta) at init: theta = atanh(clip(sca_init_std * W0 / std(W0), +-0.99)).");
  add(t, "sca_lambda_warmup_epochs", &TC::sca_lambda_warmup_epochs, Need::kOptional, float_range(0.0, false),
      {"sca"}, "SCA: lambda ramps linearly from 0 over this many epochs (0 = full strength at once).");
  add(t, "sca_scale_last", &TC::sca_scale_last, Need::kOptional, any_bool(), {"sca"},
      "SCA: a quantized last layer (no batch norm after it) is deployed with one float scale.");
  add(t, "sca_finetune_epochs", &TC::sca_finetune_epochs, Need::kOptional, int_at_least<int>(0), {"sca"},
      "SCA: after rounding, train the float parameters (biases, batch norm, fp layers) this many "
      "epochs with the ternary weights frozen (0 = none).");
  // Added after the first SCA sweeps: left out of the canonical config at their defaults,
  // so the runs trained before them keep their keys.
  add(t, "sca_theta_lr_scale", &TC::sca_theta_lr_scale, Need::kOptional, float_range(0.0, true), {"sca"},
      "SCA: theta's learning rate is lr * sca_theta_lr_scale (the other parameters keep lr).");
  t.back().info.omitted_at_default = true;
  add(t, "sca_lambda_final", &TC::sca_lambda_final, Need::kOptional, float_range(0.0, false), {"sca"},
      "SCA: lambda grows geometrically from sca_lambda to this value at the end of training "
      "(0 = constant).");
  t.back().info.omitted_at_default = true;
  add(t, "fp_init_std", &TC::fp_init_std, Need::kOptional, float_range(0.0, false), {"fp"},
      "fp: the weight matrices a quantized method would quantize start at "
      "clip(fp_init_std * W0 / std(W0), +-0.99), SCA's tanh(theta) at init (0 = standard init).");
  t.back().info.omitted_at_default = true;
  add(t, "faraone_threshold", &TC::faraone_threshold, Need::kOptional, one_of({"max", "mean"}, "rule"),
      {"faraone"}, "Faraone: threshold rule, D = faraone_t * max|W| (max) or faraone_mean_factor * mean|W| (mean).");
  add(t, "faraone_t", &TC::faraone_t, Need::kOptional, float_range(0.0, false, 1.0), {"faraone"},
      "Faraone: factor of the max rule.");
  add(t, "faraone_mean_factor", &TC::faraone_mean_factor, Need::kOptional, float_range(0.0, false), {"faraone"},
      "Faraone: factor of the mean rule.");
  add(t, "faraone_lambda2", &TC::faraone_lambda2, Need::kOptional, float_range(0.0, false), {"faraone"},
      "Faraone stage 1: weight of the L2 term lambda2 * ||W||^2.");
  add(t, "faraone_lambdaq", &TC::faraone_lambdaq, Need::kOptional, float_range(0.0, false), {"faraone"},
      "Faraone stage 1: weight of the quantization-threshold term lambdaq * sum_{|w| < D} |w|.");
  add(t, "faraone_target_sparsity", &TC::faraone_target_sparsity, Need::kOptional, float_range(0.0, false, 1.0),
      {"faraone"}, "Faraone stage 2: raise the threshold until at least this share is pruned (0 = rule only).");
  add(t, "faraone_stage1_epochs", &TC::faraone_stage1_epochs, Need::kOptional, int_at_least<int>(0), {"faraone"},
      "Faraone: epochs of stage 1 (0 = epochs).");
  add(t, "faraone_retrain_epochs", &TC::faraone_retrain_epochs, Need::kOptional, int_at_least<int>(0), {"faraone"},
      "Faraone: epochs of stage 3, ternary retraining with the frozen mask (0 = epochs).");
  add(t, "faraone_retrain_quantizer", &TC::faraone_retrain_quantizer, Need::kOptional, one_of({"twn", "ttq"}, "style"),
      {"faraone"}, "Faraone stage 3: twn (scale = mean|W| on the mask) or ttq (learned Wp, Wn).");
  add(t, "init_from", &TC::init_from, Need::kOptional, run_key_or_empty(), kEveryMethod,
      "Warm start from a full-precision run's weights: its run key, or a table of the keys that "
      "differ from this run, e.g. { method = \"fp\" } (the source is trained first).");
  t.back().info.omitted_at_default = true;  // a warm start is rare; the others keep their keys
  add(t, "train_limit", &TC::train_limit, Need::kOptional, int_at_least<int>(0), kEveryMethod,
      "Use only the first N training images (0 = all).");
  add(t, "test_limit", &TC::test_limit, Need::kOptional, int_at_least<int>(0), kEveryMethod,
      "Use only the first N test images (0 = all).");
  return t;
}

std::string_view article_type(ParamType type) {
  switch (type) {
    case ParamType::kString: return "a string";
    case ParamType::kInteger: return "an integer";
    case ParamType::kFloat: return "a number";
    case ParamType::kBool: return "a boolean (true or false)";
    case ParamType::kIntList: return "a list of integers";
    case ParamType::kStringList: return "a list of strings";
  }
  return "a value";
}

}  // namespace

ParamValue read_value(const toml::node& node, const TrainParam& p, const std::string& path,
                      const std::string& file) {
  std::optional<ParamValue> v;
  switch (p.info.type) {
    case ParamType::kString:
      if (const auto* s = node.as_string()) v = ParamValue(s->get());
      break;
    case ParamType::kInteger:
      if (const auto* i = node.as_integer()) v = ParamValue(i->get());
      if (node.is_floating_point())
        throw ConfigError(file, path, line_of(node),
                          "expected an integer, got float; write a whole number without a decimal point");
      break;
    case ParamType::kFloat:
      if (const auto* f = node.as_floating_point()) v = ParamValue(f->get() == 0.0 ? 0.0 : f->get());
      if (const auto* i = node.as_integer()) v = ParamValue(static_cast<double>(i->get()));
      break;
    case ParamType::kBool:
      if (const auto* b = node.as_boolean()) v = ParamValue(b->get());
      break;
    case ParamType::kIntList:
    case ParamType::kStringList:
      if (const auto* list = node.as_array()) {
        IntList ints;
        StringList strings;
        for (std::size_t j = 0; j < list->size(); ++j) {
          const toml::node& e = *list->get(j);
          const std::string element_path = path + "[" + std::to_string(j) + "]";
          if (p.info.type == ParamType::kIntList && e.as_integer()) {
            ints.push_back(e.as_integer()->get());
          } else if (p.info.type == ParamType::kStringList && e.as_string()) {
            strings.push_back(e.as_string()->get());
          } else {
            throw ConfigError(file, element_path, line_of(e),
                              std::string("expected ") +
                                  (p.info.type == ParamType::kIntList ? "an integer" : "a string") + ", got " +
                                  std::string(node_type_name(e)));
          }
        }
        if (p.info.type == ParamType::kIntList) v = ParamValue(ints);
        else v = ParamValue(strings);
      }
      break;
  }
  if (!v) {
    throw ConfigError(file, path, line_of(node),
                      std::string("expected ") + std::string(article_type(p.info.type)) + ", got " +
                          std::string(node_type_name(node)));
  }
  if (auto problem = p.problem(*v)) throw ConfigError(file, path, line_of(node), *problem);
  return *v;
}

namespace {

std::size_t index_of(const std::string& name) {
  const auto& defs = train_param_defs();
  for (std::size_t i = 0; i < defs.size(); ++i)
    if (defs[i].info.name == name) return i;
  throw Error("no train parameter named " + name);  // a broken table, not a user error
}

}  // namespace

const std::vector<TrainParam>& train_param_defs() {
  static const std::vector<TrainParam> table = build_train_table();
  return table;
}

toml::table parse_toml(std::string_view text, const std::string& file) {
  try {
    return toml::parse(text, std::string_view(file));
  } catch (const toml::parse_error& e) {
    std::string what(e.description());
    std::replace(what.begin(), what.end(), '\n', ' ');  // the error promise is one line
    throw ConfigError(file, "", static_cast<int>(e.source().begin.line),
                      "TOML syntax error: " + what);
  }
}

int line_of(const toml::node& node) { return static_cast<int>(node.source().begin.line); }
int line_of(const toml::key& key) { return static_cast<int>(key.source().begin.line); }

std::string_view node_type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "list";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

void reject_unknown_keys(const toml::table& t, const std::string& file, const std::string& path,
                         const std::vector<std::string>& valid,
                         const std::function<std::string(const std::string&)>& hint) {
  // toml::table iterates in key order; report the unknown key that comes first in the file.
  const toml::key* first = nullptr;
  for (auto&& [k, v] : t) {
    (void)v;
    if (std::find(valid.begin(), valid.end(), std::string(k.str())) != valid.end()) continue;
    if (!first || line_of(k) < line_of(*first)) first = &k;
  }
  if (!first) return;
  const std::string key(first->str());
  std::vector<std::string> sorted = valid;
  std::sort(sorted.begin(), sorted.end());
  std::string msg = "unknown key; ";
  if (const std::string guess = closest(key, sorted); !guess.empty())
    msg += "did you mean \"" + guess + "\"? ";
  if (hint) {
    if (const std::string h = hint(key); !h.empty()) msg += h + "; ";
  }
  msg += "valid keys: " + join(sorted, ", ");
  throw ConfigError(file, path.empty() ? key : path + "." + key, line_of(*first), msg);
}

const toml::table* sub_table(const toml::table& root, const std::string& key, const std::string& file) {
  const toml::node* node = root.get(key);
  if (!node) return nullptr;
  if (const auto* t = node->as_table()) return t;
  throw ConfigError(file, key, line_of(*node),
                    "expected a table ([" + key + "]), got " + std::string(node_type_name(*node)));
}

TrainAxes read_train_table(const toml::table& train, const std::string& file, bool single_values) {
  const auto& defs = train_param_defs();
  std::vector<std::string> names;
  for (const auto& d : defs) names.push_back(d.info.name);
  reject_unknown_keys(train, file, "train", names);

  TrainAxes out;
  std::vector<const toml::node*> given(defs.size(), nullptr);
  for (std::size_t i = 0; i < defs.size(); ++i) {
    const TrainParam& p = defs[i];
    const std::string path = "train." + p.info.name;
    const toml::node* node = train.get(p.info.name);
    given[i] = node;
    std::vector<ParamValue> axis;
    if (!node) {
      if (p.info.required) {
        std::string fix = "add " + p.info.name + " = ";
        fix += p.info.choices.empty() ? std::string("...") : quoted(p.info.choices.front());
        if (!p.info.choices.empty()) fix += " (" + p.info.check + ")";
        throw ConfigError(file, path, line_of(train), "missing required key; " + fix);
      }
      axis.push_back(p.default_value);
    } else if (const bool list_type = p.info.type == ParamType::kIntList || p.info.type == ParamType::kStringList;
               list_type && !(node->as_array() && !node->as_array()->empty() && node->as_array()->get(0)->as_array())) {
      axis.push_back(read_value(*node, p, path, file));  // a flat list is one value of a list-typed key
    } else if (const auto* list = node->as_array()) {
      if (single_values) {
        throw ConfigError(file, path, line_of(*node),
                          "expected " + std::string(article_type(p.info.type)) +
                              ", got a list; a single run takes one value per key");
      }
      if (list->empty()) {
        throw ConfigError(file, path, line_of(*node),
                          p.info.required ? "empty list; give at least one value"
                                          : "empty list; give at least one value or remove the key "
                                            "to use the default " + p.info.default_text);
      }
      for (std::size_t j = 0; j < list->size(); ++j)
        axis.push_back(read_value(*list->get(j), p, path + "[" + std::to_string(j) + "]", file));
    } else {
      axis.push_back(read_value(*node, p, path, file));
    }
    out.axes.push_back(std::move(axis));
  }

  const std::vector<ParamValue>& methods = out.axes[index_of("method")];
  for (std::size_t i = 0; i < defs.size(); ++i) {
    const ParamInfo& info = defs[i].info;
    if (!given[i] || info.methods.empty()) continue;
    const bool used = std::any_of(methods.begin(), methods.end(), [&](const ParamValue& m) {
      return applies_to(info, std::get<std::string>(m));
    });
    if (used) continue;
    std::vector<std::string> listed;
    for (const auto& m : methods) listed.push_back(std::get<std::string>(m));
    throw ConfigError(file, "train." + info.name, line_of(*given[i]),
                      "applies only to method " + join(info.methods, ", ") + ", but method is " +
                          join(listed, ", ") + "; remove the key or add one of its methods");
  }

  // A stack is the model only for model = "custom"; for a named model it would be ignored.
  const std::vector<ParamValue>& models = out.axes[index_of("model")];
  const bool custom = std::any_of(models.begin(), models.end(),
                                  [](const ParamValue& m) { return std::get<std::string>(m) == "custom"; });
  const std::size_t layers_at = index_of("layers");
  const bool stack_given = std::any_of(out.axes[layers_at].begin(), out.axes[layers_at].end(),
                                      [](const ParamValue& v) { return !std::get<StringList>(v).empty(); });
  if (stack_given && !custom) {
    throw ConfigError(file, "train.layers", line_of(*given[layers_at]),
                      "applies only to model = \"custom\"; remove the key or set model = \"custom\"");
  }
  if (custom) {
    for (const ParamValue& stack : out.axes[layers_at]) {
      if (!std::get<StringList>(stack).empty()) continue;
      const toml::node* at = given[layers_at] ? given[layers_at] : given[index_of("model")];
      throw ConfigError(file, "train.layers", at ? line_of(*at) : line_of(train),
                        "model = \"custom\" needs its layers, e.g. layers = [\"dense(300)\", \"relu\", "
                        "\"dense(10)\"]");
    }
  }
  return out;
}

}  // namespace detail

const std::vector<ParamInfo>& train_params() {
  static const std::vector<ParamInfo> infos = [] {
    std::vector<ParamInfo> v;
    for (const auto& p : detail::train_param_defs()) v.push_back(p.info);
    return v;
  }();
  return infos;
}

const std::vector<ParamInfo>& sweep_params() {
  static const std::vector<ParamInfo> infos = [] {
    std::vector<ParamInfo> v;
    v.push_back({"name", ParamType::kString, true, "", {}, {}, "[A-Za-z0-9_.-]+",
                 "Sweep name; names the default database file."});
    v.push_back({"db", ParamType::kString, false, "results/<name>.sqlite", {}, {}, "non-empty path",
                 "SQLite results database, relative to the working directory."});
    v.push_back({"weights_dir", ParamType::kString, false, "<db without .sqlite>-weights", {}, {},
                 "non-empty path", "Directory of the per-run HDF5 weight files."});
    v.push_back({"description", ParamType::kString, false, "\"\"", {}, {}, "any string",
                 "Free text describing the sweep."});
    return v;
  }();
  return infos;
}

std::string_view type_name(ParamType type) {
  switch (type) {
    case ParamType::kString: return "string";
    case ParamType::kInteger: return "integer";
    case ParamType::kFloat: return "float";
    case ParamType::kBool: return "boolean";
    case ParamType::kIntList: return "list of integers";
    case ParamType::kStringList: return "list of strings";
  }
  return "unknown";
}

bool applies_to(const ParamInfo& param, std::string_view method) {
  return param.methods.empty() ||
         std::find(param.methods.begin(), param.methods.end(), method) != param.methods.end();
}

std::string params_help() {
  std::ostringstream out;
  auto section = [&out](const std::string& title, const std::vector<ParamInfo>& params) {
    out << title << "\n";
    for (const auto& p : params) {
      out << "  " << p.name << "  " << type_name(p.type) << ", "
          << (p.required ? std::string("required") : "default " + p.default_text) << ", "
          << p.check;
      if (!p.methods.empty()) out << ", only for method " << detail::join(p.methods, ", ");
      out << "\n      " << p.description << "\n";
    }
  };
  section("[sweep]", sweep_params());
  out << "\n";
  section("[train]  (a list of values is a grid axis; the last key varies fastest)", train_params());
  return out.str();
}

}  // namespace ternbench::experiments
