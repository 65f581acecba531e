// The [train] parameter table: every key with its TrainConfig field, type, default, value
// check, the methods it applies to and its help text. Adding a training knob means one
// add(...) line in build_train_table plus the TrainConfig field; a method's own knob is
// declared in the method's file instead (Method::options) and joins the table from there.
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "params_internal.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/base/format.hpp"
#include "ternbench/core/methods/method.hpp"
#include "ternbench/core/methods/option.hpp"

namespace ternbench::experiments::detail {
namespace {

using Problem = std::optional<std::string>;
using ProblemFn = std::function<Problem(const ParamValue&)>;

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

// An integer with a stated maximum below its field's; `why` is the fix for a larger value.
Check int_between(std::int64_t lo, std::int64_t hi, const std::string& why) {
  ProblemFn fn = [lo, hi, why](const ParamValue& v) -> Problem {
    const std::int64_t x = std::get<std::int64_t>(v);
    if (x < lo) return "must be >= " + std::to_string(lo) + ", got " + std::to_string(x);
    if (x > hi) return "must be <= " + std::to_string(hi) + ", got " + std::to_string(x) + "; " + why;
    return std::nullopt;
  };
  return {std::to_string(lo) + ".." + std::to_string(hi), std::move(fn), {}};
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

// A method's own key as a table row: the rule the method declares, under its name only.
void add_method_option(std::vector<TrainParam>& table, const core::MethodOption& option, const std::string& method) {
  const std::vector<std::string> methods = {method};
  std::visit(
      [&](auto field) {
        using T = std::remove_reference_t<decltype(core::TrainConfig{}.*field)>;
        if constexpr (std::is_same_v<T, double>) {
          add(table, option.name, field, Need::kOptional, float_range(option.lo, option.lo_open, option.hi), methods,
              option.help);
        } else if constexpr (std::is_same_v<T, int>) {
          add(table, option.name, field, Need::kOptional, int_at_least<int>(static_cast<std::int64_t>(option.lo)),
              methods, option.help);
        } else if constexpr (std::is_same_v<T, bool>) {
          add(table, option.name, field, Need::kOptional, any_bool(), methods, option.help);
        } else {
          TB_CHECK(!option.choices.empty(), "method option " + option.name + ": a text option lists its choices");
          add(table, option.name, field, Need::kOptional, one_of(option.choices, option.noun), methods, option.help);
        }
      },
      option.field);
  table.back().info.omitted_at_default = option.omitted_at_default;
}

}  // namespace

std::string quoted(const std::string& s) { return format_toml_value(ParamValue(s)); }

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
  add(t, "threads", &TC::threads, Need::kOptional,
      int_between(1, core::kMaxThreads, "ranks, not threads, are how ternbench runs in parallel: start more ranks"),
      kEveryMethod, "Threads one run may use.");
  add(t, "quantize_first", &TC::quantize_first, Need::kOptional, any_bool(), quantizing_methods(),
      "Quantize the first weight layer (false keeps it full precision).");
  add(t, "quantize_last", &TC::quantize_last, Need::kOptional, any_bool(), quantizing_methods(),
      "Quantize the last weight layer (the papers keep it full precision).");
  // Each method's own keys, declared in its file (core/methods/), in registry order.
  for (const core::Method* m : core::methods()) {
    for (const core::MethodOption& option : m->options()) add_method_option(t, option, m->name());
  }
  add(t, "init_from", &TC::init_from, Need::kOptional, run_key_or_empty(), kEveryMethod,
      "Warm start from a full-precision run's weights: its run key, or a table of the keys that "
      "differ from this run, e.g. { method = \"fp\" } (the source is trained first).");
  t.back().info.omitted_at_default = true;  // a warm start is rare; the others keep their keys
  add(t, "train_limit", &TC::train_limit, Need::kOptional, int_at_least<int>(0), kEveryMethod,
      "Use N training images, taken class by class in turn: every class's first image in file order, "
      "then every class's second, ... (0 = all).");
  add(t, "test_limit", &TC::test_limit, Need::kOptional, int_at_least<int>(0), kEveryMethod,
      "Use N test images, taken class by class in turn as train_limit takes them (0 = all).");
  return t;
}

}  // namespace ternbench::experiments::detail
