#pragma once
// Layer contract. Layers are thin: they own parameters and call kernels. Activations live in
// the Model, which passes each layer its forward input and output again in backward(), so
// nothing is copied or cached per step.
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

namespace ternbench::core {

using Mat = Eigen::MatrixXf;

// Work on a parameter's new values that the optimizer does in its own update pass, block by
// block while the block is in cache, instead of in a pass of its own afterwards: a
// quantizer's statistic of the new latent values (TTQ's max |W|, TWN's sum |W|) or its
// constraint on them (BinaryConnect's clip).
class UpdateHook {
 public:
  virtual ~UpdateHook() = default;
  // Values per block for a parameter of n values (whole 16-float vectors, or n).
  virtual Eigen::Index block_size(Eigen::Index n) const = 0;
  // Before the update: it has `blocks` blocks.
  virtual void begin(Eigen::Index blocks) = 0;
  // After the update of block b, values[e0, e1) of the parameter's contiguous data. Blocks
  // run on the optimizer's threads, several at once; each block once.
  virtual void block(Eigen::Index b, float* values, Eigen::Index e0, Eigen::Index e1) = 0;
  // After every block.
  virtual void end() = 0;
};

struct Param {
  std::string name;     // HDF5 path, e.g. "dense0/W"
  Mat value;
  Mat grad;             // same shape as value; set (not accumulated) by backward()
  bool decay = false;   // weight decay applies (weight matrices, not biases)
  float lr_scale = 1.0f;  // this parameter's learning rate is lr * lr_scale (SCA's theta)
  // Shape as stored in HDF5 (row-major over value's row-major data); empty = {rows, cols},
  // or {rows} for a column vector. Conv weights are {out_c, in_c, k, k}.
  std::vector<std::int64_t> shape;
  // Run by optimizers that support it (SGD) in their update of value; nullptr: none.
  UpdateHook* after_update = nullptr;
};

class Weight;

class Layer {
 public:
  virtual ~Layer() = default;
  virtual const std::string& name() const = 0;
  virtual Eigen::Index in_features() const = 0;
  virtual Eigen::Index out_features() const = 0;
  // y = f(x)                                          x: (in, B)  y: (out, B)
  virtual void forward(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> y) = 0;
  // Sets every Param::grad from dy = dL/dy; x and y are this layer's last forward input and
  // output. Writes dx = dL/dx only when want_dx (the first layer skips that GEMM).
  virtual void backward(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& y,
                        const Eigen::Ref<const Mat>& dy, Eigen::Ref<Mat> dx, bool want_dx) = 0;
  virtual std::vector<Param*> params() { return {}; }
  // State that is saved and restored but not trained (batch-norm running statistics).
  virtual std::vector<Param*> buffers() { return {}; }
  // Training mode (batch statistics, dropout) or evaluation mode (running statistics, no
  // dropout). Layers that behave the same in both ignore it.
  virtual void set_training(bool /*training*/) {}
  // Threads the layer's own kernels may use (convolution, pooling), 1 until set; the run's
  // `threads`, handed down by Model::set_threads. Results do not depend on it.
  virtual void set_threads(int /*threads*/) {}
  // The quantizable weight matrix of a weight layer (dense, conv); nullptr otherwise.
  virtual Weight* weight() { return nullptr; }
  // Every quantizable weight matrix of the layer, input to output. Composite layers (a
  // residual block holds several convolutions) override this; others get {weight()}.
  virtual std::vector<Weight*> weights() {
    Weight* w = weight();
    return w != nullptr ? std::vector<Weight*>{w} : std::vector<Weight*>{};
  }
  // Recomputes derived weights (quantized copies) after the parameters changed.
  virtual void refresh() {}
};

}  // namespace ternbench::core
