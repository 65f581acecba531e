#include "ternbench/core/deploy/ternary_net.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ternbench/base/error.hpp"
#include "ternbench/base/format.hpp"
#include "ternbench/core/deploy/deploy_codes.hpp"
#include "ternbench/core/kernels/activation.hpp"
#include "ternbench/core/kernels/ternary.hpp"
#include "ternbench/core/nn/batchnorm.hpp"
#include "ternbench/core/nn/conv2d.hpp"
#include "ternbench/core/nn/dense.hpp"
#include "ternbench/core/nn/dropout.hpp"
#include "ternbench/core/nn/flatten.hpp"
#include "ternbench/core/nn/maxpool2d.hpp"
#include "ternbench/core/nn/relu.hpp"
#include "ternbench/core/train/trainer.hpp"

namespace ternbench::core {
namespace {

using RowMajorMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// One step of the engine. x and y are batch-innermost, (in_features, B) and (out_features, B);
// an in-place step reads and writes y only.
class Step {
 public:
  explicit Step(EngineStep info) : info_(std::move(info)) {}
  virtual ~Step() = default;
  virtual Eigen::Index out_features() const = 0;
  virtual bool in_place() const { return false; }
  virtual void run(const float* x, Eigen::Index batch, float* y) = 0;
  const EngineStep& info() const { return info_; }

 private:
  EngineStep info_;
};

class TernaryDenseStep final : public Step {
 public:
  TernaryDenseStep(EngineStep info, kernels::TernaryMatrix W, int threads)
      : Step(std::move(info)), W_(std::move(W)), threads_(threads) {}
  Eigen::Index out_features() const override { return W_.rows; }
  void run(const float* x, Eigen::Index batch, float* y) override { kernels::ternary_dense(W_, x, batch, y, threads_); }

 private:
  kernels::TernaryMatrix W_;
  int threads_;
};

class TernaryConvStep final : public Step {
 public:
  TernaryConvStep(EngineStep info, kernels::TernaryConv c, int threads)
      : Step(std::move(info)), c_(std::move(c)), threads_(threads) {}
  Eigen::Index out_features() const override { return c_.g.out_features(); }
  void run(const float* x, Eigen::Index batch, float* y) override {
    const Eigen::Index need = kernels::ternary_conv_workspace_size(c_, batch);
    if (static_cast<Eigen::Index>(work_.size()) < need) work_.resize(static_cast<std::size_t>(need));
    kernels::ternary_conv(c_, x, batch, y, work_.data(), threads_);
  }

 private:
  kernels::TernaryConv c_;
  std::vector<float> work_;
  int threads_;
};

// A layer the engine runs as the float model does (full-precision weight layers, a batch
// norm with no weight layer before it): its input turned to one sample per column and back.
class FloatLayerStep final : public Step {
 public:
  FloatLayerStep(EngineStep info, Layer& layer) : Step(std::move(info)), layer_(layer) {}
  Eigen::Index out_features() const override { return layer_.out_features(); }
  void run(const float* x, Eigen::Index batch, float* y) override {
    x_ = Eigen::Map<const RowMajorMat>(x, layer_.in_features(), batch);
    y_.resize(layer_.out_features(), batch);
    layer_.forward(x_, y_);
    Eigen::Map<RowMajorMat>(y, layer_.out_features(), batch) = y_;
  }

 private:
  Layer& layer_;
  Mat x_, y_;
};

class ReluStep final : public Step {
 public:
  ReluStep(EngineStep info, Eigen::Index features) : Step(std::move(info)), features_(features) {}
  Eigen::Index out_features() const override { return features_; }
  bool in_place() const override { return true; }
  void run(const float* /*x*/, Eigen::Index batch, float* y) override {
    Eigen::Map<Mat> v(y, features_ * batch, 1);  // element-wise: the layout does not matter
    kernels::relu_forward(v, v);
  }

 private:
  Eigen::Index features_;
};

// Max pooling on batch-innermost images: each output row of `batch` floats is the
// element-wise max of the window's input rows, taken in row-major window order.
class MaxPoolStep final : public Step {
 public:
  MaxPoolStep(EngineStep info, const kernels::PoolGeometry& g) : Step(std::move(info)), g_(g) {}
  Eigen::Index out_features() const override { return g_.out_features(); }
  void run(const float* x, Eigen::Index batch, float* y) override {
    const int oh = g_.out_h(), ow = g_.out_w();
    for (int c = 0; c < g_.channels; ++c) {
      for (int i = 0; i < oh; ++i) {
        for (int j = 0; j < ow; ++j) {
          float* out = y + ((static_cast<Eigen::Index>(c) * oh + i) * ow + j) * batch;
          for (int ki = 0; ki < g_.kernel; ++ki) {
            for (int kj = 0; kj < g_.kernel; ++kj) {
              const Eigen::Index row = (static_cast<Eigen::Index>(c) * g_.in_h + i * g_.stride + ki) * g_.in_w +
                                       j * g_.stride + kj;
              const float* in = x + row * batch;
              if (ki == 0 && kj == 0) {
                std::copy(in, in + batch, out);
              } else {
                for (Eigen::Index b = 0; b < batch; ++b) out[b] = std::max(out[b], in[b]);
              }
            }
          }
        }
      }
    }
  }

 private:
  kernels::PoolGeometry g_;
};

// Scale and shift of a batch norm in evaluation mode, y = a x + c per channel.
struct Affine {
  std::vector<double> a, c;
};

Affine affine_of(BatchNorm& bn) {
  Affine f;
  const Eigen::Index n = bn.channels();
  for (Eigen::Index i = 0; i < n; ++i) {
    const double a = static_cast<double>(bn.gamma().value(i)) /
                     std::sqrt(static_cast<double>(bn.running_var().value(i)) + BatchNorm::kEps);
    f.a.push_back(a);
    f.c.push_back(static_cast<double>(bn.beta().value(i)) - a * static_cast<double>(bn.running_mean().value(i)));
  }
  return f;
}

// The engine's matrix of a quantized weight: codes and scales as the file stores them, the
// layer's bias, and a following batch norm folded in. read_stored_codes checked that the codes
// decode to the stored W.
kernels::TernaryMatrix matrix_of(const Param& w, const Param& bias, const std::vector<NamedTensor>& tensors,
                                 const std::string& source, const Affine* bn) {
  const Eigen::Index rows = w.value.rows(), cols = w.value.cols();
  const StoredCodes codes = *read_stored_codes(tensors, w.name, rows, cols, source);
  const std::vector<float>& s = codes.scales;
  std::vector<float> pos(static_cast<std::size_t>(rows)), neg(static_cast<std::size_t>(rows));
  for (Eigen::Index r = 0; r < rows; ++r) {
    const auto i = static_cast<std::size_t>(r);
    if (codes.layout == "none") {
      pos[i] = neg[i] = 1.0f;
    } else if (codes.layout == "layer") {
      pos[i] = neg[i] = s[0];
    } else if (codes.layout == "row") {
      pos[i] = neg[i] = s[i];
    } else {  // "sign"; decode_deployed refused any other layout
      pos[i] = s[0];
      neg[i] = s[1];
    }
  }
  std::vector<float> b(bias.value.data(), bias.value.data() + bias.value.size());
  if (bn != nullptr) {
    for (std::size_t i = 0; i < pos.size(); ++i) {
      pos[i] = static_cast<float>(bn->a[i] * pos[i]);
      neg[i] = static_cast<float>(bn->a[i] * neg[i]);
      b[i] = static_cast<float>(bn->a[i] * b[i] + bn->c[i]);
    }
  }
  return kernels::make_ternary_matrix(codes.signs, rows, cols, std::move(pos), std::move(neg), std::move(b));
}

double zero_share(const kernels::TernaryMatrix& W) {
  const double total = static_cast<double>(W.rows) * static_cast<double>(W.cols);
  return total > 0 ? 1.0 - static_cast<double>(W.index.size()) / total : 0.0;
}

std::size_t param_bytes(Layer& layer) {
  std::size_t n = 0;
  for (Param* p : layer.params()) n += static_cast<std::size_t>(p->value.size());
  for (Param* p : layer.buffers()) n += static_cast<std::size_t>(p->value.size());
  return n * sizeof(float);
}

}  // namespace

struct TernaryNet::Impl {
  std::vector<std::unique_ptr<Step>> steps;
  std::vector<EngineStep> info;
  Eigen::Index input = 0;
  std::size_t float32_bytes = 0;
  RowMajorMat a, b;  // ping-pong activations, batch-innermost
  Mat logits;
};

TernaryNet::TernaryNet(Model& model, const std::vector<NamedTensor>& tensors, const std::string& source,
                       int threads)
    : impl_(std::make_unique<Impl>()) {
  model.set_training(false);
  impl_->input = model.input_size();
  const auto& layers = model.layers();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    Layer& layer = *layers[i];
    impl_->float32_bytes += param_bytes(layer);
    auto* bn_next = i + 1 < layers.size() ? dynamic_cast<BatchNorm*>(layers[i + 1].get()) : nullptr;
    auto* dense = dynamic_cast<Dense*>(&layer);
    auto* conv = dynamic_cast<Conv2d*>(&layer);
    Weight* w = layer.weight();
    const bool coded = w != nullptr && find_tensor(tensors, w->latent().name + "_codes") != nullptr;
    if ((dense != nullptr || conv != nullptr) && coded) {
      const Affine bn = bn_next ? affine_of(*bn_next) : Affine{};
      Param& bias = dense ? dense->bias() : conv->bias();
      kernels::TernaryMatrix W = matrix_of(w->latent(), bias, tensors, source, bn_next ? &bn : nullptr);
      EngineStep info{layer.name() + (bn_next ? "+" + bn_next->name() : ""), "", 0, zero_share(W)};
      if (bn_next) {
        impl_->float32_bytes += param_bytes(*bn_next);
        ++i;
      }
      if (dense) {
        info.kind = "ternary dense";
        info.bytes = W.bytes();
        impl_->steps.push_back(std::make_unique<TernaryDenseStep>(info, std::move(W), threads));
      } else {
        kernels::TernaryConv c = kernels::make_ternary_conv(conv->geometry(), std::move(W));
        info.kind = "ternary conv";
        info.bytes = c.bytes();
        impl_->steps.push_back(std::make_unique<TernaryConvStep>(info, std::move(c), threads));
      }
    } else if (dense != nullptr || conv != nullptr || dynamic_cast<BatchNorm*>(&layer) != nullptr) {
      layer.set_threads(threads);
      const char* kind = dense ? "float dense" : conv ? "float conv" : "float batchnorm";
      impl_->steps.push_back(std::make_unique<FloatLayerStep>(EngineStep{layer.name(), kind, param_bytes(layer), -1}, layer));
    } else if (dynamic_cast<Relu*>(&layer) != nullptr) {
      impl_->steps.push_back(std::make_unique<ReluStep>(EngineStep{layer.name(), "relu", 0, -1}, layer.out_features()));
    } else if (auto* pool = dynamic_cast<MaxPool2d*>(&layer)) {
      impl_->steps.push_back(std::make_unique<MaxPoolStep>(EngineStep{layer.name(), "maxpool", 0, -1}, pool->geometry()));
    } else if (dynamic_cast<Flatten*>(&layer) == nullptr && dynamic_cast<Dropout*>(&layer) == nullptr) {
      // Flatten and evaluation-mode dropout are the identity on these activations.
      throw Error(source + ": layer " + layer.name() + " is of a kind the ternary engine does not run (it runs "
                  "dense, conv, batchnorm, relu, maxpool, flatten and dropout layers; resnet20's residual blocks "
                  "are not supported); evaluate this model without --engine ternary");
    }
  }
  for (const auto& s : impl_->steps) impl_->info.push_back(s->info());
}

TernaryNet::~TernaryNet() = default;
TernaryNet::TernaryNet(TernaryNet&&) noexcept = default;
TernaryNet& TernaryNet::operator=(TernaryNet&&) noexcept = default;

const Mat& TernaryNet::forward(const Eigen::Ref<const Mat>& x) {
  Impl& m = *impl_;
  TB_CHECK(x.rows() == m.input, "TernaryNet::forward: input has " + std::to_string(x.rows()) + " features, the model " +
                                    std::to_string(m.input));
  const Eigen::Index batch = x.cols();
  Eigen::Index widest = m.input;
  for (const auto& s : m.steps) widest = std::max(widest, s->out_features());
  if (m.a.size() < widest * batch) {
    m.a.resize(widest, batch);
    m.b.resize(widest, batch);
  }
  float* cur = m.a.data();
  float* next = m.b.data();
  Eigen::Map<RowMajorMat>(cur, m.input, batch) = x;
  Eigen::Index features = m.input;
  for (const auto& s : m.steps) {
    if (s->in_place()) {
      s->run(cur, batch, cur);
    } else {
      s->run(cur, batch, next);
      std::swap(cur, next);
    }
    features = s->out_features();
  }
  m.logits = Eigen::Map<const RowMajorMat>(cur, features, batch);
  return m.logits;
}

const std::vector<EngineStep>& TernaryNet::steps() const { return impl_->info; }

std::size_t TernaryNet::bytes() const {
  std::size_t n = 0;
  for (const auto& s : impl_->info) n += s.bytes;
  return n;
}

std::size_t TernaryNet::float32_bytes() const { return impl_->float32_bytes; }

Evaluation evaluate_engine(TernaryNet& net, const Dataset& d, std::int64_t n, Eigen::Index batch,
                           std::vector<int>* predictions) {
  return evaluate_batches([&](const Eigen::Ref<const Mat>& x) { return Eigen::Ref<const Mat>(net.forward(x)); }, d,
                          n, batch, predictions);
}

}  // namespace ternbench::core
