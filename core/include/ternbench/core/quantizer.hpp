#pragma once
// Weight quantizers: the forward rule W -> W_q and the rule that carries dL/dW_q back to the
// latent weights (DESIGN.md §2). One instance per weight matrix; it remembers the scale and
// threshold of its last quantize() call for the deployed-model statistics.
#include <Eigen/Core>
#include <memory>
#include <string>
#include <vector>

#include "ternbench/core/train_config.hpp"

namespace ternbench::core {

using Mat = Eigen::MatrixXf;

class Quantizer {
 public:
  virtual ~Quantizer() = default;
  // "fp32" | "ternary": how the deployed matrix is stored.
  virtual const char* precision() const = 0;
  // q = Q(w)                                         w, q: (out, in)
  virtual void quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) = 0;
  // dw = dL/dw given dq = dL/dq; w is the latent weight. dw may alias dq (rules are element-wise).
  virtual void backward(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& dq,
                        Eigen::Ref<Mat> dw) const = 0;
  virtual double scale() const { return 0; }  // of the last quantize() (0 when unscaled)
  virtual double delta() const { return 0; }  // of the last quantize() (0 when no threshold)
};

// Method `fp`: q = w, dw = dq.
class IdentityQuantizer final : public Quantizer {
 public:
  const char* precision() const override { return "fp32"; }
  void quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) override;
  void backward(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) const override;
};

// Method `twn` (Li & Liu, per layer): delta = delta_factor * mean|W|, t = sign(W) 1{|W| > delta},
// alpha = mean of |W| over kept entries (0 when none is kept), q = alpha t.
// Backward: identity straight-through estimator, dw = dq.
class TwnQuantizer final : public Quantizer {
 public:
  explicit TwnQuantizer(double delta_factor);
  const char* precision() const override { return "ternary"; }
  void quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) override;
  void backward(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) const override;
  double scale() const override { return scale_; }
  double delta() const override { return delta_; }

 private:
  double delta_factor_;
  float scale_ = 0, delta_ = 0;
};

// Method keys accepted by TrainConfig::method: {"fp", "twn"}.
std::vector<std::string> method_names();

// True when the method quantizes weights ("fp" does not). Throws ternbench::Error listing
// the valid methods for an unknown key.
bool method_quantizes(const std::string& method);

// The quantizer of cfg.method for one weight matrix. Throws ternbench::Error listing the
// valid methods for an unknown key.
std::unique_ptr<Quantizer> make_quantizer(const TrainConfig& cfg);

}  // namespace ternbench::core
