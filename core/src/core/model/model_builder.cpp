// The model registry: every named model is built here, from a list of LayerSpecs where the
// model is a plain stack (mlp, lenet300, lenet5, vgg7, custom) and by hand for ResNet-20.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ternbench/base/error.hpp"
#include "ternbench/core/nn/batchnorm.hpp"
#include "ternbench/core/nn/conv2d.hpp"
#include "ternbench/core/nn/dense.hpp"
#include "ternbench/core/nn/dropout.hpp"
#include "ternbench/core/nn/flatten.hpp"
#include "ternbench/core/nn/global_avg_pool.hpp"
#include "ternbench/core/nn/maxpool2d.hpp"
#include "ternbench/core/model/model.hpp"
#include "ternbench/core/nn/relu.hpp"
#include "ternbench/core/nn/residual.hpp"

namespace ternbench::core {
namespace {

// The activation between two layers: an image (c, h, w) or, after dense/flatten/gap, plain
// features (c, 1, 1).
struct Shape {
  int c = 0, h = 0, w = 0;
  bool image = true;
  Eigen::Index features() const { return Eigen::Index{c} * h * w; }
};

std::string dims(const Shape& s) { return std::to_string(s.h) + "x" + std::to_string(s.w); }

// "32x24x24" for an image (C x H x W), "512" for plain features.
std::string shape_text(const Shape& s) {
  return s.image ? std::to_string(s.c) + "x" + dims(s) : std::to_string(s.features());
}

// The layer lines of model_layer_stack and their parameter total.
struct StackText {
  std::string lines;
  std::int64_t params = 0;
  // "conv0: conv(32, kernel=5, stride=1, padding=0) -> 32x24x24 (832 params)"
  void add(const std::string& name, const std::string& spec, const Shape& out, std::int64_t n) {
    lines += name + ": " + spec + " -> " + shape_text(out) + " (" + std::to_string(n) + " params)\n";
    params += n;
  }
};

LayerSpec spec(const std::string& type, int units = 0, int kernel = 3, int stride = 1, int padding = 0) {
  LayerSpec s;
  s.type = type;
  s.units = units;
  s.kernel = kernel;
  s.stride = stride;
  s.padding = padding;
  return s;
}

LayerSpec conv(int units, int kernel, int padding) { return spec("conv", units, kernel, 1, padding); }
LayerSpec maxpool2() { return spec("maxpool", 0, 2, 2); }

// Chains specs from an input shape, checking each against the shape it receives; appends the
// layers to `model` unless it is null (shape checking only, as model_shape does), and their
// lines to `stack` unless it is null.
class StackBuilder {
 public:
  StackBuilder(Shape in, Model* model, Rng* rng, std::string context, StackText* stack = nullptr)
      : shape_(in), model_(model), rng_(rng), context_(std::move(context)), stack_(stack) {}

  void add(const LayerSpec& s, std::size_t index) {
    spec_ = format_layer_spec(s);
    where_ = context_ + "layers[" + std::to_string(index) + "] = " + spec_;
    // Each branch checks its layer, counts it and only then builds it, so a stack over the
    // size maxima is refused before anything is allocated.
    const Shape in = shape_;
    if (s.type == "dense") {
      // Takes images too: an activation column is already the CHW-flattened image.
      require(s.units >= 1, "units must be >= 1");
      count("dense", shape_.features() * s.units + s.units, {s.units, 1, 1, false});
      if (model_) model_->add(std::make_unique<Dense>(name_, in.features(), s.units, *rng_));
    } else if (s.type == "conv") {
      require_image();
      require(s.units >= 1 && s.kernel >= 1 && s.stride >= 1 && s.padding >= 0,
              "units, kernel and stride must be >= 1 and padding >= 0");
      require(s.kernel <= shape_.h + 2 * s.padding && s.kernel <= shape_.w + 2 * s.padding,
              "kernel " + std::to_string(s.kernel) + " is larger than its " + dims(shape_) + " input plus padding " +
                  std::to_string(s.padding));
      const Shape out{s.units, (shape_.h + 2 * s.padding - s.kernel) / s.stride + 1,
                      (shape_.w + 2 * s.padding - s.kernel) / s.stride + 1, true};
      count("conv", std::int64_t{shape_.c} * s.kernel * s.kernel * s.units + s.units, out);
      if (model_) {
        model_->add(std::make_unique<Conv2d>(name_, in.c, in.h, in.w, s.units, s.kernel, s.stride,
                                             s.padding, *rng_));
      }
    } else if (s.type == "maxpool") {
      require_image();
      require(s.kernel >= 1 && s.stride >= 1, "kernel and stride must be >= 1");
      require(s.kernel <= shape_.h && s.kernel <= shape_.w,
              "kernel " + std::to_string(s.kernel) + " is larger than its " + dims(shape_) + " input");
      count("pool", 0, {shape_.c, (shape_.h - s.kernel) / s.stride + 1, (shape_.w - s.kernel) / s.stride + 1, true});
      if (model_) {
        model_->add(std::make_unique<MaxPool2d>(name_, in.c, in.h, in.w, s.kernel, s.stride));
      }
    } else if (s.type == "batchnorm") {
      // Per channel after a conv or pooling, per feature after dense or flatten.
      const int channels = shape_.image ? shape_.c : static_cast<int>(shape_.features());
      const int spatial = shape_.image ? shape_.h * shape_.w : 1;
      count("bn", 2 * std::int64_t{channels}, shape_);
      if (model_) model_->add(std::make_unique<BatchNorm>(name_, channels, spatial));
    } else if (s.type == "relu") {
      count("relu", 0, shape_);
      if (model_) model_->add(std::make_unique<Relu>(name_, in.features()));
    } else if (s.type == "dropout") {
      require(s.rate >= 0.0 && s.rate <= 1.0, "rate must be in [0, 1]");
      count("dropout", 0, shape_);
      if (model_) model_->add(std::make_unique<Dropout>(name_, in.features(), s.rate, rng_->next_u64()));
    } else if (s.type == "flatten") {
      count("flatten", 0, {static_cast<int>(shape_.features()), 1, 1, false});
      if (model_) model_->add(std::make_unique<Flatten>(name_, in.features()));
    } else if (s.type == "gap") {
      require_image();
      count("gap", 0, {shape_.c, 1, 1, false});
      if (model_) model_->add(std::make_unique<GlobalAvgPool>(name_, in.c, in.h, in.w));
    } else {
      require(false, "unknown layer type \"" + s.type + "\" (valid: dense, conv, maxpool, batchnorm, relu, dropout, "
                                                        "flatten, gap)");
    }
  }

  // The stack must end in one logit per class.
  void finish(int classes, std::size_t count) {
    if (count == 0) throw Error(context_ + "the layer list is empty; give at least one layer, e.g. dense(" +
                                std::to_string(classes) + ")");
    require(shape_.features() == classes, "the last layer gives " + std::to_string(shape_.features()) +
                                              " outputs but the data set has " + std::to_string(classes) +
                                              " classes; end the stack with dense(" + std::to_string(classes) + ")");
  }

 private:
  void require(bool ok, const std::string& why) const {
    if (!ok) throw Error(where_ + ": " + why);
  }
  // Adds a layer of `params` parameters whose output is `out`, refusing a model over the
  // maxima (layer_spec.hpp). Shapes stay far inside int and the sums inside int64 because
  // every step is checked: a layer's input is at most kMaxActivationsPerImage values.
  void count(const char* kind, std::int64_t params, Shape out) {
    params_ += params;
    activations_ += out.features();
    require(params_ <= kMaxModelParams,
            "the model reaches " + std::to_string(params_) + " parameters here, more than the maximum of " +
                std::to_string(kMaxModelParams) + "; use fewer or smaller layers (docs/sweep-format.md)");
    require(activations_ <= kMaxActivationsPerImage,
            "the layers up to here make " + std::to_string(activations_) +
                " activation values per image, more than the maximum of " + std::to_string(kMaxActivationsPerImage) +
                "; use fewer or narrower layers, or downsample earlier (docs/sweep-format.md)");
    shape_ = out;
    name_ = next(kind);
    if (stack_) stack_->add(name_, spec_, out, params);
  }
  void require_image() const {
    require(shape_.image, "needs an image input, but the layers before it made plain features (" +
                              std::to_string(shape_.features()) + " of them: dense, flatten or gap came earlier)");
  }
  std::string next(const std::string& kind) {
    auto it = std::find_if(counts_.begin(), counts_.end(), [&](const auto& e) { return e.first == kind; });
    if (it == counts_.end()) it = counts_.insert(counts_.end(), {kind, 0});
    return kind + std::to_string(it->second++);
  }

  Shape shape_;  // the output of the layers so far
  std::int64_t params_ = 0, activations_ = 0;
  Model* model_;
  Rng* rng_;
  std::string context_;
  StackText* stack_;
  std::string where_;
  std::string spec_;  // the layer being added, as format_layer_spec writes it
  std::string name_;  // its name, set by count()
  std::vector<std::pair<std::string, int>> counts_;
};

std::vector<LayerSpec> mlp_specs(const std::vector<int>& hidden, int classes) {
  std::vector<LayerSpec> out;
  for (const int units : hidden) {
    out.push_back(spec("dense", units));
    out.push_back(spec("relu"));
  }
  out.push_back(spec("dense", classes));
  return out;
}

// TWN's LeNet-5: 28x28 -> conv5 24 -> pool 12 -> conv5 8 -> pool 4, so 64*4*4 = 1024 features.
std::vector<LayerSpec> lenet5_specs(int classes) {
  return {conv(32, 5, 0), spec("batchnorm"), spec("relu"), maxpool2(),
          conv(64, 5, 0), spec("batchnorm"), spec("relu"), maxpool2(),
          spec("flatten"), spec("dense", 512), spec("batchnorm"), spec("relu"), spec("dense", classes)};
}

// VGG-7 (TWN/TTQ): 32x32 -> 16 -> 8 -> 4, so 512*4*4 = 8192 features into FC1024.
std::vector<LayerSpec> vgg7_specs(int classes) {
  std::vector<LayerSpec> out;
  for (const int width : {128, 256, 512}) {
    for (int i = 0; i < 2; ++i) {
      out.push_back(conv(width, 3, 1));
      out.push_back(spec("batchnorm"));
      out.push_back(spec("relu"));
    }
    out.push_back(maxpool2());
  }
  for (const LayerSpec& s : {spec("flatten"), spec("dense", 1024), spec("batchnorm"), spec("relu"),
                             spec("dense", classes)}) {
    out.push_back(s);
  }
  return out;
}

// Pre-activation ResNet-20 for CIFAR (He et al., "Identity Mappings in Deep Residual
// Networks"): conv3x3@16, three stages of three blocks at 16, 32 and 64 channels (the first
// block of stages 2 and 3 halves H and W), then BN-ReLU, global average pooling and FC.
void build_resnet20(Model& m, Shape in, int classes, Rng& rng) {
  m.add(std::make_unique<Conv2d>("conv0", in.c, in.h, in.w, 16, 3, 1, 1, rng));
  int c = 16, h = in.h, w = in.w, block = 0;
  for (const int width : {16, 32, 64}) {
    for (int i = 0; i < 3; ++i) {
      const int stride = (i == 0 && width != 16) ? 2 : 1;
      auto b = std::make_unique<ResidualBlock>("block" + std::to_string(block++), c, h, w, width, stride, rng);
      c = width;
      h = b->out_height();
      w = b->out_width();
      m.add(std::move(b));
    }
  }
  m.add(std::make_unique<BatchNorm>("bn0", c, h * w));
  m.add(std::make_unique<Relu>("relu0", Eigen::Index{c} * h * w));
  m.add(std::make_unique<GlobalAvgPool>("gap0", c, h, w));
  m.add(std::make_unique<Dense>("dense0", c, classes, rng));
}

// ResNet-20's stack as build_resnet20 builds it, a residual block on one line.
void resnet20_stack(Shape in, int classes, StackText& out) {
  const auto conv_params = [](int in_c, int kernel, int out_c) {
    return std::int64_t{in_c} * kernel * kernel * out_c + out_c;
  };
  Shape s{16, in.h, in.w, true};
  out.add("conv0", "conv(16, kernel=3, stride=1, padding=1)", s, conv_params(in.c, 3, 16));
  int block = 0;
  for (const int width : {16, 32, 64}) {
    for (int i = 0; i < 3; ++i) {
      const int stride = (i == 0 && width != 16) ? 2 : 1;
      const bool projection = stride != 1 || s.c != width;
      const Shape o{width, (s.h + 2 - 3) / stride + 1, (s.w + 2 - 3) / stride + 1, true};
      const std::int64_t params = 2 * std::int64_t{s.c} + conv_params(s.c, 3, width) + 2 * std::int64_t{width} +
                                  conv_params(width, 3, width) + (projection ? conv_params(s.c, 1, width) : 0);
      out.add("block" + std::to_string(block++),
              "residual(" + std::to_string(width) + ", stride=" + std::to_string(stride) +
                  (projection ? ", shortcut" : "") + ")",
              o, params);
      s = o;
    }
  }
  out.add("bn0", "batchnorm", s, 2 * std::int64_t{s.c});
  out.add("relu0", "relu", s, 0);
  out.add("gap0", "gap", {s.c, 1, 1, false}, 0);
  out.add("dense0", "dense(" + std::to_string(classes) + ")", {classes, 1, 1, false},
          std::int64_t{s.c} * classes + classes);
}

// The stack of a model that is one, or empty for resnet20. Throws for unknown names.
std::vector<LayerSpec> model_specs(const TrainConfig& cfg, int classes) {
  if (cfg.model == "mlp") return mlp_specs({500, 300}, classes);
  if (cfg.model == "lenet300") return mlp_specs({300, 100}, classes);
  if (cfg.model == "lenet5") return lenet5_specs(classes);
  if (cfg.model == "vgg7") return vgg7_specs(classes);
  if (cfg.model == "custom") return cfg.layers;
  if (cfg.model == "resnet20") return {};
  std::string valid;
  for (const std::string& n : model_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw Error("model '" + cfg.model + "' is unknown (valid: " + valid + ")");
}

Shape input_shape(const std::string& model, int channels, int height, int width, int classes) {
  if (channels < 1 || height < 1 || width < 1 || classes < 1) {
    throw Error("model '" + model + "': input " + std::to_string(channels) + "x" + std::to_string(height) + "x" +
                std::to_string(width) + " with " + std::to_string(classes) +
                " classes is not valid (all must be >= 1)");
  }
  return {channels, height, width, true};
}

// Builds into `model`, or only checks when it is null; appends the layer lines to `stack`
// unless it is null.
void build(const TrainConfig& cfg, Shape in, int classes, Model* model, Rng* rng, StackText* stack = nullptr) {
  const std::vector<LayerSpec> specs = model_specs(cfg, classes);
  if (cfg.model == "resnet20") {
    if (model) build_resnet20(*model, in, classes, *rng);
    if (stack) resnet20_stack(in, classes, *stack);
    return;
  }
  StackBuilder b(in, model, rng, cfg.model == "custom" ? "custom model: " : "model '" + cfg.model + "': ", stack);
  for (std::size_t i = 0; i < specs.size(); ++i) b.add(specs[i], i);
  b.finish(classes, specs.size());
}

}  // namespace

std::vector<std::string> model_names() { return {"mlp", "lenet300", "lenet5", "vgg7", "resnet20", "custom"}; }

ModelShape model_shape(const TrainConfig& cfg, int channels, int height, int width, int classes) {
  const Shape in = input_shape(cfg.model, channels, height, width, classes);
  build(cfg, in, classes, nullptr, nullptr);
  return {in.features(), classes};
}

std::string model_layer_stack(const TrainConfig& cfg, int channels, int height, int width, int classes) {
  const Shape in = input_shape(cfg.model, channels, height, width, classes);
  StackText stack;
  build(cfg, in, classes, nullptr, nullptr, &stack);
  return "# ternbench layer stack of model " + cfg.model + " (docs/models.md)\ninput: " + shape_text(in) + "\n" +
         stack.lines + "total: " + std::to_string(stack.params) + " params\n";
}

Model make_model(const TrainConfig& cfg, int channels, int height, int width, int classes, Rng& rng) {
  const Shape in = input_shape(cfg.model, channels, height, width, classes);
  Model m(cfg.model);
  m.set_threads(cfg.threads);
  build(cfg, in, classes, &m, &rng);
  return m;
}

}  // namespace ternbench::core
